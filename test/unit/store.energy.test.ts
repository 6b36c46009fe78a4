/**
 * The store's energy history and the power governor's measurements, on real SQLite files: reply
 * energy through finishMessage, the Energy view's summary (per local day, across midnight), traces,
 * power samples (downsampling, one transaction per batch, cascades), CSV exports parsed back by an
 * RFC 4180 parser, model performance medians, recent usage, machine facts and model load costs.
 *
 * Runs in America/New_York (set below, before any Date is made) so local days differ from UTC days:
 * a UTC-based day split fails the midnight test.
 */
process.env.TZ = 'America/New_York';

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { z } from 'zod';
import {
  conversationDetailSchema,
  conversationEnergySchema,
  conversationSummarySchema,
  dailyEnergySchema,
  energyTraceSchema,
  messageSchema,
  type MessageStatus,
  type PowerSample,
  type ReplyEnergy,
  type ReplyStats,
} from '../../shared/contract.js';
import { cellText, exportFileName, quoteField, slugify, toCsv } from '../../electron/store/csv.js';
import { Store, messagesCsvColumns, minPerformanceCompletionTokens, samplesCsvColumns, type StoreOptions } from '../../electron/store/store.js';
import { StoreError } from '../../electron/store/storeError.js';

const root = mkdtempSync(join(tmpdir(), 'wattwise-energy-'));
after(() => rmSync(root, { recursive: true, force: true }));
let fileCounter = 0;
function freshPath(): string {
  fileCounter += 1;
  return join(root, `case-${fileCounter}`, 'wattwise.sqlite');
}

/** A controllable clock. */
function clock(start = 1_780_000_000_000) {
  let t = start;
  return { now: () => t, tick: (ms = 1) => (t += ms), set: (v: number) => (t = v) };
}

function open(filePath: string, extra: Partial<StoreOptions> = {}): Store {
  return Store.open({ filePath, ...extra });
}

function stats(overrides: Partial<ReplyStats> = {}): ReplyStats {
  return {
    modelPath: '/models/tiny.gguf',
    modelName: 'tiny',
    quantization: 'Q8_0',
    promptTokens: 100,
    prefillTokens: 40,
    completionTokens: 20,
    ttftMs: 12.5,
    prefillTokensPerSecond: 800,
    decodeTokensPerSecond: 50,
    threads: 4,
    contextSize: 2048,
    startedAt: 1_780_000_000_100,
    endedAt: 1_780_000_000_900,
    ...overrides,
  };
}

function energy(overrides: Partial<ReplyEnergy> = {}): ReplyEnergy {
  return {
    energyJ: 10,
    energyJPerToken: 0.5,
    avgPowerW: 12.5,
    peakPowerW: 18.25,
    baselinePowerW: 4.5,
    sourceId: 'linux-battery:BAT0',
    sourceLabel: 'battery sensor',
    measured: true,
    method: 'system-minus-baseline',
    fallbackReason: null,
    sampleCount: 3,
    ...overrides,
  };
}

/** Adds a streaming assistant message and finishes it (the way the backend writes a reply). */
function reply(
  store: Store,
  conversationId: string,
  input: { stats?: ReplyStats | null; energy?: ReplyEnergy | null; status?: MessageStatus; content?: string } = {},
) {
  const m = store.addMessage({ conversationId, role: 'assistant', content: '', status: 'streaming' });
  return store.finishMessage(m.id, {
    content: input.content ?? 'an answer',
    status: input.status ?? 'complete',
    stats: input.stats === undefined ? stats() : input.stats,
    error: null,
    energy: input.energy ?? null,
  });
}

function sample(at: number, powerW: number, overrides: Partial<PowerSample> = {}): PowerSample {
  return { at, powerW, sourceId: 'rapl:intel-rapl:0', sourceLabel: 'RAPL package', measured: true, ...overrides };
}

/** Raw read of a table through a second connection. */
function rawAll<T>(file: string, sql: string, ...params: unknown[]): T[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

// ---------------------------------------------------------------------------------------------
// A small RFC 4180 parser (independent of the writer): records of fields; quoted fields may hold
// commas, CR, LF and doubled quotes. Records end with CRLF; a bare LF outside quotes is an error.
// ---------------------------------------------------------------------------------------------
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let i = 0;
  while (i < text.length) {
    let field = '';
    if (text[i] === '"') {
      i += 1;
      for (;;) {
        if (i >= text.length) throw new Error('unterminated quoted field');
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
          } else {
            i += 1;
            break;
          }
        } else {
          field += text[i];
          i += 1;
        }
      }
    } else {
      while (i < text.length && text[i] !== ',' && text[i] !== '\r' && text[i] !== '\n') {
        if (text[i] === '"') throw new Error(`bare quote in unquoted field at ${i}`);
        field += text[i];
        i += 1;
      }
    }
    record.push(field);
    if (text[i] === ',') {
      i += 1;
      continue;
    }
    if (text[i] === '\r' && text[i + 1] === '\n') {
      records.push(record);
      record = [];
      i += 2;
      continue;
    }
    if (i >= text.length) {
      records.push(record);
      break;
    }
    throw new Error(`expected , or CRLF at ${i}, got ${JSON.stringify(text[i])}`);
  }
  return records;
}

// ---------------------------------------------------------------------------------------------

describe('reply energy', () => {
  test('finishMessage stores the energy; getConversation, the summary energyJ and a reopen give it back', () => {
    const file = freshPath();
    const c = clock();
    const store = open(file, { now: c.now });
    const conv = store.createConversation({ systemPrompt: '', modelPath: null });
    store.addMessage({ conversationId: conv.id, role: 'user', content: 'hi', status: 'complete' });
    const e1 = energy({ energyJ: 12.75, energyJPerToken: 0.6375, fallbackReason: null });
    const first = reply(store, conv.id, { energy: e1 });
    assert.deepEqual(first.energy, e1, 'every ReplyEnergy field survives the columns');
    assert.equal(messageSchema.safeParse(first).success, true);

    const e2 = energy({
      energyJ: 3.5,
      energyJPerToken: 0.175,
      measured: false,
      method: 'estimate',
      sourceId: 'estimate',
      sourceLabel: 'estimated',
      fallbackReason: 'battery is charging: power reads only while discharging',
      sampleCount: 0,
    });
    const second = reply(store, conv.id, { energy: e2 });
    assert.deepEqual(second.energy, e2);
    const none = reply(store, conv.id, { energy: null });
    assert.equal(none.energy, null);

    const detail = store.getConversation(conv.id);
    assert.ok(detail);
    assert.equal(conversationDetailSchema.safeParse(detail).success, true);
    assert.deepEqual(detail.messages.map((m) => m.energy), [null, e1, e2, null]);
    assert.equal(detail.conversation.energyJ, 12.75 + 3.5);
    assert.equal(store.listConversations()[0]?.energyJ, 12.75 + 3.5);
    assert.equal(store.searchConversations('answer')[0]?.energyJ, 12.75 + 3.5, 'search summaries carry energy too');
    assert.equal(conversationSummarySchema.safeParse(store.listConversations()[0]).success, true);
    assert.deepEqual(store.getMessage(second.id)?.energy, e2);

    store.close();
    const reopened = open(file, { now: c.now });
    try {
      assert.deepEqual(reopened.getConversation(conv.id), detail, 'survives a reopen');
    } finally {
      reopened.close();
    }
  });

  test('finishing again replaces the energy (omitted = none); an invalid energy throws RangeError and writes nothing', () => {
    const store = open(freshPath());
    try {
      const conv = store.createConversation({ systemPrompt: '', modelPath: null });
      const m = reply(store, conv.id, { energy: energy() });
      const cleared = store.finishMessage(m.id, { content: 'again', status: 'complete', stats: stats(), error: null });
      assert.equal(cleared.energy, null);
      assert.equal(store.getConversation(conv.id)?.conversation.energyJ, 0);

      const streaming = store.addMessage({ conversationId: conv.id, role: 'assistant', content: 'partial', status: 'streaming' });
      for (const bad of [energy({ energyJ: -0.001 }), energy({ avgPowerW: Number.NaN }), { ...energy(), method: 'guess' } as unknown as ReplyEnergy]) {
        assert.throws(
          () => store.finishMessage(streaming.id, { content: 'final', status: 'complete', stats: stats(), error: null, energy: bad }),
          (e: unknown) => e instanceof RangeError && /invalid reply energy: (energyJ|avgPowerW|method)/.test(e.message),
        );
      }
      const after = store.getMessage(streaming.id);
      assert.equal(after?.status, 'streaming', 'nothing was written');
      assert.equal(after?.content, 'partial');
      assert.throws(
        () => store.finishMessage('nope', { content: '', status: 'complete', stats: null, error: null, energy: energy() }),
        (e: unknown) => e instanceof StoreError && e.code === 'NOT_FOUND',
      );
    } finally {
      store.close();
    }
  });

  test('a stored row that no longer makes a valid ReplyEnergy reads as null instead of throwing', () => {
    const file = freshPath();
    const store = open(file);
    const conv = store.createConversation({ systemPrompt: '', modelPath: null });
    const m = reply(store, conv.id, { energy: energy() });
    store.close();
    const raw = new Database(file);
    raw.prepare(`UPDATE messages SET energy_method = 'from-the-future' WHERE id = ?`).run(m.id);
    raw.close();
    const again = open(file);
    try {
      assert.equal(again.getMessage(m.id)?.energy, null);
      assert.equal(again.getConversation(conv.id)?.conversation.energyJ, 10, 'the total still counts the joules');
    } finally {
      again.close();
    }
  });

  test('the governor decision is stored with the reply and read back with getMessageGovernor', () => {
    const store = open(freshPath());
    try {
      const conv = store.createConversation({ systemPrompt: '', modelPath: null });
      const m = store.addMessage({ conversationId: conv.id, role: 'assistant', content: '', status: 'streaming' });
      assert.equal(store.getMessageGovernor(m.id), null, 'none recorded yet');
      assert.equal(m.governor, null);
      const governor = { profile: 'saver' as const, reason: 'Q4_K_M: 0.4 J/token fits the battery target' };
      const finished = store.finishMessage(m.id, { content: 'x', status: 'complete', stats: stats(), error: null, governor });
      assert.deepEqual(finished.governor, governor, 'part of Message');
      assert.deepEqual(store.getConversation(conv.id)?.messages[0]?.governor, governor);
      assert.deepEqual(store.getMessageGovernor(m.id), governor);
      // A profile this version does not know is kept in the row but not shown as a Message's governor.
      store.finishMessage(m.id, { content: 'x', status: 'complete', stats: stats(), error: null, governor: { profile: 'battery-saver', reason: 'old' } });
      assert.equal(store.getMessage(m.id)?.governor, null);
      assert.deepEqual(store.getMessageGovernor(m.id), { profile: 'battery-saver', reason: 'old' });
      store.finishMessage(m.id, { content: 'x', status: 'complete', stats: stats(), error: null, governor: null });
      assert.equal(store.getMessageGovernor(m.id), null);
      assert.equal(store.getMessageGovernor('nope'), null);
      assert.throws(
        () => store.finishMessage(m.id, { content: 'x', status: 'complete', stats: null, error: null, governor: { profile: 1 } as never }),
        RangeError,
      );
    } finally {
      store.close();
    }
  });
});

describe('energy summary', () => {
  test('per-conversation totals, newest first; measured only when every reply with energy was measured', () => {
    const c = clock();
    const store = open(freshPath(), { now: c.now });
    try {
      const measured = store.createConversation({ systemPrompt: '', modelPath: null, title: 'All measured' });
      c.tick(10);
      const mixed = store.createConversation({ systemPrompt: '', modelPath: null, title: 'Mixed' });
      c.tick(10);
      store.createConversation({ systemPrompt: '', modelPath: null, title: 'No replies' });
      c.tick(10);
      const noEnergy = store.createConversation({ systemPrompt: '', modelPath: null, title: 'No energy' });

      c.tick(10);
      store.addMessage({ conversationId: measured.id, role: 'user', content: 'q', status: 'complete' });
      reply(store, measured.id, { stats: stats({ promptTokens: 50, completionTokens: 10 }), energy: energy({ energyJ: 5 }) });
      reply(store, measured.id, { stats: stats({ promptTokens: 60, completionTokens: 30 }), energy: energy({ energyJ: 15 }) });
      reply(store, measured.id, { stats: null, status: 'error' }); // a reply that failed before the prefill
      c.tick(10);
      reply(store, mixed.id, { stats: stats({ modelName: 'big', completionTokens: 8 }), energy: energy({ energyJ: 4 }) });
      reply(store, mixed.id, { stats: stats({ modelName: 'small', completionTokens: 4 }), energy: energy({ energyJ: 1, measured: false, method: 'estimate' }) });
      reply(store, mixed.id, { stats: stats({ modelName: 'small', completionTokens: 4 }), energy: null });
      c.tick(10);
      reply(store, noEnergy.id, { stats: stats({ completionTokens: 0 }), energy: null });

      const { conversations } = store.energySummary({ days: 7 });
      for (const row of conversations) assert.equal(conversationEnergySchema.safeParse(row).success, true);
      assert.deepEqual(conversations.map((r) => r.title), ['No energy', 'Mixed', 'All measured'], 'newest first, only conversations with replies');
      const [ne, mx, am] = conversations;
      assert.deepEqual(am, {
        conversationId: measured.id,
        title: 'All measured',
        source: 'app',
        updatedAt: am?.updatedAt,
        energyJ: 20,
        promptTokens: 110,
        completionTokens: 40,
        energyJPerToken: 0.5,
        models: ['tiny'],
        measured: true,
        replies: 3,
      });
      assert.equal(mx?.measured, false, 'one estimated reply makes the conversation estimated');
      assert.equal(mx?.energyJ, 5);
      assert.equal(mx?.completionTokens, 16);
      assert.equal(mx?.energyJPerToken, 5 / 16);
      assert.deepEqual(mx?.models, ['small', 'big'], 'most used first');
      assert.equal(mx?.replies, 3);
      assert.deepEqual([ne?.energyJ, ne?.energyJPerToken, ne?.measured], [0, 0, false], 'no energy: 0 J, nothing measured');
      assert.ok((am?.updatedAt ?? 0) < (mx?.updatedAt ?? 0));
    } finally {
      store.close();
    }
  });

  test('per local day and model, split at local midnight (not UTC), only days with use, within the window', () => {
    const c = clock(new Date(2026, 10, 20, 9, 0).getTime());
    const store = open(freshPath(), { now: c.now });
    try {
      const conv = store.createConversation({ systemPrompt: '', modelPath: null });
      const at = (day: number, h: number, m: number, s = 0) => new Date(2026, 10, day, h, m, s).getTime();
      const r = (endedAt: number, modelName: string, energyJ: number | null, completionTokens: number) =>
        reply(store, conv.id, {
          stats: stats({ modelName, modelPath: `/models/${modelName}.gguf`, completionTokens, startedAt: endedAt - 5_000, endedAt }),
          energy: energyJ === null ? null : energy({ energyJ }),
        });
      r(at(14, 12, 0), 'alpha', 100, 1000); // 8 days before "now": outside a 7-day window
      r(at(15, 0, 0, 1), 'alpha', 7, 70); // first day of the 7-day window
      r(at(20, 23, 59, 30), 'alpha', 2, 20); // 23:59:30 New York = 04:59:30 UTC on the 21st
      r(at(20, 23, 59, 59), 'beta', 3, 30);
      r(at(21, 0, 0, 30), 'alpha', 5, 50); // just after local midnight
      r(at(21, 0, 1, 0), 'alpha', null, 10); // no energy: counts tokens, 0 J
      r(at(21, 10, 0), '', 1, 1); // empty name: shown by its path
      r(at(22, 1, 0), 'alpha', 9, 90); // after today: not in the window
      const now = at(21, 12, 0);

      const week = store.energySummary({ days: 7, now }).days;
      for (const d of week) assert.equal(dailyEnergySchema.safeParse(d).success, true);
      assert.deepEqual(week, [
        { day: '2026-11-15', models: [{ modelName: 'alpha', energyJ: 7, completionTokens: 70 }] },
        {
          day: '2026-11-20',
          models: [
            { modelName: 'alpha', energyJ: 2, completionTokens: 20 },
            { modelName: 'beta', energyJ: 3, completionTokens: 30 },
          ],
        },
        {
          day: '2026-11-21',
          models: [
            { modelName: '/models/.gguf', energyJ: 1, completionTokens: 1 },
            { modelName: 'alpha', energyJ: 5, completionTokens: 60 },
          ],
        },
      ]);
      assert.deepEqual(store.energySummary({ days: 1, now }).days.map((d) => d.day), ['2026-11-21']);
      assert.deepEqual(store.energySummary({ days: 2, now }).days.map((d) => d.day), ['2026-11-20', '2026-11-21']);
      assert.equal(store.energySummary({ days: 8, now }).days[0]?.day, '2026-11-14');
      assert.deepEqual(store.energySummary({ days: 7, now: at(21, 12, 0) + 86_400_000 * 30 }).days, [], 'a month later: nothing');
      assert.throws(() => store.energySummary({ days: 0, now }), RangeError);
      assert.throws(() => store.energySummary({ days: 1.5, now }), RangeError);
    } finally {
      store.close();
    }
  });
});

describe('power samples and traces', () => {
  test('the trace: samples by time from several batches, each reply window, attributions', () => {
    const file = freshPath();
    const c = clock();
    const store = open(file, { now: c.now });
    try {
      const conv = store.createConversation({ systemPrompt: '', modelPath: null });
      const other = store.createConversation({ systemPrompt: '', modelPath: null });
      const r1 = reply(store, conv.id, { stats: stats({ startedAt: 10_000, endedAt: 12_500, modelName: 'a' }), energy: energy({ energyJ: 2 }) });
      const r2 = reply(store, conv.id, { stats: stats({ startedAt: 20_000, endedAt: 21_000, modelName: 'b' }), energy: null });
      reply(store, conv.id, { stats: null, status: 'error' }); // no window without stats
      const otherReply = reply(store, other.id);

      // Second batch first, out of order inside the batch.
      store.addPowerSamples(conv.id, r2.id, [sample(20_900, 9), sample(20_100, 8)]);
      store.addPowerSamples(conv.id, r1.id, [sample(12_000, 7), sample(10_000, 5), sample(11_000, 6, { measured: false, sourceId: 'estimate', sourceLabel: 'estimated' })]);
      store.addPowerSamples(conv.id, null, [sample(15_000, 1)]);
      store.addPowerSamples(conv.id, otherReply.id, [sample(30_000, 3)]); // a message of another conversation: unattributed
      store.addPowerSamples(other.id, null, [sample(10_500, 99)]);

      const trace = store.energyTrace(conv.id);
      assert.ok(trace);
      assert.equal(energyTraceSchema.safeParse(trace).success, true);
      assert.deepEqual(
        trace.samples.map((s) => [s.at, s.powerW, s.measured]),
        [
          [10_000, 5, true],
          [11_000, 6, false],
          [12_000, 7, true],
          [15_000, 1, true],
          [20_900, 9, true], // 20_100 and 20_900 share a second: the later one is kept
          [30_000, 3, true],
        ],
      );
      assert.deepEqual(trace.samples[1], { at: 11_000, powerW: 6, sourceId: 'estimate', sourceLabel: 'estimated', measured: false });
      assert.deepEqual(trace.replies, [
        { messageId: r1.id, startedAt: 10_000, endedAt: 12_500, energyJ: 2, modelName: 'a' },
        { messageId: r2.id, startedAt: 20_000, endedAt: 21_000, energyJ: 0, modelName: 'b' },
      ]);
      const attribution = rawAll<{ at: number; message_id: string | null }>(file, 'SELECT at, message_id FROM power_samples WHERE conversation_id = ? ORDER BY at', conv.id);
      assert.deepEqual(
        attribution.map((a) => a.message_id),
        [r1.id, r1.id, r1.id, null, r2.id, null],
      );
      assert.deepEqual(store.energyTrace(other.id)?.samples.map((s) => s.powerW), [99]);
      assert.equal(store.energyTrace('nope'), null);
    } finally {
      store.close();
    }
  });

  test('downsampling keeps the latest sample of each second, across calls too; bad samples are dropped', () => {
    const file = freshPath();
    const store = open(file);
    try {
      const conv = store.createConversation({ systemPrompt: '', modelPath: null });
      // 10 samples per second for 5 seconds: powerW encodes the time.
      const burst = Array.from({ length: 50 }, (_, i) => sample(100_000 + i * 100, i));
      store.addPowerSamples(conv.id, null, burst);
      assert.deepEqual(
        store.energyTrace(conv.id)?.samples.map((s) => [s.at, s.powerW]),
        [
          [100_900, 9],
          [101_900, 19],
          [102_900, 29],
          [103_900, 39],
          [104_900, 49],
        ],
      );
      // A later call: a newer sample of a stored second replaces it, an older one does not.
      store.addPowerSamples(conv.id, null, [sample(100_950, 500), sample(101_050, 600), sample(105_000.7, 700)]);
      // Same at within one call: the later one in the array wins.
      store.addPowerSamples(conv.id, null, [sample(106_000, 1), sample(106_000, 2)]);
      // Bad samples are dropped, good ones of the same batch kept; nothing throws.
      store.addPowerSamples(conv.id, null, [
        sample(107_000, -1),
        sample(108_000, Number.NaN),
        sample(Number.POSITIVE_INFINITY, 1),
        sample(-5, 1),
        { ...sample(109_000, 1), measured: 'yes' } as unknown as PowerSample,
        null as unknown as PowerSample,
        sample(110_000, 4.25),
      ]);
      store.addPowerSamples(conv.id, null, []);
      assert.deepEqual(
        store.energyTrace(conv.id)?.samples.map((s) => [s.at, s.powerW]),
        [
          [100_950, 500],
          [101_900, 19],
          [102_900, 29],
          [103_900, 39],
          [104_900, 49],
          [105_000, 700],
          [106_000, 2],
          [110_000, 4.25],
        ],
      );
      const perSecond = rawAll<{ n: number }>(file, 'SELECT max(n) AS n FROM (SELECT count(*) AS n FROM power_samples GROUP BY conversation_id, at / 1000)');
      assert.equal(perSecond[0]?.n, 1);
    } finally {
      store.close();
    }
  });

  test('1000 samples in one call: one transaction (a handful of WAL frames), under 200 ms', () => {
    const file = freshPath();
    const store = open(file);
    try {
      const conv = store.createConversation({ systemPrompt: '', modelPath: null });
      const m = reply(store, conv.id);
      const samples = Array.from({ length: 1000 }, (_, i) => sample(1_780_000_000_000 + i * 1000, 5 + (i % 7)));
      // Empty the WAL first (through a second connection), so its frames count this call's writes.
      const probe = new Database(file);
      probe.pragma('wal_checkpoint(TRUNCATE)');
      const start = process.hrtime.bigint();
      store.addPowerSamples(conv.id, m.id, samples);
      const elapsedMs = Number(process.hrtime.bigint() - start) / 1e6;
      const [status] = probe.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[];
      probe.close();
      assert.ok(elapsedMs < 200, `took ${elapsedMs.toFixed(1)} ms`);
      // One commit of ~1000 small rows touches a few dozen pages; one commit per row would append 1000+ frames.
      assert.ok(status !== undefined && status.log > 0 && status.log < 200, `WAL frames: ${status?.log}`);
      assert.equal(rawAll<{ n: number }>(file, 'SELECT count(*) AS n FROM power_samples')[0]?.n, 1000);
    } finally {
      store.close();
    }
  });

  test('a deleted conversation takes its samples; later samples for it are ignored; a deleted reply leaves its samples unattributed', () => {
    const file = freshPath();
    const store = open(file);
    try {
      const gone = store.createConversation({ systemPrompt: '', modelPath: null });
      const kept = store.createConversation({ systemPrompt: '', modelPath: null });
      store.addPowerSamples(gone.id, null, [sample(1000, 1), sample(2000, 2)]);
      const user = store.addMessage({ conversationId: kept.id, role: 'user', content: 'q', status: 'complete' });
      const r = reply(store, kept.id);
      store.addPowerSamples(kept.id, r.id, [sample(1000, 3), sample(2000, 4)]);
      assert.equal(rawAll<{ n: number }>(file, 'SELECT count(*) AS n FROM power_samples')[0]?.n, 4);

      assert.equal(store.deleteConversation(gone.id), true);
      assert.deepEqual(rawAll(file, 'SELECT conversation_id FROM power_samples WHERE conversation_id = ?', gone.id), [], 'cascade');
      store.addPowerSamples(gone.id, null, [sample(3000, 5)]); // no throw
      assert.deepEqual(rawAll(file, 'SELECT conversation_id FROM power_samples WHERE conversation_id = ?', gone.id), [], 'ignored');
      assert.equal(store.energyTrace(gone.id), null);

      store.deleteMessagesAfter(user.id, { inclusive: false }); // a regenerate drops the reply
      assert.deepEqual(
        rawAll<{ message_id: string | null }>(file, 'SELECT message_id FROM power_samples ORDER BY at').map((s) => s.message_id),
        [null, null],
        'the power really drawn stays in the trace, unattributed',
      );
      assert.deepEqual(store.energyTrace(kept.id)?.replies, []);
    } finally {
      store.close();
    }
  });
});

describe('CSV export', () => {
  test('cellText and quoteField: RFC 4180 quoting and the formula guard (not for numbers)', () => {
    assert.equal(quoteField('plain'), 'plain');
    assert.equal(quoteField('a,b'), '"a,b"');
    assert.equal(quoteField('say "hi"'), '"say ""hi"""');
    assert.equal(quoteField('two\nlines'), '"two\nlines"');
    assert.equal(quoteField('cr\rhere'), '"cr\rhere"');
    assert.equal(cellText('=1+1'), "'=1+1");
    assert.equal(cellText('+SUM(A1)'), "'+SUM(A1)");
    assert.equal(cellText('-2+3'), "'-2+3");
    assert.equal(cellText('@cmd'), "'@cmd");
    assert.equal(cellText('\t=x'), "'\t=x");
    assert.equal(cellText('a=b'), 'a=b');
    assert.equal(cellText(-5), '-5');
    assert.equal(cellText('-5'), '-5');
    assert.equal(cellText('+1.5e3'), '+1.5e3');
    assert.equal(cellText(0.1), '0.1');
    assert.equal(cellText(Number.NaN), '');
    assert.equal(cellText(true), 'true');
    assert.equal(cellText(null), '');
    assert.equal(toCsv(['a', 'b'], [['x', 1], [null, false]]), 'a,b\r\nx,1\r\n,false\r\n');
    assert.equal(slugify('Café: “Plans” for 2026!'), 'cafe-plans-for-2026');
    assert.equal(slugify('日本語'), 'conversation');
    assert.equal(slugify('x'.repeat(100)).length, 40);
    assert.equal(exportFileName('samples', new Date(2026, 10, 21, 23, 30).getTime()), 'wattwise-samples-2026-11-21.csv');
  });

  test('messages CSV of one conversation parses back to the stored values, hostile text included', () => {
    const c = clock(new Date(2026, 10, 21, 23, 30).getTime());
    const store = open(freshPath(), { now: c.now });
    try {
      const conv = store.createConversation({ systemPrompt: '', modelPath: null, title: 'Budget, "Q4" = plan' });
      const contents = [
        'hello, world',
        'she said "hi"',
        'line one\nline two\r\nline three',
        'Zürich ☕ 日本語 🚀',
        '=HYPERLINK("http://evil","click")',
        '+1+2',
        '-cmd',
        '@SUM(A1)',
        '-5',
      ];
      const ids: string[] = [];
      for (const content of contents) ids.push(store.addMessage({ conversationId: conv.id, role: 'user', content, status: 'complete' }).id);
      const r = reply(store, conv.id, {
        content: 'plain answer',
        stats: stats({ modelName: 'tiny, v2', quantization: 'Q4_K_M', promptTokens: 11, completionTokens: 22, ttftMs: 33.5, decodeTokensPerSecond: 44.25, threads: 3 }),
        energy: energy({ energyJ: 1.5, energyJPerToken: 0.068, avgPowerW: 9.75, peakPowerW: 12, sourceLabel: 'RAPL package', measured: false, method: 'estimate' }),
      });
      const otherConv = store.createConversation({ systemPrompt: '', modelPath: null });
      store.addMessage({ conversationId: otherConv.id, role: 'user', content: 'elsewhere', status: 'complete' });

      const { fileName, csv } = store.exportMessagesCsv(conv.id);
      assert.equal(fileName, 'wattwise-messages-budget-q4-plan-2026-11-21.csv', 'title slug and local date');
      assert.ok(csv.endsWith('\r\n'));
      const records = parseCsv(csv);
      assert.deepEqual(records[0], [...messagesCsvColumns]);
      assert.equal(records.length, 1 + contents.length + 1, 'header + one row per message of this conversation only');
      const col = (name: (typeof messagesCsvColumns)[number]) => messagesCsvColumns.indexOf(name);
      for (const rec of records) assert.equal(rec.length, messagesCsvColumns.length);

      const expectedContent = [
        'hello, world',
        'she said "hi"',
        'line one\nline two\r\nline three',
        'Zürich ☕ 日本語 🚀',
        `'=HYPERLINK("http://evil","click")`,
        `'+1+2`,
        `'-cmd`,
        `'@SUM(A1)`,
        '-5',
      ];
      assert.deepEqual(records.slice(1, 1 + contents.length).map((rec) => rec[col('content')]), expectedContent);
      assert.deepEqual(records.slice(1, 1 + contents.length).map((rec) => rec[col('message_id')]), ids);
      const first = records[1]!;
      assert.equal(first[col('conversation_title')], 'Budget, "Q4" = plan');
      assert.equal(first[col('role')], 'user');
      assert.equal(first[col('model')], '', 'no stats: empty cells');
      assert.equal(first[col('energy_j')], '');
      assert.equal(first[col('created_at')], new Date(c.now()).toISOString());

      const last = records[records.length - 1]!;
      assert.deepEqual(
        Object.fromEntries(messagesCsvColumns.map((name, i) => [name, last[i]])),
        {
          conversation_id: conv.id,
          conversation_title: 'Budget, "Q4" = plan',
          message_id: r.id,
          role: 'assistant',
          status: 'complete',
          created_at: new Date(r.createdAt).toISOString(),
          model: 'tiny, v2',
          quantization: 'Q4_K_M',
          prompt_tokens: '11',
          completion_tokens: '22',
          ttft_ms: '33.5',
          decode_tokens_per_second: '44.25',
          threads: '3',
          energy_j: '1.5',
          energy_j_per_token: '0.068',
          avg_power_w: '9.75',
          peak_power_w: '12',
          energy_source: 'RAPL package',
          energy_measured: 'false',
          content: 'plain answer',
          source: 'app',
        },
      );
      // Outside quoted fields, every line ends with CRLF.
      const unquoted = csv.replace(/"(?:[^"]|"")*"/g, '');
      assert.equal(/(^|[^\r])\n/.test(unquoted), false, 'no bare LF between records');
      assert.equal(Buffer.from(csv, 'utf8').toString('utf8'), csv, 'valid UTF-8 round trip');

      const all = store.exportMessagesCsv();
      assert.equal(all.fileName, 'wattwise-messages-2026-11-21.csv');
      const allRecords = parseCsv(all.csv);
      assert.equal(allRecords.length, 1 + contents.length + 1 + 1);
      assert.deepEqual(allRecords[allRecords.length - 1]?.[col('content')], 'elsewhere', 'conversations in creation order');
      assert.throws(() => store.exportMessagesCsv('nope'), (e: unknown) => e instanceof StoreError && e.code === 'NOT_FOUND');
    } finally {
      store.close();
    }
  });

  test('samples CSV: ISO and ms times, power, source, measured; one conversation or all', () => {
    const c = clock(new Date(2026, 0, 5, 8, 0).getTime());
    const store = open(freshPath(), { now: c.now });
    try {
      const a = store.createConversation({ systemPrompt: '', modelPath: null, title: '=cmd|calc' });
      const b = store.createConversation({ systemPrompt: '', modelPath: null });
      const r = reply(store, a.id);
      store.addPowerSamples(a.id, r.id, [sample(1_767_600_000_000, 12.5), sample(1_767_600_001_500, 0, { measured: false, sourceId: 'estimate', sourceLabel: 'estimated, CPU model' })]);
      store.addPowerSamples(b.id, null, [sample(1_767_600_000_000, 3)]);

      const one = store.exportSamplesCsv(a.id);
      assert.equal(one.fileName, 'wattwise-samples-cmd-calc-2026-01-05.csv');
      const records = parseCsv(one.csv);
      assert.deepEqual(records, [
        [...samplesCsvColumns],
        ['2026-01-05T08:00:00.000Z', '1767600000000', a.id, r.id, '12.5', 'RAPL package', 'rapl:intel-rapl:0', 'true'],
        ['2026-01-05T08:00:01.500Z', '1767600001500', a.id, r.id, '0', 'estimated, CPU model', 'estimate', 'false'],
      ]);
      const all = parseCsv(store.exportSamplesCsv().csv);
      assert.deepEqual(all.slice(1).map((rec) => rec[2]), [a.id, a.id, b.id]);
      assert.equal(all[3]?.[3], '', 'unattributed sample: empty message_id');
      assert.throws(() => store.exportSamplesCsv('nope'), (e: unknown) => e instanceof StoreError && e.code === 'NOT_FOUND');
    } finally {
      store.close();
    }
  });
});

describe('governor measurements', () => {
  test('modelPerformance: medians over qualifying replies, energy medians over replies with energy, threads used most', () => {
    const store = open(freshPath());
    try {
      const conv = store.createConversation({ systemPrompt: '', modelPath: null });
      const a = (o: Partial<ReplyStats>) => stats({ modelPath: '/models/a.gguf', modelName: 'A', ...o });
      reply(store, conv.id, { stats: a({ decodeTokensPerSecond: 10, prefillTokensPerSecond: 100, threads: 4, endedAt: 1000 }), energy: energy({ energyJPerToken: 0.5, avgPowerW: 10, measured: true }) });
      reply(store, conv.id, { stats: a({ decodeTokensPerSecond: 30, prefillTokensPerSecond: 300, threads: 2, endedAt: 2000 }), energy: energy({ energyJPerToken: 1.5, avgPowerW: 20, measured: false, method: 'estimate' }) });
      reply(store, conv.id, { stats: a({ decodeTokensPerSecond: 20, prefillTokens: 0, prefillTokensPerSecond: 0, threads: 4, endedAt: 3000 }) });
      reply(store, conv.id, { stats: a({ decodeTokensPerSecond: 40, prefillTokensPerSecond: 200, threads: 2, endedAt: 4000, modelName: 'A v2' }), status: 'stopped' });
      // Not counted: too short, failed, interrupted.
      reply(store, conv.id, { stats: a({ completionTokens: minPerformanceCompletionTokens - 1, decodeTokensPerSecond: 1000, endedAt: 9000 }) });
      reply(store, conv.id, { stats: a({ decodeTokensPerSecond: 1000, endedAt: 9000 }), status: 'error' });
      reply(store, conv.id, { stats: a({ decodeTokensPerSecond: 1000, endedAt: 9000 }), status: 'interrupted' });
      // Another model, used later, without energy.
      reply(store, conv.id, { stats: stats({ modelPath: '/models/b.gguf', modelName: 'B', decodeTokensPerSecond: 7, prefillTokensPerSecond: 70, threads: 8, endedAt: 5000, completionTokens: 8 }) });

      assert.deepEqual(store.modelPerformance(), [
        {
          modelPath: '/models/b.gguf',
          modelName: 'B',
          replies: 1,
          medianDecodeTokensPerSecond: 7,
          medianPrefillTokensPerSecond: 70,
          medianEnergyJPerToken: null,
          medianAvgPowerW: null,
          measuredShare: null,
          threads: 8,
          lastAt: 5000,
        },
        {
          modelPath: '/models/a.gguf',
          modelName: 'A v2',
          replies: 4,
          medianDecodeTokensPerSecond: 25, // 10, 20, 30, 40
          medianPrefillTokensPerSecond: 200, // 100, 300, 200 (the cached prompt is left out)
          medianEnergyJPerToken: 1, // 0.5, 1.5
          medianAvgPowerW: 15,
          measuredShare: 0.5,
          threads: 2, // 4 ×2, 2 ×2: the one used last
          lastAt: 4000,
        },
      ]);
    } finally {
      store.close();
    }
  });

  test('recentUsage: tokens per hour over the span of recent use, at least one hour', () => {
    const store = open(freshPath());
    try {
      const conv = store.createConversation({ systemPrompt: '', modelPath: null });
      const now = 100 * 3_600_000;
      const h = (hours: number) => now - hours * 3_600_000;
      const r = (startedAt: number, endedAt: number, completionTokens: number, promptTokens: number) =>
        reply(store, conv.id, { stats: stats({ startedAt, endedAt, completionTokens, promptTokens }) });
      r(h(30), h(30) + 1000, 5000, 50); // outside a 24 h window
      r(h(4), h(4) + 60_000, 1000, 10);
      r(h(2), h(2) + 60_000, 600, 20);
      r(h(0.5), h(0.5) + 1000, 400, 30);
      reply(store, conv.id, { stats: null, status: 'error' });
      r(now + 1000, now + 2000, 7777, 1); // after "now": not counted

      assert.deepEqual(store.recentUsage({ sinceMs: 24 * 3_600_000, now }), {
        completionTokens: 2000,
        promptTokens: 60,
        replies: 3,
        hours: 4,
        tokensPerHour: 500,
      });
      // A short window: one reply, span 0.5 h, raised to 1 h.
      assert.deepEqual(store.recentUsage({ sinceMs: 3_600_000, now }), { completionTokens: 400, promptTokens: 30, replies: 1, hours: 1, tokensPerHour: 400 });
      // A reply that started before the window counts from the window's start.
      const spanning = store.recentUsage({ sinceMs: 2 * 3_600_000 - 30_000, now });
      assert.equal(spanning.replies, 2);
      assert.equal(spanning.hours, (2 * 3_600_000 - 30_000) / 3_600_000);
      assert.deepEqual(store.recentUsage({ sinceMs: 60_000, now }), { completionTokens: 0, promptTokens: 0, replies: 0, hours: 1, tokensPerHour: 0 });
      assert.throws(() => store.recentUsage({ sinceMs: -1, now }), RangeError);
    } finally {
      store.close();
    }
  });

  test('machine facts: round trip per machine; invalid JSON or a failing schema gives null', () => {
    const file = freshPath();
    const c = clock(5_000);
    const store = open(file, { now: c.now, machineKey: 'cpu-A' });
    const bandwidth = z.object({ bytesPerSecond: z.number().positive(), method: z.string() });
    assert.equal(store.getMachineFact('memoryBandwidth', bandwidth), null);
    store.setMachineFact('memoryBandwidth', { bytesPerSecond: 25.5e9, method: 'stream-copy' });
    assert.deepEqual(store.getMachineFact('memoryBandwidth', bandwidth), { value: { bytesPerSecond: 25.5e9, method: 'stream-copy' }, measuredAt: 5_000 });
    c.tick(100);
    store.setMachineFact('memoryBandwidth', { bytesPerSecond: 30e9, method: 'stream-copy' });
    assert.deepEqual(store.getMachineFact('memoryBandwidth', bandwidth), { value: { bytesPerSecond: 30e9, method: 'stream-copy' }, measuredAt: 5_100 }, 'replaced');
    assert.equal(store.getMachineFact('memoryBandwidth', z.string()), null, 'fails the schema');
    store.setMachineFact('cores', 8);
    assert.deepEqual(store.getMachineFact('cores', z.number().int())?.value, 8);
    assert.throws(() => store.setMachineFact('nothing', undefined), TypeError);
    assert.throws(() => store.setMachineFact('big', 10n), TypeError);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.throws(() => store.setMachineFact('cycle', cyclic), TypeError);
    store.close();

    const raw = new Database(file);
    raw.prepare(`UPDATE machine_facts SET value_json = '{not json' WHERE key = 'cores'`).run();
    raw.close();
    const again = open(file, { machineKey: 'cpu-A' });
    const otherMachine = open(file, { machineKey: 'cpu-B' });
    try {
      assert.equal(again.getMachineFact('cores', z.number()), null, 'invalid JSON → null');
      assert.equal(again.getMachineFact('memoryBandwidth', bandwidth)?.value.bytesPerSecond, 30e9, 'persisted');
      assert.equal(otherMachine.getMachineFact('memoryBandwidth', bandwidth), null, 'facts are per machine');
    } finally {
      again.close();
      otherMachine.close();
    }
  });

  test('model load costs: medians of recent loads of the current file on this machine', () => {
    const file = freshPath();
    const c = clock(1_000);
    const store = open(file, { now: c.now, machineKey: 'cpu-A' });
    try {
      assert.equal(store.modelLoadCosts('/models/a.gguf'), null, 'never loaded');
      const load = (loadMs: number, loadEnergyJ: number | null, modelSizeBytes = 1000) => {
        c.tick(1000);
        store.recordModelLoad({ modelPath: '/models/a.gguf', modelSizeBytes, loadMs, loadEnergyJ });
      };
      load(5000, 50, 999); // an older file of a different size
      load(900, 9);
      load(300, null);
      load(200, 2);
      assert.deepEqual(store.modelLoadCosts('/models/a.gguf'), { medianLoadMs: 300, medianLoadEnergyJ: 5.5, samples: 3 });
      load(100, null);
      assert.deepEqual(store.modelLoadCosts('/models/a.gguf'), { medianLoadMs: 250, medianLoadEnergyJ: 5.5, samples: 4 });
      for (let i = 0; i < 25; i++) load(10, null);
      assert.deepEqual(store.modelLoadCosts('/models/a.gguf'), { medianLoadMs: 10, medianLoadEnergyJ: null, samples: 20 }, 'only the last 20');
      load(7000, 70, 2000); // the file was replaced: its loads start over
      assert.deepEqual(store.modelLoadCosts('/models/a.gguf'), { medianLoadMs: 7000, medianLoadEnergyJ: 70, samples: 1 });

      assert.throws(() => store.recordModelLoad({ modelPath: '', modelSizeBytes: 1, loadMs: 1, loadEnergyJ: null }), RangeError);
      assert.throws(() => store.recordModelLoad({ modelPath: '/m', modelSizeBytes: -1, loadMs: 1, loadEnergyJ: null }), RangeError);
      assert.throws(() => store.recordModelLoad({ modelPath: '/m', modelSizeBytes: 1, loadMs: Number.NaN, loadEnergyJ: null }), RangeError);
      assert.throws(() => store.recordModelLoad({ modelPath: '/m', modelSizeBytes: 1, loadMs: 1, loadEnergyJ: -2 }), RangeError);
      assert.equal(store.modelLoadCosts('/m'), null, 'rejected loads wrote nothing');

      const other = open(file, { machineKey: 'cpu-B' });
      try {
        assert.equal(other.modelLoadCosts('/models/a.gguf'), null, 'per machine');
      } finally {
        other.close();
      }
    } finally {
      store.close();
    }
  });
});
