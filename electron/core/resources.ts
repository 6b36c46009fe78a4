/**
 * Data files the app ships in `resources/` (the held-out text of the calibration bench...). Found
 * relative to this module, so the same code works from the sources (tsx: electron/core/), from the
 * bundle (dist/electron/main.js) and inside the packaged app's asar (electron-builder `files` includes
 * `resources/calibration/**`).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The absolute path of `resources/<relative>`: the first of `../../resources`, `../../../resources`
 * (from this module's folder) that exists; `WATTWISE_RESOURCES_DIR` overrides.
 * @throws Error naming the file when it is nowhere (a broken install).
 */
export function resourcePath(relative: string): string {
  const override = process.env.WATTWISE_RESOURCES_DIR;
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [...(override ? [resolve(override)] : []), resolve(here, '..', '..', 'resources'), resolve(here, '..', '..', '..', 'resources')];
  for (const dir of candidates) {
    const p = join(dir, relative);
    if (existsSync(p)) return p;
  }
  throw new Error(`missing app resource resources/${relative} (looked in ${candidates.join(', ')})`);
}

/** The calibration bench's held-out text and its id. */
export interface HeldOutText {
  /** The text (UTF-8; ASCII by construction, see resources/calibration/README.md). */
  text: string;
  /** The first 16 hex digits of its SHA-256: BPB measured on different texts do not compare. */
  id: string;
  /** Its size in UTF-8 bytes. */
  bytes: number;
}

let heldOut: HeldOutText | null = null;

/** The held-out text of the calibration bench (resources/calibration/held-out-text.txt), read once. */
export function heldOutText(): HeldOutText {
  if (heldOut) return heldOut;
  const text = readFileSync(resourcePath('calibration/held-out-text.txt'), 'utf8');
  heldOut = { text, id: createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 16), bytes: Buffer.byteLength(text, 'utf8') };
  return heldOut;
}
