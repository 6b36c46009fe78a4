/**
 * Schema version 7: who is writing a streaming reply (issue 11).
 *
 * Frozen history: once released, this file never changes.
 *
 * - `messages.writer_pid`, `messages.writer_started_at`: the process writing a `streaming` reply (its id
 *   and when it started, ms since the epoch), and `messages.heartbeat_at`: when it last wrote to it (ms
 *   since the epoch; the writer touches it every few seconds). Opening the store marks a `streaming` reply
 *   `interrupted` only when its writer is gone (its process no longer runs, or it has not written for
 *   long), so the app and the CLI can share a data folder without marking each other's live replies.
 *   NULL for every message written before this version (those are treated as from a writer that is gone).
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { Migration } from './index.js';

export const migration007: Migration = {
  version: 7,
  name: 'message_writers',
  up(db: BetterSqlite3.Database): void {
    db.exec(`
      ALTER TABLE messages ADD COLUMN writer_pid INTEGER;
      ALTER TABLE messages ADD COLUMN writer_started_at INTEGER;
      ALTER TABLE messages ADD COLUMN heartbeat_at INTEGER;
    `);
  },
};
