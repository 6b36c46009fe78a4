/**
 * The sparse mixed-family model library (test/fixtures/sparse): real headers, holes for the weights.
 * Checks that every file passes for the real model it imitates — in the catalog, in node-llama-cpp's
 * estimates and in llama.cpp's own loader (node-llama-cpp simulates the estimates by loading the model
 * with `no_alloc`) — that sizes and parameter counts match the published ones, that the quantization
 * mixes follow llama.cpp's rules, and that the cache reuses and replaces files as it should.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getLlama, GgufInsights, LlamaLogLevel, readGgufFileInfo, type Llama } from 'node-llama-cpp';
import { readModelInfo } from '../../electron/models/catalog.js';
import { getMetadata, ggmlTypeName, plainValue, readGgufHeader, tensorByteLength, type GgufHeader } from '../fixtures/ladder/gguf.js';
import { MIXED_LIBRARY, writeMixedLibrary, type MixedLibraryEntry } from '../fixtures/sparse/library.js';
import {
  compareTensorNames,
  llamaTensorGetType,
  readSparseGgufStamp,
  sparseSpecJson,
  sparseTensorTable,
  useMoreBits,
  writeSparseGguf,
  type SparseGgufSpec,
} from '../fixtures/sparse/sparseGguf.js';

const MB = 1e6;

/** The library spec whose file name is `fileName` (throws when there is none). */
function specNamed(fileName: string): SparseGgufSpec {
  const spec = MIXED_LIBRARY.find((s) => s.fileName === fileName);
  if (spec == null) throw new Error(`no library spec ${fileName}`);
  return spec;
}

/** `name → ggml type name` of a header's tensor table. */
function typesOf(header: GgufHeader): Map<string, string> {
  return new Map(header.tensors.map((t) => [t.name, ggmlTypeName(t.typeId) ?? `type ${t.typeId}`]));
}

/** How many tensors whose name ends with `suffix` have type `type`. */
function countTyped(types: Map<string, string>, suffix: string, type: string): number {
  let n = 0;
  for (const [name, t] of types) if (name.endsWith(suffix) && t === type) n++;
  return n;
}

describe('llama.cpp quantization rules (src/llama-quant.cpp)', () => {
  test('use_more_bits: first and last eighth of the layers and every third layer between', () => {
    const layers = (n: number) => Array.from({ length: n }, (_, i) => i).filter((i) => useMoreBits(i, n));
    assert.deepEqual(layers(32), [0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31]);
    assert.deepEqual(layers(24), [0, 1, 2, 5, 8, 11, 14, 17, 20, 21, 22, 23]);
    assert.equal(layers(28).length, 14);
  });

  test('Q4_K_M types and the fallback for rows that are not a multiple of the block size', () => {
    const state = () => ({ hasOutput: false, nLayer: 30, iAttentionWv: 0, iFfnDown: 0 });
    // Tied output (token_embd) gets Q6_K, or Q8_0 when the row is not a multiple of 256.
    assert.equal(llamaTensorGetType(state(), 'Q4_K_M', 'token_embd.weight', 2048), 'Q6_K');
    assert.equal(llamaTensorGetType(state(), 'Q4_K_M', 'token_embd.weight', 576), 'Q8_0');
    assert.equal(llamaTensorGetType({ ...state(), hasOutput: true }, 'Q4_K_M', 'token_embd.weight', 2048), 'Q4_K');
    // Rows of 576 (SmolLM2) / 896 (Qwen2.5-0.5B): Q4_K → Q5_0, Q6_K → Q8_0; 100 fits no quant → F16.
    assert.equal(llamaTensorGetType(state(), 'Q4_K_M', 'blk.5.attn_q.weight', 576), 'Q5_0');
    assert.equal(llamaTensorGetType(state(), 'Q4_K_M', 'blk.0.attn_v.weight', 896), 'Q8_0');
    assert.equal(llamaTensorGetType(state(), 'Q4_K_M', 'blk.5.attn_q.weight', 100), 'F16');
    assert.equal(llamaTensorGetType(state(), 'Q4_K_M', 'blk.0.attn_qkv.weight', 3072), 'Q5_K');
    // Counters advance per tensor in file order: layer 0's attn_v gets more bits, layer 4's not.
    const s = state();
    const vTypes = Array.from({ length: 5 }, (_, i) => llamaTensorGetType(s, 'Q4_K_M', `blk.${i}.attn_v.weight`, 2048));
    assert.deepEqual(vTypes, ['Q6_K', 'Q6_K', 'Q6_K', 'Q4_K', 'Q4_K']);
    assert.equal(llamaTensorGetType(state(), 'Q8_0', 'blk.0.attn_v.weight', 576), 'Q8_0');
    assert.equal(llamaTensorGetType(state(), 'Q8_0', 'token_embd.weight', 576), 'Q8_0');
  });

  test('tensor order is llama_model_loader::weight_name_comparer (no layer first, then by layer number)', () => {
    const names = ['blk.10.attn_q.weight', 'blk.2.ffn_up.weight', 'token_embd.weight', 'blk.2.attn_k.weight', 'output.weight', 'output_norm.weight'];
    assert.deepEqual([...names].sort(compareTensorNames), [
      'output.weight', 'output_norm.weight', 'token_embd.weight', 'blk.2.attn_k.weight', 'blk.2.ffn_up.weight', 'blk.10.attn_q.weight',
    ]);
  });
});

describe('sparse mixed library', () => {
  let dir: string;
  let entries: MixedLibraryEntry[];
  let generationMs: number;
  let llama: Llama | null = null;
  const llamaLogs: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wattwise-sparse-'));
    const t0 = performance.now();
    entries = await writeMixedLibrary(dir);
    generationMs = performance.now() - t0;
  });

  after(async () => {
    await llama?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  test('generation: every file, in a few seconds, under 50 MB of real disk, no temp files left', () => {
    assert.equal(entries.length, MIXED_LIBRARY.length);
    assert.ok(entries.every((e) => e.written));
    assert.deepEqual(readdirSync(dir).sort(), MIXED_LIBRARY.map((s) => s.fileName).sort());
    assert.ok(generationMs < 15_000, `generation took ${Math.round(generationMs)} ms`);
    const apparent = entries.reduce((sum, e) => sum + statSync(e.path).size, 0);
    const onDisk = entries.reduce((sum, e) => sum + statSync(e.path).blocks * 512, 0);
    const published = MIXED_LIBRARY.reduce((sum, s) => sum + s.published.fileBytes, 0);
    assert.ok(Math.abs(apparent / published - 1) < 0.03, `apparent size ${apparent}, published ${published}`);
    assert.ok(onDisk < 50 * MB, `${onDisk} bytes allocated`);
  });

  for (const spec of MIXED_LIBRARY) {
    test(`${spec.fileName}: size within 3% of the published file, a few MB on disk`, () => {
      const st = statSync(join(dir, spec.fileName));
      const ratio = st.size / spec.published.fileBytes;
      assert.ok(Math.abs(ratio - 1) < 0.03, `${st.size} bytes vs ${spec.published.fileBytes} published (${spec.published.fileSource})`);
      assert.ok(st.blocks * 512 < 8 * 1024 * 1024, `${st.blocks * 512} bytes allocated`);
    });

    test(`${spec.fileName}: the catalog lists it as the real model`, async () => {
      const info = await readModelInfo(join(dir, spec.fileName));
      assert.equal(info.usable, true, info.problem ?? '');
      assert.equal(info.architecture, spec.shape.architecture);
      assert.equal(info.quantization, spec.quantization);
      assert.equal(info.sizeLabel, spec.general.sizeLabel);
      assert.equal(info.family, `${spec.general.basename}-${spec.general.finetune}`.toLowerCase());
      assert.equal(info.name, spec.general.name);
      assert.equal(info.trainContextSize, spec.shape.contextLength);
      assert.equal(info.hasChatTemplate, true);
      assert.equal(info.sizeBytes, statSync(join(dir, spec.fileName)).size);
      assert.ok(info.parameterCount != null);
      const ratio = info.parameterCount / spec.published.parameterCount;
      assert.ok(Math.abs(ratio - 1) < 0.02, `${info.parameterCount} parameters vs ${spec.published.parameterCount} (${spec.published.parameterSource})`);
    });

    test(`${spec.fileName}: header and layout`, async () => {
      const path = join(dir, spec.fileName);
      const h = await readGgufHeader(path);
      const expected = sparseTensorTable(spec);
      assert.deepEqual(h.tensors.map((t) => [t.name, t.dims, ggmlTypeName(t.typeId)]), expected.map((t) => [t.name, t.dims, t.type]));
      // Tensors are contiguous, each padded to the alignment, and the file ends with the last one.
      let offset = 0;
      for (const t of h.tensors) {
        assert.equal(t.offset, offset, t.name);
        offset += Math.ceil(tensorByteLength(ggmlTypeName(t.typeId)!, t.dims) / h.alignment) * h.alignment;
      }
      assert.equal(h.fileSize, h.dataOffset + offset);
      const md = (key: string) => {
        const v = getMetadata(h, key);
        return v == null ? undefined : plainValue(v);
      };
      const arch = spec.shape.architecture;
      assert.equal(md('general.architecture'), arch);
      assert.equal(md('general.type'), 'model');
      assert.equal(md('general.quantization_version'), 2);
      assert.equal(md(`${arch}.block_count`), spec.shape.blockCount);
      assert.equal(md(`${arch}.embedding_length`), spec.shape.embeddingLength);
      assert.equal(md(`${arch}.attention.head_count_kv`), spec.shape.headCountKv);
      const tokens = md('tokenizer.ggml.tokens');
      assert.ok(Array.isArray(tokens) && tokens.length === spec.shape.vocabSize);
      assert.equal(new Set(tokens).size, tokens.length);
      const types = md('tokenizer.ggml.token_type');
      assert.ok(Array.isArray(types) && types.length === spec.shape.vocabSize);
      assert.equal(tokens[spec.tokenizer.eosId], spec.tokenizer.special.find((s) => s.id === spec.tokenizer.eosId)?.text);
      assert.equal(md('wattwise.sparse.file_bytes'), BigInt(h.fileSize));
      assert.equal(md('wattwise.sparse.spec'), sparseSpecJson(spec));
    });
  }

  test('quantization mixes follow llama.cpp', async () => {
    const header = (name: string) => readGgufHeader(join(dir, name));
    // Llama 3.1 8B Q4_K_M: output Q6_K, token_embd Q4_K, attn_v/ffn_down Q6_K in the 16 use_more_bits layers.
    const l8 = typesOf(await header('Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf'));
    assert.equal(l8.get('output.weight'), 'Q6_K');
    assert.equal(l8.get('token_embd.weight'), 'Q4_K');
    assert.equal(l8.get('rope_freqs.weight'), 'F32');
    assert.equal(countTyped(l8, 'attn_v.weight', 'Q6_K'), 16);
    assert.equal(countTyped(l8, 'attn_v.weight', 'Q4_K'), 16);
    assert.equal(countTyped(l8, 'ffn_down.weight', 'Q6_K'), 16);
    assert.equal(countTyped(l8, 'attn_q.weight', 'Q4_K'), 32);
    assert.equal(countTyped(l8, 'ffn_norm.weight', 'F32'), 32);
    // Qwen2.5-0.5B Q4_K_M: 896-wide rows fall back (Q4_K → Q5_0, Q6_K → Q8_0); ffn_down rows (4864) fit.
    const q05h = await header('Qwen2.5-0.5B-Instruct-Q4_K_M.gguf');
    const q05 = typesOf(q05h);
    assert.equal(q05.has('output.weight'), false);
    assert.equal(q05.get('token_embd.weight'), 'Q8_0');
    assert.equal(countTyped(q05, 'attn_q.weight', 'Q5_0'), 24);
    assert.equal(countTyped(q05, 'attn_v.weight', 'Q8_0'), 12);
    assert.equal(countTyped(q05, 'attn_v.weight', 'Q5_0'), 12);
    assert.equal(countTyped(q05, 'ffn_down.weight', 'Q6_K'), 12);
    assert.equal(countTyped(q05, 'ffn_down.weight', 'Q4_K'), 12);
    assert.equal(countTyped(q05, 'attn_k.bias', 'F32'), 24);
    assert.deepEqual(q05h.tensors.find((t) => t.name === 'blk.0.attn_k.bias')?.dims, [128]);
    // Phi-3.5-mini: fused attn_qkv (Q5_K in Q4_K_M) and fused ffn_up of 2 × 8192.
    const phiH = await header('Phi-3.5-mini-instruct-Q4_K_M.gguf');
    const phi = typesOf(phiH);
    assert.equal(phi.get('blk.0.attn_qkv.weight'), 'Q5_K');
    assert.deepEqual(phiH.tensors.find((t) => t.name === 'blk.0.attn_qkv.weight')?.dims, [3072, 9216]);
    assert.deepEqual(phiH.tensors.find((t) => t.name === 'blk.0.ffn_up.weight')?.dims, [3072, 16384]);
    assert.equal(phi.get('output.weight'), 'Q6_K');
    assert.equal(phi.get('rope_factors_long.weight'), 'F32');
    // Gemma 2: tied (token_embd takes the output's Q6_K), extra post-attention / post-FFW norms.
    const gemma = typesOf(await header('gemma-2-2b-it-Q4_K_M.gguf'));
    assert.equal(gemma.has('output.weight'), false);
    assert.equal(gemma.get('token_embd.weight'), 'Q6_K');
    assert.equal(countTyped(gemma, 'post_attention_norm.weight', 'F32'), 26);
    assert.equal(countTyped(gemma, 'post_ffw_norm.weight', 'F32'), 26);
    // Q8_0 and F16 files: every 2-D tensor has the file's type, every 1-D one is F32.
    for (const [name, type] of [['SmolLM2-135M-Instruct-Q8_0.gguf', 'Q8_0'], ['Qwen2.5-7B-Instruct-Q8_0.gguf', 'Q8_0'], ['SmolLM2-135M-Instruct-f16.gguf', 'F16']] as const) {
      const h = await header(name);
      for (const t of h.tensors) assert.equal(ggmlTypeName(t.typeId), t.dims.length >= 2 ? type : 'F32', `${name} ${t.name}`);
    }
  });

  test("node-llama-cpp's estimates work, and llama.cpp's loader accepts every file", async () => {
    llama = await getLlama({
      gpu: false,
      build: 'never',
      skipDownload: true,
      progressLogs: false,
      logLevel: LlamaLogLevel.warn,
      logger: (level, message) => llamaLogs.push(`${level}: ${message}`),
    });
    for (const spec of MIXED_LIBRARY) {
      const path = join(dir, spec.fileName);
      const insights = await GgufInsights.from(await readGgufFileInfo(path, { sourceType: 'filesystem', logWarnings: false }), llama);
      assert.equal(insights.isSupportedByLlamaCpp, true, spec.fileName);
      const model = await insights.estimateModelResourceRequirementsV2({ gpuLayers: 0 });
      const context = await insights.estimateContextResourceRequirementsV2({ contextSize: 2048, modelGpuLayers: 0, sequences: 1 });
      for (const [what, v] of [['model cpuRam', model.cpuRam], ['context cpuRam', context.cpuRam]] as const) {
        assert.ok(Number.isFinite(v) && v > 0, `${spec.fileName}: ${what} = ${v}`);
      }
      for (const v of [model.gpuVram, context.gpuVram]) assert.ok(Number.isFinite(v) && v >= 0);
      // The model's weights are the bulk of the file.
      const size = statSync(path).size;
      assert.ok(model.cpuRam > 0.9 * size && model.cpuRam < 1.1 * size, `${spec.fileName}: model cpuRam ${model.cpuRam} for ${size} bytes`);
    }
    // node-llama-cpp computes these by loading each model in llama.cpp without allocating
    // (hparams, vocabulary, tensor shapes and file bounds are all checked); a refused file logs a
    // "Failed simulating ..." warning and an error from llama.cpp.
    assert.deepEqual(llamaLogs.filter((l) => /^(warn|error|fatal)/.test(l)), []);
  });

  test('a second run rewrites nothing; a different spec, a truncated or a foreign file is replaced', async () => {
    const mtimes = new Map(entries.map((e) => [e.path, statSync(e.path).mtimeMs]));
    const t0 = performance.now();
    const again = await writeMixedLibrary(dir);
    assert.ok(performance.now() - t0 < 3000, 'reuse should only read the headers');
    assert.deepEqual(again.map((e) => e.written), MIXED_LIBRARY.map(() => false));
    for (const e of again) assert.equal(statSync(e.path).mtimeMs, mtimes.get(e.path), e.path);

    const [a, b, c] = [MIXED_LIBRARY[0]!, MIXED_LIBRARY[6]!, MIXED_LIBRARY[13]!];
    const other: SparseGgufSpec = { ...a, general: { ...a.general, license: 'mit' } };
    await writeSparseGguf(join(dir, a.fileName), other);
    assert.equal((await readSparseGgufStamp(join(dir, a.fileName)))?.specJson, sparseSpecJson(other));
    truncateSync(join(dir, b.fileName), statSync(join(dir, b.fileName)).size - 4096);
    writeFileSync(join(dir, c.fileName), 'not a gguf file');
    const before = new Map([a, b, c].map((s) => [s.fileName, statSync(join(dir, s.fileName)).mtimeMs]));
    await new Promise((r) => setTimeout(r, 20));

    const third = await writeMixedLibrary(dir);
    const rewritten = third.filter((e) => e.written).map((e) => e.spec.fileName);
    assert.deepEqual(rewritten, [a.fileName, b.fileName, c.fileName]);
    for (const s of [a, b, c]) {
      const path = join(dir, s.fileName);
      const stamp = await readSparseGgufStamp(path);
      assert.equal(stamp?.specJson, sparseSpecJson(s));
      assert.equal(stamp?.actualBytes, stamp?.fileBytes);
      assert.notEqual(statSync(path).mtimeMs, before.get(s.fileName));
    }
    for (const e of third.filter((x) => !x.written)) assert.equal(statSync(e.path).mtimeMs, mtimes.get(e.path), e.path);
    assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith('.tmp')), []);
  });

  test('a failed write leaves no file behind', async () => {
    const spec = specNamed('SmolLM2-135M-Instruct-Q8_0.gguf');
    const bad: SparseGgufSpec = { ...spec, fileName: 'bad.gguf', tokenizer: { ...spec.tokenizer, eosId: spec.shape.vocabSize, special: [...spec.tokenizer.special, { id: spec.shape.vocabSize, text: '<x>', type: 'control' }] } };
    await assert.rejects(writeSparseGguf(join(dir, 'bad.gguf'), bad), RangeError);
    await assert.rejects(writeSparseGguf(join(dir, 'no-such-dir', 'x.gguf'), spec), { code: 'ENOENT' });
    assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('bad.gguf') || n.endsWith('.tmp')), []);
    await assert.rejects(writeMixedLibrary(dir, { specs: [spec, spec] }), TypeError);
  });
});
