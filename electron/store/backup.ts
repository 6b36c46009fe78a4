/**
 * Backups of the Wattwise database: SQLite's online backup (better-sqlite3 `db.backup()`, which copies the
 * pages while the app keeps running and restarts when a write lands meanwhile) into `<data folder>/backups`,
 * the list of backups, and the checks a file must pass before it may replace the database.
 *
 * A backup is one self-contained file (journal mode DELETE, no `-wal` beside it) named
 * `wattwise-<UTC time>.db` (`shared/dataContract.ts`, `backupNameSchema`); it is written as `<name>.partial`,
 * checked with `PRAGMA quick_check`, and only then renamed into place, so a failed backup leaves no file that
 * looks whole. No Electron imports.
 */
import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { backupNameSchema, type BackupInfo } from '../../shared/dataContract.js';
import { latestSchemaVersion } from './migrations/index.js';

/** The folder backups go to, inside the data folder. */
export function backupsDir(dataDir: string): string {
  return join(dataDir, 'backups');
}

/** `2024-05-01T12-30-05-123Z`: a UTC time safe in file names on every OS (no `:`), to the ms. */
export function fileTimestamp(at: number): string {
  return new Date(at).toISOString().replace(/[:.]/g, '-');
}

/**
 * A free backup name in `dir` for time `at`: `wattwise-<fileTimestamp>.db`, or with `-2`, `-3`… before `.db`
 * when that name is taken.
 * @throws Error when 999 names of that ms are taken (never in practice).
 */
export function newBackupName(dir: string, at: number): string {
  const base = `wattwise-${fileTimestamp(at)}`;
  for (let n = 1; n < 1000; n++) {
    const name = n === 1 ? `${base}.db` : `${base}-${n}.db`;
    if (!existsSync(join(dir, name)) && !existsSync(join(dir, `${name}.partial`))) return name;
  }
  throw new Error(`no free backup name for ${base}`);
}

/** When a backup was made, from its name (`wattwise-2024-05-01T12-30-05-123Z.db`); null when the name does not say. */
export function backupTimeFromName(name: string): number | null {
  const m = /^wattwise-(\d{4})-(\d{2})-(\d{2})T(\d{2})-(\d{2})-(\d{2})-(\d{3})Z/.exec(name);
  if (!m) return null;
  const at = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), Number(m[7]));
  return Number.isFinite(at) ? at : null;
}

/**
 * The backups in `dir` (files whose names are backup names; anything else is ignored), newest first. A folder
 * that does not exist has none.
 * @throws Error (from `fs`) when the folder exists but cannot be read.
 */
export function listBackupFiles(dir: string): BackupInfo[] {
  if (!existsSync(dir)) return [];
  const list: BackupInfo[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isFile() || !backupNameSchema.safeParse(entry.name).success) continue;
    let stats;
    try {
      stats = statSync(join(dir, entry.name));
    } catch {
      continue; // removed meanwhile
    }
    list.push({ name: entry.name, bytes: stats.size, createdAt: backupTimeFromName(entry.name) ?? Math.trunc(stats.mtimeMs) });
  }
  return list.sort((a, b) => b.createdAt - a.createdAt || b.name.localeCompare(a.name));
}

/** A file that cannot replace the database: `message` says why in one line. */
export class BackupCheckError extends Error {
  override readonly name = 'BackupCheckError';
}

/** The tables a Wattwise database has at every schema version since 3 (migrations 001 and 003). */
export const requiredTables = ['conversations', 'messages', 'settings', 'power_samples'] as const;

/**
 * Checks the database `schema` ('main', or the alias of an attached one) of `db`: `PRAGMA quick_check` says
 * `ok`, its schema version (`user_version`) is one this build knows (1..latest), and it has the
 * {@link requiredTables}. Only reads.
 * @throws BackupCheckError saying what is wrong; SQLite errors (not a database: `SQLITE_NOTADB`) propagate.
 */
export function checkWattwiseSchema(db: Database.Database, schema: string): void {
  const quick = db.pragma(`${schema}.quick_check`) as Array<{ quick_check: string }>;
  const problems = quick.map((r) => r.quick_check).filter((t) => t !== 'ok');
  if (problems.length > 0) throw new BackupCheckError(`it fails SQLite's integrity check (${problems[0]}${problems.length > 1 ? `, and ${problems.length - 1} more` : ''})`);
  const version = db.pragma(`${schema}.user_version`, { simple: true }) as number;
  if (version > latestSchemaVersion) throw new BackupCheckError(`it was made by a newer Wattwise (schema version ${version}; this one knows up to ${latestSchemaVersion})`);
  const tables = new Set(
    (db.prepare(`SELECT name FROM ${schema}.sqlite_master WHERE type = 'table'`).all() as Array<{ name: string }>).map((r) => r.name),
  );
  const missing = requiredTables.filter((t) => !tables.has(t));
  if (version < 1 || missing.length > 0) throw new BackupCheckError(`it is not a Wattwise database (no ${missing.length > 0 ? `table ${missing.join(', ')}` : 'schema version'})`);
}

/** The message of an error thrown while checking a file, in words a user can act on. */
function checkFailure(error: unknown): string {
  if (error instanceof BackupCheckError) return error.message;
  const code = (error as { code?: unknown }).code;
  if (code === 'SQLITE_NOTADB') return 'it is not a SQLite database';
  if (typeof code === 'string' && code.startsWith('SQLITE_CORRUPT')) return 'it is damaged (SQLite reports it corrupt)';
  return error instanceof Error ? error.message : String(error);
}

/**
 * Checks that the file at `path` can replace the database ({@link checkWattwiseSchema}), opening it read-only
 * on its own connection (before the store is open: the staged restore at start).
 * @param nativeBinding better_sqlite3.node for this runtime (Electron passes its build); default better-sqlite3's own.
 * @throws BackupCheckError `"<file>": <why>` (missing, not SQLite, damaged, not Wattwise's, newer).
 */
export function checkDatabaseFile(path: string, nativeBinding?: string): void {
  if (!existsSync(path)) throw new BackupCheckError(`the backup ${path} does not exist`);
  let db: Database.Database | null = null;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true, ...(nativeBinding !== undefined ? { nativeBinding } : {}) });
    checkWattwiseSchema(db, 'main');
  } catch (error) {
    throw new BackupCheckError(`the backup ${path} cannot be restored: ${checkFailure(error)}`, { cause: error });
  } finally {
    db?.close();
  }
}

/** Runs `fn` with the file at `path` ATTACHed to `db` under a temporary alias (detached afterwards, also on failure). */
function withAttached<T>(db: Database.Database, path: string, fn: (alias: string) => T): T {
  const alias = 'wattwise_backup_check';
  db.prepare(`ATTACH DATABASE ? AS ${alias}`).run(path);
  try {
    return fn(alias);
  } finally {
    db.prepare(`DETACH DATABASE ${alias}`).run();
  }
}

/**
 * Checks the file at `path` through an open connection `db` (ATTACHed under a temporary alias with writes
 * refused, then detached), so the running app checks a backup with the SQLite build it already loaded.
 * @throws BackupCheckError as {@link checkDatabaseFile}.
 */
export function checkDatabaseFileWith(db: Database.Database, path: string): void {
  if (!existsSync(path)) throw new BackupCheckError(`the backup ${path} does not exist`);
  try {
    withAttached(db, path, (alias) => checkWattwiseSchema(db, alias));
  } catch (error) {
    throw new BackupCheckError(`the backup ${path} cannot be restored: ${checkFailure(error)}`, { cause: error });
  }
}

/**
 * Backs the open database `db` up into `destPath` with SQLite's online backup: written as `<destPath>.partial`,
 * switched to journal mode DELETE (one self-contained file), checked ({@link checkWattwiseSchema}), then renamed
 * into place. The partial file is removed when anything fails. `db` must be writable (the store opened with
 * `Store.open`), since the copy is attached to it to be switched and checked.
 * @returns the size of the backup, bytes.
 * @throws whatever better-sqlite3 or `fs` throws (the caller maps it: a full disk is `SQLITE_FULL` / `ENOSPC`),
 *   or BackupCheckError when the copy does not pass the check.
 */
export async function backupDatabaseTo(db: Database.Database, destPath: string): Promise<number> {
  const partial = `${destPath}.partial`;
  try {
    await db.backup(partial);
    withAttached(db, partial, (alias) => {
      db.pragma(`${alias}.journal_mode = DELETE`);
      checkWattwiseSchema(db, alias);
    });
    renameSync(partial, destPath);
    return statSync(destPath).size;
  } catch (error) {
    for (const leftover of [partial, `${partial}-wal`, `${partial}-shm`, `${partial}-journal`]) rmSync(leftover, { force: true });
    throw error;
  }
}
