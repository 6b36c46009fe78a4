/**
 * Fixture helpers for the telemetry tests: paths of the sysfs trees and tool outputs under test/fixtures, and
 * temp copies that a test may change (write energy_uj, delete a battery) without touching the originals.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../helpers/models.js';
import { tempDir } from '../../helpers/runtime.js';

/** `test/fixtures/sysfs/<scenario>` (a sysfs root: holds `sys/class/...`). */
export function sysfsFixture(scenario: string): string {
  return join(repoRoot, 'test', 'fixtures', 'sysfs', scenario);
}

/** Text of `test/fixtures/power/<name>`. */
export function powerFixture(name: string): string {
  return readFileSync(join(repoRoot, 'test', 'fixtures', 'power', name), 'utf8');
}

/** Path of `test/fixtures/power/<name>`. */
export function powerFixturePath(name: string): string {
  return join(repoRoot, 'test', 'fixtures', 'power', name);
}

/** A temp copy of one or more sysfs scenarios merged into one root; `cleanup` removes it. */
export function copySysfs(...scenarios: string[]): { root: string; cleanup: () => void; write: (rel: string, text: string) => void } {
  const tmp = tempDir('wattwise-sysfs-');
  for (const s of scenarios) cpSync(sysfsFixture(s), tmp.dir, { recursive: true });
  return {
    root: tmp.dir,
    cleanup: tmp.cleanup,
    write: (rel, text) => writeFileSync(join(tmp.dir, rel), text),
  };
}

/** A Node errno error like the ones fs throws (`code`, `errno`, `syscall`, `path`). */
export function errnoError(code: 'EACCES' | 'EIO' | 'ENOENT', path: string): NodeJS.ErrnoException {
  const errno = { EACCES: -13, EIO: -5, ENOENT: -2 }[code];
  const text = { EACCES: 'permission denied', EIO: 'i/o error', ENOENT: 'no such file or directory' }[code];
  return Object.assign(new Error(`${code}: ${text}, open '${path}'`), { code, errno, syscall: 'open', path });
}
