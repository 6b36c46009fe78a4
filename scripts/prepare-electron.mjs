#!/usr/bin/env node
// Runs before `npm start` and `npm run dist`:
// 1. Fails fast, with a clear message, when Electron's binary is missing (installed with
//    ELECTRON_SKIP_BINARY_DOWNLOAD=1, or its download failed), pointing to the browser mode.
// 2. Makes sure an Electron-ABI build of better-sqlite3 exists in .cache/electron-native/<electron version>/
//    WITHOUT touching node_modules/better-sqlite3, which stays built for Node (tests, CLI, browser mode).
//    It copies the package to a scratch folder and there runs prebuild-install for the Electron runtime
//    (a download from better-sqlite3's GitHub releases), falling back to node-gyp against Electron's
//    headers (needs a C++ toolchain). The Electron main process loads that file through better-sqlite3's
//    `nativeBinding` option. electron-builder then ships it as resources/native/better_sqlite3.node.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';

const require = createRequire(import.meta.url);
const root = process.cwd();

const electronDir = join(root, 'node_modules', 'electron');

/** The Electron binary's path if it is on disk (electron's own index.js would try to download it instead). */
function electronBinary() {
  const pathFile = join(electronDir, 'path.txt');
  if (!existsSync(pathFile)) return null;
  const binary = join(electronDir, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(binary) ? binary : null;
}

function failNoElectron(reason) {
  console.error(
    [
      "wattwise: Electron's binary is not installed, so the desktop window cannot open.",
      `  ${reason}`,
      '  To fetch it later: node node_modules/electron/install.js   (needs access to GitHub)',
      '  Or use the browser mode, which needs no Electron:  npm run web',
    ].join('\n'),
  );
  process.exit(1);
}

if (!existsSync(join(electronDir, 'package.json'))) failNoElectron('The electron package is missing: run npm install.');
if (!electronBinary()) {
  if (process.env.ELECTRON_SKIP_BINARY_DOWNLOAD) {
    failNoElectron('ELECTRON_SKIP_BINARY_DOWNLOAD is set, so it was not downloaded.');
  }
  // Electron downloads its binary on first use; do it here, quietly, so a failure reads as one clear message.
  console.log('Downloading Electron (first start only)…');
  const r = spawnSync(process.execPath, [join(electronDir, 'install.js')], { encoding: 'utf8', timeout: 10 * 60_000 });
  if (r.status !== 0 || !electronBinary()) {
    const why = `${r.stderr ?? ''}${r.stdout ?? ''}`.split('\n').find((l) => /error|failed/i.test(l))?.trim();
    failNoElectron(`Its download failed${why ? ` (${why.slice(0, 160)})` : ''}.`);
  }
}

const electronVersion = JSON.parse(readFileSync(join(electronDir, 'package.json'), 'utf8')).version;
const target = join(root, '.cache', 'electron-native', electronVersion, 'better_sqlite3.node');
if (existsSync(target)) process.exit(0);

console.log(`Building better-sqlite3 for Electron ${electronVersion} (once)…`);
const source = dirname(require.resolve('better-sqlite3/package.json'));
const scratch = mkdtempSync(join(tmpdir(), 'wattwise-electron-native-'));
const pkgDir = join(scratch, 'better-sqlite3');
cpSync(source, pkgDir, { recursive: true, filter: (p) => !p.includes(`${join('better-sqlite3', 'build')}`) });
const arch = process.arch;
const bin = (name) => join(root, 'node_modules', '.bin', process.platform === 'win32' ? `${name}.cmd` : name);
let ok =
  spawnSync(bin('prebuild-install'), ['--runtime', 'electron', '--target', electronVersion, '--arch', arch], {
    cwd: pkgDir,
    stdio: 'inherit',
    shell: process.platform === 'win32',
  }).status === 0;
if (!ok) {
  console.log('No prebuilt binary; compiling against Electron headers with node-gyp…');
  ok =
    spawnSync(
      bin('node-gyp'),
      ['rebuild', '--release', `--target=${electronVersion}`, `--arch=${arch}`, '--dist-url=https://electronjs.org/headers', '--runtime=electron'],
      { cwd: pkgDir, stdio: 'inherit', shell: process.platform === 'win32', env: { ...process.env, npm_config_nodedir: '' } },
    ).status === 0;
}
const built = join(pkgDir, 'build', 'Release', 'better_sqlite3.node');
if (!ok || !existsSync(built)) {
  console.error('wattwise: could not build better-sqlite3 for Electron. Check your C++ toolchain, or use: npm run web');
  process.exit(1);
}
mkdirSync(dirname(target), { recursive: true });
cpSync(built, target);
rmSync(scratch, { recursive: true, force: true });
console.log(`Electron build of better-sqlite3: ${target}`);
