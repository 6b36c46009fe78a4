/**
 * Long conversations on the kit's real tiny model (stories260K, CPU): what each "context is full" setting
 * keeps (rolling window, truncate the middle, stop), that a full conversation re-reads its window rarely
 * (the shift frees half the context), that the turn which moved the window reports the tokens it re-read,
 * and that the engine's prompt token count matches what the reply then read.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { getLlama, resolveChatWrapper, type ChatHistoryItem, type Llama, type LlamaModel } from 'node-llama-cpp';
import { LlamaEngine } from '../../electron/engine/llamaEngine.js';
import { EngineError, type CalibrationStore, type ChatTurn, type GenerateRequest } from '../../electron/engine/types.js';
import { contextShiftSizeTokens, promptTokenCount, truncateMiddleStrategy } from '../../electron/engine/contextOverflow.js';
import type { ContextOverflow, ReplyStats } from '../../shared/contract.js';
import { testModel } from '../helpers/models.js';

const stories = testModel('stories260K.gguf');
const noCalibrations: CalibrationStore = { getThreadCalibration: () => null, saveThreadCalibration: () => undefined };
const CONTEXT = 256;

function request(history: ChatTurn[], overrides: Partial<GenerateRequest> = {}): GenerateRequest {
  return {
    modelPath: stories,
    systemPrompt: 'You tell short stories.',
    history,
    maxTokens: 24,
    contextSize: CONTEXT,
    threads: 1,
    signal: new AbortController().signal,
    onText: () => {},
    sampling: { temperature: 0 },
    ...overrides,
  };
}

/** Runs `turns` chat turns with a growing history; returns each turn's stats. */
async function converse(engine: LlamaEngine, turns: number, overflow: ContextOverflow) {
  const history: ChatTurn[] = [];
  const stats = [];
  for (let i = 0; i < turns; i++) {
    history.push({ role: 'user', content: `Tell me part ${i + 1} of the story about the little dog and the red ball.` });
    const result = await engine.generate(request(history, { contextOverflow: overflow }));
    history.push({ role: 'assistant', content: result.text });
    stats.push(result.stats);
  }
  return stats;
}

/**
 * The window moved at least once, never on two turns in a row (the shift frees half the context, and a
 * turn here is well under a quarter of it), and a turn that moved it reports every prompt token it read
 * as re-read while the others report none.
 */
function assertRareShifts(stats: ReplyStats[]): void {
  const moved = stats.map((s) => (s.reEvaluatedTokens ?? 0) > 0);
  assert.ok(moved.some(Boolean), 'the window moved at least once');
  for (let i = 1; i < moved.length; i++) assert.ok(!(moved[i] && moved[i - 1]), `turns ${i} and ${i + 1} both moved the window: ${JSON.stringify(moved)}`);
  for (const s of stats) {
    if ((s.reEvaluatedTokens ?? 0) > 0) assert.ok((s.reEvaluatedTokens ?? 0) >= s.prefillTokens, `re-read ${s.reEvaluatedTokens} ≥ prefill ${s.prefillTokens}`);
    else assert.equal(s.reEvaluatedTokens, 0);
  }
}

describe('when the context is full', () => {
  let engine: LlamaEngine;
  before(async () => {
    engine = await LlamaEngine.create({ calibrationStore: noCalibrations, gpu: false, logLevel: 'disabled' });
  });
  after(async () => {
    await engine.dispose();
  });

  test('the shift frees half the context', () => {
    assert.equal(contextShiftSizeTokens(2048), 1024);
    assert.equal(contextShiftSizeTokens(1), 1);
  });

  test('rolling window: a conversation far past the context keeps answering, and re-reads its window only now and then', async () => {
    const stats = await converse(engine, 16, 'rolling-window');
    // Every turn read at most the context.
    for (const s of stats) assert.ok(s.promptTokens <= CONTEXT, `prompt ${s.promptTokens} tokens in a ${CONTEXT}-token context`);
    const total = stats.reduce((n, s) => n + s.promptTokens + s.completionTokens, 0);
    assert.ok(total > 3 * CONTEXT, `the conversation went well past the context (${total} tokens in all)`);
    assertRareShifts(stats);
  });

  test('truncate middle: a conversation past the context keeps answering with the first message kept', async () => {
    const stats = await converse(engine, 12, 'truncate-middle');
    for (const s of stats) assert.ok(s.promptTokens <= CONTEXT);
    assertRareShifts(stats);
  });

  test('stop: a conversation longer than the context is refused with CONTEXT_FULL, and a reply ends where the context ends', async () => {
    const long: ChatTurn[] = [];
    for (let i = 0; i < 30; i++) {
      long.push({ role: 'user', content: `Part ${i}: the little dog ran after the red ball in the big green park.` });
      long.push({ role: 'assistant', content: 'The dog was happy and the sun was warm.' });
    }
    long.push({ role: 'user', content: 'And then?' });
    await assert.rejects(engine.generate(request(long, { contextOverflow: 'stop' })), (err: unknown) => {
      assert.ok(err instanceof EngineError);
      assert.equal(err.code, 'CONTEXT_FULL');
      assert.match(err.message, /filled the context window \(256 tokens\)/);
      return true;
    });

    // A history that leaves about 40 tokens: a 200-token reply is cut where the context ends.
    const counted = (h: ChatTurn[]) => engine.countPromptTokens(request(h));
    const near: ChatTurn[] = [];
    let i = 0;
    await engine.generate(request([{ role: 'user', content: 'Hi' }], { maxTokens: 1 })); // loads the model for counting
    for (;;) {
      const pair: ChatTurn[] = [{ role: 'user', content: `Part ${i++}: the dog ran.` }, { role: 'assistant', content: 'The dog was happy.' }];
      if ((counted([...near, ...pair, { role: 'user', content: 'And then?' }])?.promptTokens ?? CONTEXT) >= CONTEXT - 40) break;
      near.push(...pair);
    }
    near.push({ role: 'user', content: 'And then?' });
    const prompt = counted(near)?.promptTokens ?? 0;
    const result = await engine.generate(request(near, { contextOverflow: 'stop', maxTokens: 200, sampling: { temperature: 1, seed: 7 } }));
    assert.ok(result.stats.promptTokens + result.stats.completionTokens <= CONTEXT, `${result.stats.promptTokens} + ${result.stats.completionTokens} within ${CONTEXT}`);
    assert.ok(result.stats.completionTokens <= CONTEXT - prompt);
    assert.equal(result.stats.reEvaluatedTokens, 0);
  });

  test('the prompt token count is what the next reply reads; null for a model that is not loaded', async () => {
    const history: ChatTurn[] = [{ role: 'user', content: 'Once upon a time there was a cat.' }];
    await engine.generate(request([{ role: 'user', content: 'Hello' }], { maxTokens: 2 }));
    const counted = engine.countPromptTokens(request(history));
    assert.ok(counted);
    assert.equal(counted.contextSize, CONTEXT);
    await engine.unload();
    assert.equal(engine.countPromptTokens(request(history)), null);
    const result = await engine.generate(request(history, { maxTokens: 4 }));
    assert.ok(Math.abs(result.stats.promptTokens - counted.promptTokens) <= 1, `counted ${counted.promptTokens}, read ${result.stats.promptTokens}`);
    assert.equal(engine.countPromptTokens({ ...request(history), modelPath: testModel('TinyStories-656K-Q8_0.gguf') }), null);
  });
});

describe('the truncate-middle strategy', () => {
  let llama: Llama;
  let model: LlamaModel;
  before(async () => {
    llama = await getLlama({ gpu: false, logLevel: 'disabled' as never });
    model = await llama.loadModel({ modelPath: stories });
  });
  after(async () => {
    await model.dispose();
    await llama.dispose();
  });

  test('keeps the system prompt, the first exchange and the newest turns; drops whole turns from the middle until it fits', () => {
    const chatWrapper = resolveChatWrapper(model);
    const history: ChatHistoryItem[] = [{ type: 'system', text: 'You tell short stories.' }];
    history.push({ type: 'user', text: 'FIRST: tell me about the dog.' }, { type: 'model', response: ['The dog liked the ball.'] });
    for (let i = 0; i < 20; i++) history.push({ type: 'user', text: `middle question ${i} about the park` }, { type: 'model', response: [`middle answer ${i}: the sun was warm`] });
    history.push({ type: 'user', text: 'LAST: and then?' }, { type: 'model', response: [] });
    const max = 300;
    assert.ok(promptTokenCount(history, chatWrapper, model.tokenizer) > max);
    const { chatHistory, metadata } = truncateMiddleStrategy({ chatHistory: history, maxTokensCount: max, tokenizer: model.tokenizer, chatWrapper });
    assert.ok(promptTokenCount(chatHistory, chatWrapper, model.tokenizer) <= max);
    assert.deepEqual(chatHistory.slice(0, 3), history.slice(0, 3), 'system prompt and the first exchange stay');
    assert.deepEqual(chatHistory.slice(-2), history.slice(-2), 'the newest question and the reply being written stay');
    assert.ok(metadata.droppedItems > 0 && metadata.droppedItems % 2 === 0, `whole turns dropped (${metadata.droppedItems} items)`);
    // What is kept of the middle is its newest part, in order, starting with a question.
    const middle = chatHistory.slice(3, -2);
    assert.ok(middle.length > 0 && middle[0]?.type === 'user');
    assert.deepEqual(middle, history.slice(history.length - 2 - middle.length, -2));
  });

  test('a history that already fits is not touched in a way that drops anything needed', () => {
    const chatWrapper = resolveChatWrapper(model);
    const history: ChatHistoryItem[] = [
      { type: 'user', text: 'FIRST' },
      { type: 'model', response: ['ok'] },
      { type: 'user', text: 'LAST' },
      { type: 'model', response: [] },
    ];
    const { chatHistory } = truncateMiddleStrategy({ chatHistory: history, maxTokensCount: 1000, tokenizer: model.tokenizer, chatWrapper });
    assert.deepEqual(chatHistory, history);
  });
});
