/**
 * Schema version 4: what the power governor measures and records (issue 4).
 *
 * Frozen history: once released, this file never changes.
 *
 * - `model_loads`: one row per model load on one machine: `load_ms` (wall time of the load, ms) and
 *   `load_energy_j` (J attributed to the load; NULL when no power source could tell), with the file's
 *   `model_size_bytes` at the time (a replaced file is told apart by its size) and `at` (ms since the
 *   epoch). Indexed by (machine_key, model_path, at) for "the recent loads of this model here".
 * - `machine_facts`: one JSON value per (machine key, key), e.g. the machine's effective memory
 *   bandwidth measured once, with `measured_at` (ms since the epoch).
 * - `messages.governor_profile` / `messages.governor_reason`: which governor profile, and why, chose
 *   the model variant that answered; NULL for every message written before this version (and for
 *   replies the governor did not choose).
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { Migration } from './index.js';

export const migration004: Migration = {
  version: 4,
  name: 'governor_measurements',
  up(db: BetterSqlite3.Database): void {
    db.exec(`
      CREATE TABLE model_loads (
        seq              INTEGER PRIMARY KEY,
        model_path       TEXT NOT NULL,
        model_size_bytes INTEGER NOT NULL CHECK (model_size_bytes >= 0),
        machine_key      TEXT NOT NULL,
        load_ms          REAL NOT NULL CHECK (load_ms >= 0),
        load_energy_j    REAL CHECK (load_energy_j IS NULL OR load_energy_j >= 0),
        at               INTEGER NOT NULL
      );
      CREATE INDEX model_loads_machine_model ON model_loads (machine_key, model_path, at);

      CREATE TABLE machine_facts (
        machine_key TEXT NOT NULL,
        key         TEXT NOT NULL,
        value_json  TEXT NOT NULL,
        measured_at INTEGER NOT NULL,
        PRIMARY KEY (machine_key, key)
      ) WITHOUT ROWID;

      ALTER TABLE messages ADD COLUMN governor_profile TEXT;
      ALTER TABLE messages ADD COLUMN governor_reason  TEXT;
    `);
  },
};
