/**
 * Migration 002 on a version-1 database seeded with raw SQL: every row survives, `title_is_auto` is
 * backfilled by the version-1 title rule, the calibration table works, and the store opens the
 * migrated file.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { migration001 } from '../../../electron/store/migrations/001_initial.js';
import { migration002 } from '../../../electron/store/migrations/002_thread_calibrations.js';
import { latestSchemaVersion, migrate, schemaVersion } from '../../../electron/store/migrations/index.js';
import { defaultGovernorSettings } from '../../../electron/core/governorSettings.js';
import { Store } from '../../../electron/store/store.js';

const root = mkdtempSync(join(tmpdir(), 'wattwise-'));
after(() => rmSync(root, { recursive: true, force: true }));

const longFirstLine =
  'Please explain how photosynthesis converts sunlight into chemical energy in plants and algae';
const longDerived = 'Please explain how photosynthesis converts sunlight into…';

/** A version-1 database (migration 001 applied through its exported object), seeded with raw SQL. */
function buildV1(file: string): void {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.transaction(() => {
    migration001.up(db);
    db.pragma('user_version = 1');
  })();
  assert.equal(schemaVersion(db), 1);

  const conv = db.prepare(`INSERT INTO conversations (id, title, system_prompt, model_path, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`);
  const msg = db.prepare(
    `INSERT INTO messages (id, conversation_id, role, content, status, created_at, error,
       stats_model_path, stats_model_name, stats_quantization, prompt_tokens, prefill_tokens, completion_tokens,
       ttft_ms, prefill_tokens_per_second, decode_tokens_per_second, threads, context_size, started_at, ended_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const noStats = [null, null, null, null, null, null, null, null, null, null, null, null, null] as const;
  db.transaction(() => {
    // Untouched new chat: automatic.
    conv.run('fresh', 'New chat', '', null, 100, 100);
    // Title derived from the first user message (whitespace collapsed, first line): automatic.
    conv.run('derived', 'Hello there', 'Be kind.', '/models/a.gguf', 200, 260);
    msg.run('d1', 'derived', 'user', '  Hello   there \nsecond line', 'complete', 201, null, ...noStats);
    msg.run('d2', 'derived', 'assistant', 'Hi! How can I help?', 'complete', 202, null,
      '/models/a.gguf', 'a', 'Q8_0', 120, 120, 9, 15.5, 900.5, 44.25, 4, 2048, 202, 260);
    // Long first line, cut with an ellipsis, after a system message: automatic.
    conv.run('long', longDerived, 'sys', null, 300, 300);
    msg.run('l0', 'long', 'system', 'You are a biology tutor', 'complete', 301, null, ...noStats);
    msg.run('l1', 'long', 'user', longFirstLine, 'complete', 302, null, ...noStats);
    // Renamed by the user: chosen.
    conv.run('renamed', 'Lisbon trip notes', '', null, 400, 450);
    msg.run('r1', 'renamed', 'user', 'Plan a trip to Lisbon', 'complete', 401, null, ...noStats);
    msg.run('r2', 'renamed', 'assistant', 'Day one: Alfama', 'error', 402, 'model crashed', ...noStats);
    // Named "New chat" although it has a user message: the user typed that name.
    conv.run('named-new-chat', 'New chat', '', null, 500, 500);
    msg.run('n1', 'named-new-chat', 'user', 'Hi', 'complete', 501, null, ...noStats);
    // Renamed before any user message: chosen.
    conv.run('ideas', 'Ideas', '', null, 600, 600);
    msg.run('i1', 'ideas', 'assistant', 'Welcome', 'complete', 601, null, ...noStats);
    db.prepare('INSERT INTO settings (key, value) VALUES (?, ?)').run('theme', '"dark"');
  })();
  db.close();
}

function dump(db: Database.Database) {
  return {
    conversations: db.prepare('SELECT seq, id, title, system_prompt, model_path, created_at, updated_at FROM conversations ORDER BY seq').all(),
    messages: db.prepare('SELECT * FROM messages ORDER BY seq').all(),
    settings: db.prepare('SELECT * FROM settings ORDER BY key').all(),
  };
}

test('002 keeps every row, backfills title_is_auto by the version-1 rule, and adds thread_calibrations', () => {
  const file = join(root, 'v1.sqlite');
  buildV1(file);

  const db = new Database(file);
  db.pragma('foreign_keys = ON');
  try {
    const before = dump(db);
    assert.equal(before.conversations.length, 6);
    assert.equal(before.messages.length, 8);

    const result = migrate(db, { targetVersion: 2 });
    assert.deepEqual(result, { from: 1, to: 2, applied: [2] });
    assert.equal(migration002.version, 2);

    assert.deepEqual(dump(db), before, 'every conversation, message (stats columns included) and setting survived unchanged');

    const auto = Object.fromEntries(
      (db.prepare('SELECT id, title_is_auto FROM conversations').all() as { id: string; title_is_auto: number }[]).map((r) => [r.id, r.title_is_auto]),
    );
    assert.deepEqual(auto, { fresh: 1, derived: 1, long: 1, renamed: 0, 'named-new-chat': 0, ideas: 0 });

    // New rows get the default (automatic) title flag; the check constraint holds.
    db.prepare(`INSERT INTO conversations (id, title, system_prompt, created_at, updated_at) VALUES ('new', 'New chat', '', 1, 1)`).run();
    assert.equal(db.prepare(`SELECT title_is_auto FROM conversations WHERE id = 'new'`).pluck().get(), 1);
    assert.throws(() => db.prepare(`UPDATE conversations SET title_is_auto = 5 WHERE id = 'new'`).run(), /CHECK constraint/);

    // The calibration table: one row per (model path, machine key).
    const put = db.prepare(
      `INSERT INTO thread_calibrations (model_path, machine_key, model_size_bytes, best_threads, trials_json, measured_at) VALUES (?, ?, ?, ?, ?, ?)`,
    );
    put.run('/models/a.gguf', 'cpu', 1000, 4, '[{"threads":4,"decodeTokensPerSecond":50}]', 1);
    put.run('/models/a.gguf', 'other-cpu', 1000, 2, '[]', 1);
    assert.throws(() => put.run('/models/a.gguf', 'cpu', 1000, 8, '[]', 2), /UNIQUE|PRIMARY KEY/);
    assert.throws(() => put.run('/models/b.gguf', 'cpu', 1000, 0, '[]', 2), /CHECK constraint/);

    // Search still works on the migrated data and the indexes match their tables.
    assert.deepEqual(db.prepare(`SELECT rowid FROM messages_fts WHERE messages_fts MATCH 'alfama'`).pluck().all(), [
      (before.messages as { id: string; seq: number }[]).find((m) => m.id === 'r2')!.seq,
    ]);
    assert.equal(db.prepare(`SELECT count(*) FROM conversations_fts WHERE conversations_fts MATCH 'lisbon'`).pluck().get(), 1);
    db.exec(`INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)`);
    db.exec(`INSERT INTO conversations_fts (conversations_fts, rank) VALUES ('integrity-check', 1)`);

    assert.deepEqual(migrate(db, { targetVersion: 2 }).applied, [], 'running again changes nothing');
  } finally {
    db.close();
  }
});

test('the store opens a version-1 file, migrates it, and honours the backfilled title flags', () => {
  const file = join(root, 'v1-store.sqlite');
  buildV1(file);

  const store = Store.open({ filePath: file, now: () => 10_000, machineKey: 'cpu' });
  try {
    const raw = new Database(file, { readonly: true });
    assert.equal(schemaVersion(raw), latestSchemaVersion);
    raw.close();

    assert.deepEqual(store.listConversations().map((c) => c.id), ['ideas', 'named-new-chat', 'renamed', 'long', 'derived', 'fresh']);
    const derived = store.getConversation('derived');
    assert.equal(derived?.conversation.promptTokens, 120);
    assert.equal(derived?.conversation.completionTokens, 9);
    assert.equal(derived?.messages[1]?.stats?.decodeTokensPerSecond, 44.25);
    assert.equal(store.getConversation('renamed')?.messages[1]?.error, 'model crashed');

    // Automatic: the first user message names it. Chosen: it does not.
    store.addMessage({ conversationId: 'fresh', role: 'user', content: 'Brand new question', status: 'complete' });
    assert.equal(store.getConversation('fresh')?.conversation.title, 'Brand new question');
    store.addMessage({ conversationId: 'ideas', role: 'user', content: 'First user words', status: 'complete' });
    assert.equal(store.getConversation('ideas')?.conversation.title, 'Ideas');
    // Editing the first user message: follows for an automatic title, not for a chosen one.
    store.updateUserMessage('l1', 'Photosynthesis, briefly');
    assert.equal(store.getConversation('long')?.conversation.title, 'Photosynthesis, briefly');
    store.updateUserMessage('r1', 'Plan a trip to Porto');
    assert.equal(store.getConversation('renamed')?.conversation.title, 'Lisbon trip notes');

    store.saveThreadCalibration({ modelPath: '/models/a.gguf', modelSizeBytes: 1000, bestThreads: 3, trials: [{ threads: 3, decodeTokensPerSecond: 12 }], measuredAt: 5 });
    assert.equal(store.getThreadCalibration('/models/a.gguf', 1000)?.bestThreads, 3);
    assert.equal(store.getSettings({ modelsDir: null, contextSize: 2048, threads: null, maxReplyTokens: 512, theme: 'system', defaultSystemPrompt: '', lastModelPath: null, governor: defaultGovernorSettings, modelSources: { lmstudio: true, ollama: true, 'huggingface-cache': true, gpt4all: true, jan: true }, calibration: { autoWhenIdleOnAc: false }, api: { enabled: false, port: 8484, apiKey: null, keepText: true, allowedOrigins: [] }, idleUnload: { onBatteryMinutes: 10, onAcMinutes: 60 }, contextOverflow: 'rolling-window' }).theme, 'dark');
  } finally {
    store.close();
  }
});
