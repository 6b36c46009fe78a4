/**
 * Schema version 6: what the calibration bench measured per model file on each machine (issue 7).
 *
 * Frozen history: once released, this file never changes.
 *
 * - `model_calibrations`: one row per (machine_key, file_key), the latest run of that file on that
 *   machine. `file_key` is the file's identity across renames and copies (size + a hash of its first and
 *   last MiB, electron/models/fileIdentity.ts); `model_path` where it was last measured; `text_id` the
 *   held-out text its bits per byte were measured on; `result_json` the whole result (the contract's
 *   `calibrationResultSchema`, checked when read back, so a row from a future version that no longer
 *   parses is ignored rather than trusted); `measured_at` ms since the epoch.
 * - `model_facts`: what reading a model file's header costs to learn (the catalog's `ModelInfo`,
 *   node-llama-cpp's memory estimates), per path, valid while the file's `stat_key` (device, inode, size,
 *   mtime of every part) and the reader's `reader_version` are unchanged: a governor decision over a
 *   library of multi-GB models then reads no header at all. A cache: rows can be dropped at any time.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { Migration } from './index.js';

export const migration006: Migration = {
  version: 6,
  name: 'model_calibrations_and_facts',
  up(db: BetterSqlite3.Database): void {
    db.exec(`
      CREATE TABLE model_calibrations (
        machine_key TEXT NOT NULL,
        file_key    TEXT NOT NULL,
        model_path  TEXT NOT NULL,
        text_id     TEXT NOT NULL,
        result_json TEXT NOT NULL,
        measured_at INTEGER NOT NULL,
        PRIMARY KEY (machine_key, file_key)
      ) WITHOUT ROWID;
      CREATE INDEX model_calibrations_path ON model_calibrations (machine_key, model_path);

      CREATE TABLE model_facts (
        path           TEXT NOT NULL,
        kind           TEXT NOT NULL,
        stat_key       TEXT NOT NULL,
        reader_version TEXT NOT NULL,
        value_json     TEXT NOT NULL,
        updated_at     INTEGER NOT NULL,
        PRIMARY KEY (path, kind)
      ) WITHOUT ROWID;
    `);
  },
};
