/**
 * Migration 008 on a version-7 database seeded with raw SQL: every conversation is kept and becomes source
 * 'app' with no API day; the CHECKs refuse an unknown source, an API day on a chat conversation and a day
 * that is not `YYYY-MM-DD`; the partial UNIQUE index allows one API conversation per day; the chat list can
 * read the new index in order; an up-to-date database is left untouched; the store reads the migrated file.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { migration008 } from '../../../electron/store/migrations/008_conversation_source.js';
import { latestSchemaVersion, migrate, schemaVersion } from '../../../electron/store/migrations/index.js';
import { Store } from '../../../electron/store/store.js';

const root = mkdtempSync(join(tmpdir(), 'wattwise-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** A version-7 file with two conversations (one with a message) at `file`. */
function buildV7(file: string): void {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  assert.deepEqual(migrate(db, { targetVersion: 7 }).applied, [1, 2, 3, 4, 5, 6, 7]);
  const insert = db.prepare(
    `INSERT INTO conversations (id, title, system_prompt, model_path, created_at, updated_at, title_is_auto) VALUES (?, ?, '', NULL, ?, ?, 0)`,
  );
  insert.run('old', 'Old chat', 1, 2);
  insert.run('newer', 'Newer chat', 3, 4);
  db.prepare(`INSERT INTO messages (id, conversation_id, role, content, status, created_at) VALUES ('m', 'old', 'user', 'hello zebra', 'complete', 5)`).run();
  db.close();
}

/** Runs `fn` and expects SQLite to refuse it for a constraint (`SQLITE_CONSTRAINT_*`). */
function refused(fn: () => unknown, code: RegExp): void {
  assert.throws(fn, (e: unknown) => code.test(String((e as { code?: unknown }).code)));
}

test('008 keeps every conversation as source app with no API day, and adds the indexes', () => {
  const file = join(root, 'v7.sqlite');
  buildV7(file);
  const db = new Database(file);
  try {
    assert.deepEqual(migrate(db, { targetVersion: 8 }).applied, [8]);
    assert.equal(migration008.version, 8);
    assert.equal(migration008.name, 'conversation_source');
    assert.equal(schemaVersion(db), 8);
    assert.ok(latestSchemaVersion >= 8);
    assert.deepEqual(db.prepare(`SELECT id, title, source, api_day AS apiDay FROM conversations ORDER BY seq`).all(), [
      { id: 'old', title: 'Old chat', source: 'app', apiDay: null },
      { id: 'newer', title: 'Newer chat', source: 'app', apiDay: null },
    ]);
    assert.equal((db.prepare(`SELECT count(*) AS n FROM messages`).get() as { n: number }).n, 1);
    const indexes = (db.prepare(`PRAGMA index_list(conversations)`).all() as Array<{ name: string; unique: number; partial: number }>).map(
      (i) => [i.name, i.unique, i.partial],
    );
    assert.deepEqual(
      indexes.filter(([name]) => name === 'conversations_api_day' || name === 'conversations_source_updated_at').sort(),
      [
        ['conversations_api_day', 1, 1],
        ['conversations_source_updated_at', 0, 0],
      ],
    );
    // The chat list (source 'app', newest first) reads the index in order: no sort step.
    const plan = (
      db.prepare(`EXPLAIN QUERY PLAN SELECT id FROM conversations WHERE source = 'app' ORDER BY updated_at DESC, seq DESC`).all() as Array<{
        detail: string;
      }>
    ).map((r) => r.detail);
    assert.ok(plan.some((d) => d.includes('conversations_source_updated_at')), plan.join('; '));
    assert.ok(!plan.some((d) => d.includes('TEMP B-TREE')), plan.join('; '));
  } finally {
    db.close();
  }
});

test('the CHECKs refuse a bad source or API day; one API conversation per day', () => {
  const file = join(root, 'checks.sqlite');
  buildV7(file);
  const db = new Database(file);
  try {
    migrate(db);
    const insert = db.prepare(
      `INSERT INTO conversations (id, title, system_prompt, model_path, created_at, updated_at, title_is_auto, source, api_day)
       VALUES (?, 'T', '', NULL, 1, 1, 0, ?, ?)`,
    );
    refused(() => insert.run('web', 'web', null), /CHECK/);
    refused(() => insert.run('upper', 'APP', null), /CHECK/);
    refused(() => db.prepare(`UPDATE conversations SET source = 'other' WHERE id = 'old'`).run(), /CHECK/);
    refused(() => insert.run('app-day', 'app', '2026-05-28'), /CHECK/);
    refused(() => insert.run('bad-day', 'api', '28/05/2026'), /CHECK/);
    refused(() => insert.run('short-day', 'api', '2026-5-28'), /CHECK/);
    refused(() => db.prepare(`UPDATE conversations SET api_day = '2026-05-28' WHERE id = 'old'`).run(), /CHECK/);

    insert.run('api-1', 'api', '2026-05-28');
    refused(() => insert.run('api-1-again', 'api', '2026-05-28'), /UNIQUE/);
    insert.run('api-2', 'api', '2026-05-29');
    insert.run('app-1', 'app', null);
    insert.run('app-2', 'app', null);
    insert.run('api-no-day', 'api', null); // NULL days never collide
    assert.equal((db.prepare(`SELECT count(*) AS n FROM conversations`).get() as { n: number }).n, 7);
    // A plain INSERT without the new columns still makes a chat conversation.
    db.prepare(`INSERT INTO conversations (id, title, system_prompt, model_path, created_at, updated_at) VALUES ('plain', 'P', '', NULL, 1, 1)`).run();
    assert.deepEqual(db.prepare(`SELECT source, api_day AS apiDay FROM conversations WHERE id = 'plain'`).get(), { source: 'app', apiDay: null });
  } finally {
    db.close();
  }
});

test('an up-to-date database is left untouched', () => {
  const file = join(root, 'current.sqlite');
  buildV7(file);
  const first = new Database(file);
  migrate(first);
  first.pragma('wal_checkpoint(TRUNCATE)');
  first.close();
  const before = readFileSync(file);
  const again = new Database(file);
  try {
    assert.deepEqual(migrate(again), { from: latestSchemaVersion, to: latestSchemaVersion, applied: [] });
  } finally {
    again.close();
  }
  assert.ok(readFileSync(file).equals(before), 'the file is byte for byte the same');
});

test('the store opens a version-7 file: old conversations are listed and searchable as chat', () => {
  const file = join(root, 'store.sqlite');
  buildV7(file);
  const store = Store.open({ filePath: file });
  try {
    assert.deepEqual(
      store.listConversations().map((c) => c.id),
      ['newer', 'old'],
    );
    assert.deepEqual(
      store.searchConversations('zebra').map((c) => c.id),
      ['old'],
    );
    assert.deepEqual(
      store.energySummary({ days: 1, now: 10 }).conversations,
      [],
      'no replies yet',
    );
  } finally {
    store.close();
  }
});
