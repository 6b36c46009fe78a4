/**
 * Schema version 3: the energy of each reply, and the power trace of each conversation.
 *
 * Frozen history: once released, this file never changes.
 *
 * - `messages.energy_*`: the contract's `ReplyEnergy`, one real column per field so the Energy view
 *   can aggregate in SQL. `energy_j` is NULL exactly when the message has no energy (every message
 *   written before this version keeps NULL: the app did not measure then). Units are in the names:
 *   J, J/token, W. `energy_measured` is 0/1; `energy_method` is not CHECKed here (the contract's
 *   `energyMethodSchema` may gain methods; the store validates on write and on read).
 * - `power_samples`: the stored (downsampled) power trace, one row per sample:
 *   - `conversation_id` → conversations, ON DELETE CASCADE (a deleted conversation takes its trace);
 *   - `message_id` → messages, nullable (samples taken between replies belong to no message),
 *     ON DELETE SET NULL: a regenerated or truncated reply leaves the power that was really drawn in
 *     the trace, just no longer attributed;
 *   - `at` is an integer, ms since the epoch; `power_w` ≥ 0 in W; `measured` 0/1 (0 = estimate).
 *   - Indexes: `(conversation_id, at)` for the trace; `(message_id)` so deleting a message does not
 *     scan the table for the SET NULL action; and a UNIQUE index on `(conversation_id, at / 1000)`
 *     that makes "at most one sample per epoch second per conversation" a schema guarantee (the
 *     store upserts into it, keeping the latest sample of each second).
 * - `messages_replies_ended_at`: replies with stats by end time, for per-day energy and recent usage.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { Migration } from './index.js';

export const migration003: Migration = {
  version: 3,
  name: 'energy',
  up(db: BetterSqlite3.Database): void {
    db.exec(`
      ALTER TABLE messages ADD COLUMN energy_j               REAL CHECK (energy_j IS NULL OR energy_j >= 0);
      ALTER TABLE messages ADD COLUMN energy_j_per_token     REAL CHECK (energy_j_per_token IS NULL OR energy_j_per_token >= 0);
      ALTER TABLE messages ADD COLUMN avg_power_w            REAL CHECK (avg_power_w IS NULL OR avg_power_w >= 0);
      ALTER TABLE messages ADD COLUMN peak_power_w           REAL CHECK (peak_power_w IS NULL OR peak_power_w >= 0);
      ALTER TABLE messages ADD COLUMN baseline_power_w       REAL CHECK (baseline_power_w IS NULL OR baseline_power_w >= 0);
      ALTER TABLE messages ADD COLUMN energy_source_id       TEXT;
      ALTER TABLE messages ADD COLUMN energy_source_label    TEXT;
      ALTER TABLE messages ADD COLUMN energy_measured        INTEGER CHECK (energy_measured IS NULL OR energy_measured IN (0, 1));
      ALTER TABLE messages ADD COLUMN energy_method          TEXT;
      ALTER TABLE messages ADD COLUMN energy_fallback_reason TEXT;
      ALTER TABLE messages ADD COLUMN energy_sample_count    INTEGER CHECK (energy_sample_count IS NULL OR energy_sample_count >= 0);

      CREATE TABLE power_samples (
        seq             INTEGER PRIMARY KEY,
        conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        message_id      TEXT REFERENCES messages (id) ON DELETE SET NULL,
        at              INTEGER NOT NULL CHECK (typeof(at) = 'integer' AND at >= 0),
        power_w         REAL NOT NULL CHECK (power_w >= 0),
        source_id       TEXT NOT NULL,
        source_label    TEXT NOT NULL,
        measured        INTEGER NOT NULL CHECK (measured IN (0, 1))
      );
      CREATE INDEX power_samples_conversation_at ON power_samples (conversation_id, at);
      CREATE INDEX power_samples_message ON power_samples (message_id);
      CREATE UNIQUE INDEX power_samples_one_per_second ON power_samples (conversation_id, at / 1000);

      CREATE INDEX messages_replies_ended_at ON messages (ended_at) WHERE stats_model_path IS NOT NULL;
    `);
  },
};
