/**
 * Schema version 1: conversations, messages, settings and full-text search.
 *
 * Frozen history: once released, this file never changes; later schema changes are new migrations.
 *
 * - `conversations.seq` and `messages.seq` are INTEGER PRIMARY KEYs (rowid aliases), so the FTS
 *   indexes can point at them: a plain rowid may be renumbered by VACUUM, an alias never is.
 *   `messages.seq` is AUTOINCREMENT: strictly increasing and never reused, so it orders the messages
 *   of a conversation even when several share a millisecond.
 * - Reply statistics live in real columns (NULL when the message has none: `stats_model_path` is
 *   NULL exactly when `stats` is null) so later features can aggregate them in SQL.
 * - Search: two external-content FTS5 tables, `messages_fts` over `messages.content` and
 *   `conversations_fts` over `conversations.title`, kept in sync by triggers on insert, on update of
 *   the indexed column (including each partial flush while a reply streams) and on delete (including
 *   the cascade from a deleted conversation: SQLite fires delete triggers for FK cascade actions).
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { Migration } from './index.js';

export const migration001: Migration = {
  version: 1,
  name: 'initial',
  up(db: BetterSqlite3.Database): void {
    db.exec(`
      CREATE TABLE conversations (
        seq           INTEGER PRIMARY KEY AUTOINCREMENT,
        id            TEXT NOT NULL UNIQUE,
        title         TEXT NOT NULL,
        system_prompt TEXT NOT NULL,
        model_path    TEXT,
        created_at    INTEGER NOT NULL,
        updated_at    INTEGER NOT NULL
      );
      CREATE INDEX conversations_updated_at ON conversations (updated_at DESC, seq DESC);

      CREATE TABLE messages (
        seq             INTEGER PRIMARY KEY AUTOINCREMENT,
        id              TEXT NOT NULL UNIQUE,
        conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        role            TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
        content         TEXT NOT NULL,
        status          TEXT NOT NULL CHECK (status IN ('streaming', 'complete', 'stopped', 'interrupted', 'error')),
        created_at      INTEGER NOT NULL,
        error           TEXT,
        -- ReplyStats, one column per field; all NULL when the message has no stats.
        stats_model_path          TEXT,
        stats_model_name          TEXT,
        stats_quantization        TEXT,
        prompt_tokens             INTEGER,
        prefill_tokens            INTEGER,
        completion_tokens         INTEGER,
        ttft_ms                   REAL,
        prefill_tokens_per_second REAL,
        decode_tokens_per_second  REAL,
        threads                   INTEGER,
        context_size              INTEGER,
        started_at                INTEGER,
        ended_at                  INTEGER
      );
      CREATE INDEX messages_conversation ON messages (conversation_id, seq);
      CREATE INDEX messages_status ON messages (status) WHERE status = 'streaming';

      CREATE TABLE settings (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL -- JSON
      ) WITHOUT ROWID;

      CREATE VIRTUAL TABLE messages_fts USING fts5 (
        content,
        content = 'messages',
        content_rowid = 'seq',
        tokenize = 'unicode61 remove_diacritics 2'
      );
      CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
        INSERT INTO messages_fts (rowid, content) VALUES (new.seq, new.content);
      END;
      CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.seq, old.content);
        INSERT INTO messages_fts (rowid, content) VALUES (new.seq, new.content);
      END;
      CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.seq, old.content);
      END;

      CREATE VIRTUAL TABLE conversations_fts USING fts5 (
        title,
        content = 'conversations',
        content_rowid = 'seq',
        tokenize = 'unicode61 remove_diacritics 2'
      );
      CREATE TRIGGER conversations_fts_insert AFTER INSERT ON conversations BEGIN
        INSERT INTO conversations_fts (rowid, title) VALUES (new.seq, new.title);
      END;
      CREATE TRIGGER conversations_fts_update AFTER UPDATE OF title ON conversations BEGIN
        INSERT INTO conversations_fts (conversations_fts, rowid, title) VALUES ('delete', old.seq, old.title);
        INSERT INTO conversations_fts (rowid, title) VALUES (new.seq, new.title);
      END;
      CREATE TRIGGER conversations_fts_delete AFTER DELETE ON conversations BEGIN
        INSERT INTO conversations_fts (conversations_fts, rowid, title) VALUES ('delete', old.seq, old.title);
      END;
    `);
  },
};
