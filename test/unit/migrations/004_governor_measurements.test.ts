/**
 * Migration 004 on a version-3 database seeded with raw SQL (energy columns and power samples
 * included): every row survives unchanged, messages get NULL governor columns, model_loads and
 * machine_facts work, and the store opens the migrated file with its energy intact.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { migration004 } from '../../../electron/store/migrations/004_governor_measurements.js';
import { latestSchemaVersion, migrate, migrations, schemaVersion } from '../../../electron/store/migrations/index.js';
import { Store } from '../../../electron/store/store.js';

const root = mkdtempSync(join(tmpdir(), 'wattwise-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** A version-3 database (migrations 001..003 through the runner), seeded with raw SQL. */
function buildV3(file: string): void {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  assert.deepEqual(migrate(db, { targetVersion: 3 }).applied, [1, 2, 3]);
  db.transaction(() => {
    db.prepare(
      `INSERT INTO conversations (id, title, system_prompt, model_path, created_at, updated_at, title_is_auto) VALUES ('c1', 'Energy chat', '', '/models/a.gguf', 100, 300, 0)`,
    ).run();
    db.prepare(`INSERT INTO messages (id, conversation_id, role, content, status, created_at) VALUES ('u1', 'c1', 'user', 'How much?', 'complete', 101)`).run();
    db.prepare(
      `INSERT INTO messages (id, conversation_id, role, content, status, created_at,
         stats_model_path, stats_model_name, stats_quantization, prompt_tokens, prefill_tokens, completion_tokens,
         ttft_ms, prefill_tokens_per_second, decode_tokens_per_second, threads, context_size, started_at, ended_at,
         energy_j, energy_j_per_token, avg_power_w, peak_power_w, baseline_power_w, energy_source_id, energy_source_label,
         energy_measured, energy_method, energy_fallback_reason, energy_sample_count)
       VALUES ('a1', 'c1', 'assistant', 'About 3 J.', 'complete', 102,
         '/models/a.gguf', 'a', 'Q4_K_M', 50, 50, 12, 20, 500, 30, 2, 2048, 1000, 3000,
         3, 0.25, 1.5, 2.5, 4, 'linux-battery:BAT0', 'battery sensor', 1, 'system-minus-baseline', NULL, 2)`,
    ).run();
    const put = db.prepare(
      `INSERT INTO power_samples (conversation_id, message_id, at, power_w, source_id, source_label, measured) VALUES ('c1', ?, ?, ?, 'linux-battery:BAT0', 'battery sensor', 1)`,
    );
    put.run('a1', 1000, 5.5);
    put.run('a1', 2000, 6.5);
    put.run(null, 5000, 4);
    db.prepare(`INSERT INTO settings (key, value) VALUES ('contextSize', '4096')`).run();
  })();
  db.close();
}

function dump(db: Database.Database) {
  const v3Columns = (db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all('messages') as string[]).filter((c) => !c.startsWith('governor_'));
  return {
    conversations: db.prepare('SELECT * FROM conversations ORDER BY seq').all(),
    messages: db.prepare(`SELECT ${v3Columns.join(', ')} FROM messages ORDER BY seq`).all(),
    samples: db.prepare('SELECT * FROM power_samples ORDER BY seq').all(),
    settings: db.prepare('SELECT * FROM settings ORDER BY key').all(),
  };
}

test('004 keeps every row, adds NULL governor columns, model_loads and machine_facts', () => {
  const file = join(root, 'v3.sqlite');
  buildV3(file);
  const db = new Database(file);
  db.pragma('foreign_keys = ON');
  try {
    const before = dump(db);
    assert.equal((before.messages as unknown[]).length, 2);
    assert.equal((before.samples as unknown[]).length, 3);
    assert.equal(migrations[3], migration004);
    assert.deepEqual(migrate(db, { targetVersion: 4 }), { from: 3, to: 4, applied: [4] });
    assert.equal(schemaVersion(db), 4);
    assert.ok(latestSchemaVersion >= 4);
    assert.deepEqual(dump(db), before, 'every conversation, message (energy included), sample and setting survived');
    assert.deepEqual(db.prepare('SELECT governor_profile, governor_reason FROM messages').all(), [
      { governor_profile: null, governor_reason: null },
      { governor_profile: null, governor_reason: null },
    ]);

    const load = db.prepare(
      `INSERT INTO model_loads (model_path, model_size_bytes, machine_key, load_ms, load_energy_j, at) VALUES (?, ?, ?, ?, ?, ?)`,
    );
    load.run('/models/a.gguf', 1000, 'cpu', 850.5, 12.25, 10);
    load.run('/models/a.gguf', 1000, 'cpu', 900, null, 20);
    assert.throws(() => load.run('/models/a.gguf', -1, 'cpu', 1, null, 30), /CHECK constraint/);
    assert.throws(() => load.run('/models/a.gguf', 1, 'cpu', -1, null, 30), /CHECK constraint/);
    assert.throws(() => load.run('/models/a.gguf', 1, 'cpu', 1, -0.5, 30), /CHECK constraint/);
    assert.deepEqual(db.prepare('SELECT load_ms, load_energy_j FROM model_loads ORDER BY at').all(), [
      { load_ms: 850.5, load_energy_j: 12.25 },
      { load_ms: 900, load_energy_j: null },
    ]);

    const fact = db.prepare(`INSERT INTO machine_facts (machine_key, key, value_json, measured_at) VALUES (?, ?, ?, ?)`);
    fact.run('cpu', 'memoryBandwidth', '{"bytesPerSecond":2.5e10}', 1);
    fact.run('other-cpu', 'memoryBandwidth', '{"bytesPerSecond":1e10}', 1);
    assert.throws(() => fact.run('cpu', 'memoryBandwidth', '{}', 2), /UNIQUE|PRIMARY KEY/);

    assert.deepEqual(migrate(db).applied, latestSchemaVersion > 4 ? migrations.slice(4).map((m) => m.version) : [], 'running again applies nothing new');
  } finally {
    db.close();
  }
});

test('the store opens a version-3 file: energy and trace intact, no governor decision, new measurements work', () => {
  const file = join(root, 'v3-store.sqlite');
  buildV3(file);
  const store = Store.open({ filePath: file, now: () => 50_000, machineKey: 'cpu' });
  try {
    const detail = store.getConversation('c1');
    assert.deepEqual(detail?.messages[1]?.energy, {
      energyJ: 3,
      energyJPerToken: 0.25,
      avgPowerW: 1.5,
      peakPowerW: 2.5,
      baselinePowerW: 4,
      sourceId: 'linux-battery:BAT0',
      sourceLabel: 'battery sensor',
      measured: true,
      method: 'system-minus-baseline',
      fallbackReason: null,
      sampleCount: 2,
    });
    assert.equal(detail?.conversation.energyJ, 3);
    assert.deepEqual(store.energyTrace('c1')?.samples.map((s) => s.powerW), [5.5, 6.5, 4]);
    assert.equal(store.getMessageGovernor('a1'), null);

    const perf = store.modelPerformance();
    assert.equal(perf.length, 1);
    assert.equal(perf[0]?.medianEnergyJPerToken, 0.25);
    store.recordModelLoad({ modelPath: '/models/a.gguf', modelSizeBytes: 1000, loadMs: 700, loadEnergyJ: null });
    assert.deepEqual(store.modelLoadCosts('/models/a.gguf'), { medianLoadMs: 700, medianLoadEnergyJ: null, samples: 1 });
    store.setMachineFact('memoryBandwidth', { bytesPerSecond: 2e10 });
    assert.deepEqual(store.getMachineFact('memoryBandwidth', z.object({ bytesPerSecond: z.number() })), { value: { bytesPerSecond: 2e10 }, measuredAt: 50_000 });
  } finally {
    store.close();
  }
});
