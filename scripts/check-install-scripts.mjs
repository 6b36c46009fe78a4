#!/usr/bin/env node
// CI check, run after `npm install` (.ci/run): fails when any installed dependency has install scripts
// (preinstall/install/postinstall) that package.json's `allowScripts` neither approves nor denies.
//
// npm ≥ 11.16 reads `allowScripts` (npm docs: `npm help install-scripts`, config `strict-allow-scripts`).
// In npm 11 an unreviewed script still runs, with a warning at the end of `npm install`; npm documents that
// such scripts will be blocked by default, and then an unapproved better-sqlite3 would not build. Approved
// here: better-sqlite3 (builds its native addon), node-llama-cpp (checks/fetches its llama.cpp binaries),
// esbuild (installs its platform binary). Denied: electron-winstaller (copies 7-Zip for Squirrel.Windows,
// which this app does not build: win target is nsis) and es5-ext (a postinstall that only prints a
// message; it comes with electronegativity). electron ≥ 45 has no install script: it downloads its binary
// on first use (scripts/prepare-electron.mjs runs its install.js explicitly).
// Review a new one with `npm install-scripts ls`, then `npm install-scripts approve|deny <pkg>`.
import { spawnSync } from 'node:child_process';

const r = spawnSync('npm', ['install-scripts', 'ls', '--json'], { encoding: 'utf8', shell: process.platform === 'win32' });
if (r.status !== 0) {
  console.error('check-install-scripts: `npm install-scripts ls` failed; the allowScripts policy needs npm >= 11.16.');
  console.error((r.stderr || r.stdout || '').trim());
  process.exit(1);
}
/** @type {{ allowScripts?: Array<{ name: string, changes?: Array<{ key: string, change: string }> }> }} */
let report;
try {
  report = JSON.parse(r.stdout);
} catch {
  console.error(`check-install-scripts: unexpected output from npm install-scripts ls --json:\n${r.stdout}`);
  process.exit(1);
}
const pending = (report.allowScripts ?? []).flatMap((p) => (p.changes ?? []).map((c) => `${c.key} (${c.change})`));
if (pending.length > 0) {
  console.error(`check-install-scripts: ${pending.length} install script(s) not reviewed in package.json "allowScripts":`);
  for (const p of pending) console.error(`  ${p}`);
  console.error('Review each, then: npm install-scripts approve <pkg>   or   npm install-scripts deny <pkg>');
  process.exit(1);
}
console.log('check-install-scripts: every dependency install script is approved or denied in package.json');
