/**
 * Renders the app icon from its SVG sources into everything electron-builder packages, without its icons
 * toolset (a download at packaging time): run once after changing an SVG, and commit the results.
 *
 *   node --import tsx scripts/render-icons.ts            (needs Chromium: $CHROMIUM_PATH or /usr/bin/chromium)
 *
 * Sources (resources/icons/): `icon.svg` (48 px and up, macOS grid) and `icon-small.svg` (16–32 px,
 * bolder and flat). Output, in the same folder:
 * - `NxN.png` for 16, 24, 32, 48, 64, 128, 256, 512 and 1024: the Linux icon set (electron-builder reads
 *   a folder of `NxN.png` files, https://www.electron.build/icons/, "Linux"), and the sources of the next two;
 * - `icon.icns` (macOS, `mac.icon`) and `icon.ico` (Windows, `win.icon`), see scripts/iconFormats.ts.
 * Chromium (Debian's, through playwright-core as the e2e tests launch it) rasterizes each size straight
 * from the vector source onto a canvas, so small sizes are drawn, not downscaled; the pixels are encoded
 * here (scripts/iconFormats.ts `encodePng`), so the files do not depend on Chromium's PNG encoder.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { encodePng, icoSizes, writeIcns, writeIco, type IconImage } from './iconFormats.js';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const dir = join(root, 'resources', 'icons');
/** Every size written as NxN.png. */
export const iconSizes = [16, 24, 32, 48, 64, 128, 256, 512, 1024] as const;
/** Up to this size the small source is drawn. */
export const smallSourceMaxSize = 32;

/** The browser objects the page function uses (the repository's tsconfig has no DOM lib). */
interface PageGlobals {
  Image: new () => { src: string; decode(): Promise<void> };
  document: {
    createElement(tag: 'canvas'): {
      width: number;
      height: number;
      getContext(kind: '2d'): {
        drawImage(image: unknown, x: number, y: number, width: number, height: number): void;
        getImageData(x: number, y: number, width: number, height: number): { data: Uint8ClampedArray };
      } | null;
    };
  };
}

async function main(): Promise<void> {
  const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(chromiumPath)) throw new Error(`Chromium not found at ${chromiumPath}: apt-get install chromium, or set CHROMIUM_PATH`);
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
  try {
    const page = await browser.newPage({ deviceScaleFactor: 1 });
    const sources = {
      large: readFileSync(join(dir, 'icon.svg'), 'utf8'),
      small: readFileSync(join(dir, 'icon-small.svg'), 'utf8'),
    };
    const images = new Map<number, IconImage>();
    for (const size of iconSizes) {
      const svg = size <= smallSourceMaxSize ? sources.small : sources.large;
      const rgbaBase64 = await page.evaluate(
        async ({ svgBase64, size }) => {
          // Runs in the page; the repository's tsconfig has no DOM types, so the few used are declared here.
          const page = globalThis as unknown as PageGlobals;
          const img = new page.Image();
          img.src = `data:image/svg+xml;base64,${svgBase64}`;
          await img.decode();
          const canvas = page.document.createElement('canvas');
          canvas.width = size;
          canvas.height = size;
          const ctx = canvas.getContext('2d');
          if (!ctx) throw new Error('no 2d context');
          ctx.drawImage(img, 0, 0, size, size);
          const data = ctx.getImageData(0, 0, size, size).data;
          let binary = '';
          for (let i = 0; i < data.length; i += 0x8000) binary += String.fromCharCode(...data.subarray(i, i + 0x8000));
          return btoa(binary);
        },
        { svgBase64: Buffer.from(svg, 'utf8').toString('base64'), size },
      );
      const rgba = new Uint8Array(Buffer.from(rgbaBase64, 'base64'));
      const image: IconImage = { size, png: encodePng(rgba, size, size), rgba };
      images.set(size, image);
      writeFileSync(join(dir, `${size}x${size}.png`), image.png);
      console.log(`resources/icons/${size}x${size}.png`);
    }
    writeFileSync(join(dir, 'icon.ico'), writeIco(icoSizes.map((s) => images.get(s)!)));
    console.log('resources/icons/icon.ico');
    writeFileSync(join(dir, 'icon.icns'), writeIcns(new Map([...images].map(([s, img]) => [s, img.png]))));
    console.log('resources/icons/icon.icns');
  } finally {
    await browser.close();
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
