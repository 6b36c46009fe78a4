/**
 * Fixture helpers for the telemetry tests: paths of the sysfs trees and tool outputs under test/fixtures, and
 * temp copies that a test may change (write energy_uj, delete a battery) without touching the originals.
 */
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../helpers/models.js';
import { tempDir } from '../../helpers/runtime.js';

const materialized = new Map<string, string>();

/**
 * A sysfs root for `test/fixtures/sysfs/<scenario>` (holds `sys/class/...`). The kernel's names contain
 * ':' (`intel-rapl:0`), which Windows file systems (and so Git for Windows) refuse, so the repository
 * stores them URL-encoded (`intel-rapl%3A0`): scenarios with such names are copied once per process into
 * a temp folder with the real names; others are used in place.
 */
export function sysfsFixture(scenario: string): string {
  const source = join(repoRoot, 'test', 'fixtures', 'sysfs', scenario);
  const encoded = existsSync(source) && readdirSync(source, { recursive: true, encoding: 'utf8' }).some((p) => p.includes('%3A'));
  if (!encoded) return source;
  let root = materialized.get(scenario);
  if (!root) {
    root = mkdtempSync(join(tmpdir(), `wattwise-sysfs-${scenario}-`));
    copyDecoded(source, root);
    materialized.set(scenario, root);
    const dir = root;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return root;
}

/** Copies `from` into `to`, decoding `%3A` in every name back to ':'. */
function copyDecoded(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const target = join(to, entry.name.replaceAll('%3A', ':'));
    if (entry.isDirectory()) copyDecoded(join(from, entry.name), target);
    else copyFileSync(join(from, entry.name), target);
  }
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
