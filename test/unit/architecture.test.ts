/**
 * The layering rules of the brief, checked on the source: only electron/shell imports Electron; shared/
 * imports neither Node, nor the DOM-only renderer, nor electron/; the renderer never imports electron/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { repoRoot } from '../helpers/models.js';

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (/\.(ts|tsx)$/.test(name)) out.push(p);
  }
  return out;
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]/gm)].map(
    (m) => m[1] ?? m[2] ?? m[3] ?? '',
  );
}

test('only electron/shell imports electron', () => {
  const offenders = sources(join(repoRoot, 'electron'))
    .filter((f) => !relative(repoRoot, f).startsWith(join('electron', 'shell')))
    .filter((f) => imports(f).some((i) => i === 'electron' || i.startsWith('electron/')));
  assert.deepEqual(offenders.map((f) => relative(repoRoot, f)), []);
});

test('shared/ is runtime-neutral', () => {
  const offenders = sources(join(repoRoot, 'shared')).flatMap((f) =>
    imports(f)
      .filter((i) => i.startsWith('node:') || i === 'electron' || i.includes('/electron/') || i.includes('/renderer/') || ['fs', 'path', 'os', 'react'].includes(i))
      .map((i) => `${relative(repoRoot, f)} → ${i}`),
  );
  assert.deepEqual(offenders, []);
});

test('the renderer reaches the backend only through the contract', () => {
  const offenders = sources(join(repoRoot, 'renderer', 'src')).flatMap((f) =>
    imports(f)
      .filter((i) => i === 'electron' || i.startsWith('node:') || /(^|\/)electron\//.test(i))
      .map((i) => `${relative(repoRoot, f)} → ${i}`),
  );
  assert.deepEqual(offenders, []);
});
