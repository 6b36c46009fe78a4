/**
 * Schema migrations of the Wattwise database, tracked by `PRAGMA user_version` (0 = empty database).
 *
 * Adding a migration: create `NNN_name.ts` exporting a {@link Migration} with the next version and
 * append it to {@link migrations}. Never edit a released migration.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { StoreError } from '../storeError.js';
import { migration001 } from './001_initial.js';
import { migration002 } from './002_thread_calibrations.js';
import { migration003 } from './003_energy.js';
import { migration004 } from './004_governor_measurements.js';
import { migration005 } from './005_pinned_model.js';
import { migration006 } from './006_model_calibrations.js';
import { migration007 } from './007_message_writers.js';
import { migration008 } from './008_conversation_source.js';
import { migration009 } from './009_presets.js';
import { migration010 } from './010_message_alternatives.js';

/** One schema step. `up` runs inside a transaction that also sets `user_version` to `version`. */
export interface Migration {
  /** The schema version this migration produces: 1, 2, 3... with no gaps. */
  version: number;
  /** Short name, for logs and error messages. */
  name: string;
  /** Applies the change; throws to abort (the transaction is rolled back, nothing is changed). */
  up(db: BetterSqlite3.Database): void;
}

/** Every migration, in order. */
export const migrations: readonly Migration[] = [migration001, migration002, migration003, migration004, migration005, migration006, migration007, migration008, migration009, migration010];

/** The schema version this build of Wattwise writes (the last migration's version). */
export const latestSchemaVersion: number = migrations[migrations.length - 1]?.version ?? 0;

/** Reads `PRAGMA user_version` (the schema version of the database; 0 for a new file). */
export function schemaVersion(db: BetterSqlite3.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Throws a {@link StoreError} `STORAGE_FAILED` if the database was created by a newer Wattwise
 * (its `user_version` is above `latest`). Only reads: the file is left untouched.
 */
export function assertKnownSchemaVersion(db: BetterSqlite3.Database, latest: number = latestSchemaVersion): void {
  const version = schemaVersion(db);
  if (version > latest) {
    throw new StoreError(
      'STORAGE_FAILED',
      `database ${db.name} was created by a newer Wattwise (schema version ${version}; this version knows up to ${latest}): update Wattwise to open it`,
    );
  }
}

/** What {@link migrate} did. */
export interface MigrateResult {
  /** `user_version` before. */
  from: number;
  /** `user_version` after. */
  to: number;
  /** Versions applied, in order (empty when the database was up to date). */
  applied: number[];
}

/**
 * Brings the database up to date: applies every migration whose version is above `user_version`, in
 * order, each in its own `BEGIN IMMEDIATE` transaction that also bumps `user_version` (so a failure
 * leaves the database at the last completed version, never half-migrated). Another process that
 * migrated the same file meanwhile is detected inside the transaction and its work is not repeated.
 *
 * @param options.migrations the list to apply (default: {@link migrations}); must be sorted, versions 1..n.
 * @param options.targetVersion stop after this version (default: the last); tests use it to build an
 *   older schema.
 * @throws StoreError `STORAGE_FAILED` when the database is newer than the list knows; whatever a
 *   migration throws (SQLite errors are not mapped here: the caller maps them).
 */
export function migrate(
  db: BetterSqlite3.Database,
  options: { migrations?: readonly Migration[]; targetVersion?: number } = {},
): MigrateResult {
  const list = options.migrations ?? migrations;
  list.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration list out of order: ${m.name} has version ${m.version}, expected ${i + 1}`);
  });
  const latest = list[list.length - 1]?.version ?? 0;
  const target = options.targetVersion ?? latest;
  assertKnownSchemaVersion(db, latest);
  const from = schemaVersion(db);
  const applied: number[] = [];
  for (const m of list) {
    if (m.version > target) break;
    if (m.version <= from) continue;
    const ran = db
      .transaction(() => {
        if (schemaVersion(db) >= m.version) return false;
        m.up(db);
        db.pragma(`user_version = ${Math.trunc(m.version)}`);
        return true;
      })
      .immediate();
    if (ran) applied.push(m.version);
  }
  return { from, to: schemaVersion(db), applied };
}
