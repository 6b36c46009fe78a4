/**
 * Migration 001 on an empty database file: the schema it creates, its constraints, the FTS triggers,
 * and the migration runner's guarantees (idempotent, atomic per migration, refuses newer schemas).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { migration001 } from '../../../electron/store/migrations/001_initial.js';
import { latestSchemaVersion, migrate, migrations, schemaVersion } from '../../../electron/store/migrations/index.js';
import { StoreError } from '../../../electron/store/storeError.js';

const root = mkdtempSync(join(tmpdir(), 'wattwise-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
/** A new empty database file with the pragmas the store uses. */
function emptyDb(): Database.Database {
  n += 1;
  const db = new Database(join(root, `m001-${n}.sqlite`));
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  return db;
}

function tables(db: Database.Database): string[] {
  return (db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '%fts_%' ORDER BY name`).all() as { name: string }[]).map(
    (r) => r.name,
  );
}

function match(db: Database.Database, table: 'messages_fts' | 'conversations_fts', q: string): number[] {
  return (db.prepare(`SELECT rowid FROM ${table} WHERE ${table} MATCH ? ORDER BY rowid`).all(q) as { rowid: number }[]).map((r) => r.rowid);
}

function assertFtsInSync(db: Database.Database): void {
  db.exec(`INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)`);
  db.exec(`INSERT INTO conversations_fts (conversations_fts, rank) VALUES ('integrity-check', 1)`);
}

test('the migration list is ordered 1..n and 001 is first', () => {
  assert.deepEqual(migrations.map((m) => m.version), migrations.map((_, i) => i + 1));
  assert.equal(migrations[0], migration001);
  assert.equal(latestSchemaVersion, migrations.length);
});

test('001 on an empty database: tables, constraints, and search triggers that stay in sync', () => {
  const db = emptyDb();
  try {
    assert.equal(schemaVersion(db), 0);
    const result = migrate(db, { targetVersion: 1 });
    assert.deepEqual(result, { from: 0, to: 1, applied: [1] });
    assert.equal(schemaVersion(db), 1);
    assert.deepEqual(tables(db), ['conversations', 'conversations_fts', 'messages', 'messages_fts', 'settings']);

    // Seed with raw SQL.
    const conv = db.prepare(`INSERT INTO conversations (id, title, system_prompt, model_path, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`);
    const msg = db.prepare(
      `INSERT INTO messages (id, conversation_id, role, content, status, created_at, prompt_tokens, completion_tokens, stats_model_path)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    conv.run('c1', 'Sourdough questions', '', null, 1, 1);
    conv.run('c2', 'Travel', 'Be brief.', '/m.gguf', 2, 2);
    const s1 = Number(msg.run('m1', 'c1', 'user', 'How long should dough rise?', 'complete', 10, null, null, null).lastInsertRowid);
    const s2 = Number(msg.run('m2', 'c1', 'assistant', 'About four hours', 'streaming', 10, 30, 4, '/m.gguf').lastInsertRowid);
    const s3 = Number(msg.run('m3', 'c2', 'user', 'Lisbon in spring?', 'complete', 10, null, null, null).lastInsertRowid);
    assert.ok(s1 < s2 && s2 < s3, 'seq increases with insertion, whatever the timestamps');
    assertFtsInSync(db);

    // Insert, partial-content update (streaming), title update, delete.
    assert.deepEqual(match(db, 'messages_fts', '"dough"*'), [s1]);
    assert.deepEqual(match(db, 'conversations_fts', 'sourdough'), [1]);
    db.prepare('UPDATE messages SET content = ? WHERE id = ?').run('About four hours at room temperature', 'm2');
    assert.deepEqual(match(db, 'messages_fts', 'temperature'), [s2]);
    db.prepare('UPDATE messages SET content = ? WHERE id = ?').run('About six hours', 'm2');
    assert.deepEqual(match(db, 'messages_fts', 'temperature'), [], 'the old partial content left the index');
    db.prepare(`UPDATE messages SET status = 'complete' WHERE id = ?`).run('m2');
    db.prepare('UPDATE conversations SET title = ? WHERE id = ?').run('Bread', 'c1');
    assert.deepEqual(match(db, 'conversations_fts', 'sourdough'), []);
    assert.deepEqual(match(db, 'conversations_fts', 'bread'), [1]);
    assertFtsInSync(db);

    // Cascade: deleting a conversation deletes its messages and their index entries.
    db.prepare('DELETE FROM conversations WHERE id = ?').run('c1');
    assert.equal((db.prepare(`SELECT count(*) AS n FROM messages WHERE conversation_id = 'c1'`).get() as { n: number }).n, 0);
    assert.deepEqual(match(db, 'messages_fts', 'hours OR dough'), []);
    assert.deepEqual(match(db, 'conversations_fts', 'bread'), []);
    assert.deepEqual(match(db, 'messages_fts', 'lisbon'), [s3], 'the other conversation is untouched');
    assertFtsInSync(db);

    // AUTOINCREMENT: a deleted last seq is never reused.
    db.prepare('DELETE FROM messages WHERE id = ?').run('m3');
    const s4 = Number(msg.run('m4', 'c2', 'user', 'again', 'complete', 11, null, null, null).lastInsertRowid);
    assert.ok(s4 > s3);

    // Constraints.
    assert.throws(() => msg.run('m5', 'c2', 'robot', 'x', 'complete', 1, null, null, null), /CHECK constraint/);
    assert.throws(() => msg.run('m5', 'c2', 'user', 'x', 'done', 1, null, null, null), /CHECK constraint/);
    assert.throws(() => msg.run('m5', 'nope', 'user', 'x', 'complete', 1, null, null, null), /FOREIGN KEY/);
    assert.throws(() => msg.run('m4', 'c2', 'user', 'dup', 'complete', 1, null, null, null), /UNIQUE/);
    db.prepare('INSERT INTO settings (key, value) VALUES (?, ?)').run('theme', '"dark"');
    assert.throws(() => db.prepare('INSERT INTO settings (key, value) VALUES (?, ?)').run('theme', '"light"'), /UNIQUE|PRIMARY KEY/);
  } finally {
    db.close();
  }
});

test('migrate is idempotent and applies only what is pending', () => {
  const db = emptyDb();
  try {
    assert.deepEqual(migrate(db, { targetVersion: 1 }).applied, [1]);
    assert.deepEqual(migrate(db, { targetVersion: 1 }).applied, []);
    const full = migrate(db);
    assert.deepEqual(full, { from: 1, to: latestSchemaVersion, applied: migrations.slice(1).map((m) => m.version) });
    assert.deepEqual(migrate(db).applied, []);
  } finally {
    db.close();
  }
});

test('a migration that fails is rolled back entirely and user_version stays at the last good version', () => {
  const db = emptyDb();
  try {
    const broken = {
      version: 2,
      name: 'broken',
      up(d: Database.Database) {
        d.exec('CREATE TABLE half_done (x INTEGER)');
        d.exec(`INSERT INTO conversations (id, title, system_prompt, created_at, updated_at) VALUES ('x', 't', '', 0, 0)`);
        throw new Error('boom');
      },
    };
    assert.throws(() => migrate(db, { migrations: [migration001, broken] }), /boom/);
    assert.equal(schemaVersion(db), 1, '001 committed on its own');
    assert.equal(db.prepare(`SELECT count(*) AS n FROM sqlite_schema WHERE name = 'half_done'`).pluck().get(), 0);
    assert.equal(db.prepare('SELECT count(*) FROM conversations').pluck().get(), 0);
    assert.equal(db.inTransaction, false);
  } finally {
    db.close();
  }
});

test('a database newer than the app is refused with a clear StoreError', () => {
  const db = emptyDb();
  try {
    const newer = latestSchemaVersion + 1;
    db.pragma(`user_version = ${newer}`);
    assert.throws(
      () => migrate(db),
      (e: unknown) =>
        e instanceof StoreError && e.code === 'STORAGE_FAILED' && e.message.includes(db.name) && e.message.includes(`created by a newer Wattwise (schema version ${newer}`),
    );
    assert.equal(schemaVersion(db), newer);
    assert.deepEqual(tables(db), [], 'nothing was created');
  } finally {
    db.close();
  }
});

test('a migration list out of order is a bug, reported before anything runs', () => {
  const db = emptyDb();
  try {
    assert.throws(() => migrate(db, { migrations: [{ ...migration001, version: 2 }] }), /out of order/);
    assert.equal(schemaVersion(db), 0);
  } finally {
    db.close();
  }
});
