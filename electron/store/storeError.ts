/**
 * Storage errors of the Wattwise store, with the API error code each one crosses the boundary as.
 * No Electron imports here.
 */
import { accessSync, constants as fsConstants, existsSync } from 'node:fs';
import { dirname } from 'node:path';

/** The API error codes a store failure maps to (a subset of the contract's `ErrorCode`). */
export type StoreErrorCode = 'STORAGE_FULL' | 'STORAGE_FAILED' | 'NOT_FOUND' | 'BAD_INPUT';

/**
 * A store failure: `code` says what the backend reports, `message` is one line that names the
 * database file where the file is at fault. The original error (a better-sqlite3 `SqliteError` or a
 * Node `fs` error) is kept as `cause`.
 */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The `code` of a better-sqlite3 `SqliteError` (e.g. `SQLITE_FULL`, `SQLITE_IOERR_WRITE`), else undefined. */
export function sqliteCode(error: unknown): string | undefined {
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}

/** Node `fs` error codes that mean "the disk is full" (or the user's quota is). */
const fsFullCodes = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);

/**
 * Turns anything thrown while using the database at `filePath` into a {@link StoreError}:
 * - `SQLITE_FULL` (disk full, or the page-count cap reached), an `SQLITE_IOERR*` while the disk has
 *   (almost) no free space (`diskAlmostFull`), and `ENOSPC`/`EDQUOT`/`EFBIG` → `STORAGE_FULL`;
 * - `SQLITE_NOTADB`, `SQLITE_CORRUPT*`, `SQLITE_READONLY*`, `SQLITE_CANTOPEN*`, `SQLITE_IOERR*`,
 *   `SQLITE_BUSY*`/`SQLITE_LOCKED*`, other `SQLITE_*` codes and other `fs` errors → `STORAGE_FAILED`.
 *
 * A `StoreError` is returned unchanged. Anything else (a `TypeError` from a bug, a failure to load
 * the native module) is returned unchanged too: it is not a storage failure and must not be reported
 * as one.
 *
 * @param diskAlmostFull called only for `SQLITE_IOERR*`: whether the disk holding the file is full;
 *   SQLite does not report the errno of a failed write, so this is how ENOSPC is told apart.
 */
/**
 * Why a database file cannot be opened, in words: its folder is missing, the file system is read-only
 * (EROFS), or there is no permission to write (EACCES/EPERM), from `access(W_OK)` on the file (or its folder
 * when the file does not exist). `access` is injectable for tests.
 */
export function whyCannotOpen(filePath: string, access: (path: string, mode: number) => void = accessSync): string {
  const folder = dirname(filePath);
  if (!existsSync(folder)) return 'its folder does not exist';
  try {
    access(existsSync(filePath) ? filePath : folder, fsConstants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EROFS') return 'the file system is read-only';
    if (code === 'EACCES' || code === 'EPERM') return 'no permission to write there';
  }
  return 'missing folder or no permission?';
}

export function toStoreError(error: unknown, filePath: string, diskAlmostFull?: () => boolean): unknown {
  if (error instanceof StoreError) return error;
  const code = sqliteCode(error);
  const detail = error instanceof Error ? error.message : String(error);
  const cause = { cause: error };
  if (code !== undefined) {
    if (code === 'SQLITE_FULL' || code.startsWith('SQLITE_FULL_')) {
      return new StoreError('STORAGE_FULL', `database ${filePath}: the disk is full (or the database reached its size limit); nothing was written`, cause);
    }
    if (code === 'SQLITE_NOTADB') {
      return new StoreError('STORAGE_FAILED', `database ${filePath} is not a SQLite database (file is corrupt?)`, cause);
    }
    if (code.startsWith('SQLITE_CORRUPT')) {
      return new StoreError('STORAGE_FAILED', `database ${filePath} is corrupt (${detail})`, cause);
    }
    if (code.startsWith('SQLITE_READONLY')) {
      return new StoreError('STORAGE_FAILED', `database ${filePath} is read-only (read-only disk or no write permission); nothing was written`, cause);
    }
    if (code.startsWith('SQLITE_CANTOPEN')) {
      return new StoreError('STORAGE_FAILED', `cannot open database ${filePath} (${whyCannotOpen(filePath)})`, cause);
    }
    if (code.startsWith('SQLITE_IOERR')) {
      let full = false;
      try {
        full = diskAlmostFull?.() ?? false;
      } catch {
        full = false;
      }
      if (full) {
        return new StoreError('STORAGE_FULL', `database ${filePath}: the disk is full; nothing was written (${code})`, cause);
      }
      return new StoreError('STORAGE_FAILED', `disk I/O error on database ${filePath} (${code})`, cause);
    }
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
      return new StoreError('STORAGE_FAILED', `database ${filePath} is locked by another process (is Wattwise already running?)`, cause);
    }
    return new StoreError('STORAGE_FAILED', `database ${filePath}: ${detail} (${code})`, cause);
  }
  const fsCode = error instanceof Error ? (error as NodeJS.ErrnoException).code : undefined;
  if (typeof fsCode === 'string' && (error as NodeJS.ErrnoException).syscall !== undefined) {
    if (fsFullCodes.has(fsCode)) {
      return new StoreError('STORAGE_FULL', `cannot write database ${filePath}: the disk is full (${fsCode})`, cause);
    }
    return new StoreError('STORAGE_FAILED', `cannot create database ${filePath}: ${detail}`, cause);
  }
  return error;
}
