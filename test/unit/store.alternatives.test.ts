/**
 * Versions of a reply in the real SQLite store: a reply kept as an alternative is hidden, the new one joins
 * its group, every version comes back (oldest first) with its stats and energy, switching shows another
 * and hides the rest, message counts count what is shown while energy totals count every version (it was
 * spent), a failed reply is discarded rather than kept, the number of versions is bounded, an edit before
 * them drops them all, and the bad calls (a user message, a streaming reply, an unknown id) are refused.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { MAX_ALTERNATIVES, messageSchema, type ReplyEnergy, type ReplyStats } from '../../shared/contract.js';
import { Store } from '../../electron/store/store.js';
import { StoreError } from '../../electron/store/storeError.js';

const root = mkdtempSync(join(tmpdir(), 'wattwise-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => Store.open({ filePath: join(root, `alt-${++n}.sqlite`) });

function stats(model: string, extra: Partial<ReplyStats> = {}): ReplyStats {
  return {
    modelPath: `/models/${model}.gguf`, modelName: model, quantization: 'Q4_K_M', promptTokens: 20, prefillTokens: 20, completionTokens: 10,
    ttftMs: 50, prefillTokensPerSecond: 400, decodeTokensPerSecond: 30, threads: 2, contextSize: 2048, startedAt: 1000, endedAt: 1500, ...extra,
  };
}
function energy(j: number): ReplyEnergy {
  return { energyJ: j, energyJPerToken: j / 10, avgPowerW: 5, peakPowerW: 6, baselinePowerW: 2, sourceId: 'estimate', sourceLabel: 'Estimate', measured: false, method: 'estimate', fallbackReason: null, sampleCount: 3 };
}

/** A conversation with one question and a finished reply by `model` costing `j` joules. */
function seed(store: Store, model = 'big', j = 10) {
  const c = store.createConversation({ systemPrompt: '', modelPath: null });
  store.addMessage({ conversationId: c.id, role: 'user', content: 'Why is the sky blue?', status: 'complete' });
  const first = store.addMessage({ conversationId: c.id, role: 'assistant', content: '', status: 'streaming' });
  store.finishMessage(first.id, { content: `answer by ${model}`, status: 'complete', stats: stats(model), error: null, energy: energy(j) });
  return { conversationId: c.id, first: first.id };
}

/** Adds a new version by `model` after keeping `previous` as an alternative. */
function retry(store: Store, conversationId: string, previous: string, model: string, j: number): string {
  const group = store.alternatives.keepAsAlternative(previous);
  const next = store.addMessage({ conversationId, role: 'assistant', content: '', status: 'streaming', alternativeGroup: group });
  store.finishMessage(next.id, { content: `answer by ${model}`, status: 'complete', stats: stats(model, { reEvaluatedTokens: 7 }), error: null, energy: energy(j) });
  return next.id;
}

test('a retried reply keeps the first as a hidden alternative; both come back with their stats and energy', () => {
  const store = fresh();
  try {
    const { conversationId, first } = seed(store, 'big', 10);
    const second = retry(store, conversationId, first, 'small', 2);
    const detail = store.getConversation(conversationId)!;
    assert.deepEqual(detail.messages.map((m) => m.id).slice(1), [second]);
    const shown = detail.messages[1]!;
    assert.deepEqual(shown.alternatives?.map((v) => [v.id, v.content, v.stats?.modelName, v.energy?.energyJ]), [
      [first, 'answer by big', 'big', 10],
      [second, 'answer by small', 'small', 2],
    ]);
    assert.equal(shown.stats?.reEvaluatedTokens, 7);
    messageSchema.parse(shown);
    // Counts what is shown; energy counts every version.
    assert.equal(detail.conversation.messageCount, 2);
    assert.equal(detail.conversation.energyJ, 12);
  } finally {
    store.close();
  }
});

test('selecting a version shows it and hides the others, and survives a reopen', () => {
  const file = join(root, 'select.sqlite');
  let store = Store.open({ filePath: file });
  const { conversationId, first } = seed(store);
  const second = retry(store, conversationId, first, 'small', 2);
  assert.equal(store.alternatives.select(first), conversationId);
  store.close();
  store = Store.open({ filePath: file });
  try {
    const detail = store.getConversation(conversationId)!;
    assert.equal(detail.messages[1]!.id, first);
    assert.deepEqual(detail.messages[1]!.alternatives?.map((v) => v.id), [first, second]);
    // A third version joins the same group even when an older one is shown.
    const third = retry(store, conversationId, first, 'medium', 5);
    assert.deepEqual(store.getConversation(conversationId)!.messages[1]!.alternatives?.map((v) => v.id), [first, second, third]);
  } finally {
    store.close();
  }
});

test('a failed reply is discarded, not kept; its group carries on', () => {
  const store = fresh();
  try {
    const { conversationId, first } = seed(store);
    const group = store.alternatives.keepAsAlternative(first);
    const failed = store.addMessage({ conversationId, role: 'assistant', content: '', status: 'streaming', alternativeGroup: group });
    store.finishMessage(failed.id, { content: '', status: 'error', stats: null, error: 'boom' });
    assert.equal(store.alternatives.keepAsAlternative(failed.id, { discard: true }), group);
    assert.equal(store.getMessage(failed.id), null);
    // Without a group, discarding gives none.
    const other = seed(store);
    assert.equal(store.alternatives.keepAsAlternative(other.first, { discard: true }), null);
  } finally {
    store.close();
  }
});

test(`at most ${MAX_ALTERNATIVES} versions are kept: the oldest go`, () => {
  const store = fresh();
  try {
    const { conversationId, first } = seed(store, 'v0', 1);
    let last = first;
    const ids = [first];
    for (let i = 1; i <= MAX_ALTERNATIVES + 2; i++) {
      last = retry(store, conversationId, last, `v${i}`, 1);
      ids.push(last);
    }
    const versions = store.getConversation(conversationId)!.messages[1]!.alternatives!;
    assert.equal(versions.length, MAX_ALTERNATIVES);
    assert.deepEqual(versions.map((v) => v.id), ids.slice(-MAX_ALTERNATIVES));
  } finally {
    store.close();
  }
});

test('editing the question drops every version; bad calls are refused', () => {
  const store = fresh();
  try {
    const { conversationId, first } = seed(store);
    retry(store, conversationId, first, 'small', 2);
    const user = store.getConversation(conversationId)!.messages[0]!;
    store.deleteMessagesAfter(user.id, { inclusive: false });
    assert.equal(store.getConversation(conversationId)!.messages.length, 1);
    assert.equal(store.getMessage(first), null);

    assert.throws(() => store.alternatives.keepAsAlternative(user.id), (e: unknown) => e instanceof StoreError && e.code === 'NOT_FOUND');
    assert.throws(() => store.alternatives.select('nope'), (e: unknown) => e instanceof StoreError && e.code === 'NOT_FOUND');
    const streaming = store.addMessage({ conversationId, role: 'assistant', content: '', status: 'streaming' });
    assert.throws(() => store.alternatives.keepAsAlternative(streaming.id), (e: unknown) => e instanceof StoreError && e.code === 'BAD_INPUT');
  } finally {
    store.close();
  }
});
