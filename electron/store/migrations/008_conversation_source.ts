/**
 * Schema version 8: where a conversation came from (issue 9, the local OpenAI-compatible API).
 *
 * Frozen history: once released, this file never changes.
 *
 * - `conversations.source`: `'app'` = chat in Wattwise (window, browser mode, CLI); `'api'` = requests
 *   from other programs through the local API. CHECKed to those two values (the contract's
 *   `conversationSourceSchema`). Every conversation from before this version was chat in the app, so the
 *   column's default `'app'` is their value.
 * - `conversations.api_day`: for an `'api'` conversation, the local calendar day (`YYYY-MM-DD`) whose
 *   requests it holds (one API conversation per local day); NULL for every other conversation (CHECKed:
 *   only an `'api'` row may have one, and it must look like a date). The partial UNIQUE index
 *   `conversations_api_day` makes "at most one API conversation per day" a schema guarantee, so two
 *   processes sharing the file (the app and `wattwise web`) cannot both create the day's conversation.
 * - `conversations_source_updated_at`: `(source, updated_at DESC, seq DESC)`, for the chat sidebar's list
 *   (`source = 'app'`, most recently updated first) without sorting.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { Migration } from './index.js';

export const migration008: Migration = {
  version: 8,
  name: 'conversation_source',
  up(db: BetterSqlite3.Database): void {
    db.exec(`
      ALTER TABLE conversations ADD COLUMN source TEXT NOT NULL DEFAULT 'app' CHECK (source IN ('app', 'api'));
      ALTER TABLE conversations ADD COLUMN api_day TEXT
        CHECK (api_day IS NULL OR (source = 'api' AND api_day GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'));
      CREATE UNIQUE INDEX conversations_api_day ON conversations (api_day) WHERE api_day IS NOT NULL;
      CREATE INDEX conversations_source_updated_at ON conversations (source, updated_at DESC, seq DESC);
    `);
  },
};
