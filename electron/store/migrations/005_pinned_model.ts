/**
 * Schema version 5: a conversation can pin a model (issue 4).
 *
 * Frozen history: once released, this file never changes.
 *
 * - `conversations.pinned_model_path`: the model the user pinned for this conversation, which overrides
 *   the power governor; NULL = the governor chooses. Conversations from before this version were always
 *   answered by the model the user picked, so each keeps its last model (`model_path`) as its pin: nothing
 *   changes for them until the user switches to Auto.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { Migration } from './index.js';

export const migration005: Migration = {
  version: 5,
  name: 'pinned_model',
  up(db: BetterSqlite3.Database): void {
    db.exec(`
      ALTER TABLE conversations ADD COLUMN pinned_model_path TEXT;
      UPDATE conversations SET pinned_model_path = model_path WHERE model_path IS NOT NULL;
    `);
  },
};
