/**
 * The shipped model catalog (resources/catalog/models.json): it parses with its schema, entries are
 * unique, each file's size agrees with its parameter count and quantization, and the published score it
 * carries is the one the governor's quality scale uses for it (matched like an installed file would be).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { catalogEntryUri, catalogKvBytesPerToken, catalogSchema } from '../../../shared/modelCatalog.js';
import { loadModelCatalog } from '../../../electron/models/modelCatalog.js';
import { matchPublishedScore, quantInfo, referenceQuality } from '../../../electron/governor/index.js';
import { parseModelSource } from '../../../electron/models/download/index.js';
import { repoRoot } from '../../helpers/models.js';

const catalog = loadModelCatalog();

test('the file parses with its schema and has the ladder of sizes the issue asks for', () => {
  const raw = JSON.parse(readFileSync(join(repoRoot, 'resources/catalog/models.json'), 'utf8'));
  assert.ok(catalogSchema.safeParse(raw).success);
  assert.ok(catalog.entries.length >= 15);
  const names = new Set(catalog.entries.map((e) => `${e.basename} ${e.sizeLabel}`));
  for (const want of ['Qwen2.5 0.5B', 'Qwen2.5 1.5B', 'Qwen2.5 3B', 'Qwen2.5 7B', 'Llama-3.2 1B', 'Llama-3.2 3B', 'Meta-Llama-3.1 8B', 'Phi-3.5 3.8B', 'gemma-2 2B']) {
    assert.ok(names.has(want), want);
  }
  const quants = new Set(catalog.entries.map((e) => e.quantization));
  assert.ok(quants.has('Q4_K_M') && quants.has('Q8_0') && quants.size >= 3, [...quants].join(','));
});

test('ids, files and checksums are unique; every entry is a downloadable hf: URI', () => {
  const ids = catalog.entries.map((e) => e.id);
  assert.equal(new Set(ids).size, ids.length);
  const files = catalog.entries.map((e) => `${e.repo}/${e.file}`);
  assert.equal(new Set(files).size, files.length);
  const shas = catalog.entries.map((e) => e.sha256);
  assert.equal(new Set(shas).size, shas.length);
  for (const e of catalog.entries) {
    const parsed = parseModelSource(catalogEntryUri(e));
    assert.equal(parsed.kind, 'hf-file', e.id);
  }
});

test('each size matches its parameter count at its quantization', () => {
  for (const e of catalog.entries) {
    const bpw = (e.sizeBytes * 8) / e.parameterCount;
    const expected = quantInfo(e.quantization)!.bitsPerWeight;
    // Within 35% of the quantization's bits per weight; under 1B parameters the embedding table (often kept
    // at 8 or 16 bits: Qwen2.5-0.5B's is 27% of its weights) can push a file far above, never below.
    if (e.parameterCount >= 1e9) assert.ok(Math.abs(bpw / expected - 1) < 0.35, `${e.id}: ${bpw.toFixed(2)} bits/weight vs ${expected.toFixed(2)} for ${e.quantization}`);
    else assert.ok(bpw > expected * 0.65 && bpw <= 16.5, `${e.id}: ${bpw.toFixed(2)} bits/weight vs ${expected.toFixed(2)} for ${e.quantization}`);
    assert.ok(catalogKvBytesPerToken(e) > 1000 && catalogKvBytesPerToken(e) < 1e6, e.id);
  }
});

test('the published score of each entry is the governor’s, and the governor’s quality says so', () => {
  for (const e of catalog.entries) {
    const row = matchPublishedScore({ basename: e.basename, name: e.name, fileName: e.file, sizeLabel: e.sizeLabel, parameterCount: e.parameterCount });
    assert.deepEqual(e.published, row ? { mmlu: row.mmlu, benchmark: row.benchmark, source: row.source } : null, e.id);
    const q = referenceQuality({ parameterCount: e.parameterCount, quantization: e.quantization, basename: e.basename, sizeLabel: e.sizeLabel, name: e.name, fileName: e.file });
    assert.equal(q.source, row ? 'published' : 'prior', e.id);
  }
  // SmolLM2 publishes no comparable MMLU (only a cloze variant): no score, the prior applies.
  assert.ok(catalog.entries.filter((e) => e.basename === 'SmolLM2').every((e) => e.published === null));
});
