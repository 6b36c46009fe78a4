/**
 * Migration 005 on a version-4 database seeded with raw SQL: conversations keep every column, those that
 * had a model keep it pinned (they were always answered by the model the user picked), those without
 * stay unpinned (the governor chooses), and the store reads and changes pins.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { migration005 } from '../../../electron/store/migrations/005_pinned_model.js';
import { migrate, schemaVersion } from '../../../electron/store/migrations/index.js';
import { Store } from '../../../electron/store/store.js';

const root = mkdtempSync(join(tmpdir(), 'wattwise-'));
after(() => rmSync(root, { recursive: true, force: true }));

function buildV4(file: string): void {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  assert.deepEqual(migrate(db, { targetVersion: 4 }).applied, [1, 2, 3, 4]);
  const put = db.prepare(
    `INSERT INTO conversations (id, title, system_prompt, model_path, created_at, updated_at, title_is_auto) VALUES (?, ?, '', ?, ?, ?, 0)`,
  );
  put.run('with-model', 'Picked a model', '/models/a-Q4_K_M.gguf', 100, 200);
  put.run('no-model', 'Never answered', null, 110, 210);
  db.prepare(`INSERT INTO messages (id, conversation_id, role, content, status, created_at) VALUES ('u1', 'with-model', 'user', 'Hi', 'complete', 101)`).run();
  db.close();
}

test('005 keeps every conversation and pins the model each one used', () => {
  const file = join(root, 'v4.sqlite');
  buildV4(file);
  const db = new Database(file);
  try {
    const before = db.prepare('SELECT id, title, model_path, created_at, updated_at FROM conversations ORDER BY id').all();
    assert.deepEqual(migrate(db, { targetVersion: 5 }).applied, [5]);
    assert.equal(migration005.version, 5);
    assert.equal(schemaVersion(db), 5);
    assert.deepEqual(db.prepare('SELECT id, title, model_path, created_at, updated_at FROM conversations ORDER BY id').all(), before);
    const pins = Object.fromEntries(
      (db.prepare('SELECT id, pinned_model_path AS p FROM conversations').all() as Array<{ id: string; p: string | null }>).map((r) => [r.id, r.p]),
    );
    assert.deepEqual(pins, { 'with-model': '/models/a-Q4_K_M.gguf', 'no-model': null });
    assert.equal((db.prepare('SELECT count(*) AS n FROM messages').get() as { n: number }).n, 1);
  } finally {
    db.close();
  }
});

test('the store reads pins, pins and unpins', () => {
  const file = join(root, 'v4-store.sqlite');
  buildV4(file);
  const store = Store.open({ filePath: file });
  try {
    const byId = () => Object.fromEntries(store.listConversations().map((c) => [c.id, c.pinnedModelPath]));
    assert.deepEqual(byId(), { 'with-model': '/models/a-Q4_K_M.gguf', 'no-model': null });
    store.pinConversationModel('with-model', null);
    store.pinConversationModel('no-model', '/models/b-Q8_0.gguf');
    assert.deepEqual(byId(), { 'with-model': null, 'no-model': '/models/b-Q8_0.gguf' });
    const fresh = store.createConversation({ systemPrompt: '', modelPath: null });
    assert.equal(fresh.pinnedModelPath, null);
    const pinned = store.createConversation({ systemPrompt: '', modelPath: '/m.gguf', pinnedModelPath: '/m.gguf' });
    assert.equal(store.getConversation(pinned.id)!.conversation.pinnedModelPath, '/m.gguf');
    assert.throws(() => store.pinConversationModel('nope', null), /not found/);
  } finally {
    store.close();
  }
});
