/**
 * The model-ladder fixture generator (test/fixtures/ladder): bit-exact ggml quantizers, the GGUF writer
 * and reader, and the generated ladder read back by the catalog and run by node-llama-cpp (CPU, 1 thread).
 *
 * Known vectors are computed by hand in the comments. The golden SHA-256 digests were produced by ggml
 * itself: node-llama-cpp 3.22.1's `@node-llama-cpp/linux-x64/bins/linux-x64/libggml-base.so`
 * (`quantize_row_q8_0_ref`, `quantize_row_q4_0_ref`, `ggml_fp32_to_fp16_row`) called through Python
 * ctypes on the same inputs as `goldenInput()` and stories260K's tensors below.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { getLlama, readGgufFileInfo, type ControlledEvaluateInputItem, type Llama, type Token } from 'node-llama-cpp';
import { readModelInfo } from '../../electron/models/catalog.js';
import { testModel } from '../helpers/models.js';
import {
  GgufFormatError,
  ggmlTypeName,
  kv,
  plainValue,
  readGgufHeader,
  readTensorBytes,
  readTensorF32,
  tensorByteLength,
  writeGguf,
  type GgufKv,
} from '../fixtures/ladder/gguf.js';
import {
  dequantizeF16,
  dequantizeQ4_0,
  dequantizeQ8_0,
  f16BitsToF32,
  f32ToF16Bits,
  quantizeF16,
  quantizeQ4_0,
  quantizeQ8_0,
  tensorTypeFor,
} from '../fixtures/ladder/quantize.js';
import { llamaParameterCount, mulberry32, normalValues, sizeLabelFor, writeRandomLlamaModel } from '../fixtures/ladder/randomModel.js';
import {
  BENCH_SHAPES,
  generateLadder,
  LADDER_GENERATOR_VERSION,
  LADDER_QUANTIZATIONS,
  LADDER_SHAPES,
  ladderDir,
  type LadderModel,
} from '../fixtures/ladder/ladder.js';

const storiesPath = testModel('stories260K.gguf');
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const f32 = (values: number[]) => Float32Array.from(values);
/** A 32-value block: `fill` everywhere, then the given index → value pairs. */
const block = (set: Record<number, number>, fill = 0) => {
  const x = new Float32Array(32).fill(fill);
  for (const [i, v] of Object.entries(set)) x[Number(i)] = v;
  return x;
};
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

// ---------------------------------------------------------------------------------------------
// Quantizers
// ---------------------------------------------------------------------------------------------

describe('F16 conversion (IEEE binary16, round to nearest even)', () => {
  test('known values', () => {
    const cases: [number, number][] = [
      [1, 0x3c00],
      [-2, 0xc000],
      [0.1, 0x2e66], // 1.6·2^-4: exponent 11 → 0x2c00, mantissa round(0.6·1024 = 614.4) = 614 = 0x266
      [65504, 0x7bff], // largest finite half
      [65519, 0x7bff], // below the 65520 midpoint
      [65520, 0x7c00], // the midpoint ties to even: ∞
      [2 ** -14, 0x0400], // smallest normal
      [2 ** -24, 0x0001], // smallest subnormal
      [2 ** -25, 0x0000], // half a subnormal unit ties to even: 0
      [3 * 2 ** -26, 0x0001], // 0.75 units → 1
      [1 + 2 ** -11, 0x3c00], // tie between 0x3c00 and 0x3c01: even
      [1 + 3 * 2 ** -11, 0x3c02], // tie between 0x3c01 and 0x3c02: even
      [1 + 2 ** -11 + 2 ** -20, 0x3c01], // just above the tie
      [-0, 0x8000],
      [Infinity, 0x7c00],
      [-Infinity, 0xfc00],
      [NaN, 0x7e00],
    ];
    for (const [x, bits] of cases) assert.equal(f32ToF16Bits(x), bits, `f16(${x})`);
    assert.equal(hex(quantizeF16(f32([1, -2]))), '003c00c0', 'little-endian pairs');
  });

  test('every finite result is the nearest half (random float32 bit patterns)', () => {
    const next = mulberry32(5);
    const bits = new Uint32Array(1);
    const asFloat = new Float32Array(bits.buffer);
    for (let i = 0; i < 20000; i++) {
      bits[0] = Math.floor(next() * 2 ** 32);
      const x = asFloat[0]!;
      if (!Number.isFinite(x) || Math.abs(x) >= 65520) continue;
      const h = f32ToF16Bits(x);
      const err = Math.abs(f16BitsToF32(h) - x);
      for (const n of [h - 1, h + 1]) {
        if ((n & 0x7fff) > 0x7bff || (n & 0x7fff) === 0x7fff) continue;
        if (((n ^ h) & 0x8000) !== 0) continue; // crossing the sign is not a neighbour
        assert.ok(Math.abs(f16BitsToF32(n) - x) >= err, `f16(${x}) = ${h.toString(16)} is not the nearest`);
      }
    }
    assert.deepEqual(Array.from(dequantizeF16(quantizeF16(f32([0.5, -1024, 2 ** -24])))), [0.5, -1024, 2 ** -24]);
  });
});

describe('Q8_0 (ggml quantize_row_q8_0_ref)', () => {
  test('a block of zeros: d = 0, all quants 0', () => {
    assert.equal(hex(quantizeQ8_0(new Float32Array(32))), '0000' + '00'.repeat(32));
  });

  test('one large value: amax 127 → d = 1 (f16 0x3c00), q = 127 at its index', () => {
    const q = quantizeQ8_0(block({ 5: 127 }));
    assert.equal(q.length, 34);
    assert.equal(hex(q), '003c' + '00'.repeat(5) + '7f' + '00'.repeat(26));
  });

  test('negative extremes and halves round away from zero (roundf)', () => {
    // amax = 127 → d = 1, id = 1. −127 → 0x81; 63.5 → 64; −63.5 → −64; ±0.5 → ±1; ±1.5 → ±2;
    // 126.5 → 127; −126.49 → −126 (0x82).
    const q = quantizeQ8_0(block({ 0: -127, 1: 63.5, 2: -63.5, 3: 0.5, 4: -0.5, 5: 1.5, 6: -1.5, 7: 126.5, 8: -126.49 }));
    assert.equal(hex(q), '003c' + '81' + '40' + 'c0' + '01' + 'ff' + '02' + 'fe' + '7f' + '82' + '00'.repeat(23));
  });

  test('a scale that f16 cannot hold: d = 1/127 → f16 0x2008', () => {
    // 1/127 = 2^-7 · 1.00787: mantissa round(0.00787·1024 = 8.06) = 8, exponent 8 → 0x2000 | 8.
    const q = quantizeQ8_0(block({ 0: -1 }, 1));
    assert.equal(hex(q), '0820' + '81' + '7f'.repeat(31));
    const y = dequantizeQ8_0(q);
    assert.equal(y[1], 127 * f16BitsToF32(0x2008)); // 0.99993896484375: the stored scale's own error
  });

  test('bad input is refused', () => {
    assert.throws(() => quantizeQ8_0(new Float32Array(33)), RangeError);
    assert.throws(() => quantizeQ8_0(block({ 3: NaN })), RangeError);
    assert.throws(() => quantizeQ8_0(block({ 3: Infinity })), RangeError);
    assert.throws(() => dequantizeQ8_0(new Uint8Array(35)), RangeError);
  });
});

describe('Q4_0 (ggml quantize_row_q4_0_ref)', () => {
  test('a block of zeros: d = 0/−8 = −0 (f16 0x8000), every nibble 8', () => {
    assert.equal(hex(quantizeQ4_0(new Float32Array(32))), '0080' + '88'.repeat(16));
  });

  test('one large positive value: d = 127/−8 = −15.875 (f16 0xcbf0), its nibble 0', () => {
    // 15.875 = 1.984375·2^3: mantissa 0.984375·1024 = 0x3f0, exponent 18 → 0x4800; negative → 0xcbf0.
    // 127·id = −8 → −8 + 8.5 = 0.5 → 0 (low nibble of byte 5); zeros → 8.
    const q = quantizeQ4_0(block({ 5: 127 }));
    assert.equal(q.length, 18);
    assert.equal(hex(q), 'f0cb' + '88'.repeat(5) + '80' + '88'.repeat(10));
  });

  test('negative extremes: the first largest magnitude sets the sign of d; +8·|d| clamps to 15', () => {
    // [−8, 8, 0…]: max = −8 (8 is not larger) → d = 1. −8 → 0.5 → 0; 8 → 16.5 → 16 → MIN 15.
    const a = quantizeQ4_0(block({ 0: -8, 1: 8 }));
    assert.equal(hex(a), '003c' + '80' + '8f' + '88'.repeat(14));
    assert.deepEqual(Array.from(dequantizeQ4_0(a).subarray(0, 3)), [-8, 7, 0]); // 8 comes back as 7: error = d
    // [8, −8, 0…]: max = 8 → d = −1 (f16 0xbc00). 8 → −8 + 8.5 → 0; −8 → 16.5 → 15.
    const b = quantizeQ4_0(block({ 0: 8, 1: -8 }));
    assert.equal(hex(b), '00bc' + '80' + '8f' + '88'.repeat(14));
    assert.deepEqual(Array.from(dequantizeQ4_0(b).subarray(0, 3)), [8, -7, -0]);
  });

  test('rounding is trunc(x/d + 8.5) (halves up) and nibbles pack j | (j+16) << 4', () => {
    // max = −8 at index 16 → d = 1, id = 1. First half → low nibbles:
    // −4 → 4.5 → 4; −3.5 → 5 (not 4: halves go up); −0.5 → 8; 0.5 → 9; 1.5 → 10; 2.5 → 11;
    // 7.4 → 15.9 → 15; −7.6 → 0.9 → 0; 0.49 → 8; −0.51 → 7; 0 → 8.
    // Second half → high nibbles: −8 → 0; 3 → 11; 0 → 8.
    const x = block({ 0: -4, 1: -3.5, 2: -0.5, 3: 0.5, 4: 1.5, 5: 2.5, 6: 7.4, 7: -7.6, 8: 0.49, 9: -0.51, 16: -8, 17: 3 });
    assert.equal(hex(quantizeQ4_0(x)), '003c' + '04' + 'b5' + '88' + '89' + '8a' + '8b' + '8f' + '80' + '88' + '87' + '88'.repeat(6));
  });

  test('bad input is refused', () => {
    assert.throws(() => quantizeQ4_0(new Float32Array(31)), RangeError);
    assert.throws(() => quantizeQ4_0(block({ 0: -Infinity })), RangeError);
    assert.throws(() => dequantizeQ4_0(new Uint8Array(17)), RangeError);
  });
});

/**
 * 4096 blocks that exercise the rounding: normal(0, 0.02), exact halves k/2 (ties) in the Q4 and Q8
 * ranges, uniform values, and ±8/0 blocks (clamping), each block at a power-of-two scale 2^-20..2^19.
 * The golden digests below are ggml's output for exactly this input.
 */
function goldenInput(): Float32Array {
  const next = mulberry32(20240601);
  const nBlocks = 4096;
  const out = new Float32Array(nBlocks * 32);
  const normal = normalValues(out.length, 0.02, 7, 'golden');
  for (let b = 0; b < nBlocks; b++) {
    const scale = 2 ** (Math.floor(next() * 40) - 20);
    for (let j = 0; j < 32; j++) {
      const i = b * 32 + j;
      switch (b % 5) {
        case 0: out[i] = normal[i]!; break;
        case 1: out[i] = ((Math.floor(next() * 33) - 16) / 2) * scale; break;
        case 2: out[i] = ((Math.floor(next() * 255) - 127) / 2) * scale; break;
        case 3: out[i] = (next() - 0.5) * 16 * scale; break;
        default: out[i] = next() < 0.3 ? 0 : (next() < 0.5 ? -8 : 8) * scale;
      }
    }
  }
  return out;
}

describe('bit-exact with ggml (golden digests from libggml-base.so)', () => {
  test('rounding-stress input', () => {
    const x = goldenInput();
    assert.equal(sha256(quantizeQ8_0(x)), '6f117714605a430ed749043b7204cd9dc0e7df7cf711dc6e4fad4d89d89f20c4');
    assert.equal(sha256(quantizeQ4_0(x)), '698b51311c9c00e27d73326cc251c37bae266ecb549df00312d251cd93f21875');
    assert.equal(sha256(quantizeF16(x)), '05a7fba64a4cf8ffb342058b5f93142b0c35b4ba9ee59674069dcf8be2af5936');
  });

  test("stories260K's weight matrices", async () => {
    const header = await readGgufHeader(storiesPath);
    const parts: Float32Array[] = [];
    for (const t of header.tensors) if (t.dims.length === 2 && t.dims[0]! % 32 === 0) parts.push(await readTensorF32(storiesPath, header, t));
    const x = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      x.set(p, o);
      o += p.length;
    }
    assert.equal(x.length, 237056);
    assert.equal(sha256(quantizeQ8_0(x)), 'ef81781feac600df93eb0a0e49a61a3386028e1f9c33763bd89cedee787d37fe');
    assert.equal(sha256(quantizeQ4_0(x)), '77bd1f5679f138e23a97f0b6831b71a7f5f1ec7f467c5e93b68bfaddf21020da');
    assert.equal(sha256(quantizeF16(x)), 'e21e920f490845d0869f8a2c9fde7733ddf8cc4ed43662544288e9683494e794');
  });
});

describe('round-trip error bounds', () => {
  // Blocks of normal(0, σ) at many scales plus the rounding-stress blocks.
  const inputs = [...[1e-6, 0.02, 1, 300].map((s) => normalValues(32 * 500, s, 11, `rt${s}`)), goldenInput()];

  test('Q8_0: every value within d/2 of the original (plus the f16 rounding of d)', () => {
    let blocks = 0;
    for (const x of inputs) {
      const q = quantizeQ8_0(x);
      const y = dequantizeQ8_0(q);
      for (let b = 0; b < x.length / 32; b++) {
        const xs = x.subarray(b * 32, b * 32 + 32);
        const d = Math.fround(Math.max(...Array.from(xs, Math.abs)) / 127); // the scale ggml computes
        const d16 = f16BitsToF32(q[b * 34]! | (q[b * 34 + 1]! << 8)); // the scale it stores
        if (!Number.isFinite(d16)) continue; // d > 65504 overflows the f16 scale: the format cannot hold such a block
        // |x − q·d16| ≤ |x − q·d| + |q|·|d − d16| ≤ d/2 + 127·|d − d16| (+ float32 rounding).
        const bound = d / 2 + 127 * Math.abs(d - d16) + 1e-5 * d;
        let maxErr = 0;
        for (let j = 0; j < 32; j++) maxErr = Math.max(maxErr, Math.abs(xs[j]! - y[b * 32 + j]!));
        assert.ok(maxErr <= bound, `block ${b}: error ${maxErr} > ${bound} (d ${d})`);
        // Where d is a normal f16 (≥ 2^-14) its relative rounding error is ≤ 2^-11, so the error stays ≤ 0.57·d.
        if (d >= 2 ** -14) assert.ok(maxErr <= 0.57 * d16, `block ${b}: error ${maxErr} > 0.57·d16`);
        blocks++;
      }
    }
    assert.ok(blocks > 6000);
  });

  test('Q4_0: every value within |d| (the clamped +8 step), the others within |d|/2', () => {
    for (const x of inputs) {
      const q = quantizeQ4_0(x);
      const y = dequantizeQ4_0(q);
      for (let b = 0; b < x.length / 32; b++) {
        const xs = x.subarray(b * 32, b * 32 + 32);
        let max = 0;
        for (const v of xs) if (Math.abs(v) > Math.abs(max)) max = v;
        const d = Math.fround(max / -8);
        const d16 = f16BitsToF32(q[b * 18]! | (q[b * 18 + 1]! << 8));
        if (!Number.isFinite(d16)) continue; // |d| > 65504 overflows the f16 scale
        const scaleErr = 8 * Math.abs(d - d16) + 1e-5 * Math.abs(d);
        for (let j = 0; j < 32; j++) {
          const err = Math.abs(xs[j]! - y[b * 32 + j]!);
          assert.ok(err <= Math.abs(d) + scaleErr, `block ${b}[${j}]: error ${err} > |d| ${Math.abs(d)}`);
          const clamped = d !== 0 && xs[j]! / d >= 7.5;
          if (!clamped) assert.ok(err <= Math.abs(d) / 2 + scaleErr, `block ${b}[${j}]: error ${err} > |d|/2`);
        }
      }
    }
  });
});

test('tensorTypeFor: norms F32, rows not a multiple of 32 fall back to F16, Q4_0 output in Q8_0', () => {
  const norm = { name: 'blk.0.attn_norm.weight', dims: [64] };
  const q = { name: 'blk.0.attn_q.weight', dims: [64, 64] };
  const down = { name: 'blk.0.ffn_down.weight', dims: [172, 64] };
  const out = { name: 'output.weight', dims: [64, 512] };
  const emb = { name: 'token_embd.weight', dims: [64, 512] };
  assert.deepEqual([norm, q, down, out, emb].map((t) => tensorTypeFor(t, 'F32', true)), ['F32', 'F32', 'F32', 'F32', 'F32']);
  assert.deepEqual([norm, q, down, out, emb].map((t) => tensorTypeFor(t, 'F16', true)), ['F32', 'F16', 'F16', 'F16', 'F16']);
  assert.deepEqual([norm, q, down, out, emb].map((t) => tensorTypeFor(t, 'Q8_0', true)), ['F32', 'Q8_0', 'F16', 'Q8_0', 'Q8_0']);
  assert.deepEqual([norm, q, down, out, emb].map((t) => tensorTypeFor(t, 'Q4_0', true)), ['F32', 'Q4_0', 'F16', 'Q8_0', 'Q4_0']);
  assert.equal(tensorTypeFor(emb, 'Q4_0', false), 'Q8_0', 'tied embeddings are the output matrix');
});

test('sizeLabelFor follows llama.cpp gguf-py model_weight_count_rounded_notation', () => {
  assert.equal(sizeLabelFor(311_872), '312K');
  assert.equal(sizeLabelFor(1_607_296), '1.6M');
  assert.equal(sizeLabelFor(25_000_000), '25M');
  assert.equal(sizeLabelFor(1_000_000), '1000K'); // not above 1e6
  assert.equal(sizeLabelFor(7_241_732_096), '7.2B');
  assert.equal(sizeLabelFor(134_902_656), '135M');
});

// ---------------------------------------------------------------------------------------------
// GGUF writer and reader
// ---------------------------------------------------------------------------------------------

describe('GGUF writer and reader', () => {

  const metadata: GgufKv[] = [
    kv.str('general.architecture', 'llama'),
    kv.u32('general.alignment', 64),
    kv.u8('t.u8', 255),
    kv.i8('t.i8', -128),
    kv.u16('t.u16', 65535),
    kv.i16('t.i16', -32768),
    kv.u32('t.u32', 4294967295),
    kv.i32('t.i32', -2147483648),
    kv.u64('t.u64', 18446744073709551615n),
    kv.i64('t.i64', -9223372036854775808n),
    kv.f32('t.f32', 0.5),
    kv.f64('t.f64', 0.1),
    kv.bool('t.bool', true),
    kv.str('t.str', 'héllo ✓'),
    kv.strings('t.strings', ['<unk>', '', 'ünï']),
    kv.numbers('t.i32s', 'i32', [1, -2, 3]),
    kv.numbers('t.f32s', 'f32', [0.25, -1.5]),
    { key: 't.u64s', value: { type: 'array', itemType: 'u64', items: [1n, 2n] } },
    { key: 't.bools', value: { type: 'array', itemType: 'bool', items: [true, false] } },
    { key: 't.empty', value: { type: 'array', itemType: 'string', items: [] } },
  ];
  const tensors = () => [
    { name: 'a', dims: [3], type: 'F32' as const, data: new Uint8Array(Float32Array.from([1, 2, 3]).buffer) },
    { name: 'b', dims: [5], type: 'F16' as const, data: () => quantizeF16(f32([1, 2, 3, 4, 5])) },
    { name: 'c', dims: [32, 2], type: 'Q8_0' as const, data: quantizeQ8_0(normalValues(64, 1, 1, 'c')) },
  ];

  let dir: string;
  let allTypesPath: string;
  let allTypesSize: number;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wattwise-gguf-'));
    allTypesPath = join(dir, 'all-types.gguf');
    allTypesSize = await writeGguf(allTypesPath, { metadata, tensors: tensors() });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('round trip: every value type, alignment 64, tensor data padded', async () => {
    const path = allTypesPath;
    const size = allTypesSize;
    assert.equal(statSync(path).size, size);
    const h = await readGgufHeader(path);
    assert.equal(h.version, 3);
    assert.equal(h.alignment, 64);
    assert.deepEqual(h.metadata, metadata);
    assert.equal(h.dataOffset % 64, 0);
    assert.deepEqual(h.tensors.map((t) => [t.name, t.dims, ggmlTypeName(t.typeId), t.offset]), [
      ['a', [3], 'F32', 0],
      ['b', [5], 'F16', 64], // 12 bytes, padded to 64
      ['c', [32, 2], 'Q8_0', 128], // 10 bytes, padded to 64
    ]);
    assert.equal(size, h.dataOffset + 128 + 128); // 68 bytes of Q8_0 padded to 128, the last tensor too
    for (const [i, t] of tensors().entries()) {
      const want = typeof t.data === 'function' ? t.data() : t.data;
      assert.deepEqual(new Uint8Array(await readTensorBytes(path, h, h.tensors[i]!)), want);
    }
    assert.deepEqual(Array.from(await readTensorF32(path, h, h.tensors[0]!)), [1, 2, 3]);
  });

  test('node-llama-cpp reads the metadata the same way', async () => {
    const path = allTypesPath;
    const info = await readGgufFileInfo(path, { sourceType: 'filesystem', logWarnings: false, readTensorInfo: true });
    const md = info.metadata as unknown as Record<string, Record<string, unknown>>;
    const t = md.t!;
    for (const e of metadata.filter((m) => m.key.startsWith('t.'))) {
      const got = t[e.key.slice(2)];
      const want = plainValue(e.value);
      if (e.value.type === 'f32' || e.value.type === 'f64') assert.equal(Number(got), want, e.key);
      else if (typeof want === 'bigint') assert.equal(BigInt(got as number | bigint), want, e.key);
      else assert.deepEqual(got, want, e.key);
    }
    assert.equal(info.fullTensorInfo?.length, 3);
    assert.deepEqual(info.fullTensorInfo?.map((x) => Number(x.offset)), [0, 64, 128]);
  });

  test('nested arrays round-trip', async () => {
    const path = join(dir, 'nested.gguf');
    const nested: GgufKv = {
      key: 't.nested',
      value: { type: 'array', itemType: 'array', items: [{ type: 'array', itemType: 'i32', items: [1, 2] }, { type: 'array', itemType: 'string', items: ['x'] }] },
    };
    await writeGguf(path, { metadata: [nested], tensors: [] });
    assert.deepEqual((await readGgufHeader(path)).metadata, [nested]);
  });

  test('the writer refuses bad input and leaves no file behind', async () => {
    const path = join(dir, 'bad.gguf');
    await assert.rejects(writeGguf(path, { metadata: [kv.u8('x', 256)], tensors: [] }), RangeError);
    await assert.rejects(writeGguf(path, { metadata: [kv.str('x', 'a'), kv.str('x', 'b')], tensors: [] }), TypeError);
    await assert.rejects(writeGguf(path, { metadata: [kv.u32('general.alignment', 12)], tensors: [] }), RangeError);
    await assert.rejects(writeGguf(path, { metadata: [], tensors: [{ name: 'q', dims: [33], type: 'Q8_0', data: new Uint8Array(0) }] }), RangeError);
    await assert.rejects(
      writeGguf(path, { metadata: [], tensors: [{ name: 'a', dims: [4], type: 'F32', data: () => new Uint8Array(15) }] }),
      /15 bytes of data/,
    );
    assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('bad.gguf')), []);
  });

  test('the reader refuses truncated and foreign files', async () => {
    const path = allTypesPath;
    const truncated = join(dir, 'truncated.gguf');
    const h = await readGgufHeader(path);
    writeFileSync(truncated, readFileSync(path).subarray(0, h.dataOffset - 100));
    await assert.rejects(readGgufHeader(truncated), GgufFormatError);
    const foreign = join(dir, 'foreign.gguf');
    writeFileSync(foreign, 'not a model at all');
    await assert.rejects(readGgufHeader(foreign), /bad magic/);
    // Tensor data cut off: the header parses, the data read fails.
    const cut = join(dir, 'cut.gguf');
    writeFileSync(cut, readFileSync(path).subarray(0, h.dataOffset + 100));
    const hc = await readGgufHeader(cut);
    await assert.rejects(readTensorBytes(cut, hc, hc.tensors[2]!), GgufFormatError);
  });
});

// ---------------------------------------------------------------------------------------------
// The generated ladder
// ---------------------------------------------------------------------------------------------

describe('generated ladder', () => {
  let dir: string;
  let models: LadderModel[];
  let llama: Llama;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wattwise-ladder-'));
    models = await generateLadder({ outDir: dir, quantizations: LADDER_QUANTIZATIONS });
    llama = await getLlama({ gpu: false, build: 'never', skipDownload: true, logLevel: 'error' as never, progressLogs: false });
  });
  after(async () => {
    await llama?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const stories = () => models.filter((m) => m.source === 'stories260K');
  const random = () => models.filter((m) => m.source === 'random');
  const find = (source: LadderModel['source'], shapeKey: string, q: string) =>
    models.find((m) => m.source === source && m.shapeKey === shapeKey && m.quantization === q)!;

  test('the expected files: stories260K × 4, random family 3 sizes × 4 quantizations', () => {
    assert.deepEqual(stories().map((m) => basename(m.path)), ['stories-260K-F32.gguf', 'stories-260K-F16.gguf', 'stories-260K-Q8_0.gguf', 'stories-260K-Q4_0.gguf']);
    assert.equal(random().length, LADDER_SHAPES.length * 4);
    assert.ok(new Set(random().map((m) => m.sizeLabel)).size >= 3);
    assert.ok(models.every((m) => m.regenerated && existsSync(m.path) && statSync(m.path).size === m.sizeBytes));
    // ~1 MB up to tens of MB (F32), as the docs say.
    const f32Sizes = random().filter((m) => m.quantization === 'F32').map((m) => m.sizeBytes);
    assert.ok(f32Sizes[0]! > 1e6 && f32Sizes[0]! < 1.5e6 && f32Sizes[2]! > 30e6, String(f32Sizes));
  });

  test('readModelInfo: usable, quantization names, one family per ladder, equal parameter counts', async () => {
    for (const m of models) {
      const info = await readModelInfo(m.path);
      assert.equal(info.usable, true, `${m.path}: ${info.problem}`);
      assert.equal(info.quantization, m.quantization, m.path);
      assert.equal(info.family, m.family, m.path);
      assert.equal(info.sizeLabel, m.sizeLabel, m.path);
      assert.equal(info.parameterCount, m.parameterCount, m.path);
      assert.equal(info.sizeBytes, m.sizeBytes, m.path);
      assert.equal(info.architecture, 'llama');
    }
    assert.deepEqual([...new Set(stories().map((m) => m.family))], ['stories']);
    assert.deepEqual([...new Set(random().map((m) => m.family))], ['wattwise-ladder']);
    assert.ok(stories().every((m) => m.parameterCount === 292_800 && m.sizeLabel === '260K'));
    for (const shape of LADDER_SHAPES) {
      const counts = random().filter((m) => m.shapeKey === shape.key).map((m) => m.parameterCount);
      assert.equal(counts.length, 4);
      assert.ok(counts.every((c) => c === llamaParameterCount(shape, 512)), `${shape.key}: ${counts}`);
    }
  });

  test('stories260K: F32 is the original data, F16 is exact binary16, types follow the llama.cpp rule', async () => {
    const src = await readGgufHeader(storiesPath);
    const byQuant = Object.fromEntries(await Promise.all(stories().map(async (m) => [m.quantization, { m, h: await readGgufHeader(m.path) }] as const)));
    for (const [i, t] of src.tensors.entries()) {
      const original = await readTensorBytes(storiesPath, src, t);
      const f32File = byQuant.F32!;
      assert.deepEqual(await readTensorBytes(f32File.m.path, f32File.h, f32File.h.tensors[i]!), original, t.name);
      const f16File = byQuant.F16!;
      const f16Tensor = f16File.h.tensors[i]!;
      const wantF16 = t.dims.length === 1 ? original : Buffer.from(quantizeF16(await readTensorF32(storiesPath, src, t)));
      assert.deepEqual(await readTensorBytes(f16File.m.path, f16File.h, f16Tensor), wantF16, t.name);
    }
    const types = (q: string) => Object.fromEntries(byQuant[q]!.h.tensors.map((t) => [t.name, ggmlTypeName(t.typeId)]));
    const q4 = types('Q4_0');
    assert.deepEqual(
      [q4['token_embd.weight'], q4['output.weight'], q4['output_norm.weight'], q4['blk.0.attn_q.weight'], q4['blk.0.ffn_down.weight'], q4['blk.0.ffn_gate.weight']],
      ['Q4_0', 'Q8_0', 'F32', 'Q4_0', 'F16', 'Q4_0'],
    );
    const q8 = types('Q8_0');
    assert.deepEqual([q8['output.weight'], q8['blk.4.attn_v.weight'], q8['blk.4.ffn_down.weight'], q8['blk.4.ffn_norm.weight']], ['Q8_0', 'Q8_0', 'F16', 'F32']);
    const metaQ4 = await readGgufFileInfo(byQuant.Q4_0!.m.path, { sourceType: 'filesystem', logWarnings: false });
    assert.equal(metaQ4.metadata.general.file_type, 2);
    assert.equal(metaQ4.metadata.general.quantization_version, 2);
    assert.equal(metaQ4.metadata.tokenizer.ggml.tokens.length, 512);
  });

  test('file sizes scale with bytes per weight', async () => {
    // Per tensor: quantized data is exactly 34/128 (Q8_0) or 18/128 (Q4_0) of its F32 bytes, F16 is 1/2.
    const ratio: Record<string, number> = { F32: 1, F16: 2 / 4, Q8_0: 34 / 128, Q4_0: 18 / 128 };
    for (const m of models) {
      const h = await readGgufHeader(m.path);
      let end = h.dataOffset;
      for (const t of h.tensors) {
        const type = ggmlTypeName(t.typeId)!;
        const n = t.dims.reduce((a, b) => a * b, 1);
        assert.equal(tensorByteLength(type, t.dims), n * 4 * ratio[type]!, `${m.path} ${t.name}`);
        end = h.dataOffset + t.offset + Math.ceil(tensorByteLength(type, t.dims) / 32) * 32;
      }
      assert.equal(m.sizeBytes, end, `${m.path}: no bytes beyond the padded tensors`);
    }
    // Whole files: monotone in bits per weight; for the largest random shape close to the ideal ratios.
    for (const group of [stories(), ...LADDER_SHAPES.map((s) => random().filter((m) => m.shapeKey === s.key))]) {
      const size = (q: string) => group.find((m) => m.quantization === q)!.sizeBytes;
      assert.ok(size('F32') > size('F16') && size('F16') > size('Q8_0') && size('Q8_0') > size('Q4_0'), group[0]!.path);
    }
    const m = (q: string) => find('random', 'm', q).sizeBytes;
    const near = (got: number, want: number, tol: number, what: string) =>
      assert.ok(Math.abs(got / want - 1) <= tol, `${what}: ${got.toFixed(4)} vs ${want.toFixed(4)}`);
    near(m('F16') / m('F32'), 1 / 2, 0.01, 'F16/F32');
    near(m('Q8_0') / m('F32'), 34 / 128, 0.01, 'Q8_0/F32');
    near(m('Q4_0') / m('F32'), 18 / 128, 0.03, 'Q4_0/F32 (output.weight stays Q8_0)');
    near(find('stories260K', 'stories260K', 'F16').sizeBytes / find('stories260K', 'stories260K', 'F32').sizeBytes, 1 / 2, 0.02, 'stories F16/F32');
  });

  test('bench shapes come out at about 75 MB and 270 MB as F16 (computed, not written)', () => {
    const sizes = BENCH_SHAPES.map((s) => llamaParameterCount(s, 512) * 2);
    assert.ok(sizes[0]! > 70e6 && sizes[0]! < 80e6, String(sizes[0]));
    assert.ok(sizes[1]! > 260e6 && sizes[1]! < 280e6, String(sizes[1]));
  });

  /** Greedy tokens after "Once upon a time" (with BOS). */
  async function greedy(path: string, count: number): Promise<{ tokens: Token[]; text: string }> {
    const model = await llama.loadModel({ modelPath: path });
    try {
      const context = await model.createContext({ contextSize: 128, threads: 1, sequences: 1 });
      try {
        const prompt = [model.tokens.bos!, ...model.tokenize('Once upon a time')];
        const tokens: Token[] = [];
        for await (const token of context.getSequence().evaluate(prompt, { temperature: 0 })) {
          tokens.push(token);
          if (tokens.length >= count) break;
        }
        return { tokens, text: model.detokenize(tokens) };
      } finally {
        await context.dispose();
      }
    } finally {
      await model.dispose();
    }
  }

  test('node-llama-cpp loads and generates from every ladder file', async () => {
    for (const m of models) {
      const { tokens } = await greedy(m.path, 6);
      assert.equal(tokens.length, 6, m.path);
      assert.ok(tokens.every((t) => Number.isInteger(t) && (t as number) >= 0 && (t as number) < 512), `${m.path}: ${tokens}`);
    }
    // The real model still writes its story in every encoding.
    for (const m of stories()) {
      const { text } = await greedy(m.path, 8);
      assert.match(text, /^, there was a/, m.path);
    }
  });

  test("a random model with llama-2-tiny-random's 32,000-token Llama-2 vocabulary loads and generates", async () => {
    const path = join(dir, 'llama2-vocab-Q4_0.gguf');
    const result = await writeRandomLlamaModel({
      outPath: path,
      shape: LADDER_SHAPES[0]!,
      vocabPath: testModel('llama-2-tiny-random.gguf'),
      family: 'wattwise-ladder-l2',
      quantization: 'Q4_0',
    });
    assert.equal(result.parameterCount, llamaParameterCount(LADDER_SHAPES[0]!, 32000));
    const info = await readModelInfo(path);
    assert.equal(info.usable, true, info.problem ?? '');
    assert.equal(info.family, 'wattwise-ladder-l2');
    assert.equal(info.quantization, 'Q4_0');
    const model = await llama.loadModel({ modelPath: path });
    try {
      const source = await llama.loadModel({ modelPath: testModel('llama-2-tiny-random.gguf'), vocabOnly: true });
      assert.deepEqual(model.tokenize('Once upon a time'), source.tokenize('Once upon a time'), 'same tokenizer');
      await source.dispose();
      const context = await model.createContext({ contextSize: 64, threads: 1 });
      const tokens: Token[] = [];
      for await (const t of context.getSequence().evaluate([model.tokens.bos!, ...model.tokenize('Hello')], { temperature: 0 })) {
        tokens.push(t);
        if (tokens.length >= 4) break;
      }
      assert.equal(tokens.length, 4);
      assert.ok(tokens.some((t) => (t as number) >= 512), 'tokens from the whole 32k vocabulary');
      await context.dispose();
    } finally {
      await model.dispose();
    }
  });

  /**
   * Next-token log-probabilities at every position of a fixed story text (teacher forcing), from the
   * model's raw logits (node-llama-cpp `controlledEvaluate` with `logits: true`), softmax in float64.
   */
  async function logProbs(path: string, text: string): Promise<{ lp: Float64Array[]; tokens: Token[] }> {
    const model = await llama.loadModel({ modelPath: path });
    try {
      const context = await model.createContext({ contextSize: 256, threads: 1, sequences: 1 });
      try {
        const tokens = [model.tokens.bos!, ...model.tokenize(text)];
        const input: ControlledEvaluateInputItem[] = tokens.map((t, i) => (i < tokens.length - 1 ? [t, { generateNext: { logits: true } }] : t));
        const results = await context.getSequence().controlledEvaluate(input);
        const lp: Float64Array[] = [];
        for (let i = 0; i < tokens.length - 1; i++) {
          const logits = results[i]?.next.logits;
          assert.ok(logits != null && logits.size === 512, `${path}: logits at ${i}`);
          const row = new Float64Array(512);
          for (const [token, logit] of logits) row[token as number] = logit;
          const max = Math.max(...row);
          const lse = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
          lp.push(row.map((v) => v - lse));
        }
        return { lp, tokens };
      } finally {
        await context.dispose();
      }
    } finally {
      await model.dispose();
    }
  }

  test('quality really differs: F16 ≥ Q8_0 ≥ Q4_0 in agreement with F32, Q8_0 perplexity within 1%', async () => {
    const story =
      'Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends. ' +
      'One day, she saw a big red ball under a tree. She ran to the ball and picked it up. "Can I play with you?" asked a small dog. ' +
      'Lily smiled and said, "Yes, let\'s play together!" They played all day and had lots of fun.';
    const ref = await logProbs(find('stories260K', 'stories260K', 'F32').path, story);
    assert.ok(ref.lp.length > 80, `${ref.lp.length} positions`);
    const stats: Record<string, { perplexity: number; klNats: number; top1: number }> = {};
    for (const q of LADDER_QUANTIZATIONS) {
      const { lp, tokens } = await logProbs(find('stories260K', 'stories260K', q).path, story);
      assert.deepEqual(tokens, ref.tokens);
      let nll = 0;
      let kl = 0;
      let agree = 0;
      for (let i = 0; i < lp.length; i++) {
        const p = ref.lp[i]!;
        const r = lp[i]!;
        nll -= r[tokens[i + 1] as number]!;
        let argP = 0;
        let argR = 0;
        for (let j = 0; j < 512; j++) {
          kl += Math.exp(p[j]!) * (p[j]! - r[j]!); // KL(F32 ‖ variant)
          if (p[j]! > p[argP]!) argP = j;
          if (r[j]! > r[argR]!) argR = j;
        }
        if (argP === argR) agree++;
      }
      stats[q] = { perplexity: Math.exp(nll / lp.length), klNats: kl / lp.length, top1: agree / lp.length };
    }
    const s = (q: string) => stats[q]!;
    const detail = JSON.stringify(stats);
    assert.equal(s('F32').klNats, 0, detail); // same file type, same binaries: deterministic
    // Mean KL divergence from F32 grows by more than 10× per step down (measured: ~2e-6, ~5e-4, ~4e-2 nats).
    assert.ok(s('F16').klNats * 10 < s('Q8_0').klNats, detail);
    assert.ok(s('Q8_0').klNats * 10 < s('Q4_0').klNats, detail);
    // Top-1 (greedy) agreement with F32.
    assert.ok(s('F16').top1 >= s('Q8_0').top1 && s('Q8_0').top1 >= s('Q4_0').top1, detail);
    assert.ok(s('Q8_0').top1 >= 0.95 && s('Q4_0').top1 < 1, detail);
    // Perplexity: Q8_0 within 1% of F32; Q4_0 measurably worse than Q8_0.
    assert.ok(Math.abs(s('Q8_0').perplexity / s('F32').perplexity - 1) < 0.01, detail);
    assert.ok(s('Q4_0').perplexity > s('Q8_0').perplexity, detail);
    // Greedy continuation: Q8_0's first 8 tokens mostly identical to F32's.
    const g32 = (await greedy(find('stories260K', 'stories260K', 'F32').path, 8)).tokens;
    const g8 = (await greedy(find('stories260K', 'stories260K', 'Q8_0').path, 8)).tokens;
    assert.ok(g32.filter((t, i) => t === g8[i]).length >= 6, `${g32} vs ${g8}`);
  });
});

// ---------------------------------------------------------------------------------------------
// Cache
// ---------------------------------------------------------------------------------------------

describe('ladder cache', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'wattwise-ladder-cache-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const small = (extra: { generatorVersion?: number } = {}) =>
    generateLadder({ outDir: dir, storiesQuantizations: ['Q8_0'], sizes: [LADDER_SHAPES[0]!], quantizations: ['Q4_0'], ...extra });

  test('regenerates only when missing, damaged, or the generator version changes', async () => {
    const first = await small();
    assert.deepEqual(first.map((m) => m.regenerated), [true, true]);
    const mtimes = first.map((m) => statSync(m.path).mtimeMs);

    const again = await small();
    assert.deepEqual(again.map((m) => m.regenerated), [false, false]);
    assert.deepEqual(again.map((m) => statSync(m.path).mtimeMs), mtimes, 'cached files are not rewritten');
    assert.deepEqual(again.map((m) => m.sizeBytes), first.map((m) => m.sizeBytes));

    rmSync(first[0]!.path);
    truncateSync(first[1]!.path, first[1]!.sizeBytes - 1000);
    const repaired = await small();
    assert.deepEqual(repaired.map((m) => m.regenerated), [true, true]);
    assert.deepEqual(repaired.map((m) => statSync(m.path).size), first.map((m) => m.sizeBytes));

    const bumped = await small({ generatorVersion: LADDER_GENERATOR_VERSION + 1 });
    assert.deepEqual(bumped.map((m) => m.regenerated), [true, true]);
    const h = await readGgufHeader(bumped[0]!.path);
    const version = h.metadata.find((e) => e.key === 'wattwise.ladder.generator_version')?.value;
    assert.deepEqual(version, { type: 'u32', value: LADDER_GENERATOR_VERSION + 1 });
    // Deterministic: the regenerated random model has the same tensor bytes.
    const hh = await readGgufHeader(bumped[1]!.path);
    assert.equal(sha256(await readTensorBytes(bumped[1]!.path, hh, hh.tensors[3]!)), sha256(await readTensorBytes(first[1]!.path, hh, hh.tensors[3]!)));
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temp files left');
  });

  test('ladderDir() defaults to .cache/ladder in the repository and honours $WATTWISE_LADDER_DIR', () => {
    const saved = process.env.WATTWISE_LADDER_DIR;
    try {
      delete process.env.WATTWISE_LADDER_DIR;
      assert.match(ladderDir(), /[/\\]\.cache[/\\]ladder$/);
      process.env.WATTWISE_LADDER_DIR = join(dir, 'elsewhere');
      assert.equal(ladderDir(), join(dir, 'elsewhere'));
      assert.ok(statSync(join(dir, 'elsewhere')).isDirectory());
    } finally {
      if (saved == null) delete process.env.WATTWISE_LADDER_DIR;
      else process.env.WATTWISE_LADDER_DIR = saved;
    }
  });

  test('bad options are refused before anything is written', async () => {
    const empty = join(dir, 'refused');
    await assert.rejects(generateLadder({ outDir: empty, storiesQuantizations: ['Q5_K' as never] }), RangeError);
    await assert.rejects(
      generateLadder({ outDir: empty, storiesQuantizations: [], sizes: [{ key: 'odd', nLayer: 1, nEmbd: 60, nFf: 64, nHead: 7, nHeadKv: 1 }] }),
      RangeError,
    );
    await assert.rejects(
      generateLadder({ outDir: empty, storiesQuantizations: [], sizes: [LADDER_SHAPES[0]!, { ...LADDER_SHAPES[0]!, key: 'twin' }] }),
      /both give/,
    );
    assert.equal(existsSync(empty), false, 'nothing written, not even the folder');
  });
});
