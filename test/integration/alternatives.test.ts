/**
 * "Try with…" and reply versions through the backend with the real engine (the kit's two tiny models) and
 * real SQLite: trying another model keeps the first reply, answers with the model asked for without
 * pinning it, and a later turn sees the version shown; the governor's choice for a profile answers with its
 * reason kept; switching versions changes what the next reply is asked with; `chat.context` counts with
 * the loaded model's tokenizer (and estimates without one); bad calls are refused with clear errors.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend } from '../../electron/core/backend.js';
import { openTestBackend, ok, tempDir, waitForDone } from '../helpers/runtime.js';
import { testModel } from '../helpers/models.js';

const stories = testModel('stories260K.gguf');
const tinyQ8 = testModel('TinyStories-656K-Q8_0.gguf');

describe('reply versions and "Try with…"', () => {
  const tmp = tempDir();
  const dataDir = join(tmp.dir, 'data');
  const modelsDir = join(tmp.dir, 'models');
  let backend: Backend;
  let storiesPath = '';
  let tinyPath = '';

  before(async () => {
    mkdirSync(modelsDir);
    storiesPath = join(modelsDir, 'stories260K.gguf');
    tinyPath = join(modelsDir, 'TinyStories-656K-Q8_0.gguf');
    symlinkSync(stories, storiesPath);
    symlinkSync(tinyQ8, tinyPath);
    backend = await openTestBackend({ dataDir, modelsDirOverride: modelsDir });
    ok(await backend.request('settings.update', { threads: 1, maxReplyTokens: 24 }));
  });
  after(async () => {
    await backend.dispose();
    tmp.cleanup();
  });

  /** Starts a chat call and waits for its reply. */
  async function run(start: () => Promise<{ requestId: string }>) {
    let requestId: string | null = null;
    const wait = waitForDone(backend, () => requestId);
    requestId = (await start()).requestId;
    return (await wait.promise).message;
  }

  test('trying another model keeps the first reply, answers with that model, and does not pin it', async () => {
    const conversation = ok(await backend.request('conversations.create', { modelPath: storiesPath }));
    const first = await run(async () => ok(await backend.request('chat.send', { conversationId: conversation.id, content: 'Once upon a time' })));
    assert.equal(first.stats?.modelPath, storiesPath);

    const tried = await run(async () => ok(await backend.request('chat.tryWith', { conversationId: conversation.id, modelPath: tinyPath })));
    assert.equal(tried.status, 'complete');
    assert.equal(tried.stats?.modelPath, tinyPath);
    const detail = ok(await backend.request('conversations.get', { id: conversation.id }));
    assert.equal(detail.conversation.pinnedModelPath, storiesPath, 'the pin is unchanged');
    assert.equal(detail.messages.length, 2);
    const versions = detail.messages[1]!.alternatives!;
    assert.deepEqual(versions.map((v) => v.stats?.modelPath), [storiesPath, tinyPath]);
    assert.ok(versions.every((v) => v.energy && v.energy.energyJ > 0), 'each version has its energy');
    assert.equal(detail.conversation.energyJ, versions.reduce((n, v) => n + (v.energy?.energyJ ?? 0), 0));

    // Show the first again: the next turn is asked with it as history, and the versions stay.
    const shown = ok(await backend.request('messages.selectAlternative', { messageId: first.id }));
    assert.equal(shown.messages[1]!.id, first.id);
    const context = ok(await backend.request('chat.context', { conversationId: conversation.id, draft: '' }));
    const next = await run(async () => ok(await backend.request('chat.send', { conversationId: conversation.id, content: 'And then?' })));
    assert.equal(next.status, 'complete');
    const after = ok(await backend.request('conversations.get', { id: conversation.id }));
    assert.deepEqual(after.messages.map((m) => m.id).slice(0, 2), [detail.messages[0]!.id, first.id]);
    assert.equal(after.messages[1]!.alternatives?.length, 2);
    // The count the meter showed for this history is what the reply read (its prompt grew by the new question only).
    assert.ok(next.stats!.promptTokens > context.historyTokens, `${next.stats!.promptTokens} > ${context.historyTokens}`);
  });

  test("the governor's choice for a profile answers, with its reason kept", async () => {
    const conversation = ok(await backend.request('conversations.create', {}));
    await run(async () => ok(await backend.request('chat.send', { conversationId: conversation.id, content: 'The little dog', modelPath: storiesPath })));
    const decision = ok(await backend.request('governor.decide', { profile: 'saver' }));
    const tried = await run(async () => ok(await backend.request('chat.tryWith', { conversationId: conversation.id, profile: 'saver' })));
    assert.equal(tried.stats?.modelPath, decision.chosen?.modelPath);
    assert.equal(tried.governor?.profile, 'saver');
    assert.ok((tried.governor?.reason ?? '').length > 0);
  });

  test('chat.context counts with the loaded model exactly, and estimates when no model is loaded', async () => {
    const conversation = ok(await backend.request('conversations.create', { modelPath: storiesPath }));
    await run(async () => ok(await backend.request('chat.send', { conversationId: conversation.id, content: 'Once upon a time' })));
    const exact = ok(await backend.request('chat.context', { conversationId: conversation.id, draft: 'The dog ran to the park.' }));
    assert.equal(exact.exact, true);
    assert.ok(exact.historyTokens > 0 && exact.draftTokens > 0);
    assert.equal(exact.overflow, 'rolling-window');
    assert.equal(exact.replyReserveTokens, 24);
    const settings = ok(await backend.request('settings.get', {}));
    assert.ok(exact.contextSize > 0 && exact.contextSize <= settings.contextSize, 'the context the reply gets (at most the setting)');
    const longer = ok(await backend.request('chat.context', { conversationId: conversation.id, draft: 'The dog ran to the park. '.repeat(10) }));
    assert.ok(longer.draftTokens > exact.draftTokens * 3, `${longer.draftTokens} vs ${exact.draftTokens}`);

    ok(await backend.request('engine.unload', {}));
    const estimated = ok(await backend.request('chat.context', { conversationId: conversation.id, draft: 'The dog ran to the park.' }));
    assert.equal(estimated.exact, false);
    assert.ok(estimated.historyTokens > 0 && estimated.draftTokens > 0);
    // Scaled by what the model measured on this conversation: close to the exact count even for this
    // 512-token vocabulary (about twice the tokens of the plain bytes ÷ 4 estimate).
    const within = (a: number, b: number, tolerance: number) => Math.abs(a - b) <= tolerance * b;
    assert.ok(within(estimated.historyTokens, exact.historyTokens, 0.2), `history ≈${estimated.historyTokens} vs ${exact.historyTokens}`);
    assert.ok(within(estimated.draftTokens, exact.draftTokens, 0.5), `draft ≈${estimated.draftTokens} vs ${exact.draftTokens}`);
    // Another model that never answered here: the plain estimate.
    const other = ok(await backend.request('chat.context', { conversationId: conversation.id, draft: '', modelPath: tinyPath }));
    assert.ok(other.historyTokens < estimated.historyTokens, 'no measurement of that model here: unscaled');
    // A new chat (no conversation) counts the system prompt and the draft.
    const blank = ok(await backend.request('chat.context', { conversationId: null, draft: '' }));
    assert.equal(blank.draftTokens, 0);
  });

  test('bad calls are refused with clear errors', async () => {
    const empty = ok(await backend.request('conversations.create', {}));
    const noQuestion = await backend.request('chat.tryWith', { conversationId: empty.id, modelPath: storiesPath });
    assert.equal(noQuestion.ok, false);
    assert.equal(!noQuestion.ok && noQuestion.error.code, 'BAD_INPUT');
    const both = await backend.request('chat.tryWith', { conversationId: empty.id, modelPath: storiesPath, profile: 'saver' } as never);
    assert.equal(!both.ok && both.error.code, 'BAD_INPUT');
    const unknown = await backend.request('messages.selectAlternative', { messageId: 'no-such-message' });
    assert.equal(!unknown.ok && unknown.error.code, 'NOT_FOUND');
    const notInstalled = await backend.request('chat.tryWith', { conversationId: empty.id, modelPath: '/nowhere/model.gguf' });
    assert.equal(notInstalled.ok, false);
  });
});
