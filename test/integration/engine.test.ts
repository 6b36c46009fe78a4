/**
 * `LlamaEngine` on the team kit's real tiny models, CPU only (`gpu: false`), and `ScriptedEngine`.
 *
 * Kept short for a 2-core machine: small `maxTokens`, explicit `threads: 1` wherever calibration is not
 * what is being tested. The kit models have no chat template, so node-llama-cpp uses a generic chat
 * wrapper; they are story models, so prompts start "Once upon a time".
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTokenizerGuard, LlamaEngine } from '../../electron/engine/llamaEngine.js';
import { ScriptedEngine } from '../../electron/engine/scriptedEngine.js';
import { EngineError, type CalibrationStore, type ChatTurn, type GenerateRequest } from '../../electron/engine/types.js';
import { engineStatusSchema, replyStatsSchema, type EngineStatus, type ThreadCalibration } from '../../shared/contract.js';
import { repoRoot, testModel } from '../helpers/models.js';
import { spawnSync } from 'node:child_process';

const stories = testModel('stories260K.gguf');
const tiny656 = testModel('TinyStories-656K-Q8_0.gguf');

/** An in-memory {@link CalibrationStore}, counting saves. */
class MemoryCalibrationStore implements CalibrationStore {
  readonly saved: ThreadCalibration[] = [];
  private readonly byPath = new Map<string, ThreadCalibration>();
  getThreadCalibration(modelPath: string, modelSizeBytes: number): ThreadCalibration | null {
    const c = this.byPath.get(modelPath);
    return c != null && c.modelSizeBytes === modelSizeBytes ? c : null;
  }
  saveThreadCalibration(calibration: ThreadCalibration): void {
    this.saved.push(calibration);
    this.byPath.set(calibration.modelPath, calibration);
  }
}

/** A request with test defaults: stories260K, one user turn, 32 tokens, 512-token context, 1 thread. */
function request(overrides: Partial<GenerateRequest> = {}): GenerateRequest {
  return {
    modelPath: stories,
    systemPrompt: '',
    history: [{ role: 'user', content: 'Once upon a time' }],
    maxTokens: 32,
    contextSize: 512,
    threads: 1,
    signal: new AbortController().signal,
    onText: () => {},
    ...overrides,
  };
}

async function rejectsWithCode(promise: Promise<unknown>, code: string, message?: RegExp): Promise<EngineError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof EngineError, `an EngineError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return err;
  }
  assert.fail(`expected a rejection with ${code}`);
}

describe('LlamaEngine (real models, CPU)', () => {
  let engine: LlamaEngine;
  const store = new MemoryCalibrationStore();
  const statuses: EngineStatus[] = [];
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wattwise-engine-'));
    engine = await LlamaEngine.create({ calibrationStore: store, gpu: false, logLevel: 'error' });
    engine.onStatus((s) => statuses.push(s));
  });
  after(async () => {
    await engine?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  test('generates a streamed story from stories260K with plausible stats', async () => {
    const chunks: string[] = [];
    const before = Date.now();
    const result = await engine.generate(request({ maxTokens: 48, onText: (t) => chunks.push(t) }));
    assert.ok(result.text.trim().length > 0, 'non-empty');
    assert.match(result.text, /[a-z]+ [a-z]+/i, 'words');
    assert.ok(chunks.length > 1, 'streamed in several chunks');
    assert.equal(chunks.join(''), result.text);
    assert.ok(result.stopReason === 'maxTokens' || result.stopReason === 'eos');

    const s = replyStatsSchema.parse(result.stats);
    assert.ok(s.completionTokens > 0 && s.completionTokens <= 48, `completionTokens ${s.completionTokens}`);
    if (result.stopReason === 'maxTokens') assert.equal(s.completionTokens, 48);
    assert.ok(s.promptTokens > 0 && s.prefillTokens > 0 && s.prefillTokens <= s.promptTokens);
    assert.ok(s.ttftMs > 0);
    assert.ok(s.decodeTokensPerSecond > 0);
    assert.ok(s.prefillTokensPerSecond > 0);
    assert.ok(s.startedAt >= before - 1 && s.startedAt <= s.endedAt && s.endedAt <= Date.now() + 1);
    assert.equal(s.threads, 1);
    assert.equal(s.contextSize, 512);
    assert.equal(s.modelPath, stories);
    assert.equal(s.quantization, 'F32');
    assert.equal(s.modelName, 'stories260K');

    const status = engineStatusSchema.parse(engine.status());
    assert.equal(status.state, 'ready');
    assert.equal(status.modelPath, stories);
    assert.equal(status.threads, 1);
    assert.ok(statuses.some((x) => x.state === 'loading' && x.loadProgress != null));
    assert.ok(statuses.some((x) => x.state === 'generating'));
  });

  test('multi-turn: the next turn reuses the KV cache of the previous one', async () => {
    const first = await engine.generate(request({ maxTokens: 16 }));
    const history: ChatTurn[] = [
      { role: 'user', content: 'Once upon a time' },
      { role: 'assistant', content: first.text },
      { role: 'user', content: 'What happened next?' },
    ];
    const second = await engine.generate(request({ history, maxTokens: 16 }));
    assert.ok(second.text.length > 0);
    assert.ok(second.stats.promptTokens > first.stats.promptTokens, 'the prompt grew');
    assert.ok(second.stats.prefillTokens < second.stats.promptTokens, `prefill ${second.stats.prefillTokens} < prompt ${second.stats.promptTokens}`);
  });

  test('abort mid-generation resolves at once with the partial text', async () => {
    const controller = new AbortController();
    const chunks: string[] = [];
    let abortedAt = 0;
    const result = await engine.generate(
      request({
        maxTokens: 1500,
        contextSize: 2048,
        signal: controller.signal,
        onText: (t) => {
          chunks.push(t);
          if (chunks.length === 5) {
            abortedAt = performance.now();
            controller.abort();
          }
        },
      }),
    );
    const latency = performance.now() - abortedAt;
    assert.equal(result.stopReason, 'abort');
    assert.ok(latency < 500, `resolved ${latency.toFixed(0)} ms after abort`);
    assert.ok(result.text.length > 0);
    assert.equal(result.text, chunks.join(''));
    assert.ok(result.stats.completionTokens >= 5 && result.stats.completionTokens < 1500);
    assert.equal(engine.status().state, 'ready');
  });

  test('an already aborted request resolves with an empty abort', async () => {
    const controller = new AbortController();
    controller.abort();
    const result = await engine.generate(request({ signal: controller.signal }));
    assert.equal(result.stopReason, 'abort');
    assert.equal(result.text, '');
    replyStatsSchema.parse(result.stats);
  });

  test('swapping models while generating aborts the generation, then the new model answers', async () => {
    let started!: () => void;
    const firstChunk = new Promise<void>((r) => (started = r));
    const running = engine.generate(request({ maxTokens: 1500, contextSize: 2048, onText: () => started() }));
    await firstChunk;
    const swapped = engine.generate(request({ modelPath: tiny656, maxTokens: 24 }));
    const [a, b] = await Promise.all([running, swapped]);
    assert.equal(a.stopReason, 'abort');
    assert.ok(a.stats.completionTokens < 1500);
    assert.ok(b.text.trim().length > 0);
    assert.equal(b.stats.modelPath, tiny656);
    assert.equal(b.stats.quantization, 'Q8_0');
    assert.equal(b.stats.modelName, 'Raincandy U TinyStories 656K');
    assert.equal(engine.status().modelPath, tiny656);
  });

  test('characters a vocabulary cannot encode do not crash llama.cpp (TinyStories-656K has no byte tokens)', async () => {
    // Without the tokenizer guard, '#', 'é', '{' abort the whole process (std::out_of_range in byte_to_token).
    const result = await engine.generate(
      request({
        modelPath: tiny656,
        systemPrompt: '### Story time <|start_story|>',
        history: [{ role: 'user', content: 'Once upon a time # (café) {x} 🎉 日本 \u0000' }],
        maxTokens: 16,
      }),
    );
    assert.ok(result.text.length > 0);
  });

  test('loading the model that is already loaded does not abort its generation', async () => {
    let started!: () => void;
    const firstChunk = new Promise<void>((r) => (started = r));
    const running = engine.generate(request({ maxTokens: 200, onText: () => started() }));
    await firstChunk;
    const loading = engine.load(stories, { contextSize: 512, threads: 1 });
    const result = await running;
    await loading;
    assert.notEqual(result.stopReason, 'abort');
    assert.equal(engine.status().state, 'ready');
  });

  test('a non-GGUF file is MODEL_INVALID and the engine keeps working', async () => {
    const fake = join(dir, 'fake.gguf');
    writeFileSync(fake, 'this is a text file, not a model\n');
    await rejectsWithCode(engine.load(fake), 'MODEL_INVALID', /not a GGUF file \(bad magic\)/);
    const status = engine.status();
    assert.equal(status.state, 'error');
    assert.equal(status.error?.code, 'MODEL_INVALID');
    await rejectsWithCode(engine.generate(request({ modelPath: fake })), 'MODEL_INVALID');
    const truncated = join(dir, 'truncated.gguf');
    writeFileSync(truncated, Buffer.alloc(0));
    await rejectsWithCode(engine.load(truncated), 'MODEL_INVALID', /file is empty/);

    const result = await engine.generate(request({ maxTokens: 8 }));
    assert.ok(result.text.length > 0);
    assert.equal(engine.status().state, 'ready');
  });

  test('a missing file is NOT_FOUND', async () => {
    await rejectsWithCode(engine.load(join(dir, 'nope.gguf')), 'NOT_FOUND');
    await rejectsWithCode(engine.generate(request({ modelPath: join(dir, 'nope.gguf') })), 'NOT_FOUND');
  });

  test('a history longer than a 256-token context still gets an answer', async () => {
    const history: ChatTurn[] = [];
    for (let i = 0; i < 30; i++) {
      history.push({ role: 'user', content: `Once upon a time there was a cat number ${i} who liked to play in the sun.` });
      history.push({ role: 'assistant', content: `The cat ${i} played with a red ball and was very happy all day long.` });
    }
    history.push({ role: 'user', content: 'Once upon a time' });
    const result = await engine.generate(request({ history, contextSize: 256, maxTokens: 24, systemPrompt: 'You tell short stories.' }));
    assert.ok(result.text.trim().length > 0);
    assert.equal(result.stats.contextSize, 256);
    assert.ok(result.stats.promptTokens < 256, `prompt ${result.stats.promptTokens} fits`);

    // A single message (and system prompt) longer than the context: trimmed, still answered.
    const huge = await engine.generate(
      request({
        contextSize: 256,
        maxTokens: 16,
        systemPrompt: 'The dog ran in the park. '.repeat(100),
        history: [{ role: 'user', content: `Once upon a time ${'there was a little bird. '.repeat(150)}` }],
      }),
    );
    assert.ok(huge.text.length > 0);
    assert.ok(huge.stats.promptTokens < 256);
  });

  test('calibration runs once per model file and is reused from the store', async (t) => {
    const calStore = new MemoryCalibrationStore();
    const calEngine = await LlamaEngine.create({ calibrationStore: calStore, gpu: false, logLevel: 'error' });
    const seen: EngineStatus[] = [];
    calEngine.onStatus((s) => seen.push(s));
    try {
      const start = performance.now();
      await calEngine.load(stories, { contextSize: 512, threads: null });
      const loadMs = performance.now() - start;
      assert.equal(seen.filter((s) => s.state === 'calibrating').length, 1);
      assert.equal(calStore.saved.length, 1);
      const cal = calStore.saved[0]!;
      assert.equal(cal.modelPath, stories);
      assert.equal(cal.modelSizeBytes, 1185376);
      assert.ok(cal.trials.length >= 1 && cal.trials.some((x) => x.threads === 1));
      assert.ok(cal.trials.every((x) => x.decodeTokensPerSecond > 0));
      assert.ok(cal.trials.some((x) => x.threads === cal.bestThreads));
      assert.equal(calEngine.status().threads, cal.bestThreads);
      assert.ok(loadMs < 10_000, `load + calibration took ${loadMs.toFixed(0)} ms`);
      t.diagnostic(`calibration: ${cal.trials.map((x) => `${x.threads} thread(s) ${x.decodeTokensPerSecond} tok/s`).join(', ')} → ${cal.bestThreads}; load+calibration ${loadMs.toFixed(0)} ms`);

      const reply = await calEngine.generate(request({ threads: null, maxTokens: 8 }));
      assert.equal(reply.stats.threads, cal.bestThreads);

      // Another model with explicit threads: no calibration. Back to stories260K: taken from the store.
      seen.length = 0;
      await calEngine.load(tiny656, { contextSize: 512, threads: 1 });
      await calEngine.load(stories, { contextSize: 512, threads: null });
      assert.equal(seen.filter((s) => s.state === 'calibrating').length, 0);
      assert.deepEqual(seen.map((s) => s.state).filter((s, i, a) => s !== a[i - 1]), ['loading', 'ready', 'loading', 'ready']);
      assert.equal(calStore.saved.length, 1);
      assert.equal(calEngine.status().threads, cal.bestThreads);
    } finally {
      await calEngine.dispose();
    }
  });

  test('memoryLimitBytes below the estimate gives MODEL_TOO_LARGE', async () => {
    const small = await LlamaEngine.create({ calibrationStore: new MemoryCalibrationStore(), gpu: false, logLevel: 'error', memoryLimitBytes: 2 * 1024 * 1024 });
    try {
      const err = await rejectsWithCode(small.load(stories, { contextSize: 2048, threads: 1 }), 'MODEL_TOO_LARGE', /needs [\d.e-]+ GiB, [\d.e-]+ GiB free/);
      assert.match(err.message, /0\.0020 GiB free/);
      assert.equal(small.status().error?.code, 'MODEL_TOO_LARGE');
      const fit = await small.checkFit(stories, 2048);
      assert.equal(fit.fits, false);
      assert.match(fit.reason ?? '', /needs [\d.e-]+ GiB, [\d.e-]+ GiB free/);
      assert.ok((fit.requiredRamBytes ?? 0) > 2 * 1024 * 1024);
    } finally {
      await small.dispose();
    }
  });

  test('checkFit: a tiny model fits with its estimate; a non-GGUF file does not', async () => {
    const e = await LlamaEngine.create({ calibrationStore: new MemoryCalibrationStore(), gpu: false, logLevel: 'error' });
    try {
      const fit = await e.checkFit(stories, 2048);
      assert.deepEqual({ fits: fit.fits, reason: fit.reason, gpuLayers: fit.gpuLayers }, { fits: true, reason: null, gpuLayers: 0 });
      assert.ok((fit.requiredRamBytes ?? 0) > 1_000_000, 'the estimate covers at least the weights');
      const bad = await e.checkFit(new URL(import.meta.url).pathname, 2048);
      assert.equal(bad.fits, false);
      assert.match(bad.reason ?? '', /GGUF/);
    } finally {
      await e.dispose();
    }
  });

  test('after dispose the engine refuses work', async () => {
    const e = await LlamaEngine.create({ calibrationStore: new MemoryCalibrationStore(), gpu: false, logLevel: 'error' });
    await e.load(stories, { contextSize: 256, threads: 1 });
    await e.dispose();
    assert.equal(e.status().state, 'idle');
    await rejectsWithCode(e.generate(request()), 'GENERATION_FAILED', /disposed/);
  });
});

describe('createTokenizerGuard', () => {
  const vocab = {
    model: 'llama',
    tokens: ['<unk>', '<|start_story|>', '\u2581', 'a', 'b', 'e', 'c', 'f', 'ab'],
    token_type: [2, 3, 1, 1, 1, 1, 1, 1, 1],
  };

  test('null when the vocabulary has every byte token, or is not SentencePiece', () => {
    const bytes = Array.from({ length: 256 }, (_, i) => `<0x${i.toString(16).toUpperCase().padStart(2, '0')}>`);
    assert.equal(createTokenizerGuard({ model: 'llama', tokens: ['<unk>', ...bytes] }), null);
    assert.equal(createTokenizerGuard({ model: 'gpt2', tokens: ['a'] }), null);
    assert.equal(createTokenizerGuard(undefined), null);
  });

  test('drops what cannot be encoded, strips accents, keeps special tokens', () => {
    const guard = createTokenizerGuard(vocab)!;
    assert.ok(guard);
    assert.equal(guard.sanitize('a b # café {x}'), 'a b  cafe ');
    assert.equal(guard.sanitize('<|start_story|>ab#', true), '<|start_story|>ab');
    assert.equal(guard.sanitize('<|start_story|>', false), 'a', 'not special without specialTokens: only its encodable letters stay');
    assert.equal(guard.isSafe(' '), true);
    assert.equal(guard.isSafe('é'), false);
  });
});

describe('ScriptedEngine', () => {
  test('streams its scripted replies in turn, with stats', async () => {
    const engine = new ScriptedEngine({ replies: ['Hello <b>there</b>, friend.', 'Second reply.'] });
    const chunks: string[] = [];
    const r1 = await engine.generate(request({ onText: (t) => chunks.push(t) }));
    assert.equal(r1.text, 'Hello <b>there</b>, friend.');
    assert.equal(chunks.join(''), r1.text);
    assert.ok(chunks.length >= 3);
    assert.equal(r1.stopReason, 'eos');
    replyStatsSchema.parse(r1.stats);
    assert.equal(r1.stats.completionTokens, chunks.length);
    assert.equal((await engine.generate(request())).text, 'Second reply.');
    assert.equal((await engine.generate(request())).text, 'Hello <b>there</b>, friend.');
    assert.equal(engine.status().state, 'ready');
    await engine.dispose();
  });

  test('replies from a function of the history; honours maxTokens', async () => {
    const engine = new ScriptedEngine({ replies: (h) => `You said: ${h.at(-1)?.content} one two three four` });
    const r = await engine.generate(request({ history: [{ role: 'user', content: 'hi' }], maxTokens: 3 }));
    assert.equal(r.text, 'You said: hi');
    assert.equal(r.stopReason, 'maxTokens');
    await engine.dispose();
  });

  test('abort stops the stream at once', async () => {
    const engine = new ScriptedEngine({ replies: ['word '.repeat(200)], tokenDelayMs: 20 });
    const controller = new AbortController();
    let n = 0;
    const r = await engine.generate(
      request({
        signal: controller.signal,
        maxTokens: 500,
        onText: () => {
          if (++n === 3) controller.abort();
        },
      }),
    );
    assert.equal(r.stopReason, 'abort');
    assert.equal(r.text, 'word word word');
    assert.equal(n, 3, 'no text is delivered after the abort');
    await engine.dispose();
  });

  test('a missing model file is NOT_FOUND', async () => {
    const engine = new ScriptedEngine({ replies: ['x'] });
    await rejectsWithCode(engine.generate(request({ modelPath: '/nonexistent/model.gguf' })), 'NOT_FOUND');
    assert.equal(engine.status().state, 'error');
    await rejectsWithCode(engine.load('/nonexistent/model.gguf'), 'NOT_FOUND');
    await engine.dispose();
  });
});

describe('LlamaEngine and a model file that changes while loaded', () => {
  test('replaced by rename (mv): the next reply loads the new file; overwritten in place: reloaded, no crash', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wattwise-replace-'));
    const engine = await LlamaEngine.create({ calibrationStore: new MemoryCalibrationStore(), gpu: false, logLevel: 'error' });
    try {
      const path = join(dir, 'model.gguf');
      copyFileSync(stories, path);
      const first = await engine.generate(request({ modelPath: path, maxTokens: 8 }));
      assert.equal(first.stats.quantization, 'F32');
      // `mv other.gguf model.gguf`: a new inode at the same path; the old one stays mapped.
      const incoming = join(dir, 'incoming.gguf');
      copyFileSync(tiny656, incoming);
      renameSync(incoming, path);
      const second = await engine.generate(request({ modelPath: path, maxTokens: 8 }));
      assert.equal(second.stats.quantization, 'Q8_0', 'the replaced file answered, not the stale mapping');
      // Overwritten in place (same inode, truncated then written): reloaded before any page is touched.
      copyFileSync(stories, path);
      const third = await engine.generate(request({ modelPath: path, maxTokens: 8 }));
      assert.equal(third.stats.quantization, 'F32');
      assert.ok(third.text.length >= 0);
    } finally {
      await engine.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test('llama.cpp log lines go to stderr, even at log level info: stdout stays the program’s output', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'test/helpers/engineLogChild.ts'), stories], { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /\[llama\.cpp (info|log|warn)\]/);
});
