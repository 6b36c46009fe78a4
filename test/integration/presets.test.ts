/**
 * Presets through the backend, on a real SQLite file: what the engine is asked for each app reply follows
 * override > preset > settings (a scripted engine records every `GenerateRequest`), the preset calls'
 * failure paths change nothing, deleting a preset in use moves its conversations back to Default; and the
 * real engine (llama.cpp on the kit's tiny model) honours the repeat penalty.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Backend } from '../../electron/core/backend.js';
import { ScriptedEngine } from '../../electron/engine/scriptedEngine.js';
import { LlamaEngine } from '../../electron/engine/llamaEngine.js';
import type { CalibrationStore, GenerateRequest, GenerateResult } from '../../electron/engine/types.js';
import type { ApiEvent } from '../../shared/contract.js';
import type { PresetFields } from '../../shared/presets.js';
import { openTestBackend, ok, tempDir, waitForDone } from '../helpers/runtime.js';
import { testModel } from '../helpers/models.js';

const stories = testModel('stories260K.gguf');

/** A scripted engine that keeps every request it was asked to generate. */
class RecordingEngine extends ScriptedEngine {
  readonly requests: GenerateRequest[] = [];
  override generate(request: GenerateRequest): Promise<GenerateResult> {
    this.requests.push(request);
    return super.generate(request);
  }
}

function fields(overrides: Partial<PresetFields> = {}): PresetFields {
  return { name: 'Mine', systemPrompt: null, temperature: 0.6, topP: 0.9, minP: 0.05, topK: 30, repeatPenalty: 1.1, maxReplyTokens: null, seed: null, contextSize: null, ...overrides };
}

describe('presets through the backend (scripted engine)', () => {
  const tmp = tempDir();
  let backend: Backend;
  let engine: RecordingEngine;

  before(async () => {
    backend = await openTestBackend({
      dataDir: join(tmp.dir, 'data'),
      telemetry: false,
      engineFactory: () => (engine = new RecordingEngine({ replies: ['Sure, here you go.'] })),
    });
    ok(await backend.request('settings.update', { defaultSystemPrompt: 'Settings prompt.', maxReplyTokens: 300, contextSize: 1536 }));
  });
  after(async () => {
    await backend.dispose();
    tmp.cleanup();
  });

  /** Sends `content` and returns the request the engine got for the reply. */
  async function send(conversationId: string, content = 'Hello'): Promise<GenerateRequest> {
    let requestId: string | null = null;
    const wait = waitForDone(backend, () => requestId);
    requestId = ok(await backend.request('chat.send', { conversationId, content, modelPath: stories })).requestId;
    const done = await wait.promise;
    assert.equal(done.error, null);
    return engine.requests.at(-1)!;
  }

  test('a conversation on Precise with a temperature override sends both to the engine', async () => {
    const c = ok(await backend.request('conversations.create', {}));
    const set = ok(await backend.request('conversations.setPreset', { id: c.id, presetId: 'precise', overrides: { temperature: 0.55 } }));
    assert.equal(set.presetId, 'precise');
    assert.deepEqual(set.overrides, { temperature: 0.55 });
    const request = await send(c.id);
    assert.deepEqual(request.sampling, { temperature: 0.55, topK: 40, topP: 0.95, minP: 0.05, repeatPenalty: 1 });
    assert.equal(request.systemPrompt, 'Settings prompt.');
    assert.equal(request.maxTokens, 300);
    assert.equal(request.contextSize, 1536);

    // Without the override, Precise's own temperature; on Default, llama.cpp's defaults (what replies always used).
    ok(await backend.request('conversations.setPreset', { id: c.id, presetId: 'precise', overrides: null }));
    assert.equal((await send(c.id)).sampling?.temperature, 0.2);
    ok(await backend.request('conversations.setPreset', { id: c.id, presetId: null, overrides: null }));
    assert.deepEqual((await send(c.id)).sampling, { temperature: 0.8, topK: 40, topP: 0.95, minP: 0.05, repeatPenalty: 1 });
  });

  test('a user preset\'s prompt, seed, reply length and context size reach the engine; an override beats each', async () => {
    const p = ok(await backend.request('presets.create', fields({ name: 'Analyst', systemPrompt: 'You analyse.', seed: 123, maxReplyTokens: 77, contextSize: 1024, repeatPenalty: 1.3 })));
    const c = ok(await backend.request('conversations.create', { presetId: p.id }));
    assert.equal(c.systemPrompt, 'You analyse.', 'the prompt it starts with');
    assert.equal(c.overrides, null);
    let request = await send(c.id);
    assert.equal(request.systemPrompt, 'You analyse.');
    assert.deepEqual(request.sampling, { temperature: 0.6, topK: 30, topP: 0.9, minP: 0.05, repeatPenalty: 1.3, seed: 123 });
    assert.equal(request.maxTokens, 77);
    assert.equal(request.contextSize, 1024);

    ok(await backend.request('conversations.setPreset', { id: c.id, presetId: p.id, overrides: { systemPrompt: '', maxReplyTokens: 12, contextSize: 4096, seed: null } }));
    request = await send(c.id);
    assert.equal(request.systemPrompt, '');
    assert.equal(request.maxTokens, 12);
    assert.equal(request.contextSize, 4096);
    assert.equal(request.sampling?.seed, undefined, 'a null seed override is random');

    // Regenerate uses the same settings.
    let requestId: string | null = null;
    const wait = waitForDone(backend, () => requestId);
    requestId = ok(await backend.request('chat.regenerate', { conversationId: c.id })).requestId;
    await wait.promise;
    assert.equal(engine.requests.at(-1)!.maxTokens, 12);
  });

  test('a chat created with its own system prompt keeps it when Settings\' default changes; one without follows it', async () => {
    const own = ok(await backend.request('conversations.create', { systemPrompt: 'Only haiku.' }));
    const plain = ok(await backend.request('conversations.create', { systemPrompt: 'Settings prompt.' }));
    assert.deepEqual(own.overrides, { systemPrompt: 'Only haiku.' });
    assert.equal(plain.overrides, null, 'the default prompt is no override');
    ok(await backend.request('settings.update', { defaultSystemPrompt: 'A new default.' }));
    try {
      assert.equal((await send(own.id)).systemPrompt, 'Only haiku.');
      assert.equal((await send(plain.id)).systemPrompt, 'A new default.');
    } finally {
      ok(await backend.request('settings.update', { defaultSystemPrompt: 'Settings prompt.' }));
    }
  });

  test('deleting a preset in use moves its conversations back to Default, says so, and keeps their overrides', async () => {
    const p = ok(await backend.request('presets.create', fields({ name: 'Short-lived', temperature: 1.5 })));
    const c = ok(await backend.request('conversations.create', { presetId: p.id, overrides: { topK: 7 } }));
    const events: ApiEvent[] = [];
    const unsubscribe = backend.onEvent((e) => events.push(e));
    const deleted = ok(await backend.request('presets.delete', { id: p.id }));
    unsubscribe();
    assert.deepEqual(deleted, { deleted: true, movedConversations: 1 });
    assert.ok(events.some((e) => e.type === 'conversations.changed' && e.conversationId === c.id));
    const after = ok(await backend.request('conversations.get', { id: c.id })).conversation;
    assert.equal(after.presetId, null);
    assert.deepEqual(after.overrides, { topK: 7 });
    assert.deepEqual((await send(c.id)).sampling, { temperature: 0.8, topK: 7, topP: 0.95, minP: 0.05, repeatPenalty: 1 });
    assert.ok(!ok(await backend.request('presets.list', {})).some((x) => x.id === p.id));
  });

  test('every bad call is refused with a clear error and changes nothing', async () => {
    const c = ok(await backend.request('conversations.create', {}));
    const mine = ok(await backend.request('presets.create', fields({ name: 'Keep me' })));
    const before = ok(await backend.request('presets.list', {}));
    const expectError = async (result: Promise<{ ok: boolean; error?: { code: string; message: string } }>, code: string, message: RegExp) => {
      const r = await result;
      assert.equal(r.ok, false);
      assert.equal(r.error?.code, code, r.error?.message);
      assert.match(r.error!.message, message);
    };
    await expectError(backend.request('presets.update', { id: 'precise', ...fields({ name: 'Hacked' }) }), 'BAD_INPUT', /built-in preset and cannot be edited: duplicate it/);
    await expectError(backend.request('presets.delete', { id: 'creative' }), 'BAD_INPUT', /built-in preset and cannot be deleted/);
    await expectError(backend.request('presets.create', fields({ name: 'keep ME' })), 'BAD_INPUT', /A preset named "Keep me" already exists/);
    await expectError(backend.request('presets.create', fields({ name: 'DEFAULT' })), 'BAD_INPUT', /"Default" already exists/);
    await expectError(backend.request('presets.create', fields({ name: '   ' })), 'BAD_INPUT', /name/);
    await expectError(backend.request('presets.create', fields({ temperature: 3 })), 'BAD_INPUT', /temperature/);
    await expectError(backend.request('presets.create', { ...fields(), extra: 1 } as PresetFields), 'BAD_INPUT', /extra/);
    await expectError(backend.request('presets.update', { id: 'nope', ...fields({ name: 'X' }) }), 'NOT_FOUND', /No preset with id nope/);
    await expectError(backend.request('conversations.setPreset', { id: c.id, presetId: 'nope', overrides: null }), 'NOT_FOUND', /No preset with id nope/);
    await expectError(backend.request('conversations.setPreset', { id: 'no-conversation', presetId: null, overrides: null }), 'NOT_FOUND', /conversation/);
    await expectError(backend.request('conversations.setPreset', { id: c.id, presetId: null, overrides: { temperature: -1 } }), 'BAD_INPUT', /temperature/);
    await expectError(backend.request('conversations.setPreset', { id: c.id, presetId: null, overrides: { temp: 1 } as never }), 'BAD_INPUT', /temp/);
    await expectError(backend.request('conversations.create', { presetId: 'nope' }), 'NOT_FOUND', /No preset with id nope/);
    assert.equal(ok(await backend.request('presets.delete', { id: 'nope' })).deleted, false);
    // Nothing changed.
    assert.deepEqual(ok(await backend.request('presets.list', {})), before);
    const still = ok(await backend.request('conversations.get', { id: c.id })).conversation;
    assert.equal(still.presetId, null);
    assert.equal(still.overrides, null);
    assert.ok(before.some((p) => p.id === mine.id));
  });
});

describe('repeat penalty on the real engine', () => {
  const noCalibrations: CalibrationStore = { getThreadCalibration: () => null, saveThreadCalibration: () => undefined };
  let engine: LlamaEngine;
  before(async () => {
    engine = await LlamaEngine.create({ calibrationStore: noCalibrations, gpu: false, logLevel: 'disabled' });
  });
  after(async () => {
    await engine.dispose();
  });

  function request(repeatPenalty: number): GenerateRequest {
    return {
      modelPath: stories,
      systemPrompt: '',
      history: [{ role: 'user', content: 'Once upon a time' }],
      maxTokens: 64,
      contextSize: 512,
      threads: 1,
      signal: new AbortController().signal,
      onText: () => {},
      sampling: { temperature: 0, repeatPenalty },
    };
  }

  /** Word tokens of `text` that repeat an earlier one (lower = less repetitive). */
  function repeatedWords(text: string): number {
    const words = text.toLowerCase().match(/[a-z']+/g) ?? [];
    return words.length - new Set(words).size;
  }

  test('greedy decoding with a strong repeat penalty changes the reply and repeats less; penalty 1 is off', async () => {
    const off = await engine.generate(request(1));
    const offAgain = await engine.generate(request(1));
    const strong = await engine.generate(request(1.8));
    assert.ok(off.text.trim().length > 0 && strong.text.trim().length > 0);
    assert.equal(off.text, offAgain.text, 'greedy without a penalty is repeatable');
    assert.notEqual(strong.text, off.text, 'the penalty changed what was generated');
    assert.ok(repeatedWords(strong.text) < repeatedWords(off.text), `repeated words: ${repeatedWords(strong.text)} with the penalty vs ${repeatedWords(off.text)} without\n${JSON.stringify(strong.text)}\n${JSON.stringify(off.text)}`);
  });
});
