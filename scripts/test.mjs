#!/usr/bin/env node
// Runs the test suites with Node's built-in test runner (TypeScript through tsx).
// Usage: node scripts/test.mjs [unit|integration|e2e ...]  (default: all, in that order)
// Files: test/<suite>/**/*.test.ts. Suites run one after another; files in a suite run one at a
// time (--test-concurrency=1) because the integration and e2e suites load real models on 2 cores.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const all = ['unit', 'integration', 'e2e'];
const suites = process.argv.slice(2).length ? process.argv.slice(2) : all;

function find(dir) {
  let out = [];
  let entries;
  try { entries = readdirSync(dir); } catch { return out; }
  for (const name of entries.sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out = out.concat(find(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

if (suites.includes('e2e')) {
  // The e2e suite drives the built renderer: build it first, once.
  const build = spawnSync('npm', ['run', '-s', 'build:renderer'], { stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

const files = suites.flatMap((s) => {
  if (!all.includes(s)) { console.error(`unknown suite: ${s} (expected one of ${all.join(', ')})`); process.exit(2); }
  return find(join('test', s));
});
if (files.length === 0) { console.error('no test files found'); process.exit(1); }
// Spec output for people, TAP to a file for the closing summary line.
const tapDir = mkdtempSync(join(tmpdir(), 'wattwise-tap-'));
const tapFile = join(tapDir, 'results.tap');
const r = spawnSync(
  process.execPath,
  [
    '--import', 'tsx', '--test', '--test-concurrency=1',
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=tap', `--test-reporter-destination=${tapFile}`,
    ...files,
  ],
  { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
);
let tap = '';
try { tap = readFileSync(tapFile, 'utf8'); } catch { /* the runner died before writing */ }
rmSync(tapDir, { recursive: true, force: true });
const count = (name) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(tap)?.[1] ?? 0);
console.log(`\ntests: ${count('pass')} passed, ${count('fail') + count('cancelled')} failed, ${count('skipped')} skipped`);
process.exit(r.status ?? 1);
