/**
 * Schema version 2: thread calibrations, and whether a conversation's title is automatic.
 *
 * Frozen history: once released, this file never changes.
 *
 * - `thread_calibrations`: the fastest CPU thread count measured for one model file on one machine,
 *   one row per (model path, machine key); `model_size_bytes` tells a replaced file apart.
 * - `conversations.title_is_auto`: 1 while the title is the app's (the default "New chat", or the one
 *   derived from the first user message), 0 once the user renamed the conversation. Version 1 did
 *   not record this, so existing rows are backfilled: a title is automatic when it equals what the
 *   app would have derived (the first user message's derived title, or "New chat" when there is no
 *   user message yet); any other title was chosen by the user.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { Migration } from './index.js';

/** The default title of a new conversation in schema version 1. */
const defaultTitleV1 = 'New chat';

/**
 * The title schema version 1 derived from a first user message: its first non-blank line,
 * whitespace collapsed, cut at 60 characters on a word boundary with '…'. A frozen copy (the store's
 * own rule may change later; this migration must keep judging version-1 data by version-1 rules).
 */
function deriveTitleV1(content: string): string {
  const line = content.split(/\r\n|\r|\n/).find((l) => l.trim() !== '') ?? '';
  const collapsed = line.replace(/\s+/g, ' ').trim();
  const chars = Array.from(collapsed);
  if (chars.length === 0) return defaultTitleV1;
  const max = 60;
  if (chars.length <= max) return collapsed;
  const head = chars.slice(0, max);
  const lastSpace = head.lastIndexOf(' ');
  const cut = lastSpace >= max / 2 ? head.slice(0, lastSpace) : head;
  return `${cut.join('').trimEnd()}…`;
}

export const migration002: Migration = {
  version: 2,
  name: 'thread_calibrations',
  up(db: BetterSqlite3.Database): void {
    db.exec(`
      CREATE TABLE thread_calibrations (
        model_path       TEXT NOT NULL,
        machine_key      TEXT NOT NULL,
        model_size_bytes INTEGER NOT NULL CHECK (model_size_bytes >= 0),
        best_threads     INTEGER NOT NULL CHECK (best_threads > 0),
        trials_json      TEXT NOT NULL, -- JSON: [{ "threads": n, "decodeTokensPerSecond": x }, ...]
        measured_at      INTEGER NOT NULL,
        PRIMARY KEY (model_path, machine_key)
      ) WITHOUT ROWID;

      ALTER TABLE conversations ADD COLUMN title_is_auto INTEGER NOT NULL DEFAULT 1 CHECK (title_is_auto IN (0, 1));
    `);

    const rows = db
      .prepare(
        `SELECT c.id AS id, c.title AS title,
                (SELECT m.content FROM messages m
                  WHERE m.conversation_id = c.id AND m.role = 'user'
                  ORDER BY m.seq LIMIT 1) AS firstUser
           FROM conversations c`,
      )
      .all() as { id: string; title: string; firstUser: string | null }[];
    const markChosen = db.prepare('UPDATE conversations SET title_is_auto = 0 WHERE id = ?');
    for (const row of rows) {
      const autoTitle = row.firstUser === null ? defaultTitleV1 : deriveTitleV1(row.firstUser);
      if (row.title !== autoTitle) markChosen.run(row.id);
    }
  },
};
