/**
 * Schema version 10: alternatives of a reply ("Try with…" and Regenerate keep the earlier replies; issue
 * 10) and the tokens a context shift re-read.
 *
 * Frozen history: once released, this file never changes.
 *
 * - `messages.alternative_group`: the id of the first reply of a set of alternatives (replies to the same
 *   question by different runs or models); NULL for a reply that never had one. Every member, the first
 *   one included, carries the group id. Members are ordered by `seq` (oldest first).
 * - `messages.hidden`: 1 for an alternative that is not the one shown (and sent to the model as history);
 *   exactly one member of a group is 0. Everything from before this version is shown (default 0).
 * - `messages.re_evaluated_tokens`: `ReplyStats.reEvaluatedTokens` (tokens evaluated again because the
 *   context window moved); NULL when not measured (every reply from before this version).
 * - `messages_alternative_group`: partial index for loading a group.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { Migration } from './index.js';

export const migration010: Migration = {
  version: 10,
  name: 'message_alternatives',
  up(db: BetterSqlite3.Database): void {
    db.exec(`
      ALTER TABLE messages ADD COLUMN alternative_group TEXT;
      ALTER TABLE messages ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0 CHECK (hidden IN (0, 1));
      ALTER TABLE messages ADD COLUMN re_evaluated_tokens INTEGER CHECK (re_evaluated_tokens IS NULL OR re_evaluated_tokens >= 0);
      CREATE INDEX messages_alternative_group ON messages (alternative_group) WHERE alternative_group IS NOT NULL;
    `);
  },
};
