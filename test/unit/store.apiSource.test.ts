/**
 * The local API's conversations in the store (issue 9): one per local calendar day, got or created
 * atomically (by two handles and by racing processes on one file), never listed or found by the chat
 * sidebar's list and search, but counted in the Energy view with source 'api' and exported with a
 * `source` column.
 *
 * Runs in America/New_York (set below, before any Date is made) so local days differ from UTC days: a
 * UTC-based day split fails the late-evening case.
 */
process.env.TZ = 'America/New_York';

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import {
  conversationDetailSchema,
  conversationEnergySchema,
  conversationSummarySchema,
  type ReplyEnergy,
  type ReplyStats,
} from '../../shared/contract.js';
import { Store, apiConversationTitle, messagesCsvColumns, type StoreOptions } from '../../electron/store/store.js';
import { StoreError } from '../../electron/store/storeError.js';
import { repoRoot } from '../helpers/models.js';

const root = mkdtempSync(join(tmpdir(), 'wattwise-api-'));
after(() => rmSync(root, { recursive: true, force: true }));
let fileCounter = 0;
function freshPath(): string {
  fileCounter += 1;
  return join(root, `case-${fileCounter}`, 'wattwise.sqlite');
}

/** Local time (America/New_York) as ms since the epoch; `month` 1-12. */
function local(year: number, month: number, day: number, hour = 12, minute = 0, second = 0): number {
  return new Date(year, month - 1, day, hour, minute, second).getTime();
}

/** A controllable clock. */
function clock(start = local(2026, 5, 28, 9)) {
  let t = start;
  return { now: () => t, tick: (ms = 1) => (t += ms), set: (v: number) => (t = v) };
}

function open(filePath: string, extra: Partial<StoreOptions> = {}): Store {
  return Store.open({ filePath, ...extra });
}

function stats(at: number, overrides: Partial<ReplyStats> = {}): ReplyStats {
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
    startedAt: at - 800,
    endedAt: at,
    ...overrides,
  };
}

function energy(energyJ: number): ReplyEnergy {
  return {
    energyJ,
    energyJPerToken: energyJ / 20,
    avgPowerW: 12.5,
    peakPowerW: 18.25,
    baselinePowerW: 4.5,
    sourceId: 'linux-battery:BAT0',
    sourceLabel: 'battery sensor',
    measured: true,
    method: 'system-minus-baseline',
    fallbackReason: null,
    sampleCount: 3,
  };
}

/** A user message then a finished assistant reply with stats ending at `at` and `energyJ` J (the way the backend writes one). */
function exchange(store: Store, conversationId: string, input: { question: string; answer: string; at: number; energyJ: number }): string {
  store.addMessage({ conversationId, role: 'user', content: input.question, status: 'complete' });
  const m = store.addMessage({ conversationId, role: 'assistant', content: '', status: 'streaming' });
  store.finishMessage(m.id, { content: input.answer, status: 'complete', stats: stats(input.at), error: null, energy: energy(input.energyJ) });
  return m.id;
}

/** Raw read through a second connection. */
function rawAll<T>(file: string, sql: string, ...params: unknown[]): T[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

/** RFC 4180 records (fields may be quoted; records end with CRLF). Enough for the store's own output. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      record.push(field);
      field = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i += 1;
    } else field += ch;
  }
  return records;
}

describe('apiConversation', () => {
  test('one per local day: the same one all day long, a new one the next local day (not the next UTC day)', () => {
    const c = clock();
    const store = open(freshPath(), { now: c.now });
    try {
      const morning = store.apiConversation();
      assert.equal(conversationSummarySchema.safeParse(morning).success, true);
      assert.deepEqual(morning, {
        id: morning.id,
        title: 'API requests · 2026-05-28',
        createdAt: c.now(),
        updatedAt: c.now(),
        systemPrompt: '',
        modelPath: null,
        pinnedModelPath: null,
        presetId: null,
        overrides: null,
        energyJ: 0,
        messageCount: 0,
        promptTokens: 0,
        completionTokens: 0,
        snippet: null,
      });
      assert.equal(apiConversationTitle('2026-05-28'), 'API requests · 2026-05-28');

      // 23:59:59 in New York is already the 29th in UTC: still the 28th's conversation.
      const lateEvening = store.apiConversation({ now: local(2026, 5, 28, 23, 59, 59) });
      assert.equal(lateEvening.id, morning.id);
      assert.equal(lateEvening.createdAt, morning.createdAt, 'got, not re-created');
      // 00:30 on the 28th in UTC is 20:30 on the 27th in New York: the 27th's conversation.
      const earlyUtc = store.apiConversation({ now: Date.UTC(2026, 4, 28, 0, 30) });
      assert.notEqual(earlyUtc.id, morning.id);
      assert.equal(earlyUtc.title, 'API requests · 2026-05-27');

      const nextDay = store.apiConversation({ now: local(2026, 5, 29, 0, 0, 1) });
      assert.notEqual(nextDay.id, morning.id);
      assert.equal(nextDay.title, 'API requests · 2026-05-29');
      assert.equal(nextDay.createdAt, local(2026, 5, 29, 0, 0, 1));
      assert.equal(store.apiConversation({ now: local(2026, 5, 29, 18) }).id, nextDay.id);

      const rows = rawAll<{ source: string; apiDay: string; titleIsAuto: number }>(
        store.filePath,
        `SELECT source, api_day AS apiDay, title_is_auto AS titleIsAuto FROM conversations ORDER BY seq`,
      );
      assert.deepEqual(rows, [
        { source: 'api', apiDay: '2026-05-28', titleIsAuto: 0 },
        { source: 'api', apiDay: '2026-05-27', titleIsAuto: 0 },
        { source: 'api', apiDay: '2026-05-29', titleIsAuto: 0 },
      ]);
    } finally {
      store.close();
    }
  });

  test('messages never rename it; its summary counts its messages; a renamed or deleted one is handled', () => {
    const c = clock();
    const store = open(freshPath(), { now: c.now });
    try {
      const api = store.apiConversation();
      c.tick(1000);
      exchange(store, api.id, { question: 'What is a watt?', answer: 'A joule per second.', at: c.now(), energyJ: 4 });
      const again = store.apiConversation();
      assert.equal(again.id, api.id);
      assert.equal(again.title, 'API requests · 2026-05-28', 'the first user message did not name it');
      assert.equal(again.messageCount, 2);
      assert.equal(again.energyJ, 4);
      assert.equal(again.completionTokens, 20);
      assert.equal(again.updatedAt, c.now());

      const detail = store.getConversation(api.id);
      assert.equal(conversationDetailSchema.safeParse(detail).success, true);
      assert.deepEqual(
        detail?.messages.map((m) => [m.role, m.content]),
        [
          ['user', 'What is a watt?'],
          ['assistant', 'A joule per second.'],
        ],
      );

      // A user may rename it: it stays the day's conversation.
      assert.equal(store.renameConversation(api.id, 'My scripts')?.title, 'My scripts');
      assert.equal(store.apiConversation().id, api.id);
      assert.equal(store.apiConversation().title, 'My scripts');

      // Deleted: the next request of the day starts a new one.
      assert.equal(store.deleteConversation(api.id), true);
      assert.equal(store.getConversation(api.id), null);
      const fresh = store.apiConversation();
      assert.notEqual(fresh.id, api.id);
      assert.equal(fresh.title, 'API requests · 2026-05-28');
      assert.equal(fresh.messageCount, 0);
    } finally {
      store.close();
    }
  });

  test('a bad now is a RangeError and writes nothing; a read-only store refuses with a StoreError', () => {
    const file = freshPath();
    const store = open(file);
    try {
      for (const now of [Number.NaN, Number.POSITIVE_INFINITY, -1]) assert.throws(() => store.apiConversation({ now }), RangeError);
      assert.equal(rawAll(file, `SELECT id FROM conversations`).length, 0);
    } finally {
      store.close();
    }
    const opened = Store.openForReading({ filePath: file });
    assert.equal(opened.kind, 'open');
    if (opened.kind !== 'open') return;
    try {
      assert.throws(
        () => opened.store.apiConversation(),
        (e: unknown) => e instanceof StoreError && e.code === 'STORAGE_FAILED',
      );
    } finally {
      opened.store.close();
    }
  });

  test('two stores on one file get the same conversation', () => {
    const file = freshPath();
    const a = open(file);
    const b = open(file);
    try {
      const now = local(2026, 5, 28, 10);
      const fromA = a.apiConversation({ now });
      const fromB = b.apiConversation({ now: now + 5000 });
      assert.equal(fromB.id, fromA.id);
      assert.equal(fromB.createdAt, now);
      assert.equal(a.apiConversation({ now: now + 9000 }).id, fromA.id);
      assert.equal(rawAll(file, `SELECT id FROM conversations`).length, 1);
    } finally {
      a.close();
      b.close();
    }
  });

  test('processes racing for the day get one conversation', async () => {
    const file = freshPath();
    open(file).close(); // created and migrated before the race
    const storeUrl = pathToFileURL(join(repoRoot, 'electron', 'store', 'store.ts')).href;
    const startAt = Date.now() + 2500;
    const code = `
      const { Store } = await import(${JSON.stringify(storeUrl)});
      const store = Store.open({ filePath: ${JSON.stringify(file)} });
      while (Date.now() < ${startAt}) {}
      const c = store.apiConversation({ now: ${local(2026, 5, 28, 10)} });
      store.close();
      process.stdout.write(c.id + '\\n');
    `;
    const runOne = () =>
      new Promise<string>((res, rej) => {
        const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
          cwd: repoRoot,
          env: { ...process.env, TZ: 'America/New_York' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        child.on('error', rej);
        child.on('exit', (status) => (status === 0 ? res(out.trim()) : rej(new Error(`child exited ${String(status)}: ${err}`))));
      });
    const ids = await Promise.all([runOne(), runOne(), runOne(), runOne()]);
    assert.equal(new Set(ids).size, 1, ids.join(', '));
    assert.deepEqual(rawAll(file, `SELECT id, api_day AS apiDay FROM conversations`), [{ id: ids[0], apiDay: '2026-05-28' }]);
  });
});

describe('chat list and search leave API conversations out', () => {
  test('listConversations and searchConversations show only app conversations, even when the term is in an API message', () => {
    const c = clock();
    const file = freshPath();
    const store = open(file, { now: c.now });
    try {
      const chat = store.createConversation({ systemPrompt: '', modelPath: null });
      exchange(store, chat.id, { question: 'Tell me about zebras', answer: 'Zebras are striped.', at: c.now(), energyJ: 2 });
      c.tick(1000);
      const api = store.apiConversation();
      exchange(store, api.id, { question: 'zebra facts please', answer: 'okapi and zebra', at: c.now(), energyJ: 3 });
      exchange(store, api.id, { question: 'only here: quokka', answer: 'quokka!', at: c.tick(1000), energyJ: 1 });
      c.tick(1000);

      assert.deepEqual(store.listConversations().map((x) => x.id), [chat.id], 'the API conversation is newer but not listed');
      assert.deepEqual(store.searchConversations('').map((x) => x.id), [chat.id], 'a blank query lists chat only');
      assert.deepEqual(store.searchConversations('zebra').map((x) => x.id), [chat.id]);
      assert.deepEqual(store.searchConversations('quokka'), [], 'a term only in API messages finds nothing');
      assert.deepEqual(store.searchConversations('API requests'), [], 'nor does its title');
      assert.deepEqual(store.searchConversations('okapi'), []);

      // Every other read works for it.
      assert.equal(store.getConversation(api.id)?.messages.length, 4);
      store.addPowerSamples(api.id, null, [{ at: c.now(), powerW: 9, sourceId: 'rapl:0', sourceLabel: 'RAPL package', measured: true }]);
      const trace = store.energyTrace(api.id);
      assert.equal(trace?.samples.length, 1);
      assert.equal(trace?.replies.length, 2);
    } finally {
      store.close();
    }
  });
});

describe('energy summary and export carry the source', () => {
  test('energySummary: API conversations with source api and their energy counted; chat with source app', () => {
    const c = clock();
    const store = open(freshPath(), { now: c.now });
    try {
      const chat = store.createConversation({ systemPrompt: '', modelPath: null, title: 'Chat' });
      exchange(store, chat.id, { question: 'q', answer: 'a', at: c.now(), energyJ: 2 });
      c.tick(1000);
      const api = store.apiConversation();
      exchange(store, api.id, { question: 'q1', answer: 'a1', at: c.now(), energyJ: 3 });
      exchange(store, api.id, { question: 'q2', answer: 'a2', at: c.tick(1000), energyJ: 5 });
      c.tick(1000);

      const summary = store.energySummary({ days: 1 });
      for (const row of summary.conversations) assert.equal(conversationEnergySchema.safeParse(row).success, true);
      assert.deepEqual(
        summary.conversations.map((r) => [r.conversationId, r.title, r.source, r.energyJ, r.replies, r.completionTokens]),
        [
          [api.id, 'API requests · 2026-05-28', 'api', 8, 2, 40],
          [chat.id, 'Chat', 'app', 2, 1, 20],
        ],
      );
      assert.deepEqual(summary.days, [{ day: '2026-05-28', models: [{ modelName: 'tiny', energyJ: 10, completionTokens: 60 }] }]);
    } finally {
      store.close();
    }
  });

  test('messages CSV ends with a source column: app or api', () => {
    const c = clock();
    const store = open(freshPath(), { now: c.now });
    try {
      const chat = store.createConversation({ systemPrompt: '', modelPath: null, title: 'Chat' });
      exchange(store, chat.id, { question: 'q', answer: 'a', at: c.now(), energyJ: 2 });
      const api = store.apiConversation();
      exchange(store, api.id, { question: 'q1', answer: 'a1', at: c.tick(1000), energyJ: 3 });

      assert.equal(messagesCsvColumns[messagesCsvColumns.length - 1], 'source');
      const records = parseCsv(store.exportMessagesCsv().csv);
      assert.deepEqual(records[0], [...messagesCsvColumns]);
      const col = (name: (typeof messagesCsvColumns)[number]) => messagesCsvColumns.indexOf(name);
      const body = records.slice(1);
      for (const rec of body) assert.equal(rec.length, messagesCsvColumns.length);
      assert.deepEqual(
        body.map((r) => [r[col('conversation_id')], r[col('role')], r[col('source')]]),
        [
          [chat.id, 'user', 'app'],
          [chat.id, 'assistant', 'app'],
          [api.id, 'user', 'api'],
          [api.id, 'assistant', 'api'],
        ],
      );

      const one = store.exportMessagesCsv(api.id);
      assert.match(one.fileName, /^wattwise-messages-api-requests-2026-05-28-2026-05-28\.csv$/);
      const oneRecords = parseCsv(one.csv).slice(1);
      assert.deepEqual(oneRecords.map((r) => r[col('source')]), ['api', 'api']);
      assert.equal(oneRecords[1]?.[col('energy_j')], '3');
    } finally {
      store.close();
    }
  });
});
