/**
 * The governor's core stays pure: no imports but its own files, no clock, no randomness from the
 * environment, no file system, no native modules (the brief: time and measurements come in as input).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../helpers/models.js';

const dir = join(repoRoot, 'electron', 'governor');
const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));

test('electron/governor imports only its own files', () => {
  assert.ok(files.length >= 7, files.join(', '));
  const offenders: string[] = [];
  for (const f of files) {
    const text = readFileSync(join(dir, f), 'utf8');
    for (const m of text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/g)) {
      const spec = m[1] ?? m[2] ?? m[3] ?? '';
      // Its own files, and shared/ (runtime-neutral by the architecture test: no Node, DOM or Electron).
      if (!/^\.\/[\w.-]+\.js$/.test(spec) && !/^\.\.\/\.\.\/shared\/[\w.-]+\.js$/.test(spec)) offenders.push(`${f} → ${spec}`);
    }
  }
  assert.deepEqual(offenders, []);
});

test('electron/governor reads no clock and no ambient randomness', () => {
  const offenders: string[] = [];
  for (const f of files) {
    const code = readFileSync(join(dir, f), 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/\/\/.*$/gm, '');
    for (const banned of ['Date.now', 'new Date', 'performance.now', 'process.hrtime', 'Math.random', 'process.', 'setTimeout', 'setInterval']) {
      if (code.includes(banned)) offenders.push(`${f}: ${banned}`);
    }
  }
  assert.deepEqual(offenders, []);
});
