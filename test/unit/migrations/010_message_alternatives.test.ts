/**
 * Migration 010 on a version-9 database seeded with raw SQL: every message is kept, shown (hidden 0), in no
 * alternatives group and with no re-read count; the CHECKs refuse a hidden flag other than 0/1 and a
 * negative count; the group index exists; the store reads the migrated file and its conversations as before.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { migration010 } from '../../../electron/store/migrations/010_message_alternatives.js';
import { migrate, schemaVersion } from '../../../electron/store/migrations/index.js';
import { Store } from '../../../electron/store/store.js';

const root = mkdtempSync(join(tmpdir(), 'wattwise-'));
after(() => rmSync(root, { recursive: true, force: true }));

function buildV9(file: string): void {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  migrate(db, { targetVersion: 9 });
  assert.equal(schemaVersion(db), 9);
  db.prepare(`INSERT INTO conversations (id, title, system_prompt, model_path, created_at, updated_at, title_is_auto) VALUES ('c', 'Chat', '', NULL, 1, 2, 0)`).run();
  const insert = db.prepare(`INSERT INTO messages (id, conversation_id, role, content, status, created_at, stats_model_path, prompt_tokens, prefill_tokens, completion_tokens, started_at, ended_at)
    VALUES (?, 'c', ?, ?, 'complete', ?, ?, ?, ?, ?, ?, ?)`);
  insert.run('u', 'user', 'hello', 3, null, null, null, null, null, null);
  insert.run('a', 'assistant', 'hi there', 4, '/m.gguf', 10, 10, 3, 4, 5);
  db.close();
}

test('010 keeps every message shown, in no group, with no re-read count', () => {
  const file = join(root, 'v9.sqlite');
  buildV9(file);
  const db = new Database(file);
  try {
    assert.deepEqual(migrate(db, { targetVersion: 10 }).applied, [10]);
    assert.equal(migration010.version, 10);
    assert.deepEqual(db.prepare(`SELECT id, alternative_group AS g, hidden, re_evaluated_tokens AS r FROM messages ORDER BY seq`).all(), [
      { id: 'u', g: null, hidden: 0, r: null },
      { id: 'a', g: null, hidden: 0, r: null },
    ]);
    const indexes = (db.prepare(`PRAGMA index_list(messages)`).all() as Array<{ name: string; partial: number }>).map((i) => [i.name, i.partial]);
    assert.ok(indexes.some(([name, partial]) => name === 'messages_alternative_group' && partial === 1));
    assert.throws(() => db.prepare(`UPDATE messages SET hidden = 2 WHERE id = 'a'`).run(), /CHECK/);
    assert.throws(() => db.prepare(`UPDATE messages SET re_evaluated_tokens = -1 WHERE id = 'a'`).run(), /CHECK/);
  } finally {
    db.close();
  }
});

test('the store reads a migrated version-9 file as before', () => {
  const file = join(root, 'v9-store.sqlite');
  buildV9(file);
  const store = Store.open({ filePath: file });
  try {
    const detail = store.getConversation('c');
    assert.ok(detail);
    assert.deepEqual(detail.messages.map((m) => [m.id, m.content, m.alternatives, m.stats?.reEvaluatedTokens]), [
      ['u', 'hello', undefined, undefined],
      ['a', 'hi there', undefined, undefined],
    ]);
    assert.equal(detail.conversation.messageCount, 2);
  } finally {
    store.close();
  }
});
