/**
 * The backend end to end under Node with the real engine (llama.cpp on the kit's tiny models) and a real
 * SQLite file: what the app and the CLI do, without a transport in between.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend } from '../../electron/core/backend.js';
import { openTestBackend, ok, tempDir, waitForDone } from '../helpers/runtime.js';
import { testModel } from '../helpers/models.js';
import { ScriptedEngine } from '../../electron/engine/scriptedEngine.js';
import { StoreError } from '../../electron/store/storeError.js';
import Database from 'better-sqlite3';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

const stories = testModel('stories260K.gguf');
const tinyQ8 = testModel('TinyStories-656K-Q8_0.gguf');

describe('backend with llama.cpp', () => {
  const tmp = tempDir();
  const dataDir = join(tmp.dir, 'data');
  const modelsDir = join(tmp.dir, 'models');
  let backend: Backend;

  before(async () => {
    mkdirSync(modelsDir);
    writeFileSync(join(modelsDir, 'notes.gguf'), 'this is a text file, not a model');
    backend = await openTestBackend({ dataDir, modelsDirOverride: modelsDir });
    // One thread: calibration is tested in the engine's own tests; keep this suite quick on 2 cores.
    ok(await backend.request('settings.update', { threads: 1, maxReplyTokens: 48 }));
  });
  after(async () => {
    await backend.dispose();
    tmp.cleanup();
  });

  async function send(conversationId: string, content: string, modelPath?: string) {
    let requestId: string | null = null;
    const wait = waitForDone(backend, () => requestId);
    const started = ok(await backend.request('chat.send', { conversationId, content, ...(modelPath ? { modelPath } : {}) }));
    requestId = started.requestId;
    const done = await wait.promise;
    return { started, done, tokens: wait.tokens };
  }

  test('a reply streams, is stored with its stats, and the conversation is titled', async () => {
    const conversation = ok(await backend.request('conversations.create', {}));
    const { started, done, tokens } = await send(conversation.id, 'Once upon a time', stories);
    assert.equal(done.error, null);
    assert.equal(done.message.status, 'complete');
    assert.ok(done.message.content.trim().length > 0, 'reply text');
    assert.ok(tokens.length > 1, 'streamed in several pieces');
    assert.equal(tokens.join(''), done.message.content);
    const stats = done.message.stats!;
    assert.equal(stats.modelPath, stories);
    assert.equal(stats.quantization, 'F32');
    assert.ok(stats.promptTokens > 0 && stats.completionTokens > 0 && stats.completionTokens <= 48);
    assert.ok(stats.ttftMs > 0 && stats.decodeTokensPerSecond > 0);
    assert.equal(stats.threads, 1);
    assert.ok(stats.startedAt <= stats.endedAt);

    const detail = ok(await backend.request('conversations.get', { id: conversation.id }));
    assert.deepEqual(detail.messages.map((m) => m.role), ['user', 'assistant']);
    assert.equal(detail.messages[0]!.id, started.userMessageId);
    assert.equal(detail.messages[1]!.content, done.message.content);
    assert.equal(detail.conversation.title, 'Once upon a time');
    assert.equal(detail.conversation.modelPath, stories);
    assert.equal(ok(await backend.request('settings.get', {})).lastModelPath, stories);
  });

  test('regenerate shows a new reply and keeps the old one; edit re-asks from the edited message', async () => {
    const conversation = ok(await backend.request('conversations.create', {}));
    await send(conversation.id, 'Once upon a time', stories);
    const first = ok(await backend.request('conversations.get', { id: conversation.id })).messages;

    let requestId: string | null = null;
    let wait = waitForDone(backend, () => requestId);
    const regen = ok(await backend.request('chat.regenerate', { conversationId: conversation.id }));
    requestId = regen.requestId;
    assert.equal(regen.userMessageId, null);
    await wait.promise;
    const second = ok(await backend.request('conversations.get', { id: conversation.id })).messages;
    assert.equal(second.length, 2);
    assert.equal(second[0]!.id, first[0]!.id);
    assert.notEqual(second[1]!.id, first[1]!.id, 'a new assistant message is shown');
    assert.deepEqual(second[1]!.alternatives?.map((v) => v.id), [first[1]!.id, second[1]!.id], 'the old reply is kept as an alternative');

    wait = waitForDone(backend, () => requestId);
    const edit = ok(await backend.request('chat.edit', { messageId: first[0]!.id, content: 'The little dog' }));
    requestId = edit.requestId;
    await wait.promise;
    const third = ok(await backend.request('conversations.get', { id: conversation.id })).messages;
    assert.equal(third.length, 2);
    assert.equal(third[0]!.content, 'The little dog');
    assert.equal(third[1]!.status, 'complete');
  });

  test('abort stops at once and keeps the partial reply as stopped', async () => {
    ok(await backend.request('settings.update', { maxReplyTokens: 4000 }));
    try {
      const conversation = ok(await backend.request('conversations.create', {}));
      let requestId: string | null = null;
      const wait = waitForDone(backend, () => requestId);
      let gotToken: () => void = () => undefined;
      const firstToken = new Promise<void>((resolve) => (gotToken = resolve));
      const unsubscribe = backend.onEvent((e) => {
        if (e.type === 'chat.token') gotToken();
      });
      const started = ok(await backend.request('chat.send', { conversationId: conversation.id, content: 'Once upon a time', modelPath: stories }));
      requestId = started.requestId;
      await firstToken;
      unsubscribe();
      const t0 = Date.now();
      assert.deepEqual(ok(await backend.request('chat.abort', { requestId })), { aborted: true });
      assert.ok(Date.now() - t0 < 2000, 'abort returns quickly');
      const done = await wait.promise;
      assert.equal(done.message.status, 'stopped');
      assert.ok(done.message.content.length > 0);
      assert.ok(done.message.stats!.completionTokens < 4000);
      const stored = ok(await backend.request('conversations.get', { id: conversation.id })).messages[1]!;
      assert.equal(stored.status, 'stopped');
      assert.equal(stored.content, done.message.content);
      assert.deepEqual(ok(await backend.request('chat.abort', { requestId })), { aborted: false });
    } finally {
      ok(await backend.request('settings.update', { maxReplyTokens: 48 }));
    }
  });

  test('a second message while a reply is running is refused with BUSY', async () => {
    ok(await backend.request('settings.update', { maxReplyTokens: 2000 }));
    try {
      const conversation = ok(await backend.request('conversations.create', {}));
      let requestId: string | null = null;
      const wait = waitForDone(backend, () => requestId);
      requestId = ok(await backend.request('chat.send', { conversationId: conversation.id, content: 'Once', modelPath: stories })).requestId;
      const second = await backend.request('chat.send', { conversationId: conversation.id, content: 'Twice', modelPath: stories });
      assert.equal(second.ok, false);
      assert.equal(!second.ok && second.error.code, 'BUSY');
      ok(await backend.request('chat.abort', { requestId }));
      await wait.promise;
    } finally {
      ok(await backend.request('settings.update', { maxReplyTokens: 48 }));
    }
  });

  test('engine.unload frees the model; the next reply loads it again', async () => {
    const conversation = ok(await backend.request('conversations.create', {}));
    await send(conversation.id, 'Once upon a time', stories);
    assert.equal(ok(await backend.request('engine.status', {})).modelPath, stories);
    const status = ok(await backend.request('engine.unload', {}));
    assert.equal(status.state, 'idle');
    assert.equal(status.modelPath, null);
    const { done } = await send(conversation.id, 'The end', stories);
    assert.equal(done.message.status, 'complete');
    assert.equal(ok(await backend.request('engine.status', {})).state, 'ready');
  });

  test('a model given to chat.send is pinned to the conversation; conversations.pin changes it', async () => {
    const conversation = ok(await backend.request('conversations.create', {}));
    assert.equal(conversation.pinnedModelPath, null, 'a new chat is not pinned');
    await send(conversation.id, 'Once upon a time', tinyQ8);
    let detail = ok(await backend.request('conversations.get', { id: conversation.id }));
    assert.equal(detail.conversation.pinnedModelPath, tinyQ8);
    // Without a modelPath the pinned model answers, even though stories260K was chosen last elsewhere.
    ok(await backend.request('settings.update', { lastModelPath: stories }));
    const { done } = await send(conversation.id, 'The end');
    assert.equal(done.message.stats!.modelPath, tinyQ8);
    const unpinned = ok(await backend.request('conversations.pin', { id: conversation.id, modelPath: null }));
    assert.equal(unpinned.pinnedModelPath, null);
    const bad = await backend.request('conversations.pin', { id: conversation.id, modelPath: join(modelsDir, 'notes.gguf') });
    assert.equal(!bad.ok && bad.error.code, 'MODEL_INVALID');
    detail = ok(await backend.request('conversations.get', { id: conversation.id }));
    assert.equal(detail.conversation.pinnedModelPath, null);
  });

  test('bad model files fail before anything is stored', async () => {
    const conversation = ok(await backend.request('conversations.create', {}));
    const missing = await backend.request('chat.send', { conversationId: conversation.id, content: 'hi', modelPath: join(modelsDir, 'nope.gguf') });
    assert.equal(!missing.ok && missing.error.code, 'NOT_FOUND');
    const invalid = await backend.request('chat.send', { conversationId: conversation.id, content: 'hi', modelPath: join(modelsDir, 'notes.gguf') });
    assert.equal(!invalid.ok && invalid.error.code, 'MODEL_INVALID');
    assert.match(!invalid.ok ? invalid.error.message : '', /notes\.gguf/);
    assert.equal(ok(await backend.request('conversations.get', { id: conversation.id })).messages.length, 0);
  });

  test('models.list shows usable and unusable files; a new chat uses the only usable model', async () => {
    const fresh = tempDir();
    const models = join(fresh.dir, 'models');
    mkdirSync(models);
    copyFileSync(tinyQ8, join(models, 'tiny.gguf'));
    writeFileSync(join(models, 'broken.gguf'), Buffer.from('GGUF\x03\x00\x00\x00garbage'));
    const other = await openTestBackend({ dataDir: join(fresh.dir, 'data'), modelsDirOverride: models });
    try {
      ok(await other.request('settings.update', { threads: 1, maxReplyTokens: 16 }));
      const list = ok(await other.request('models.list', {}));
      assert.deepEqual(list.map((m) => [m.fileName, m.usable]).sort(), [['broken.gguf', false], ['tiny.gguf', true]]);
      assert.equal(list.find((m) => m.fileName === 'tiny.gguf')!.quantization, 'Q8_0');
      const conversation = ok(await other.request('conversations.create', {}));
      let requestId: string | null = null;
      const wait = waitForDone(other, () => requestId);
      requestId = ok(await other.request('chat.send', { conversationId: conversation.id, content: 'Once upon a time' })).requestId;
      const done = await wait.promise;
      assert.equal(done.message.status, 'complete');
      assert.equal(done.message.stats!.modelPath, join(models, 'tiny.gguf'));
    } finally {
      await other.dispose();
      fresh.cleanup();
    }
  });

  test('NO_MODEL when the folder has nothing usable and none was chosen', async () => {
    const fresh = tempDir();
    const other = await openTestBackend({ dataDir: join(fresh.dir, 'data'), modelsDirOverride: join(fresh.dir, 'empty') });
    try {
      const conversation = ok(await other.request('conversations.create', {}));
      const r = await other.request('chat.send', { conversationId: conversation.id, content: 'hi' });
      assert.equal(!r.ok && r.error.code, 'NO_MODEL');
      assert.match(!r.ok ? r.error.message : '', /empty/);
    } finally {
      await other.dispose();
      fresh.cleanup();
    }
  });

  test('a governor failure that is not "no model" keeps its own error (never shown as NO_MODEL)', async () => {
    const fresh = tempDir();
    const models = join(fresh.dir, 'models');
    mkdirSync(models);
    copyFileSync(stories, join(models, 'stories.gguf'));
    const other = await openTestBackend({
      dataDir: join(fresh.dir, 'data'),
      modelsDirOverride: models,
      engineFactory: () => {
        const engine = new ScriptedEngine({ replies: ['never'] });
        // The memory check failing like a broken disk would, inside the governor's decision.
        engine.checkFit = () => Promise.reject(new StoreError('STORAGE_FAILED', 'disk I/O error'));
        return engine;
      },
    });
    try {
      const conversation = ok(await other.request('conversations.create', {}));
      const r = await other.request('chat.send', { conversationId: conversation.id, content: 'hi' });
      assert.equal(!r.ok && r.error.code, 'STORAGE_FAILED');
      assert.match(!r.ok ? r.error.message : '', /disk I\/O error/);
    } finally {
      await other.dispose();
      fresh.cleanup();
    }
  });

  test('the app only takes installed models: any other path gets one answer, so the disk cannot be probed', async () => {
    const fresh = tempDir();
    const models = join(fresh.dir, 'models');
    mkdirSync(models);
    copyFileSync(stories, join(models, 'stories.gguf'));
    writeFileSync(join(models, 'junk.gguf'), 'not a model');
    writeFileSync(join(fresh.dir, 'secret.gguf'), 'a file outside the models folder');
    const app = await openTestBackend({ dataDir: join(fresh.dir, 'data'), modelsDirOverride: models, modelPathsAnywhere: false });
    try {
      const probes = ['/etc/shadow', '/etc/passwd', join(fresh.dir, 'secret.gguf'), join(fresh.dir, 'missing.gguf'), fresh.dir, stories];
      const conversation = ok(await app.request('conversations.create', {}));
      for (const call of [
        (p: string) => app.request('conversations.create', { modelPath: p }),
        (p: string) => app.request('chat.send', { conversationId: conversation.id, content: 'hi', modelPath: p }),
        (p: string) => app.request('conversations.pin', { id: conversation.id, modelPath: p }),
        (p: string) => app.request('engine.load', { modelPath: p }),
      ]) {
        const answers = new Set<string>();
        for (const p of probes) {
          const r = await call(p);
          answers.add(r.ok ? 'ok' : `${r.error.code}: ${r.error.message.replace(p, '<path>')}`);
        }
        assert.deepEqual([...answers], ['NOT_FOUND: Not an installed model: <path>']);
      }
      // Installed files: a usable one works, an unusable one says why.
      assert.equal(ok(await app.request('conversations.create', { modelPath: join(models, 'stories.gguf') })).pinnedModelPath, join(models, 'stories.gguf'));
      const junk = await app.request('conversations.create', { modelPath: join(models, 'junk.gguf') });
      assert.equal(!junk.ok && junk.error.code, 'MODEL_INVALID');
      // Nothing was stored for the refused ones.
      assert.equal(ok(await app.request('conversations.get', { id: conversation.id })).messages.length, 0);
    } finally {
      await app.dispose();
      fresh.cleanup();
    }
  });

  test('a disk that fills during a reply: the failed final write reaches the caller and the row ends, never streaming', async () => {
    const fresh = tempDir();
    const dir = join(fresh.dir, 'data');
    const long = 'The sea was calm. '.repeat(12_000); // ≈ 216 KB: more than the room left
    const scripted = () => new ScriptedEngine({ replies: [long] });
    const first = await openTestBackend({ dataDir: dir, engineFactory: scripted });
    await first.dispose();
    const pages = (() => {
      const db = new Database(join(dir, 'wattwise.sqlite'));
      try {
        return db.pragma('page_count', { simple: true }) as number;
      } finally {
        db.close();
      }
    })();
    const full = await openTestBackend({ dataDir: dir, engineFactory: scripted, storeMaxPageCount: pages + 12, overrides: { maxReplyTokens: 32_768 } });
    let conversationId = '';
    try {
      conversationId = ok(await full.request('conversations.create', { modelPath: stories })).id;
      let requestId: string | null = null;
      const wait = waitForDone(full, () => requestId);
      requestId = ok(await full.request('chat.send', { conversationId, content: 'Tell me a long story' })).requestId;
      const done = await wait.promise;
      assert.equal(done.error?.code, 'STORAGE_FULL', JSON.stringify(done.error));
      assert.match(done.error!.message, /could not be saved/);
      assert.match(done.error!.message, /(characters were saved|nothing of it was saved|text was saved)/);
      assert.equal(done.message.status, 'error');
      assert.equal(done.message.error, done.error!.message);
    } finally {
      await full.dispose();
    }
    // Reopened with room: the row is final (error, or interrupted if even the status could not be written).
    const after = await openTestBackend({ dataDir: dir, engineFactory: scripted });
    try {
      const reply = ok(await after.request('conversations.get', { id: conversationId })).messages.find((m) => m.role === 'assistant')!;
      assert.notEqual(reply.status, 'streaming');
      assert.ok(reply.status === 'error' || reply.status === 'interrupted', reply.status);
    } finally {
      await after.dispose();
      fresh.cleanup();
    }
  });

  test('a 100k-emoji message (400 KB) never blocks the event loop for long, and Stop answers within a second', async () => {
    const fresh = tempDir();
    const other = await openTestBackend({ dataDir: join(fresh.dir, 'data'), overrides: { threads: 1, maxReplyTokens: 8 } });
    try {
      const random = testModel('llama-2-tiny-random.gguf');
      const conversation = ok(await other.request('conversations.create', { modelPath: random }));
      const delay = monitorEventLoopDelay({ resolution: 10 });
      delay.enable();
      let requestId: string | null = null;
      let wait = waitForDone(other, () => requestId, 120_000);
      requestId = ok(await other.request('chat.send', { conversationId: conversation.id, content: '😀'.repeat(100_000) })).requestId;
      assert.equal((await wait.promise).message.status, 'complete');
      // The next turn carries the 400 KB message in its history.
      ok(await other.request('settings.update', { maxReplyTokens: 4000 }));
      wait = waitForDone(other, () => requestId, 120_000);
      requestId = ok(await other.request('chat.send', { conversationId: conversation.id, content: 'And then?' })).requestId;
      await new Promise<void>((resolve) => {
        const off = other.onEvent((e) => {
          if (e.type === 'chat.token' && e.requestId === requestId) {
            off();
            resolve();
          }
        });
      });
      const t0 = performance.now();
      assert.equal(ok(await other.request('chat.abort', { requestId })).aborted, true);
      const stopMs = performance.now() - t0;
      assert.equal((await wait.promise).message.status, 'stopped');
      delay.disable();
      assert.ok(stopMs < 1000, `Stop answered in ${stopMs.toFixed(0)} ms`);
      assert.ok(delay.max / 1e6 < 1000, `the event loop was blocked for ${(delay.max / 1e6).toFixed(0)} ms`);
    } finally {
      await other.dispose();
      fresh.cleanup();
    }
  });

  test('everything survives a restart', async () => {
    const before = ok(await backend.request('conversations.list', {}));
    await backend.dispose();
    backend = await openTestBackend({ dataDir, modelsDirOverride: modelsDir });
    const afterRestart = ok(await backend.request('conversations.list', {}));
    assert.deepEqual(afterRestart.map((c) => c.id), before.map((c) => c.id));
    const withReplies = afterRestart.filter((c) => c.completionTokens > 0);
    assert.ok(withReplies.length >= 3);
    const found = ok(await backend.request('conversations.list', { query: 'little dog' }));
    assert.ok(found.length >= 1);
    assert.match(found[0]!.snippet ?? '', /\[/);
  });
});
