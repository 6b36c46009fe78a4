/**
 * The electronegativity gate that `npm test` runs over electron/ (scripts/electronegativity.ts): HIGH
 * findings and unparsed Electron files fail it, lower findings are only listed; and the real tool, run on
 * an insecure window, reports HIGH findings that the gate turns into a failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { judge, scan, usesElectron, type Finding, type ScanResult } from '../../../scripts/electronegativity.js';
import { repoRoot } from '../../helpers/models.js';

function finding(id: string, severity: 'HIGH' | 'MEDIUM' | 'LOW', file = '/x/main.ts'): Finding {
  const value = { HIGH: 3, MEDIUM: 2, LOW: 1 }[severity];
  return {
    id,
    file,
    location: { line: 1, column: 0 },
    description: id,
    shortenedURL: 'https://git.io/x',
    severity: { value, name: severity },
    confidence: { value: 0, name: 'TENTATIVE' },
  };
}

const result = (issues: Finding[], errors: ScanResult['errors'] = []): ScanResult => ({ globalChecks: 6, atomicChecks: 35, issues, errors });

test('usesElectron recognizes imports and requires of electron only', () => {
  assert.ok(usesElectron("import { app } from 'electron';"));
  assert.ok(usesElectron('import { contextBridge, ipcRenderer, type IpcRendererEvent } from "electron";'));
  assert.ok(usesElectron("const { app } = require('electron')"));
  assert.ok(usesElectron("await import('electron')"));
  assert.equal(usesElectron("import { x } from 'electron-builder';"), false);
  assert.equal(usesElectron("import { x } from './electron.js';"), false);
  assert.equal(usesElectron('const s = 1;'), false);
});

test('any HIGH finding fails the gate, whatever its confidence; lower ones are listed only', () => {
  const ok = judge(result([finding('AUXCLICK_JS_CHECK', 'MEDIUM'), finding('CSP_GLOBAL_CHECK', 'LOW')]), () => '');
  assert.equal(ok.ok, true);
  assert.equal(ok.other.length, 2);

  const bad = judge(result([finding('CONTEXT_ISOLATION_JS_CHECK', 'HIGH'), finding('AUXCLICK_JS_CHECK', 'MEDIUM')]), () => '');
  assert.equal(bad.ok, false);
  assert.deepEqual(bad.high.map((f) => f.id), ['CONTEXT_ISOLATION_JS_CHECK']);
});

test('an unparsed file that uses Electron fails the gate; other unparsed files are listed', () => {
  const sources: Record<string, string> = {
    '/x/shell/main.ts': "import { BrowserWindow } from 'electron';",
    '/x/core/util.ts': 'export const a = 1;',
  };
  const read = (file: string) => sources[file] ?? '';
  const electronFile = judge(result([], [{ file: '/x/shell/main.ts', message: 'Unexpected token', tolerable: false }]), read);
  assert.equal(electronFile.ok, false);
  assert.equal(electronFile.unscanned.length, 1);

  const plainFile = judge(result([], [{ file: '/x/core/util.ts', message: 'Unexpected token', tolerable: false }]), read);
  assert.equal(plainFile.ok, true);
  assert.equal(plainFile.skipped.length, 1);

  const tolerable = judge(result([], [{ file: '/x/shell/main.ts', message: 'warning', tolerable: true }]), read);
  assert.equal(tolerable.ok, true);

  const unreadable = judge(result([], [{ file: '/x/gone.ts', message: 'x', tolerable: false }]), () => {
    throw new Error('ENOENT');
  });
  assert.equal(unreadable.ok, false, 'a file that cannot be read back counts as an unscanned Electron file');
});

test('the real tool reports an insecure window as HIGH, and the gate fails on it', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wattwise-electronegativity-'));
  try {
    writeFileSync(
      join(dir, 'main.ts'),
      [
        "import { BrowserWindow } from 'electron';",
        'export function open(): BrowserWindow {',
        '  const win = new BrowserWindow({ webPreferences: { nodeIntegration: true, contextIsolation: false } });',
        "  void win.loadURL('https://example.org/');",
        '  return win;',
        '}',
        '',
      ].join('\n'),
    );
    const scanned = await scan(dir, repoRoot);
    const verdict = judge(scanned, () => '');
    const highIds = new Set(verdict.high.map((f) => f.id));
    assert.equal(verdict.ok, false);
    assert.ok(highIds.has('CONTEXT_ISOLATION_JS_CHECK'), [...highIds].join(', '));
    // No will-navigate handler: the navigation check's "none found" finding is HIGH as well.
    assert.ok(highIds.has('LIMIT_NAVIGATION_GLOBAL_CHECK'), [...highIds].join(', '));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
