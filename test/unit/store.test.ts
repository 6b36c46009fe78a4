/**
 * The SQLite store on real files in a temp folder: CRUD and restart survival, crash recovery (a child
 * process killed with SIGKILL mid-reply), search, titles, ordering, settings, calibrations, and the
 * storage failures (not a database, newer schema, disk full).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import type { ReplyStats, Settings, ThreadCalibration } from '../../shared/contract.js';
import { conversationDetailSchema, conversationSummarySchema, messageSchema } from '../../shared/contract.js';
import { InvalidSettingsError, Store, deriveTitle, toFtsQuery, type StoreOptions } from '../../electron/store/store.js';
import { latestSchemaVersion, migrate } from '../../electron/store/migrations/index.js';
import { defaultGovernorSettings } from '../../electron/core/governorSettings.js';
import { StoreError } from '../../electron/store/storeError.js';
import { repoRoot } from '../helpers/models.js';

const root = mkdtempSync(join(tmpdir(), 'wattwise-'));
after(() => rmSync(root, { recursive: true, force: true }));
let fileCounter = 0;
/** A fresh database path in a not-yet-existing sub folder (so folder creation is exercised too). */
function freshPath(): string {
  fileCounter += 1;
  return join(root, `case-${fileCounter}`, 'nested', 'wattwise.sqlite');
}

/** A controllable clock: starts at a fixed time; `tick` advances it. */
function clock(start = 1_700_000_000_000) {
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
    completionTokens: 25,
    ttftMs: 12.5,
    prefillTokensPerSecond: 800.25,
    decodeTokensPerSecond: 55.5,
    threads: 4,
    contextSize: 2048,
    startedAt: 1_700_000_000_100,
    endedAt: 1_700_000_000_900,
    ...overrides,
  };
}

/** Fails unless both FTS indexes match their content tables exactly. */
function assertFtsInSync(filePath: string): void {
  const db = new Database(filePath);
  try {
    db.exec(`INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)`);
    db.exec(`INSERT INTO conversations_fts (conversations_fts, rank) VALUES ('integrity-check', 1)`);
  } finally {
    db.close();
  }
}

function expectStoreError(fn: () => unknown, code: StoreError['code'], pattern?: RegExp): StoreError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof StoreError, `expected a StoreError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  if (pattern) assert.match(caught.message, pattern);
  return caught;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('CRUD and restart survival', () => {
  test('conversations and messages round-trip through a real file and survive a reopen', () => {
    const file = freshPath();
    const c = clock();
    const store = open(file, { now: c.now });
    assert.equal(store.recoveredInterruptedCount, 0);
    assert.ok(existsSync(file), 'the file and its folders are created');

    const a = store.createConversation({ systemPrompt: 'You are terse.', modelPath: '/models/a.gguf' });
    assert.equal(conversationSummarySchema.safeParse(a).success, true);
    assert.deepEqual(
      { title: a.title, createdAt: a.createdAt, updatedAt: a.updatedAt, messageCount: a.messageCount, snippet: a.snippet },
      { title: 'New chat', createdAt: c.now(), updatedAt: c.now(), messageCount: 0, snippet: null },
    );
    c.tick(10);
    const b = store.createConversation({ systemPrompt: '', modelPath: null, title: 'Chosen title' });
    assert.equal(b.title, 'Chosen title');

    c.tick(10);
    const user = store.addMessage({ conversationId: a.id, role: 'user', content: 'What is 2+2?', status: 'complete' });
    assert.equal(messageSchema.safeParse(user).success, true);
    assert.equal(user.stats, null);
    assert.equal(user.error, null);
    c.tick(10);
    const reply = store.addMessage({ conversationId: a.id, role: 'assistant', content: '', status: 'streaming' });
    store.updateMessageContent(reply.id, '4');
    assert.equal(store.getMessage(reply.id)?.content, '4');
    assert.equal(store.getMessage(reply.id)?.status, 'streaming');
    c.tick(10);
    const finished = store.finishMessage(reply.id, { content: '4.', status: 'complete', stats: stats(), error: null });
    assert.deepEqual(finished.stats, stats(), 'every ReplyStats field survives the columns');
    assert.equal(finished.content, '4.');
    assert.equal(finished.status, 'complete');
    const failed = store.addMessage({
      conversationId: a.id,
      role: 'assistant',
      content: 'partial',
      status: 'error',
      stats: stats({ promptTokens: 7, completionTokens: 3 }),
      error: 'out of memory',
    });
    assert.equal(failed.error, 'out of memory');

    // Aggregates: all messages counted; token totals over the assistant messages.
    const detail = store.getConversation(a.id);
    assert.ok(detail);
    assert.equal(conversationDetailSchema.safeParse(detail).success, true);
    assert.equal(detail.conversation.messageCount, 3);
    assert.equal(detail.conversation.promptTokens, 107);
    assert.equal(detail.conversation.completionTokens, 28);
    assert.equal(detail.conversation.updatedAt, c.now(), 'finishing a reply bumps updatedAt');
    assert.deepEqual(
      detail.messages.map((m) => [m.role, m.content, m.status]),
      [
        ['user', 'What is 2+2?', 'complete'],
        ['assistant', '4.', 'complete'],
        ['assistant', 'partial', 'error'],
      ],
    );

    // Newest updatedAt first.
    assert.deepEqual(store.listConversations().map((s) => s.id), [a.id, b.id]);
    c.tick(10);
    store.addMessage({ conversationId: b.id, role: 'user', content: 'hi', status: 'complete' });
    assert.deepEqual(store.listConversations().map((s) => s.id), [b.id, a.id]);

    store.setConversationModel(a.id, '/models/b.gguf');
    assert.equal(store.getConversation(a.id)?.conversation.modelPath, '/models/b.gguf');

    const before = { list: store.listConversations(), a: store.getConversation(a.id), b: store.getConversation(b.id) };
    store.close();
    store.close(); // idempotent

    const reopened = open(file, { now: c.now });
    assert.equal(reopened.recoveredInterruptedCount, 0);
    assert.deepEqual(reopened.listConversations(), before.list);
    assert.deepEqual(reopened.getConversation(a.id), before.a);
    assert.deepEqual(reopened.getConversation(b.id), before.b);

    assert.equal(reopened.deleteConversation(a.id), true);
    assert.equal(reopened.deleteConversation(a.id), false);
    assert.equal(reopened.getConversation(a.id), null);
    assert.equal(reopened.getMessage(reply.id), null, 'messages go with their conversation');
    reopened.close();
    assertFtsInSync(file);
  });

  test('unknown ids: null, false, 0 or StoreError NOT_FOUND as documented', () => {
    const store = open(freshPath());
    try {
      assert.equal(store.getConversation('nope'), null);
      assert.equal(store.getMessage('nope'), null);
      assert.equal(store.renameConversation('nope', 'x'), null);
      assert.equal(store.deleteConversation('nope'), false);
      assert.equal(store.deleteMessagesAfter('nope', { inclusive: true }), 0);
      expectStoreError(() => store.addMessage({ conversationId: 'nope', role: 'user', content: 'x', status: 'complete' }), 'NOT_FOUND', /nope/);
      expectStoreError(() => store.updateMessageContent('nope', 'x'), 'NOT_FOUND');
      expectStoreError(() => store.finishMessage('nope', { content: '', status: 'complete', stats: null, error: null }), 'NOT_FOUND');
      expectStoreError(() => store.updateUserMessage('nope', 'x'), 'NOT_FOUND');
      expectStoreError(() => store.setConversationModel('nope', '/m.gguf'), 'NOT_FOUND');
      const c = store.createConversation({ systemPrompt: '', modelPath: null });
      const reply = store.addMessage({ conversationId: c.id, role: 'assistant', content: 'a', status: 'complete' });
      expectStoreError(() => store.updateUserMessage(reply.id, 'x'), 'NOT_FOUND', /user message/);
      assert.equal(store.getMessage(reply.id)?.content, 'a', 'an assistant message is not edited as a user message');
      assert.throws(() => store.renameConversation(c.id, '   '), RangeError);

      // Energy and governor calls: null, ignored, or NOT_FOUND as documented.
      assert.equal(store.energyTrace('nope'), null);
      assert.equal(store.getMessageGovernor('nope'), null);
      assert.equal(store.modelLoadCosts('/nope.gguf'), null);
      store.addPowerSamples('nope', 'nope', [{ at: 1000, powerW: 1, sourceId: 's', sourceLabel: 'S', measured: true }]);
      assert.deepEqual(store.energySummary({ days: 1 }).conversations.map((x) => x.conversationId), [c.id]);
      expectStoreError(() => store.exportMessagesCsv('nope'), 'NOT_FOUND', /nope/);
      expectStoreError(() => store.exportSamplesCsv('nope'), 'NOT_FOUND', /nope/);
    } finally {
      store.close();
    }
  });
});

describe('crash recovery', () => {
  test('a reply left streaming by a process killed with SIGKILL is interrupted, with its partial content', async () => {
    const file = freshPath();
    const storeUrl = pathToFileURL(join(repoRoot, 'electron', 'store', 'store.ts')).href;
    const code = `
      const { Store } = await import(${JSON.stringify(storeUrl)});
      const store = Store.open({ filePath: ${JSON.stringify(file)} });
      const c = store.createConversation({ systemPrompt: '', modelPath: null });
      store.addMessage({ conversationId: c.id, role: 'user', content: 'Tell me a story', status: 'complete' });
      const m = store.addMessage({ conversationId: c.id, role: 'assistant', content: '', status: 'streaming' });
      store.updateMessageContent(m.id, 'Once upon a');
      store.updateMessageContent(m.id, 'Once upon a time, a dragon');
      process.stdout.write(JSON.stringify({ conversationId: c.id, messageId: m.id }) + '\\n');
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
      child.on('exit', (code, signal) => res({ code, signal })),
    );
    const ids = await new Promise<{ conversationId: string; messageId: string }>((res, rej) => {
      let out = '';
      const timer = setTimeout(() => rej(new Error(`child did not report in time; stderr: ${stderr}`)), 30_000);
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const nl = out.indexOf('\n');
        if (nl >= 0) {
          clearTimeout(timer);
          res(JSON.parse(out.slice(0, nl)));
        }
      });
      void exited.then(({ code }) => rej(new Error(`child exited early (${code}); stderr: ${stderr}`)));
    });
    child.kill('SIGKILL');
    const { signal } = await exited;
    assert.equal(signal, 'SIGKILL');
    assert.ok(existsSync(`${file}-wal`), 'the killed process never closed the database (its WAL is still there)');

    const store = open(file);
    try {
      assert.equal(store.recoveredInterruptedCount, 1);
      const m = store.getMessage(ids.messageId);
      assert.equal(m?.status, 'interrupted');
      assert.equal(m?.content, 'Once upon a time, a dragon');
      const detail = store.getConversation(ids.conversationId);
      assert.deepEqual(detail?.messages.map((x) => x.status), ['complete', 'interrupted']);
      assert.equal(detail?.conversation.title, 'Tell me a story');
    } finally {
      store.close();
    }
    const again = open(file);
    assert.equal(again.recoveredInterruptedCount, 0, 'recovery is persisted: nothing left to recover');
    again.close();
  });

  test('closing a handle without finishing also leaves the reply to be recovered', () => {
    const file = freshPath();
    const store = open(file);
    const c = store.createConversation({ systemPrompt: '', modelPath: null });
    const a = store.addMessage({ conversationId: c.id, role: 'assistant', content: 'half', status: 'streaming' });
    const b = store.addMessage({ conversationId: c.id, role: 'assistant', content: 'whole', status: 'complete' });
    store.close();
    const reopened = open(file);
    try {
      assert.equal(reopened.recoveredInterruptedCount, 1);
      assert.equal(reopened.getMessage(a.id)?.status, 'interrupted');
      assert.equal(reopened.getMessage(a.id)?.content, 'half');
      assert.equal(reopened.getMessage(b.id)?.status, 'complete');
    } finally {
      reopened.close();
    }
  });
});

describe('search', () => {
  test('finds by message text and by title, prefix-matched, ranked, with a bracketed snippet', () => {
    const file = freshPath();
    const c = clock();
    const store = open(file, { now: c.now });
    try {
      const rust = store.createConversation({ systemPrompt: '', modelPath: null });
      store.renameConversation(rust.id, 'Rust borrow checker');
      store.addMessage({ conversationId: rust.id, role: 'user', content: 'How do lifetimes work?', status: 'complete' });
      c.tick();
      const baking = store.createConversation({ systemPrompt: '', modelPath: null, title: 'Weekend baking' });
      store.addMessage({
        conversationId: baking.id,
        role: 'user',
        content: 'I want to bake a sourdough loaf this weekend, and drink a café au lait while it proves. What flour should I buy?',
        status: 'complete',
      });
      c.tick();
      const dense = store.createConversation({ systemPrompt: '', modelPath: null, title: 'Misc' });
      store.addMessage({ conversationId: dense.id, role: 'assistant', content: 'Sourdough sourdough sourdough.', status: 'complete' });

      const byText = store.searchConversations('flour');
      assert.deepEqual(byText.map((s) => s.id), [baking.id]);
      assert.match(byText[0]?.snippet ?? '', /\[flour\]/);
      assert.ok((byText[0]?.snippet ?? '').length < 120, 'the snippet is an excerpt, not the whole message');
      assert.equal(byText[0]?.messageCount, 1, 'search results carry the aggregates');

      const byPrefix = store.searchConversations('sourd');
      assert.deepEqual(byPrefix.map((s) => s.id), [dense.id, baking.id], 'both match; the denser match ranks first (bm25)');
      assert.match(byPrefix[1]?.snippet ?? '', /\[sourdough\]/);

      const byTitle = store.searchConversations('borr');
      assert.deepEqual(byTitle.map((s) => s.id), [rust.id]);
      assert.equal(byTitle[0]?.snippet, 'Rust [borrow] checker');

      assert.deepEqual(store.searchConversations('SOURDOUGH FLOUR').map((s) => s.id), [baking.id], 'case-insensitive, all terms required');
      assert.deepEqual(store.searchConversations('sourdough lifetimes'), [], 'terms must all match in one message or title');
      assert.deepEqual(store.searchConversations('cafe').map((s) => s.id), [baking.id], 'accent-insensitive');
      assert.deepEqual(store.searchConversations('  "flour"  ').map((s) => s.id), [baking.id], 'quotes in the query are harmless');
      assert.deepEqual(store.searchConversations('flour:').map((s) => s.id), [baking.id], 'a trailing colon is not a column filter');
      assert.deepEqual(store.searchConversations('zebra'), []);

      // Blank query = the plain list.
      assert.deepEqual(store.searchConversations(''), store.listConversations());
      assert.deepEqual(store.searchConversations('  \n\t '), store.listConversations());

      // Renaming re-indexes the title.
      store.renameConversation(rust.id, 'Ownership notes');
      assert.deepEqual(store.searchConversations('borrow'), []);
      assert.deepEqual(store.searchConversations('ownership').map((s) => s.id), [rust.id]);
    } finally {
      store.close();
    }
    assertFtsInSync(file);
  });

  test('hostile queries never throw', () => {
    const store = open(freshPath());
    try {
      const conv = store.createConversation({ systemPrompt: '', modelPath: null });
      store.addMessage({ conversationId: conv.id, role: 'user', content: 'say hello to NEAR and AND friends a:b 🙂', status: 'complete' });
      const hostile = [
        '"',
        '""',
        '"unterminated',
        'AND OR NOT',
        'AND',
        'NOT hello',
        '*',
        '**',
        'hello*',
        '^hello',
        'a:b',
        'content:hello',
        ':',
        '(',
        ')',
        '(hello',
        'NEAR(',
        'NEAR(hello friends, 2)',
        '-hello',
        '+hello',
        '{content}: hello',
        '😀',
        '🙂 hello 😀',
        '\u0000hello\u0000',
        'x'.repeat(10_240),
        Array.from({ length: 2000 }, (_, i) => `w${i}`).join(' ').slice(0, 10_240),
        'héllo wörld 日本語 العربية',
        "it's",
        '\\',
        '%_',
        "'; DROP TABLE messages; --",
        '\ud800',
      ];
      for (const q of hostile) {
        let result: unknown;
        assert.doesNotThrow(() => {
          result = store.searchConversations(q);
        }, `query ${JSON.stringify(q.slice(0, 40))}`);
        assert.ok(Array.isArray(result));
      }
      // Operators are just words: these find the message that contains the words.
      assert.deepEqual(store.searchConversations('NOT hello').map((s) => s.id), []);
      assert.deepEqual(store.searchConversations('near and').map((s) => s.id), [conv.id]);
      assert.deepEqual(store.searchConversations('NEAR(hello').map((s) => s.id), [], 'NEAR( is the word "near" prefix-joined to "hello"');
      assert.deepEqual(store.searchConversations('\u0000hello\u0000').map((s) => s.id), [conv.id]);
      assert.deepEqual(store.searchConversations('a:b').map((s) => s.id), [conv.id]);
      assert.deepEqual(store.searchConversations('🙂 hello').map((s) => s.id), [conv.id], 'emoji terms are dropped, the rest still searched');
      assert.deepEqual(store.searchConversations('😀'), [], 'a query with nothing searchable finds nothing');
      assert.ok(store.getConversation(conv.id), 'the injection-looking query did nothing');
    } finally {
      store.close();
    }
  });

  test('toFtsQuery quotes every term, prefix-matches it and drops unsearchable ones', () => {
    assert.equal(toFtsQuery('hello world'), '"hello"* "world"*');
    assert.equal(toFtsQuery('say "hi"'), '"say"* """hi"""*');
    assert.equal(toFtsQuery('* ( 😀 "'), null);
    assert.equal(toFtsQuery('OR'), '"OR"*');
    const many = toFtsQuery(Array.from({ length: 100 }, (_, i) => `t${i}`).join(' '));
    assert.equal(many?.split(' ').length, 16, 'at most 16 terms');
  });

  test('partial content while streaming is searchable, stale text is not; deletes leave search', () => {
    const file = freshPath();
    const store = open(file);
    try {
      const conv = store.createConversation({ systemPrompt: '', modelPath: null, title: 'Story time' });
      const other = store.createConversation({ systemPrompt: '', modelPath: null, title: 'Other' });
      store.addMessage({ conversationId: other.id, role: 'user', content: 'a dragon appears elsewhere', status: 'complete' });
      const m = store.addMessage({ conversationId: conv.id, role: 'assistant', content: '', status: 'streaming' });
      store.updateMessageContent(m.id, 'Once upon a time there was a knight');
      assert.deepEqual(store.searchConversations('knight').map((s) => s.id), [conv.id]);
      store.updateMessageContent(m.id, 'Once upon a time there was a wizard');
      assert.deepEqual(store.searchConversations('knight'), [], 'the superseded partial text is gone from the index');
      assert.deepEqual(store.searchConversations('wizard').map((s) => s.id), [conv.id]);
      store.finishMessage(m.id, { content: 'Once upon a time there was a wizard and a dragon.', status: 'complete', stats: null, error: null });
      assert.deepEqual(new Set(store.searchConversations('dragon').map((s) => s.id)), new Set([conv.id, other.id]));

      store.deleteMessagesAfter(m.id, { inclusive: true });
      assert.deepEqual(store.searchConversations('wizard'), [], 'deleted messages leave the index');
      assert.deepEqual(store.searchConversations('story').map((s) => s.id), [conv.id], 'the title is still searchable');

      assert.equal(store.deleteConversation(other.id), true);
      assert.deepEqual(store.searchConversations('dragon'), []);
      assert.deepEqual(store.searchConversations('other'), [], 'a deleted conversation leaves the title index');
    } finally {
      store.close();
    }
    assertFtsInSync(file);
  });
});

describe('titles', () => {
  test('the first user message names an auto-titled conversation; later ones do not', () => {
    const store = open(freshPath());
    try {
      const conv = store.createConversation({ systemPrompt: 'sys', modelPath: null });
      assert.equal(conv.title, 'New chat');
      store.addMessage({ conversationId: conv.id, role: 'system', content: 'System says hi', status: 'complete' });
      store.addMessage({ conversationId: conv.id, role: 'assistant', content: 'Greetings', status: 'complete' });
      assert.equal(store.getConversation(conv.id)?.conversation.title, 'New chat', 'only a user message names it');
      store.addMessage({ conversationId: conv.id, role: 'user', content: '\n\n   Plan   a\ttrip to   Lisbon  \nwith details', status: 'complete' });
      assert.equal(store.getConversation(conv.id)?.conversation.title, 'Plan a trip to Lisbon');
      store.addMessage({ conversationId: conv.id, role: 'user', content: 'Something else entirely', status: 'complete' });
      assert.equal(store.getConversation(conv.id)?.conversation.title, 'Plan a trip to Lisbon');
      // Title and message both match; either way the snippet is one line with the match bracketed.
      const [hit] = store.searchConversations('lisbon');
      assert.match(hit?.snippet ?? '', /^Plan a trip to \[Lisbon\]( with details)?$/);
    } finally {
      store.close();
    }
  });

  test('long first lines are cut on a word boundary with an ellipsis', () => {
    const text = 'The quick brown fox jumps over the lazy dog and keeps running far beyond the hills';
    const title = deriveTitle(text);
    assert.ok(title.endsWith('…'));
    const body = title.slice(0, -1);
    assert.ok(Array.from(body).length <= 60);
    assert.ok(text.startsWith(body));
    assert.equal(text[body.length], ' ', 'cut at a word boundary');
    assert.equal(deriveTitle('x'.repeat(100)), `${'x'.repeat(60)}…`, 'one long word is cut hard');
    assert.equal(deriveTitle('   \n  '), 'New chat');
    assert.equal(deriveTitle('Short one'), 'Short one');
    assert.equal(deriveTitle('😀'.repeat(70)), `${'😀'.repeat(60)}…`, 'cut by characters, never inside a surrogate pair');
  });

  test('a renamed title sticks; an auto title follows edits of the first user message', () => {
    const store = open(freshPath());
    try {
      const auto = store.createConversation({ systemPrompt: '', modelPath: null });
      const first = store.addMessage({ conversationId: auto.id, role: 'user', content: 'Original question', status: 'complete' });
      store.updateUserMessage(first.id, 'Edited question');
      assert.equal(store.getConversation(auto.id)?.conversation.title, 'Edited question');

      const renamed = store.renameConversation(auto.id, '  My own title  ');
      assert.equal(renamed?.title, 'My own title');
      store.updateUserMessage(first.id, 'Edited again');
      store.addMessage({ conversationId: auto.id, role: 'user', content: 'More', status: 'complete' });
      assert.equal(store.getConversation(auto.id)?.conversation.title, 'My own title');

      // Renamed before any user message: the first user message does not overwrite it.
      const early = store.createConversation({ systemPrompt: '', modelPath: null });
      store.renameConversation(early.id, 'Named early');
      store.addMessage({ conversationId: early.id, role: 'user', content: 'First words', status: 'complete' });
      assert.equal(store.getConversation(early.id)?.conversation.title, 'Named early');

      // A title given at creation is the user's too.
      const given = store.createConversation({ systemPrompt: '', modelPath: null, title: 'Given' });
      store.addMessage({ conversationId: given.id, role: 'user', content: 'Hello', status: 'complete' });
      assert.equal(store.getConversation(given.id)?.conversation.title, 'Given');
    } finally {
      store.close();
    }
  });
});

describe('ordering and truncation', () => {
  test('messages created in the same millisecond keep insertion order; deleteMessagesAfter is exclusive or inclusive', () => {
    const file = freshPath();
    const store = open(file, { now: () => 1_700_000_000_000 }); // every message in the same ms
    try {
      const conv = store.createConversation({ systemPrompt: '', modelPath: null });
      const other = store.createConversation({ systemPrompt: '', modelPath: null });
      const ids: string[] = [];
      const otherIds: string[] = [];
      for (let i = 0; i < 6; i++) {
        ids.push(store.addMessage({ conversationId: conv.id, role: i % 2 ? 'assistant' : 'user', content: `m${i}`, status: 'complete' }).id);
        // Interleaved with another conversation, so its sequence numbers sit in between.
        otherIds.push(store.addMessage({ conversationId: other.id, role: 'user', content: `o${i}`, status: 'complete' }).id);
      }
      assert.deepEqual(store.getConversation(conv.id)?.messages.map((m) => m.id), ids);
      assert.deepEqual(store.getConversation(conv.id)?.messages.map((m) => m.content), ['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);

      assert.equal(store.deleteMessagesAfter(ids[2]!, { inclusive: false }), 3);
      assert.deepEqual(store.getConversation(conv.id)?.messages.map((m) => m.content), ['m0', 'm1', 'm2']);
      const again = store.addMessage({ conversationId: conv.id, role: 'assistant', content: 'm3b', status: 'complete' });
      assert.deepEqual(store.getConversation(conv.id)?.messages.map((m) => m.id), [ids[0], ids[1], ids[2], again.id]);

      assert.equal(store.deleteMessagesAfter(ids[1]!, { inclusive: true }), 3);
      assert.deepEqual(store.getConversation(conv.id)?.messages.map((m) => m.content), ['m0']);
      assert.equal(store.getConversation(conv.id)?.conversation.messageCount, 1);
      assert.equal(store.deleteMessagesAfter(ids[0]!, { inclusive: false }), 0);

      assert.deepEqual(store.getConversation(other.id)?.messages.map((m) => m.id), otherIds, 'the other conversation is untouched');
    } finally {
      store.close();
    }
    const reopened = open(file);
    assert.equal(reopened.listConversations().length, 2);
    reopened.close();
  });
});

describe('settings', () => {
  const defaults: Settings = {
    modelsDir: null,
    contextSize: 2048,
    threads: null,
    maxReplyTokens: 512,
    theme: 'system',
    defaultSystemPrompt: 'You are a helpful assistant.',
    governor: defaultGovernorSettings,
    modelSources: { lmstudio: true, ollama: true, 'huggingface-cache': true, gpt4all: true, jan: true },
    calibration: { autoWhenIdleOnAc: false },
    api: { enabled: false, port: 8484, apiKey: null, keepText: true, allowedOrigins: [] },
    idleUnload: { onBatteryMinutes: 10, onAcMinutes: 60 },
    contextOverflow: 'rolling-window',
    lastModelPath: null,
  };

  test('defaults, then a patch that persists across a reopen', () => {
    const file = freshPath();
    const store = open(file);
    assert.deepEqual(store.getSettings(defaults), defaults);
    const merged = store.updateSettings({ contextSize: 4096, theme: 'dark', lastModelPath: '/models/a.gguf', threads: undefined }, defaults);
    assert.deepEqual(merged, { ...defaults, contextSize: 4096, theme: 'dark', lastModelPath: '/models/a.gguf' });
    store.updateSettings({ threads: 6 }, defaults);
    store.updateSettings({ threads: null, modelsDir: '/data/models' }, defaults);
    store.close();

    const reopened = open(file);
    try {
      const expected = { ...defaults, contextSize: 4096, theme: 'dark' as const, lastModelPath: '/models/a.gguf', modelsDir: '/data/models' };
      assert.deepEqual(reopened.getSettings(defaults), expected);
      // Defaults only fill keys that were never stored.
      assert.equal(reopened.getSettings({ ...defaults, maxReplyTokens: 99, contextSize: 128 }).maxReplyTokens, 99);
      assert.equal(reopened.getSettings({ ...defaults, maxReplyTokens: 99, contextSize: 128 }).contextSize, 4096);
    } finally {
      reopened.close();
    }
  });

  test('stored values that are not JSON or fail the schema are ignored', () => {
    const file = freshPath();
    open(file).close();
    const raw = new Database(file);
    const put = raw.prepare('INSERT INTO settings (key, value) VALUES (?, ?)');
    put.run('contextSize', 'not json {');
    put.run('theme', '"purple"');
    put.run('threads', '0');
    put.run('defaultSystemPrompt', '42');
    put.run('unknownKey', '"x"');
    put.run('maxReplyTokens', '100');
    raw.close();

    const store = open(file);
    try {
      const got = store.getSettings(defaults);
      assert.deepEqual(got, { ...defaults, maxReplyTokens: 100 });
      assert.equal('unknownKey' in got, false);
      // A good write replaces a bad stored value.
      assert.equal(store.updateSettings({ theme: 'light' }, defaults).theme, 'light');
    } finally {
      store.close();
    }
  });

  test('an invalid patch is rejected with a clear error and stores nothing', () => {
    const store = open(freshPath());
    try {
      assert.throws(
        () => store.updateSettings({ theme: 'dark', contextSize: 5 }, defaults),
        (e: unknown) => e instanceof InvalidSettingsError && e instanceof Error && /^invalid settings: contextSize: /.test(e.message) && !e.message.includes('\n'),
      );
      assert.deepEqual(store.getSettings(defaults), defaults, 'all or nothing: theme was not stored either');
      assert.throws(() => store.updateSettings({ theme: 'neon' as Settings['theme'] }, defaults), /invalid settings: theme/);
      assert.throws(() => store.updateSettings({ bogus: 1 } as Partial<Settings>, defaults), /invalid settings: .*bogus/);
      assert.throws(() => store.updateSettings({ threads: 1.5 }, defaults), InvalidSettingsError);
    } finally {
      store.close();
    }
  });
});

describe('thread calibrations', () => {
  const cal = (overrides: Partial<ThreadCalibration> = {}): ThreadCalibration => ({
    modelPath: '/models/tiny.gguf',
    modelSizeBytes: 1_234_567,
    bestThreads: 4,
    trials: [
      { threads: 2, decodeTokensPerSecond: 40.5 },
      { threads: 4, decodeTokensPerSecond: 61.25 },
    ],
    measuredAt: 1_700_000_000_000,
    ...overrides,
  });

  test('upsert per model path and machine; a size mismatch returns null', () => {
    const file = freshPath();
    const store = open(file, { machineKey: 'cpu-A/8' });
    assert.equal(store.getThreadCalibration('/models/tiny.gguf', 1_234_567), null);
    store.saveThreadCalibration(cal());
    assert.deepEqual(store.getThreadCalibration('/models/tiny.gguf', 1_234_567), cal());
    assert.equal(store.getThreadCalibration('/models/tiny.gguf', 1_234_568), null, 'the file changed size');

    store.saveThreadCalibration(cal({ bestThreads: 2, modelSizeBytes: 999, measuredAt: 1_700_000_001_000 }));
    assert.equal(store.getThreadCalibration('/models/tiny.gguf', 1_234_567), null);
    assert.equal(store.getThreadCalibration('/models/tiny.gguf', 999)?.bestThreads, 2);
    store.saveThreadCalibration(cal({ modelPath: '/models/a.gguf', trials: [] }));
    assert.deepEqual(store.listThreadCalibrations().map((c) => [c.modelPath, c.bestThreads]), [
      ['/models/a.gguf', 4],
      ['/models/tiny.gguf', 2],
    ]);
    store.close();

    const otherMachine = open(file, { machineKey: 'cpu-B/2' });
    assert.equal(otherMachine.getThreadCalibration('/models/tiny.gguf', 999), null, 'calibrations are per machine');
    assert.deepEqual(otherMachine.listThreadCalibrations(), []);
    otherMachine.close();

    const sameMachine = open(file, { machineKey: 'cpu-A/8' });
    assert.equal(sameMachine.listThreadCalibrations().length, 2, 'persisted');
    sameMachine.close();
  });
});

describe('storage failures', () => {
  test('a file that is not SQLite: STORAGE_FAILED naming the file, file untouched', () => {
    const file = freshPath();
    mkdirSync(join(file, '..'), { recursive: true });
    const junk = randomBytes(8192);
    writeFileSync(file, junk);
    const err = expectStoreError(() => open(file), 'STORAGE_FAILED', new RegExp(`database ${escapeRegExp(file)} is not a SQLite database`));
    assert.ok(!err.message.includes('\n'));
    assert.deepEqual(readFileSync(file), junk);
  });

  test('a database from a newer Wattwise is refused and left untouched', () => {
    const file = freshPath();
    mkdirSync(join(file, '..'), { recursive: true });
    const raw = new Database(file);
    raw.exec('CREATE TABLE future_things (x TEXT); INSERT INTO future_things VALUES (\'keep\')');
    raw.pragma('user_version = 999');
    raw.close();
    const bytes = readFileSync(file);

    expectStoreError(() => open(file), 'STORAGE_FAILED', new RegExp(`created by a newer Wattwise \\(schema version 999; this version knows up to ${latestSchemaVersion}\\)`));
    const err = expectStoreError(() => open(file), 'STORAGE_FAILED');
    assert.ok(err.message.includes(file));
    assert.deepEqual(readFileSync(file), bytes, 'not a byte changed (no WAL switch, no migration)');
    assert.equal(existsSync(`${file}-wal`), false);
  });

  test('a path that cannot be opened: STORAGE_FAILED', () => {
    const dir = join(root, 'is-a-directory');
    mkdirSync(dir, { recursive: true });
    expectStoreError(() => open(dir), 'STORAGE_FAILED', new RegExp(escapeRegExp(dir)));
  });

  test('disk full: STORAGE_FULL, and nothing written before is lost', () => {
    const file = freshPath();
    const first = open(file);
    const conv = first.createConversation({ systemPrompt: 'keep', modelPath: null });
    const kept = first.addMessage({ conversationId: conv.id, role: 'user', content: 'Keep me safe', status: 'complete' });
    first.updateSettings({ contextSize: 4096 }, { modelsDir: null, contextSize: 2048, threads: null, maxReplyTokens: 512, theme: 'system', defaultSystemPrompt: '', lastModelPath: null, governor: defaultGovernorSettings, modelSources: { lmstudio: true, ollama: true, 'huggingface-cache': true, gpt4all: true, jan: true }, calibration: { autoWhenIdleOnAc: false }, api: { enabled: false, port: 8484, apiKey: null, keepText: true, allowedOrigins: [] }, idleUnload: { onBatteryMinutes: 10, onAcMinutes: 60 }, contextOverflow: 'rolling-window' });
    first.close();

    const raw = new Database(file);
    const pages = raw.pragma('page_count', { simple: true }) as number;
    raw.close();

    const small = open(file, { maxPageCount: pages + 6 });
    const chunk = 'lorem ipsum dolor sit amet '.repeat(120); // ~3 KB of indexable text per message
    const added: string[] = [];
    let err: unknown;
    for (let i = 0; i < 1000 && err === undefined; i++) {
      try {
        added.push(small.addMessage({ conversationId: conv.id, role: 'assistant', content: `${i} ${chunk}`, status: 'complete' }).id);
      } catch (e) {
        err = e;
      }
    }
    assert.ok(err instanceof StoreError, `expected a StoreError, got ${String(err)}`);
    assert.equal(err.code, 'STORAGE_FULL');
    assert.ok(err.message.includes(file), err.message);
    assert.ok(added.length > 0 && added.length < 1000, `some writes fit before the cap was reached (${added.length})`);

    // Still readable, and exactly the successful writes are there (the failed one left no trace).
    const detail = small.getConversation(conv.id);
    assert.equal(detail?.messages.length, 1 + added.length);
    assert.equal(detail?.messages[0]?.content, 'Keep me safe');
    assert.deepEqual(detail?.messages.slice(1).map((m) => m.id), added);
    expectStoreError(() => small.createConversation({ systemPrompt: 'x'.repeat(50_000), modelPath: null }), 'STORAGE_FULL');
    // A batch of power samples that does not fit: STORAGE_FULL, and none of the batch is written.
    const batch = Array.from({ length: 2000 }, (_, i) => ({ at: 1_000_000 + i * 1000, powerW: i, sourceId: 'estimate', sourceLabel: 'estimated, '.repeat(20), measured: false }));
    expectStoreError(() => small.addPowerSamples(conv.id, null, batch), 'STORAGE_FULL');
    assert.deepEqual(small.energyTrace(conv.id)?.samples, [], 'all or nothing');
    small.close();

    const roomy = open(file);
    try {
      assert.equal(roomy.getMessage(kept.id)?.content, 'Keep me safe');
      assert.equal(roomy.getConversation(conv.id)?.messages.length, 1 + added.length);
      assert.equal(roomy.listConversations().length, 1, 'the conversation that did not fit was not half-created');
      assert.equal(roomy.getSettings({ modelsDir: null, contextSize: 2048, threads: null, maxReplyTokens: 512, theme: 'system', defaultSystemPrompt: '', lastModelPath: null, governor: defaultGovernorSettings, modelSources: { lmstudio: true, ollama: true, 'huggingface-cache': true, gpt4all: true, jan: true }, calibration: { autoWhenIdleOnAc: false }, api: { enabled: false, port: 8484, apiKey: null, keepText: true, allowedOrigins: [] }, idleUnload: { onBatteryMinutes: 10, onAcMinutes: 60 }, contextOverflow: 'rolling-window' }).contextSize, 4096);
      roomy.addMessage({ conversationId: conv.id, role: 'user', content: 'room again', status: 'complete' });
    } finally {
      roomy.close();
    }
    assertFtsInSync(file);
  });
});

describe('why a database cannot be opened', () => {
  test('read-only file system, no permission, or a missing folder, in words', async () => {
    const { whyCannotOpen } = await import('../../electron/store/storeError.js');
    const dir = mkdtempSync(join(tmpdir(), 'wattwise-ro-'));
    try {
      const file = join(dir, 'wattwise.sqlite');
      const fail = (code: string) => () => {
        throw Object.assign(new Error(code), { code });
      };
      assert.equal(whyCannotOpen(file, fail('EROFS')), 'the file system is read-only');
      assert.equal(whyCannotOpen(file, fail('EACCES')), 'no permission to write there');
      assert.equal(whyCannotOpen(join(dir, 'missing', 'wattwise.sqlite')), 'its folder does not exist');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a real read-only mount says read-only (skipped where this sandbox cannot mount)', async (t) => {
    const { execFileSync } = await import('node:child_process');
    const src = mkdtempSync(join(tmpdir(), 'wattwise-rosrc-'));
    const mnt = mkdtempSync(join(tmpdir(), 'wattwise-romnt-'));
    try {
      try {
        execFileSync('mount', ['--bind', src, mnt], { stdio: 'ignore' });
        execFileSync('mount', ['-o', 'remount,ro,bind', mnt], { stdio: 'ignore' });
      } catch {
        t.skip('cannot make a read-only mount here');
        return;
      }
      try {
        assert.throws(
          () => Store.open({ filePath: join(mnt, 'wattwise.sqlite') }),
          (e: unknown) => e instanceof StoreError && /read-only/.test(e.message),
        );
      } finally {
        execFileSync('umount', [mnt], { stdio: 'ignore' });
      }
    } finally {
      rmSync(src, { recursive: true, force: true });
      rmSync(mnt, { recursive: true, force: true });
    }
  });
});

describe('Store.openForReading (history on a folder it may not write)', () => {
  /** A read-only bind mount of a fresh folder, or null where this sandbox cannot mount. */
  async function readOnlyMount(src: string): Promise<{ path: string; release: () => void } | null> {
    const { execFileSync } = await import('node:child_process');
    const mnt = mkdtempSync(join(tmpdir(), 'wattwise-romnt-'));
    try {
      execFileSync('mount', ['--bind', src, mnt], { stdio: 'ignore' });
      execFileSync('mount', ['-o', 'remount,ro,bind', mnt], { stdio: 'ignore' });
    } catch {
      rmSync(mnt, { recursive: true, force: true });
      return null;
    }
    return {
      path: mnt,
      release: () => {
        execFileSync('umount', [mnt], { stdio: 'ignore' });
        rmSync(mnt, { recursive: true, force: true });
      },
    };
  }

  test('no database file: missing, and nothing is created', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wattwise-read-'));
    try {
      const filePath = join(dir, 'sub', 'wattwise.sqlite');
      assert.deepEqual(Store.openForReading({ filePath }), { kind: 'missing' });
      assert.equal(existsSync(join(dir, 'sub')), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('reads what was stored, writes nothing: a write fails with STORAGE_FAILED and the file keeps its bytes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wattwise-read-'));
    try {
      const filePath = join(dir, 'wattwise.sqlite');
      const w = Store.open({ filePath });
      const c = w.createConversation({ systemPrompt: '', modelPath: null });
      w.addMessage({ conversationId: c.id, role: 'user', content: 'kept', status: 'complete' });
      w.close();
      const before = readFileSync(filePath);
      const r = Store.openForReading({ filePath });
      assert.equal(r.kind, 'open');
      if (r.kind !== 'open') return;
      try {
        assert.deepEqual(r.store.listConversations().map((x) => x.id), [c.id]);
        assert.equal(r.store.getConversation(c.id)?.messages[0]?.content, 'kept');
        assert.throws(() => r.store.createConversation({ systemPrompt: '', modelPath: null }), (e: unknown) => e instanceof StoreError && e.code === 'STORAGE_FAILED');
      } finally {
        r.store.close();
      }
      assert.deepEqual(readFileSync(filePath), before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an older schema is outdated (left for Store.open to migrate), untouched', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wattwise-read-'));
    try {
      const filePath = join(dir, 'wattwise.sqlite');
      const db = new Database(filePath);
      migrate(db, { targetVersion: latestSchemaVersion - 1 });
      db.close();
      assert.deepEqual(Store.openForReading({ filePath }), { kind: 'outdated', schemaVersion: latestSchemaVersion - 1 });
      const again = new Database(filePath, { readonly: true });
      assert.equal(again.pragma('user_version', { simple: true }), latestSchemaVersion - 1);
      again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a newer schema or a file that is not SQLite: STORAGE_FAILED naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wattwise-read-'));
    try {
      const newer = join(dir, 'newer.sqlite');
      const db = new Database(newer);
      db.pragma(`user_version = ${latestSchemaVersion + 1}`);
      db.close();
      assert.throws(() => Store.openForReading({ filePath: newer }), (e: unknown) => e instanceof StoreError && e.code === 'STORAGE_FAILED' && /newer Wattwise/.test(e.message));
      const junk = join(dir, 'junk.sqlite');
      writeFileSync(junk, 'not a database at all, just text'.repeat(200));
      assert.throws(() => Store.openForReading({ filePath: junk }), (e: unknown) => e instanceof StoreError && e.code === 'STORAGE_FAILED' && e.message.includes(junk));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a real read-only mount: read from a snapshot, removed on close (skipped where this sandbox cannot mount)', async (t) => {
    const src = mkdtempSync(join(tmpdir(), 'wattwise-rosrc-'));
    try {
      const w = Store.open({ filePath: join(src, 'wattwise.sqlite') });
      w.createConversation({ systemPrompt: '', modelPath: null, title: 'on a read-only disk' });
      w.close();
      const mount = await readOnlyMount(src);
      if (!mount) {
        t.skip('cannot make a read-only mount here');
        return;
      }
      try {
        const filePath = join(mount.path, 'wattwise.sqlite');
        assert.throws(() => Store.open({ filePath }), /read-only/, 'the writable open still refuses it');
        const tmpBefore = new Set(readdirSync(tmpdir()).filter((n) => n.startsWith('wattwise-read-')));
        const r = Store.openForReading({ filePath });
        assert.equal(r.kind, 'open');
        if (r.kind !== 'open') return;
        const snapshots = readdirSync(tmpdir()).filter((n) => n.startsWith('wattwise-read-') && !tmpBefore.has(n));
        assert.equal(snapshots.length, 1, 'one snapshot folder while open');
        assert.deepEqual(r.store.listConversations().map((x) => x.title), ['on a read-only disk']);
        assert.equal(r.store.filePath, filePath, 'the store names the real file');
        r.store.close();
        assert.equal(existsSync(join(tmpdir(), snapshots[0]!)), false, 'the snapshot is removed on close');
      } finally {
        mount.release();
      }
    } finally {
      rmSync(src, { recursive: true, force: true });
    }
  });
});
