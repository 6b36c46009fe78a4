/**
 * Packaging (electron-builder.yml and resources/icons), checked with electron-builder's own code where it
 * can run without Electron's binary: the configuration passes its schema, the fuses are the ones the
 * security review asked for, and its icon resolver picks the committed icons for macOS, Windows and Linux
 * as they are (no conversion, which would download its icons toolset); the icon files are well-formed,
 * every size is what its name says, and the artwork is where it should be.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Configuration, FuseOptionsV1 } from 'app-builder-lib';
import { repoRoot } from '../../helpers/models.js';
import { decodePng, encodePng, icnsTypes, icoSizes, pngSize, readIcns, readIco } from '../../../scripts/iconFormats.js';

const require = createRequire(join(repoRoot, 'package.json'));
const yaml = require('js-yaml') as { load(text: string): unknown };
const config = yaml.load(readFileSync(join(repoRoot, 'electron-builder.yml'), 'utf8')) as Configuration;
const iconsDir = join(repoRoot, 'resources', 'icons');
const sizes = [16, 24, 32, 48, 64, 128, 256, 512, 1024];

test('electron-builder.yml passes electron-builder’s own schema', async () => {
  const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
    validateConfiguration(config: Configuration, logger: { isEnabled: boolean; add(key: string, value: unknown): void }): Promise<void>;
  };
  await validateConfiguration(config, { isEnabled: false, add: () => undefined });
});

test('the fuses: no run-as-node, NODE_OPTIONS or inspector; asar-only with integrity; encrypted cookies; no file:// privileges', () => {
  const expected: FuseOptionsV1 = {
    runAsNode: false,
    enableNodeOptionsEnvironmentVariable: false,
    enableNodeCliInspectArguments: false,
    enableEmbeddedAsarIntegrityValidation: true,
    onlyLoadAppFromAsar: true,
    enableCookieEncryption: true,
    grantFileProtocolExtraPrivileges: false,
  };
  assert.deepEqual(config.electronFuses, expected);
  // onlyLoadAppFromAsar and the integrity check need the app packed into app.asar (the default).
  assert.notEqual(config.asar, false);
});

test('the app’s run-time data and the Linux window icon are packaged; build resources are the resources folder', () => {
  const files = (config.files ?? []) as string[];
  for (const entry of ['dist/**/*', 'resources/calibration/**/*', 'resources/catalog/**/*', 'resources/icons/512x512.png']) {
    assert.ok(files.includes(entry), entry);
  }
  assert.equal(config.directories?.buildResources, 'resources');
  assert.ok(existsSync(join(repoRoot, 'resources', 'calibration')));
  assert.ok(existsSync(join(repoRoot, 'resources', 'catalog', 'models.json')));
});

test('electron-builder resolves the committed icons for every platform without converting them', async () => {
  const { convertIcon } = require('app-builder-lib/out/util/iconConverter.js') as {
    convertIcon(options: { sources: string[]; fallbackSources: string[]; roots: string[]; format: 'icns' | 'ico' | 'set'; outDir: string }): Promise<{
      icons: Array<{ file: string; size: number }>;
      isFallback: boolean;
    }>;
  };
  const outDir = mkdtempSync(join(tmpdir(), 'wattwise-icons-'));
  // Any conversion would need electron-builder's icons toolset: point it nowhere so it fails at once.
  const previous = process.env.ELECTRON_BUILDER_ICONS_TOOLSET_DIR;
  process.env.ELECTRON_BUILDER_ICONS_TOOLSET_DIR = join(outDir, 'no-toolset');
  try {
    const roots = [join(repoRoot, config.directories?.buildResources ?? 'build'), repoRoot];
    const icon = (platform: 'mac' | 'win' | 'linux') => (config[platform] as { icon?: string } | null | undefined)?.icon;
    const mac = await convertIcon({ sources: [icon('mac')!], fallbackSources: [], roots, format: 'icns', outDir });
    assert.equal(mac.isFallback, false);
    assert.equal(mac.icons[0]?.file, join(iconsDir, 'icon.icns'));

    const win = await convertIcon({ sources: [icon('win')!], fallbackSources: [], roots, format: 'ico', outDir });
    assert.equal(win.isFallback, false);
    assert.deepEqual(win.icons, [{ file: join(iconsDir, 'icon.ico'), size: 256 }]);

    // LinuxTargetHelper.computeDesktopIcons: linux.icon, then mac.icon.
    const linux = await convertIcon({ sources: [icon('linux')!, icon('mac')!], fallbackSources: [], roots, format: 'set', outDir });
    assert.equal(linux.isFallback, false);
    assert.deepEqual(
      linux.icons.map((i) => [i.size, i.file]),
      sizes.map((s) => [s, join(iconsDir, `${s}x${s}.png`)]),
    );
    assert.deepEqual(readdirSync(outDir), [], 'nothing was converted');
  } finally {
    if (previous === undefined) delete process.env.ELECTRON_BUILDER_ICONS_TOOLSET_DIR;
    else process.env.ELECTRON_BUILDER_ICONS_TOOLSET_DIR = previous;
    rmSync(outDir, { recursive: true, force: true });
  }
});

test('every NxN.png is N×N, and the .ico and .icns hold the sizes their platforms need', () => {
  for (const s of sizes) {
    assert.deepEqual(pngSize(readFileSync(join(iconsDir, `${s}x${s}.png`))), { width: s, height: s }, `${s}x${s}.png`);
  }
  const ico = readIco(readFileSync(join(iconsDir, 'icon.ico')));
  assert.deepEqual(ico.map((e) => e.width), [...icoSizes]);
  for (const e of ico) {
    assert.equal(e.bitsPerPixel, 32);
    assert.equal(e.format, e.width === 256 ? 'png' : 'dib', `${e.width}`);
    if (e.format === 'png') assert.deepEqual(pngSize(e.bytes), { width: 256, height: 256 });
  }
  const icns = readIcns(readFileSync(join(iconsDir, 'icon.icns')));
  assert.deepEqual(icns.map((e) => e.type), icnsTypes.map(([type]) => type));
  for (const [i, [type, size]] of icnsTypes.entries()) {
    assert.deepEqual(pngSize(icns[i]!.data), { width: size, height: size }, type);
  }
});

test('the artwork: transparent margin, green tile, white bolt in the middle (1024 and 16 px)', () => {
  const pixel = (img: { width: number; rgba: Uint8Array }, x: number, y: number) => Array.from(img.rgba.subarray((y * img.width + x) * 4, (y * img.width + x) * 4 + 4));
  const big = decodePng(readFileSync(join(iconsDir, '1024x1024.png')));
  assert.equal(pixel(big, 4, 4)[3], 0, 'corner outside the tile is transparent');
  const [r, g, b, a] = pixel(big, 200, 512);
  assert.ok(a === 255 && g! > r! + 60 && g! > b!, `tile is green: ${[r, g, b, a]}`);
  const [br, bg, bb, ba] = pixel(big, 512, 512);
  assert.ok(ba === 255 && br! > 220 && bg! > 220 && bb! > 220, `bolt centre is white: ${[br, bg, bb, ba]}`);

  const small = decodePng(readFileSync(join(iconsDir, '16x16.png')));
  assert.ok(pixel(small, 0, 0)[3]! < 128, 'rounded corner');
  const [sr, sg, , sa] = pixel(small, 8, 1);
  assert.ok(sa === 255 && sg! > sr! + 60, 'green tile reaches the edge at 16 px');
  const [wr, wg, wb] = pixel(small, 8, 8);
  assert.ok(wr! > 200 && wg! > 200 && wb! > 200, `white bolt at 16 px: ${[wr, wg, wb]}`);
});

test('the PNG encoder round-trips through the decoder', () => {
  const w = 7;
  const h = 5;
  const rgba = new Uint8Array(w * h * 4);
  let seed = 1;
  for (let i = 0; i < rgba.length; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    rgba[i] = i % 9 < 5 ? seed >>> 24 : i & 0xff; // noise and gradients, so every filter gets chosen
  }
  const png = encodePng(rgba, w, h);
  assert.deepEqual(pngSize(png), { width: w, height: h });
  const decoded = decodePng(png);
  assert.deepEqual(decoded.rgba, rgba);
});
