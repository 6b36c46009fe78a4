/**
 * Migration 007 and who writes a streaming reply: rows written before it (no writer) are recovered as
 * interrupted; a reply whose writer process runs and heartbeats stays streaming when another process
 * opens the store; a dead writer, a stale heartbeat (pid reuse) or a handle of this process closed without
 * finishing leave it to be recovered.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { migration007 } from '../../../electron/store/migrations/007_message_writers.js';
import { migrate, schemaVersion } from '../../../electron/store/migrations/index.js';
import { Store, WRITER_STALE_MS } from '../../../electron/store/store.js';

const root = mkdtempSync(join(tmpdir(), 'wattwise-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('007 adds the writer columns; a reply streaming before it is recovered as interrupted', () => {
  const file = join(root, 'v6.sqlite');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  assert.deepEqual(migrate(db, { targetVersion: 6 }).applied, [1, 2, 3, 4, 5, 6]);
  db.prepare(`INSERT INTO conversations (id, title, system_prompt, model_path, created_at, updated_at, title_is_auto) VALUES ('c', 'T', '', NULL, 1, 2, 0)`).run();
  db.prepare(`INSERT INTO messages (id, conversation_id, role, content, status, created_at) VALUES ('m', 'c', 'assistant', 'half', 'streaming', 3)`).run();
  assert.deepEqual(migrate(db, { targetVersion: 7 }).applied, [7]);
  assert.equal(migration007.version, 7);
  assert.equal(schemaVersion(db), 7);
  const cols = (db.prepare(`PRAGMA table_info(messages)`).all() as Array<{ name: string }>).map((c) => c.name);
  for (const c of ['writer_pid', 'writer_started_at', 'heartbeat_at']) assert.ok(cols.includes(c), c);
  db.close();
  const store = Store.open({ filePath: file });
  try {
    assert.equal(store.recoveredInterruptedCount, 1);
    assert.equal(store.getMessage('m')?.status, 'interrupted');
    assert.equal(store.getMessage('m')?.content, 'half');
  } finally {
    store.close();
  }
});

/** A streaming reply as another process would have left it: its pid and a heartbeat `ageMs` old. */
function foreignStreaming(file: string, ageMs: number): string {
  const store = Store.open({ filePath: file });
  const c = store.createConversation({ systemPrompt: '', modelPath: null });
  const m = store.addMessage({ conversationId: c.id, role: 'assistant', content: 'half', status: 'streaming' });
  store.close();
  const db = new Database(file);
  db.prepare(`UPDATE messages SET writer_pid = 424242, writer_started_at = 1, heartbeat_at = ? WHERE id = ?`).run(Date.now() - ageMs, m.id);
  db.close();
  return m.id;
}

test('another live writer keeps its reply streaming; a dead one or a stale heartbeat does not', () => {
  const live = join(root, 'live.sqlite');
  const id = foreignStreaming(live, 2000);
  const beside = Store.open({ filePath: live, isProcessAlive: () => true });
  try {
    assert.equal(beside.recoveredInterruptedCount, 0);
    assert.equal(beside.getMessage(id)?.status, 'streaming');
  } finally {
    beside.close();
  }
  const afterDeath = Store.open({ filePath: live, isProcessAlive: () => false });
  try {
    assert.equal(afterDeath.getMessage(id)?.status, 'interrupted');
  } finally {
    afterDeath.close();
  }
  const stale = join(root, 'stale.sqlite');
  const old = foreignStreaming(stale, WRITER_STALE_MS + 60_000);
  const reopened = Store.open({ filePath: stale, isProcessAlive: () => true });
  try {
    assert.equal(reopened.getMessage(old)?.status, 'interrupted', 'a pid reused by another process does not keep it alive');
  } finally {
    reopened.close();
  }
});

test('in this process: a second handle leaves a live reply alone; closing the writing handle orphans it', () => {
  const file = join(root, 'same.sqlite');
  const writer = Store.open({ filePath: file });
  const c = writer.createConversation({ systemPrompt: '', modelPath: null });
  const m = writer.addMessage({ conversationId: c.id, role: 'assistant', content: '', status: 'streaming' });
  writer.updateMessageContent(m.id, 'partial');
  writer.heartbeat(m.id);
  const second = Store.open({ filePath: file });
  assert.equal(second.getMessage(m.id)?.status, 'streaming');
  second.close();
  writer.close();
  const third = Store.open({ filePath: file });
  try {
    assert.equal(third.getMessage(m.id)?.status, 'interrupted');
    assert.equal(third.getMessage(m.id)?.content, 'partial');
  } finally {
    third.close();
  }
});
