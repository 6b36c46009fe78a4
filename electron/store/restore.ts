/**
 * Restoring a backup, in two steps, because the database cannot be swapped under a running app:
 *
 * 1. {@link stageRestore} (Settings → Data → Restore…): the backup is checked now and a small marker,
 *    `<data folder>/restore-pending.json`, names it.
 * 2. {@link applyPendingRestore}, at the next start, before the store opens (`openRuntime`): the backup is checked
 *    again (`PRAGMA quick_check`, the schema version, the expected tables); then the current database and its
 *    `-wal` / `-shm` are moved aside to `wattwise.sqlite.before-restore-<time>` (`-wal`, `-shm`), and the backup is
 *    copied into place (as `<db>.restoring`, then renamed). A backup that is missing or fails the check is refused:
 *    the current database is left untouched. Either way the marker is removed and the outcome is written to
 *    `<data folder>/restore-result.json` (shown in Settings, see {@link lastRestoreOutcome}).
 *
 * No Electron imports.
 */
import { copyFileSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { backupNameSchema, restoreOutcomeSchema, type RestoreOutcome } from '../../shared/dataContract.js';
import { backupsDir, checkDatabaseFile, fileTimestamp } from './backup.js';

/** The marker of a restore waiting for the next start, in the data folder. */
export const restoreMarkerName = 'restore-pending.json';
/** The outcome of the last restore, in the data folder. */
export const restoreResultName = 'restore-result.json';

/** What the marker holds. */
const markerSchema = z.object({
  format: z.literal('wattwise.restore'),
  version: z.literal(1),
  /** The backup's file name in `<data folder>/backups`. */
  backup: backupNameSchema,
  /** When it was asked for, ms since the epoch. */
  requestedAt: z.number().int().nonnegative(),
});

/** Writes `text` to `path` through a temporary file and a rename, so a reader never sees half of it. */
function writeAtomically(path: string, text: string): void {
  const temp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, text);
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

/** The JSON in `path`, or undefined when it is missing or not JSON. */
function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Asks for backup `name` to replace the database at the next start (replacing any restore already asked for).
 * The caller checks the backup first (the running store can: `Store.checkDatabaseFile`).
 * @throws Error (from `fs`) when the marker cannot be written.
 */
export function stageRestore(dataDir: string, name: string, now: number = Date.now()): void {
  const marker: z.infer<typeof markerSchema> = { format: 'wattwise.restore', version: 1, backup: backupNameSchema.parse(name), requestedAt: Math.trunc(now) };
  writeAtomically(join(dataDir, restoreMarkerName), `${JSON.stringify(marker)}\n`);
}

/** Forgets the restore asked for, if any. @returns whether there was one. */
export function cancelRestore(dataDir: string): boolean {
  const path = join(dataDir, restoreMarkerName);
  if (!existsSync(path)) return false;
  rmSync(path, { force: true });
  return true;
}

/** The backup that will replace the database at the next start, or null (none asked for, or an unreadable marker). */
export function pendingRestore(dataDir: string): string | null {
  const checked = markerSchema.safeParse(readJson(join(dataDir, restoreMarkerName)));
  return checked.success ? checked.data.backup : null;
}

/** How the last restore ended, or null when none ran (or its record is unreadable). */
export function lastRestoreOutcome(dataDir: string): RestoreOutcome | null {
  const checked = restoreOutcomeSchema.safeParse(readJson(join(dataDir, restoreResultName)));
  return checked.success ? checked.data : null;
}

/** Options of {@link applyPendingRestore}. */
export interface ApplyRestoreOptions {
  dataDir: string;
  /** The database file (`databasePath(dataDir)`). */
  databasePath: string;
  /** better_sqlite3.node for this runtime (the Electron shell's build); default better-sqlite3's own. */
  nativeBinding?: string;
  /** Clock, ms since the epoch (tests). */
  now?: () => number;
}

/**
 * Carries out the restore asked for by {@link stageRestore}, if any (see the module doc). Call it before the
 * store opens. Never throws for a bad backup: that is a `refused` outcome, with the database untouched.
 *
 * @returns null when no restore was asked for; else the outcome (also written to `restore-result.json`).
 * @throws Error (from `fs`) only when the database could not be moved back after a failed copy — then the
 *   previous database is still at the `before-restore` path the message names.
 */
export function applyPendingRestore(options: ApplyRestoreOptions): RestoreOutcome | null {
  const markerPath = join(options.dataDir, restoreMarkerName);
  if (!existsSync(markerPath)) return null;
  const at = Math.trunc((options.now ?? Date.now)());
  const marker = markerSchema.safeParse(readJson(markerPath));
  const finish = (outcome: RestoreOutcome): RestoreOutcome => {
    rmSync(markerPath, { force: true });
    try {
      writeAtomically(join(options.dataDir, restoreResultName), `${JSON.stringify(outcome)}\n`);
    } catch {
      // The outcome is also returned (and logged by the caller); the record is only for Settings.
    }
    return outcome;
  };
  if (!marker.success) {
    return finish({ state: 'refused', backup: '', at, detail: `the restore request (${restoreMarkerName}) is unreadable; nothing was changed` });
  }
  const name = marker.data.backup;
  const backupPath = join(backupsDir(options.dataDir), name);
  try {
    checkDatabaseFile(backupPath, options.nativeBinding);
  } catch (error) {
    return finish({ state: 'refused', backup: name, at, detail: `${error instanceof Error ? error.message : String(error)}; the current database was kept` });
  }

  const db = options.databasePath;
  const aside = `${db}.before-restore-${fileTimestamp(at)}`;
  const moved: Array<[from: string, to: string]> = [];
  try {
    for (const suffix of ['', '-wal', '-shm']) {
      if (!existsSync(`${db}${suffix}`)) continue;
      renameSync(`${db}${suffix}`, `${aside}${suffix}`);
      moved.push([`${db}${suffix}`, `${aside}${suffix}`]);
    }
    copyFileSync(backupPath, `${db}.restoring`);
    renameSync(`${db}.restoring`, db);
  } catch (error) {
    try {
      rmSync(`${db}.restoring`, { force: true });
    } catch {
      // Not a file of ours (a folder in the way): left as it is.
    }
    // Put the current database back as it was.
    for (const [from, to] of moved.reverse()) renameSync(to, from);
    return finish({ state: 'refused', backup: name, at, detail: `the backup could not be copied into place (${error instanceof Error ? error.message : String(error)}); the current database was kept` });
  }
  const detail = moved.length > 0 ? `the previous database was kept as ${basename(aside)}` : 'there was no database before';
  return finish({ state: 'restored', backup: name, at, detail });
}

/** One line for logs about a restore outcome. */
export function describeRestoreOutcome(outcome: RestoreOutcome): string {
  return outcome.state === 'restored'
    ? `restored the backup ${outcome.backup} (${outcome.detail})`
    : `did not restore ${outcome.backup ? `the backup ${outcome.backup}` : 'a backup'}: ${outcome.detail}`;
}
