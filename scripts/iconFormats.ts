/**
 * Writers and readers for the icon containers electron-builder takes as they are (no conversion, so no
 * download of its icons toolset at packaging time): Windows `.ico` and macOS `.icns`. Used by
 * scripts/render-icons.ts and by the tests that check the committed files.
 *
 * - PNG: 8-bit RGBA, non-interlaced, each row with the filter (None, Sub, Up, Average or Paeth) that gives
 *   the smallest sum of absolute values (the PNG specification's suggested heuristic), deflated at level 9:
 *   deterministic and several times smaller than Chromium's canvas encoder for the gradients here.
 * - ICO (https://learn.microsoft.com/en-us/previous-versions/ms997538(v=msdn.10)): a 6-byte header, one
 *   16-byte directory entry per image, then the images. Images up to 128 px are 32-bit BGRA DIBs (with the
 *   1-bit AND mask after the pixels and the height doubled in the header), which every Windows tool reads;
 *   the 256 px image is PNG-compressed, as Windows Vista and later store it. electron-builder requires an
 *   `.ico` to contain a 256×256 image (app-builder-lib `iconConverter.ts`).
 * - ICNS (https://en.wikipedia.org/wiki/Apple_Icon_Image_format): `icns` + total length, then
 *   (type, length, data) elements; every element here holds a PNG, as `iconutil` writes them:
 *   icp4 16, icp5 32, ic07 128, ic08 256, ic09 512, ic10 1024 (512@2x), ic11 32 (16@2x), ic12 64 (32@2x),
 *   ic13 256 (128@2x), ic14 512 (256@2x).
 */

import { crc32, deflateSync, inflateSync } from 'node:zlib';

/** One image for a container: its pixel size, PNG bytes and (for ICO DIBs) straight RGBA pixels. */
export interface IconImage {
  size: number;
  png: Uint8Array;
  /** size × size × 4 bytes, rows top to bottom, not premultiplied (what canvas `getImageData` gives). */
  rgba: Uint8Array;
}

/** ICNS element types and the pixel size each holds. */
export const icnsTypes: ReadonlyArray<readonly [string, number]> = [
  ['icp4', 16],
  ['icp5', 32],
  ['ic11', 32],
  ['ic12', 64],
  ['ic07', 128],
  ['ic13', 256],
  ['ic08', 256],
  ['ic14', 512],
  ['ic09', 512],
  ['ic10', 1024],
];

/** Pixel sizes stored in the `.ico`. */
export const icoSizes = [16, 24, 32, 48, 64, 128, 256] as const;

/** Width and height from a PNG's IHDR chunk, or null if `bytes` is not a PNG. */
export function pngSize(bytes: Uint8Array): { width: number; height: number } | null {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length < 24 || signature.some((b, i) => bytes[i] !== b)) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR') return null;
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

/** A 32-bit BGRA DIB (BITMAPINFOHEADER + bottom-up pixels + an all-zero AND mask) for an ICO entry. */
function icoDib(image: IconImage): Uint8Array {
  const { size, rgba } = image;
  if (rgba.length !== size * size * 4) throw new Error(`icon ${size}: expected ${size * size * 4} RGBA bytes, got ${rgba.length}`);
  const maskRow = Math.ceil(size / 32) * 4;
  const pixels = size * size * 4;
  const out = new Uint8Array(40 + pixels + maskRow * size);
  const view = new DataView(out.buffer);
  view.setUint32(0, 40, true); // biSize
  view.setInt32(4, size, true); // biWidth
  view.setInt32(8, size * 2, true); // biHeight: XOR image + AND mask
  view.setUint16(12, 1, true); // biPlanes
  view.setUint16(14, 32, true); // biBitCount
  view.setUint32(16, 0, true); // BI_RGB
  view.setUint32(20, pixels + maskRow * size, true); // biSizeImage
  for (let y = 0; y < size; y++) {
    const src = (size - 1 - y) * size * 4; // bottom-up
    const dst = 40 + y * size * 4;
    for (let x = 0; x < size; x++) {
      const s = src + x * 4;
      const d = dst + x * 4;
      out[d] = rgba[s + 2]!;
      out[d + 1] = rgba[s + 1]!;
      out[d + 2] = rgba[s]!;
      out[d + 3] = rgba[s + 3]!;
    }
  }
  return out; // the AND mask stays zero: the alpha channel decides transparency
}

/** Builds an `.ico` from images of {@link icoSizes} (DIBs below 256 px, PNG at 256). */
export function writeIco(images: IconImage[]): Uint8Array {
  const sorted = [...images].sort((a, b) => a.size - b.size);
  const payloads = sorted.map((img) => (img.size >= 256 ? img.png : icoDib(img)));
  const headerSize = 6 + 16 * sorted.length;
  const total = headerSize + payloads.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint16(0, 0, true);
  view.setUint16(2, 1, true); // type 1 = icon
  view.setUint16(4, sorted.length, true);
  let offset = headerSize;
  sorted.forEach((img, i) => {
    if (img.size > 256) throw new Error(`ICO images are at most 256 px, got ${img.size}`);
    const entry = 6 + 16 * i;
    out[entry] = img.size === 256 ? 0 : img.size; // 0 means 256
    out[entry + 1] = img.size === 256 ? 0 : img.size;
    out[entry + 2] = 0; // palette colours
    out[entry + 3] = 0;
    view.setUint16(entry + 4, 1, true); // planes
    view.setUint16(entry + 6, 32, true); // bits per pixel
    view.setUint32(entry + 8, payloads[i]!.length, true);
    view.setUint32(entry + 12, offset, true);
    out.set(payloads[i]!, offset);
    offset += payloads[i]!.length;
  });
  return out;
}

/** One image of a parsed `.ico`. */
export interface IcoEntry {
  width: number;
  height: number;
  bitsPerPixel: number;
  format: 'png' | 'dib';
  bytes: Uint8Array;
}

/** Parses an `.ico` (throws on anything malformed, including entries outside the file). */
export function readIco(bytes: Uint8Array): IcoEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 6 || view.getUint16(0, true) !== 0 || view.getUint16(2, true) !== 1) throw new Error('not an ICO file');
  const count = view.getUint16(4, true);
  if (6 + 16 * count > bytes.length) throw new Error('ICO directory runs past the end');
  const entries: IcoEntry[] = [];
  for (let i = 0; i < count; i++) {
    const e = 6 + 16 * i;
    const size = view.getUint32(e + 8, true);
    const offset = view.getUint32(e + 12, true);
    if (offset + size > bytes.length) throw new Error(`ICO entry ${i} runs past the end`);
    const data = bytes.subarray(offset, offset + size);
    const isPng = pngSize(data) !== null;
    if (!isPng) {
      const dib = new DataView(data.buffer, data.byteOffset, data.byteLength);
      if (data.length < 40 || dib.getUint32(0, true) !== 40) throw new Error(`ICO entry ${i} is neither PNG nor a DIB`);
    }
    entries.push({
      width: bytes[e] || 256,
      height: bytes[e + 1] || 256,
      bitsPerPixel: view.getUint16(e + 6, true),
      format: isPng ? 'png' : 'dib',
      bytes: data,
    });
  }
  return entries;
}

/** Builds an `.icns` from PNGs keyed by pixel size (every size {@link icnsTypes} names must be present). */
export function writeIcns(pngBySize: ReadonlyMap<number, Uint8Array>): Uint8Array {
  const elements = icnsTypes.map(([type, size]) => {
    const png = pngBySize.get(size);
    if (!png) throw new Error(`icns: no ${size} px PNG for ${type}`);
    return { type, png };
  });
  const total = 8 + elements.reduce((n, e) => n + 8 + e.png.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set(Buffer.from('icns', 'latin1'), 0);
  view.setUint32(4, total);
  let offset = 8;
  for (const { type, png } of elements) {
    out.set(Buffer.from(type, 'latin1'), offset);
    view.setUint32(offset + 4, 8 + png.length);
    out.set(png, offset + 8);
    offset += 8 + png.length;
  }
  return out;
}

/** Parses an `.icns` into its elements (throws on anything malformed). */
export function readIcns(bytes: Uint8Array): Array<{ type: string; data: Uint8Array }> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 8 || Buffer.from(bytes.subarray(0, 4)).toString('latin1') !== 'icns') throw new Error('not an ICNS file');
  if (view.getUint32(4) !== bytes.length) throw new Error('ICNS length does not match the file');
  const out: Array<{ type: string; data: Uint8Array }> = [];
  let offset = 8;
  while (offset < bytes.length) {
    if (offset + 8 > bytes.length) throw new Error('ICNS element header runs past the end');
    const type = Buffer.from(bytes.subarray(offset, offset + 4)).toString('latin1');
    const length = view.getUint32(offset + 4);
    if (length < 8 || offset + length > bytes.length) throw new Error(`ICNS element ${type} has a bad length`);
    out.push({ type, data: bytes.subarray(offset + 8, offset + length) });
    offset += length;
  }
  return out;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(Buffer.from(type, 'latin1'), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)) >>> 0);
  return out;
}

/** Encodes straight (not premultiplied) RGBA pixels as a PNG. */
export function encodePng(rgba: Uint8Array, width: number, height: number): Uint8Array {
  if (rgba.length !== width * height * 4) throw new Error(`expected ${width * height * 4} RGBA bytes, got ${rgba.length}`);
  const stride = width * 4;
  const raw = new Uint8Array(height * (stride + 1));
  const candidate = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const row = rgba.subarray(y * stride, (y + 1) * stride);
    const prev = y > 0 ? rgba.subarray((y - 1) * stride, y * stride) : null;
    let best = Number.POSITIVE_INFINITY;
    for (let filter = 0; filter <= 4; filter++) {
      let sum = 0;
      for (let i = 0; i < stride; i++) {
        const a = i >= 4 ? row[i - 4]! : 0;
        const b = prev ? prev[i]! : 0;
        const c = prev && i >= 4 ? prev[i - 4]! : 0;
        const predictor = filter === 0 ? 0 : filter === 1 ? a : filter === 2 ? b : filter === 3 ? (a + b) >> 1 : paeth(a, b, c);
        const value = (row[i]! - predictor) & 0xff;
        candidate[i] = value;
        sum += value < 128 ? value : 256 - value;
      }
      if (sum < best) {
        best = sum;
        raw[y * (stride + 1)] = filter;
        raw.set(candidate, y * (stride + 1) + 1);
      }
    }
  }
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr.set([8, 6, 0, 0, 0], 8); // 8 bits, RGBA, deflate, adaptive filtering, no interlace
  const parts = [
    Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', new Uint8Array(0)),
  ];
  return Buffer.concat(parts);
}

/**
 * Decodes an 8-bit RGBA, non-interlaced PNG (what {@link encodePng} and Chromium's canvas write) into
 * straight RGBA pixels; throws on other kinds. For the tests that check the committed icons.
 */
export function decodePng(bytes: Uint8Array): { width: number; height: number; rgba: Uint8Array } {
  const size = pngSize(bytes);
  if (!size) throw new Error('not a PNG');
  const { width, height } = size;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const idat: Uint8Array[] = [];
  let offset = 8;
  while (offset + 12 <= bytes.length) {
    const length = view.getUint32(offset);
    const type = Buffer.from(bytes.subarray(offset + 4, offset + 8)).toString('latin1');
    const data = bytes.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR' && (data[8] !== 8 || data[9] !== 6 || data[12] !== 0)) throw new Error('only 8-bit RGBA, non-interlaced PNGs');
    if (type === 'IDAT') idat.push(data);
    if (type === 'IEND') break;
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * 4;
  if (raw.length !== height * (stride + 1)) throw new Error('PNG data has the wrong length');
  const out = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    for (let i = 0; i < stride; i++) {
      const x = raw[y * (stride + 1) + 1 + i]!;
      const a = i >= 4 ? out[y * stride + i - 4]! : 0;
      const b = y > 0 ? out[(y - 1) * stride + i]! : 0;
      const c = y > 0 && i >= 4 ? out[(y - 1) * stride + i - 4]! : 0;
      const predictor = filter === 0 ? 0 : filter === 1 ? a : filter === 2 ? b : filter === 3 ? (a + b) >> 1 : filter === 4 ? paeth(a, b, c) : NaN;
      if (Number.isNaN(predictor)) throw new Error(`bad PNG filter ${filter}`);
      out[y * stride + i] = (x + predictor) & 0xff;
    }
  }
  return { width, height, rgba: out };
}
