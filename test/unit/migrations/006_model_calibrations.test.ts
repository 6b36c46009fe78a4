/**
 * Migration 006 on a version-5 database seeded with raw SQL: everything before is kept, the calibration
 * results and the model-facts cache work, results are per machine, rows that no longer parse are
 * skipped, and the CSV has one row per result.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { z } from 'zod';
import type { CalibrationResult } from '../../../shared/contract.js';
import { migration006 } from '../../../electron/store/migrations/006_model_calibrations.js';
import { migrate, schemaVersion } from '../../../electron/store/migrations/index.js';
import { Store } from '../../../electron/store/store.js';
import { CalibrationTable, calibrationCsvColumns } from '../../../electron/store/calibrationTable.js';

const root = mkdtempSync(join(tmpdir(), 'wattwise-'));
after(() => rmSync(root, { recursive: true, force: true }));

function buildV5(file: string): void {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  assert.deepEqual(migrate(db, { targetVersion: 5 }).applied, [1, 2, 3, 4, 5]);
  db.prepare(`INSERT INTO conversations (id, title, system_prompt, model_path, created_at, updated_at, title_is_auto) VALUES ('c', 'Kept', '', '/m.gguf', 1, 2, 0)`).run();
  db.prepare(`INSERT INTO machine_facts (machine_key, key, value_json, measured_at) VALUES ('cpu x2', 'memoryBandwidthBytesPerSecond', '2e10', 5)`).run();
  db.close();
}

function result(over: Partial<CalibrationResult> = {}): CalibrationResult {
  return {
    modelPath: '/models/q4.gguf', fileKey: '1000:abc', fileName: 'q4.gguf', modelName: 'Q', quantization: 'Q4_0', sizeBytes: 1000,
    parameterCount: 2000, bitsPerByte: 2.3, textId: 't1', scoredTokens: 100, scoredBytes: 400, bitsPerByteTokensPerSecond: 50,
    loadMs: 10, threads: 2, prefillTokens: 512, prefillTokensPerSecond: 900, decodeTokens: 64, decodeTokensPerSecond: 30,
    sustainedDurationMs: 1500, sustainedFirstQuarterTokensPerSecond: 31, sustainedLastQuarterTokensPerSecond: 29, sustainedSlowdown: 0.065,
    energyJPerToken: 0.2, avgPowerW: 6, energySource: 'estimated', energyMeasured: false, peakRssBytes: 5e8, baselineRssBytes: 4e8,
    quick: true, measuredAt: 1000, ...over,
  };
}

test('006 keeps everything and adds the two tables', () => {
  const file = join(root, 'v5.sqlite');
  buildV5(file);
  const db = new Database(file);
  try {
    assert.deepEqual(migrate(db, { targetVersion: 6 }).applied, [6]);
    assert.equal(migration006.version, 6);
    assert.equal(schemaVersion(db), 6);
    assert.equal((db.prepare(`SELECT title FROM conversations WHERE id = 'c'`).get() as { title: string }).title, 'Kept');
    assert.equal((db.prepare(`SELECT count(*) AS n FROM machine_facts`).get() as { n: number }).n, 1);
    const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as Array<{ name: string }>).map((r) => r.name);
    assert.ok(tables.includes('model_calibrations') && tables.includes('model_facts'), tables.join(','));
  } finally {
    db.close();
  }
});

test('results: per file key and machine, latest wins, unparsable rows skipped, CSV one row each', () => {
  const file = join(root, 'results.sqlite');
  buildV5(file);
  const here = Store.open({ filePath: file, machineKey: 'cpu x2' });
  const other = Store.open({ filePath: file, machineKey: 'other cpu x8' });
  try {
    here.calibrations.save(result());
    here.calibrations.save(result({ bitsPerByte: 2.4, measuredAt: 2000 }));
    here.calibrations.save(result({ fileKey: '9:def', modelPath: '/models/f16.gguf', fileName: 'f16.gguf', measuredAt: 1500 }));
    assert.equal(here.calibrations.get('1000:abc')?.bitsPerByte, 2.4);
    assert.deepEqual(here.calibrations.list().map((r) => r.fileKey), ['1000:abc', '9:def']);
    assert.equal(other.calibrations.get('1000:abc'), null, 'another machine has its own results');
    assert.throws(() => here.calibrations.save(result({ bitsPerByte: -1 })), /bitsPerByte|Too small/);
    assert.equal(here.calibrations.get('1000:abc')?.bitsPerByte, 2.4, 'a bad result is not written');
    const csv = CalibrationTable.toCsv(here.calibrations.list());
    const lines = csv.trimEnd().split('\r\n');
    assert.equal(lines[0], calibrationCsvColumns.join(','));
    assert.equal(lines.length, 3);
    assert.ok(here.calibrations.delete('9:def'));
  } finally {
    here.close();
    other.close();
  }
  const raw = new Database(file);
  raw.prepare(`UPDATE model_calibrations SET result_json = '{"nope": 1}' WHERE file_key = '1000:abc'`).run();
  raw.close();
  const again = Store.open({ filePath: file, machineKey: 'cpu x2' });
  try {
    assert.equal(again.calibrations.get('1000:abc'), null);
    assert.deepEqual(again.calibrations.list(), []);
  } finally {
    again.close();
  }
});

test('model facts: valid only for the same stat key and reader version; bad JSON is a miss', () => {
  const file = join(root, 'facts.sqlite');
  buildV5(file);
  const store = Store.open({ filePath: file });
  try {
    const schema = z.object({ ram: z.number() });
    const v1 = store.modelFacts.cache('memory-estimate:2048', 'v1', schema);
    assert.equal(v1.get('/m.gguf', 's1'), null);
    v1.set('/m.gguf', 's1', { ram: 42 });
    assert.deepEqual(v1.get('/m.gguf', 's1'), { ram: 42 });
    assert.equal(v1.get('/m.gguf', 's2'), null, 'the file changed');
    assert.equal(store.modelFacts.cache('memory-estimate:2048', 'v2', schema).get('/m.gguf', 's1'), null, 'the reader changed');
    assert.equal(store.modelFacts.cache('memory-estimate:4096', 'v1', schema).get('/m.gguf', 's1'), null, 'another kind');
    assert.equal(store.modelFacts.cache('memory-estimate:2048', 'v1', z.object({ ram: z.string() })).get('/m.gguf', 's1'), null, 'fails the schema');
  } finally {
    store.close();
  }
});
