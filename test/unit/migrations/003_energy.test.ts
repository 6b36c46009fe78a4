/**
 * Migration 003 on a version-2 database seeded with raw SQL: every row survives unchanged, existing
 * messages get NULL energy, the energy columns and the power_samples table (cascade, set null,
 * checks, one sample per second) work, and the store opens the migrated file with `energy: null`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { messageSchema } from '../../../shared/contract.js';
import { migration003 } from '../../../electron/store/migrations/003_energy.js';
import { migrate, migrations, schemaVersion } from '../../../electron/store/migrations/index.js';
import { Store } from '../../../electron/store/store.js';

const root = mkdtempSync(join(tmpdir(), 'wattwise-'));
after(() => rmSync(root, { recursive: true, force: true }));

const energyColumns = [
  'energy_j',
  'energy_j_per_token',
  'avg_power_w',
  'peak_power_w',
  'baseline_power_w',
  'energy_source_id',
  'energy_source_label',
  'energy_measured',
  'energy_method',
  'energy_fallback_reason',
  'energy_sample_count',
];

/** The version-2 columns of messages, as version 2 had them. */
const v2MessageColumns = `seq, id, conversation_id, role, content, status, created_at, error, stats_model_path, stats_model_name,
  stats_quantization, prompt_tokens, prefill_tokens, completion_tokens, ttft_ms, prefill_tokens_per_second,
  decode_tokens_per_second, threads, context_size, started_at, ended_at`;

/** A version-2 database (migrations 001 and 002 through the runner), seeded with raw SQL. */
function buildV2(file: string): void {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  assert.deepEqual(migrate(db, { targetVersion: 2 }).applied, [1, 2]);
  const conv = db.prepare(
    `INSERT INTO conversations (id, title, system_prompt, model_path, created_at, updated_at, title_is_auto) VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  const msg = db.prepare(
    `INSERT INTO messages (id, conversation_id, role, content, status, created_at, error,
       stats_model_path, stats_model_name, stats_quantization, prompt_tokens, prefill_tokens, completion_tokens,
       ttft_ms, prefill_tokens_per_second, decode_tokens_per_second, threads, context_size, started_at, ended_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const noStats = [null, null, null, null, null, null, null, null, null, null, null, null, null] as const;
  db.transaction(() => {
    conv.run('c1', 'Hello there', 'Be kind.', '/models/a.gguf', 100, 300, 1);
    msg.run('m1', 'c1', 'user', 'Hello there', 'complete', 101, null, ...noStats);
    msg.run('m2', 'c1', 'assistant', 'Hi! How can I help?', 'complete', 102, null, '/models/a.gguf', 'a', 'Q8_0', 120, 120, 9, 15.5, 900.5, 44.25, 4, 2048, 102, 260);
    msg.run('m3', 'c1', 'assistant', 'Second try', 'stopped', 270, null, '/models/a.gguf', 'a', 'Q8_0', 130, 10, 12, 10, 100, 40, 4, 2048, 270, 300);
    conv.run('c2', 'Lisbon trip notes', '', null, 400, 450, 0);
    msg.run('m4', 'c2', 'user', 'Plan a trip to Lisbon', 'complete', 401, null, ...noStats);
    msg.run('m5', 'c2', 'assistant', 'Day one: Alfama', 'error', 402, 'model crashed', ...noStats);
    db.prepare('INSERT INTO settings (key, value) VALUES (?, ?)').run('theme', '"dark"');
    db.prepare(
      `INSERT INTO thread_calibrations (model_path, machine_key, model_size_bytes, best_threads, trials_json, measured_at) VALUES (?, ?, ?, ?, ?, ?)`,
    ).run('/models/a.gguf', 'cpu', 1000, 4, '[{"threads":4,"decodeTokensPerSecond":50}]', 1);
  })();
  db.close();
}

function dump(db: Database.Database) {
  return {
    conversations: db.prepare('SELECT * FROM conversations ORDER BY seq').all(),
    messages: db.prepare(`SELECT ${v2MessageColumns} FROM messages ORDER BY seq`).all(),
    settings: db.prepare('SELECT * FROM settings ORDER BY key').all(),
    calibrations: db.prepare('SELECT * FROM thread_calibrations ORDER BY model_path').all(),
  };
}

test('003 keeps every row, gives existing messages NULL energy, and adds power_samples', () => {
  const file = join(root, 'v2.sqlite');
  buildV2(file);
  const db = new Database(file);
  db.pragma('foreign_keys = ON');
  try {
    const before = dump(db);
    assert.equal(before.messages.length, 5);
    assert.equal(migrations[2], migration003);
    assert.deepEqual(migrate(db, { targetVersion: 3 }), { from: 2, to: 3, applied: [3] });
    assert.equal(schemaVersion(db), 3);
    assert.deepEqual(dump(db), before, 'every conversation, message, setting and calibration survived unchanged');

    const energy = db.prepare(`SELECT ${energyColumns.join(', ')} FROM messages`).all() as Record<string, unknown>[];
    assert.equal(energy.length, 5);
    for (const row of energy) assert.ok(Object.values(row).every((v) => v === null), 'no energy for messages written before 003');

    // The energy columns take a reply's energy and refuse negative values.
    db.prepare(
      `UPDATE messages SET energy_j = 4.5, energy_j_per_token = 0.5, avg_power_w = 10, peak_power_w = 12, baseline_power_w = 3,
         energy_source_id = 'rapl:intel-rapl:0', energy_source_label = 'RAPL package', energy_measured = 1,
         energy_method = 'package-cpu-share', energy_fallback_reason = NULL, energy_sample_count = 2 WHERE id = 'm2'`,
    ).run();
    assert.equal(db.prepare(`SELECT energy_j FROM messages WHERE id = 'm2'`).pluck().get(), 4.5);
    assert.throws(() => db.prepare(`UPDATE messages SET energy_j = -1 WHERE id = 'm3'`).run(), /CHECK constraint/);
    assert.throws(() => db.prepare(`UPDATE messages SET energy_measured = 2 WHERE id = 'm3'`).run(), /CHECK constraint/);
    assert.throws(() => db.prepare(`UPDATE messages SET energy_sample_count = -1 WHERE id = 'm3'`).run(), /CHECK constraint/);

    // power_samples: references, checks, one per second per conversation.
    const put = db.prepare(
      `INSERT INTO power_samples (conversation_id, message_id, at, power_w, source_id, source_label, measured) VALUES (?, ?, ?, ?, 'rapl', 'RAPL package', ?)`,
    );
    put.run('c1', 'm2', 1000, 9.5, 1);
    put.run('c1', 'm3', 2500, 8, 0);
    put.run('c1', null, 3000, 1, 1);
    put.run('c2', null, 1000, 2, 1); // same second, other conversation: fine
    assert.throws(() => put.run('c1', null, 1999, 1, 1), /UNIQUE constraint/, 'a second sample in the same second');
    assert.throws(() => put.run('nope', null, 9000, 1, 1), /FOREIGN KEY/);
    assert.throws(() => put.run('c1', 'nope', 9000, 1, 1), /FOREIGN KEY/);
    assert.throws(() => put.run('c1', null, 9000, -1, 1), /CHECK constraint/);
    assert.throws(() => put.run('c1', null, 9000, 1, 3), /CHECK constraint/);
    assert.throws(() => put.run('c1', null, 9000.5, 1, 1), /CHECK constraint/, 'at is whole ms');
    assert.match(
      (db.prepare(`EXPLAIN QUERY PLAN SELECT * FROM power_samples WHERE conversation_id = 'c1' ORDER BY at`).all() as { detail: string }[])
        .map((r) => r.detail)
        .join('; '),
      /power_samples_conversation_at/,
      'the trace query uses the (conversation_id, at) index',
    );

    db.prepare(`DELETE FROM messages WHERE id = 'm3'`).run();
    assert.deepEqual(db.prepare(`SELECT message_id FROM power_samples WHERE conversation_id = 'c1' ORDER BY at`).pluck().all(), ['m2', null, null]);
    db.prepare(`DELETE FROM conversations WHERE id = 'c1'`).run();
    assert.deepEqual(db.prepare('SELECT conversation_id FROM power_samples').pluck().all(), ['c2'], 'cascade with the conversation');

    db.exec(`INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)`);
    assert.deepEqual(migrate(db, { targetVersion: 3 }).applied, [], 'running again changes nothing');
  } finally {
    db.close();
  }
});

test('the store opens a version-2 file: messages have energy null, conversations 0 J, and new replies store energy', () => {
  const file = join(root, 'v2-store.sqlite');
  buildV2(file);
  const store = Store.open({ filePath: file, now: () => 10_000 });
  try {
    const c1 = store.getConversation('c1');
    assert.ok(c1);
    assert.deepEqual(c1.messages.map((m) => m.energy), [null, null, null]);
    for (const m of c1.messages) assert.equal(messageSchema.safeParse(m).success, true);
    assert.equal(c1.conversation.energyJ, 0);
    assert.equal(c1.messages[1]?.stats?.decodeTokensPerSecond, 44.25, 'stats still read');
    const summary = store.energySummary({ days: 1, now: 300 });
    assert.deepEqual(
      summary.conversations.map((c) => [c.conversationId, c.energyJ, c.replies, c.completionTokens, c.measured]),
      [
        ['c2', 0, 1, 0, false],
        ['c1', 0, 2, 21, false],
      ],
    );
    assert.deepEqual(store.energyTrace('c1')?.samples, []);

    const e = {
      energyJ: 2,
      energyJPerToken: 0.25,
      avgPowerW: 5,
      peakPowerW: 6,
      baselinePowerW: 1,
      sourceId: 'estimate',
      sourceLabel: 'estimated',
      measured: false,
      method: 'estimate' as const,
      fallbackReason: 'no sensor',
      sampleCount: 0,
    };
    const m3 = c1.messages[2]!;
    store.finishMessage(m3.id, { content: m3.content, status: m3.status, stats: m3.stats, error: null, energy: e });
    assert.deepEqual(store.getMessage('m3')?.energy, e);
    assert.equal(store.getConversation('c1')?.conversation.energyJ, 2);
  } finally {
    store.close();
  }
});
