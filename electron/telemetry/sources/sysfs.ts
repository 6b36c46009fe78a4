/**
 * Small helpers shared by the Linux sysfs readers (battery, RAPL, battery state): an injectable file reader,
 * attribute reads that return errors as values, and strict integer parsing.
 *
 * sysfs attributes hold one value and a newline (kernel `Documentation/filesystems/sysfs.rst`: "one value per
 * file"). A driver can fail a read with EIO/ENODATA; a supply can vanish (ENOENT) between two reads; RAPL's
 * `energy_uj` is root-only (EACCES) since kernel commit 949dd0104c49. None of these may throw out of a source.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Reads a whole text file (utf8). Rejects with a Node `ErrnoException` (`code` = `ENOENT`, `EACCES`, `EIO`, ...)
 * like `fs.promises.readFile`. Injectable so tests can produce a real `EACCES` even when running as root.
 */
export type ReadTextFile = (path: string) => Promise<string>;

/** The default {@link ReadTextFile}: `fs.promises.readFile(path, 'utf8')`. */
export const defaultReadTextFile: ReadTextFile = (path) => readFile(path, 'utf8');

/** The text of one attribute, or why it could not be read (`code` is the errno name, `'UNKNOWN'` if none). */
export type AttrRead = { ok: true; text: string } | { ok: false; code: string; message: string };

/** Reads one sysfs attribute; never throws (errors become `{ ok: false, code }`). Text is trimmed. */
export async function readAttr(read: ReadTextFile, path: string): Promise<AttrRead> {
  try {
    return { ok: true, text: (await read(path)).trim() };
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    return { ok: false, code: typeof e?.code === 'string' ? e.code : 'UNKNOWN', message: e instanceof Error ? e.message : String(error) };
  }
}

/**
 * Parses a sysfs integer: optional sign and decimal digits only, surrounding whitespace allowed.
 * Returns null for empty text, non-numeric text ("N/A", "12.5", "0x10") or a value beyond ±2^53.
 */
export function parseSysfsInt(text: string): number | null {
  const t = text.trim();
  if (!/^[+-]?\d+$/.test(t)) return null;
  const n = Number(t);
  return Number.isSafeInteger(n) ? n : null;
}

/** Names in a directory, sorted; null when the directory cannot be listed (missing, not a directory, no permission). */
export async function listDir(path: string): Promise<string[] | null> {
  try {
    return (await readdir(path)).sort();
  } catch {
    return null;
  }
}

/** `<sysfsRoot>/sys/class/power_supply`. `sysfsRoot` defaults to `/`. */
export function powerSupplyDir(sysfsRoot = '/'): string {
  return join(sysfsRoot, 'sys', 'class', 'power_supply');
}

/** `<sysfsRoot>/sys/class/powercap`. `sysfsRoot` defaults to `/`. */
export function powercapDir(sysfsRoot = '/'): string {
  return join(sysfsRoot, 'sys', 'class', 'powercap');
}

/** Wall clock with sub-millisecond resolution, ms since the epoch (`performance.timeOrigin + performance.now()`). */
export function preciseNowMs(): number {
  return performance.timeOrigin + performance.now();
}
