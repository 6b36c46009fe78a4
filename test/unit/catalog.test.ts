/**
 * The model catalog against the team kit's real GGUF files and against broken files made on the spot
 * (empty, random bytes, text, truncated header, truncated tensor data, old/foreign versions).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  dominantTensorTypeByBytes,
  formatGiB,
  formatQuantization,
  listModels,
  readModelInfo,
  splitModelParts,
} from '../../electron/models/catalog.js';
import { modelInfoSchema } from '../../shared/contract.js';
import { testModel } from '../helpers/models.js';

const stories = testModel('stories260K.gguf');
const tiny656 = testModel('TinyStories-656K-Q8_0.gguf');
const random = testModel('llama-2-tiny-random.gguf');

describe('readModelInfo on the kit models', () => {
  const cases = [
    { path: stories, quantization: 'F32', trainContextSize: 2048, name: 'stories260K' },
    { path: tiny656, quantization: 'Q8_0', trainContextSize: 512, name: 'Raincandy U TinyStories 656K' },
    { path: random, quantization: 'F16', trainContextSize: 4096, name: 'LLaMA v2' },
  ];
  for (const c of cases) {
    test(`${c.path.split('/').pop()}`, async () => {
      const info = await readModelInfo(c.path);
      modelInfoSchema.parse(info);
      assert.equal(info.usable, true, info.problem ?? '');
      assert.equal(info.problem, null);
      assert.equal(info.architecture, 'llama');
      assert.equal(info.quantization, c.quantization);
      assert.equal(info.trainContextSize, c.trainContextSize);
      assert.equal(info.sizeBytes, statSync(c.path).size);
      assert.ok(info.parameterCount != null && info.parameterCount > 0);
      assert.equal(info.hasChatTemplate, false);
      assert.equal(info.path, c.path);
      if (c.name) assert.equal(info.name, c.name);
    });
  }

  test('parameter counts are the sums of the tensor element counts', async () => {
    // stories260K: dim 64, 5 layers, vocab 512, hidden 172, 8 heads/4 KV heads (llama2.c's stories260K).
    assert.equal((await readModelInfo(stories)).parameterCount, 292_800);
    assert.equal((await readModelInfo(tiny656)).parameterCount, 656_000);
  });
});

describe('readModelInfo on broken files', () => {
  let dir: string;
  const header = (version: number, littleEndian = true) => {
    const b = Buffer.alloc(24);
    b.write('GGUF', 0, 'latin1');
    if (littleEndian) b.writeUInt32LE(version, 4);
    else b.writeUInt32BE(version, 4);
    return b;
  };
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'wattwise-catalog-'));
    const real = readFileSync(stories);
    writeFileSync(join(dir, 'empty.gguf'), '');
    writeFileSync(join(dir, 'random.gguf'), randomBytes(4096));
    writeFileSync(join(dir, 'text.gguf'), 'This is not a model, just some text.\n');
    writeFileSync(join(dir, 'header100.gguf'), real.subarray(0, 100));
    writeFileSync(join(dir, 'data60.gguf'), real.subarray(0, Math.floor(real.length * 0.6)));
    writeFileSync(join(dir, 'v1.gguf'), header(1));
    writeFileSync(join(dir, 'v9.gguf'), header(9));
    writeFileSync(join(dir, 'bigendian.gguf'), header(3, false));
    writeFileSync(join(dir, 'two-bytes.gguf'), 'GG');
    // A header whose metadata count is absurd for the file: must not loop or allocate, just say so.
    const lying = Buffer.concat([header(3).subarray(0, 8), Buffer.from([0, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('ffffffffffffff7f', 'hex')]);
    writeFileSync(join(dir, 'lying-count.gguf'), Buffer.concat([lying, Buffer.alloc(64)]));
    // A string length larger than the file.
    const hugeString = Buffer.alloc(40);
    header(3).copy(hugeString);
    hugeString.writeBigUInt64LE(0n, 8); // tensors
    hugeString.writeBigUInt64LE(1n, 16); // one metadata entry
    hugeString.writeBigUInt64LE(1n << 40n, 24); // its key is 1 TiB long
    writeFileSync(join(dir, 'huge-string.gguf'), hugeString);
    mkdirSync(join(dir, 'folder.gguf'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const expectations: [string, RegExp][] = [
    ['empty.gguf', /^file is empty$/],
    ['random.gguf', /^not a GGUF file \(bad magic\)$/],
    ['text.gguf', /^not a GGUF file \(bad magic\)$/],
    ['header100.gguf', /^truncated GGUF header$/],
    ['data60.gguf', /^truncated: header declares 1171200 bytes of tensor data, file has \d+$/],
    ['v1.gguf', /^unsupported GGUF version 1\b/],
    ['v9.gguf', /^unsupported GGUF version 9$/],
    ['bigendian.gguf', /big-endian/],
    ['two-bytes.gguf', /^truncated GGUF header$/],
    ['lying-count.gguf', /^truncated GGUF header$/],
    ['huge-string.gguf', /^truncated GGUF header$/],
    ['folder.gguf', /folder/],
    ['missing.gguf', /^file not found$/],
  ];
  for (const [file, problem] of expectations) {
    test(`${file} → ${problem.source}`, async () => {
      const info = await readModelInfo(join(dir, file));
      modelInfoSchema.parse(info);
      assert.equal(info.usable, false);
      assert.match(info.problem ?? '', problem);
      assert.equal(info.fileName, file);
      assert.ok(!(info.problem ?? '').includes('\n'), 'one line');
    });
  }

  test('the 60% file still reports what its header says', async () => {
    const info = await readModelInfo(join(dir, 'data60.gguf'));
    assert.equal(info.architecture, 'llama');
    assert.equal(info.quantization, 'F32');
    const declared = 1171200;
    const has = Number(/file has (\d+)/.exec(info.problem ?? '')![1]);
    assert.ok(has < declared && has > 0);
  });

  test('unreadable file (EACCES)', { skip: process.getuid?.() === 0 ? 'running as root: permissions are not enforced' : false }, async () => {
    const p = join(dir, 'noperm.gguf');
    copyFileSync(stories, p);
    chmodSync(p, 0o000);
    try {
      const info = await readModelInfo(p);
      assert.equal(info.usable, false);
      assert.match(info.problem ?? '', /permission denied/);
    } finally {
      chmodSync(p, 0o644);
    }
  });
});

function byFileName(models: { fileName: string }[], name: string) {
  const found = models.find((m) => m.fileName === name);
  assert.ok(found, `${name} listed`);
  return found as Awaited<ReturnType<typeof readModelInfo>>;
}

describe('listModels', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'wattwise-list-'));
    copyFileSync(tiny656, join(dir, 'TinyStories-656K-Q8_0.gguf'));
    writeFileSync(join(dir, 'notes.txt'), 'not a model');
    writeFileSync(join(dir, 'broken.GGUF'), 'not a model either');
    writeFileSync(join(dir, '.hidden.gguf'), 'skipped');
    writeFileSync(join(dir, 'model.gguf.part'), 'half a download');
    // LM Studio layout: publisher/model/file.gguf
    mkdirSync(join(dir, 'karpathy', 'stories'), { recursive: true });
    copyFileSync(stories, join(dir, 'karpathy', 'stories', 'stories260K.gguf'));
    // Too deep: not searched.
    mkdirSync(join(dir, 'a', 'b', 'c'), { recursive: true });
    copyFileSync(stories, join(dir, 'a', 'b', 'c', 'deep.gguf'));
    // A symlink to a model elsewhere.
    symlinkSync(random, join(dir, 'linked.gguf'));
    // Split model: only the first part is listed.
    writeFileSync(join(dir, 'big-00001-of-00002.gguf'), 'x');
    writeFileSync(join(dir, 'big-00002-of-00002.gguf'), 'y');
    writeFileSync(join(dir, 'half-00001-of-00002.gguf'), readFileSync(stories));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('lists .gguf files of the folder and its subfolders, sorted by name', async () => {
    const models = await listModels(dir);
    for (const m of models) modelInfoSchema.parse(m);
    assert.deepEqual(
      models.map((m) => m.fileName),
      // names: "big-00001-of-00002", "broken", "half-00001-of-00002", "llama" (stories260K's general.name), "LLaMA v2", "Raincandy U..."
      ['big-00001-of-00002.gguf', 'broken.GGUF', 'half-00001-of-00002.gguf', 'linked.gguf', 'TinyStories-656K-Q8_0.gguf', 'stories260K.gguf'],
    );
    assert.equal(byFileName(models, 'half-00001-of-00002.gguf').problem, 'missing part 2 of 2 (half-00002-of-00002.gguf)');
    const byFile = new Map(models.map((m) => [m.fileName, m]));
    assert.equal(byFile.get('broken.GGUF')!.usable, false);
    assert.equal(byFile.get('stories260K.gguf')!.usable, true);
    assert.equal(byFile.get('linked.gguf')!.usable, true);
    assert.equal(byFile.get('linked.gguf')!.quantization, 'F16');
    assert.equal(byFile.get('big-00001-of-00002.gguf')!.usable, false);
    assert.equal(byFile.get('big-00001-of-00002.gguf')!.sizeBytes, 2, 'size of all parts');
  });

  test('a missing folder gives []', async () => {
    assert.deepEqual(await listModels(join(dir, 'does-not-exist')), []);
  });

  test('an empty folder gives []', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'wattwise-empty-'));
    try {
      assert.deepEqual(await listModels(empty), []);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('helpers', () => {
  test('formatQuantization maps GGUF file types', () => {
    assert.equal(formatQuantization(0), 'F32');
    assert.equal(formatQuantization(1), 'F16');
    assert.equal(formatQuantization(2), 'Q4_0');
    assert.equal(formatQuantization(7), 'Q8_0');
    assert.equal(formatQuantization(15), 'Q4_K_M');
    assert.equal(formatQuantization(17), 'Q5_K_M');
    assert.equal(formatQuantization(18), 'Q6_K');
    assert.equal(formatQuantization(30), 'IQ4_XS');
    assert.equal(formatQuantization(32), 'BF16');
    assert.equal(formatQuantization(undefined), null);
    assert.equal(formatQuantization(9999), 'type 9999');
  });

  test('dominantTensorTypeByBytes weighs tensors by their bytes', () => {
    // 100 bytes of F32 (0), then 1000 bytes of Q8_0 (8), then 50 of F32.
    assert.equal(dominantTensorTypeByBytes([{ ggmlType: 0, offset: 0 }, { ggmlType: 8, offset: 100 }, { ggmlType: 0, offset: 1100 }], 1150), 'Q8_0');
    assert.equal(dominantTensorTypeByBytes([], 0), null);
  });

  test('splitModelParts', () => {
    assert.deepEqual(splitModelParts('/m/x-00001-of-00003.gguf'), ['/m/x-00001-of-00003.gguf', '/m/x-00002-of-00003.gguf', '/m/x-00003-of-00003.gguf']);
    assert.deepEqual(splitModelParts('/m/x.gguf'), ['/m/x.gguf']);
  });

  test('formatGiB', () => {
    assert.equal(formatGiB(3.2 * 1024 ** 3), '3.2 GiB');
    assert.equal(formatGiB(1024 ** 2), '< 0.001 GiB');
    assert.equal(formatGiB(0), '0 GiB');
  });
});
