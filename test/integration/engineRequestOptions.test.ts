/**
 * `LlamaEngine`'s per-request options on the team kit's real tiny models (CPU only): sampling (seed and
 * temperature make a reply repeatable), stop strings (the reply ends before them, `stopSequence`), and
 * plain text completion of a prompt (`prompt`, no chat template), which the OpenAI-compatible API uses.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LlamaEngine } from '../../electron/engine/llamaEngine.js';
import type { CalibrationStore, GenerateRequest } from '../../electron/engine/types.js';
import { replyStatsSchema } from '../../shared/contract.js';
import { testModel } from '../helpers/models.js';

const stories = testModel('stories260K.gguf');

const noCalibrations: CalibrationStore = { getThreadCalibration: () => null, saveThreadCalibration: () => undefined };

function request(overrides: Partial<GenerateRequest> = {}): GenerateRequest {
  return {
    modelPath: stories,
    systemPrompt: '',
    history: [{ role: 'user', content: 'Once upon a time' }],
    maxTokens: 24,
    contextSize: 512,
    threads: 1,
    signal: new AbortController().signal,
    onText: () => {},
    ...overrides,
  };
}

describe('per-request generation options', () => {
  let engine: LlamaEngine;
  before(async () => {
    engine = await LlamaEngine.create({ calibrationStore: noCalibrations, gpu: false, logLevel: 'disabled' });
  });
  after(async () => {
    await engine.dispose();
  });

  test('the same seed at temperature 1 gives the same reply; the text streamed is the text returned', async () => {
    const pieces: string[] = [];
    const a = await engine.generate(request({ sampling: { temperature: 1, seed: 42 }, onText: (t) => pieces.push(t) }));
    const b = await engine.generate(request({ sampling: { temperature: 1, seed: 42 } }));
    assert.ok(a.text.length > 0);
    assert.equal(a.text, b.text);
    assert.equal(pieces.join(''), a.text);
  });

  test('temperature 0 is greedy: two replies are equal whatever the seed', async () => {
    const a = await engine.generate(request({ sampling: { temperature: 0, seed: 1 } }));
    const b = await engine.generate(request({ sampling: { temperature: 0, seed: 2 } }));
    assert.equal(a.text, b.text);
  });

  test('a stop string ends the reply before it, with stopSequence', async () => {
    const free = await engine.generate(request({ sampling: { temperature: 0 }, maxTokens: 48 }));
    // A word the greedy reply contains after its start: the stopped reply must end just before it.
    const words = free.text.split(/\s+/).filter((w) => /^[a-z]{3,}$/.test(w));
    const stopWord = words[2] ?? words[0];
    assert.ok(stopWord, `the greedy reply has words: ${JSON.stringify(free.text)}`);
    const cut = free.text.indexOf(stopWord);
    const stopped = await engine.generate(request({ sampling: { temperature: 0 }, maxTokens: 48, stop: [stopWord] }));
    assert.equal(stopped.stopReason, 'stopSequence');
    assert.ok(!stopped.text.includes(stopWord), JSON.stringify(stopped.text));
    assert.equal(stopped.text.trimEnd(), free.text.slice(0, cut).trimEnd());
  });

  test('a plain completion continues the prompt (no chat template), with stats and maxTokens', async () => {
    let streamed = '';
    const result = await engine.generate(request({ prompt: 'Once upon a time, there was a', maxTokens: 12, sampling: { temperature: 0 }, onText: (t) => (streamed += t) }));
    assert.ok(result.text.length > 0);
    assert.equal(streamed, result.text);
    assert.equal(result.stopReason, 'maxTokens');
    assert.equal(result.stats.completionTokens, 12);
    assert.ok(replyStatsSchema.safeParse(result.stats).success);
    // The prompt is ~9 tokens: far fewer than a chat template would add around it.
    assert.ok(result.stats.promptTokens > 3 && result.stats.promptTokens < 20, `prompt tokens ${result.stats.promptTokens}`);
    // Greedy completion is repeatable, and a chat turn afterwards still works on the same sequence.
    const again = await engine.generate(request({ prompt: 'Once upon a time, there was a', maxTokens: 12, sampling: { temperature: 0 } }));
    assert.equal(again.text, result.text);
    const chat = await engine.generate(request({ maxTokens: 8 }));
    assert.ok(chat.stats.completionTokens > 0);
  });

  test('a completion prompt longer than the context keeps its end and still answers', async () => {
    const long = 'Once upon a time, there was a little girl named Lily. '.repeat(200);
    const result = await engine.generate(request({ prompt: long, maxTokens: 8, contextSize: 256, sampling: { temperature: 0 } }));
    assert.ok(result.stats.completionTokens > 0);
    assert.ok(result.stats.promptTokens <= 256);
  });

  test('aborting a completion keeps the partial text', async () => {
    const controller = new AbortController();
    let n = 0;
    const result = await engine.generate(
      request({ prompt: 'Once upon a time', maxTokens: 200, signal: controller.signal, onText: () => { if (++n === 3) controller.abort(); } }),
    );
    assert.equal(result.stopReason, 'abort');
    assert.ok(result.stats.completionTokens < 200);
  });
});
