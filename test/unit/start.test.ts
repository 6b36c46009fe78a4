/**
 * `npm start` where Electron's binary is absent (installed with ELECTRON_SKIP_BINARY_DOWNLOAD=1, as here)
 * must fail fast with a clear message that points to the browser mode, not a stack trace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/models.js';

const electronInstalled = existsSync(join(repoRoot, 'node_modules', 'electron', 'path.txt'));

test('npm start without the Electron binary fails fast and points to npm run web', { skip: electronInstalled && 'Electron is installed here: npm start would open the app' }, () => {
  const t0 = Date.now();
  const r = spawnSync('npm', ['start'], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' },
  });
  assert.notEqual(r.status, 0);
  assert.ok(Date.now() - t0 < 30_000, 'fails fast');
  assert.match(r.stderr, /Electron's binary is not installed/);
  assert.match(r.stderr, /npm run web/);
  assert.doesNotMatch(r.stderr + r.stdout, /^\s+at .+:\d+:\d+\)?$/m, 'no stack trace');
});
