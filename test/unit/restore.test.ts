/**
 * The staged restore (electron/store/restore.ts) on real files: nothing to do without a marker; an unreadable marker,
 * a missing or foreign backup and a failed copy are refused with the database left as it was (and the request
 * dropped); a good backup replaces the database, the old one and its -wal / -shm moved aside.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Store } from '../../electron/store/store.js';
import { applyPendingRestore, lastRestoreOutcome, pendingRestore, restoreMarkerName, stageRestore, cancelRestore } from '../../electron/store/restore.js';
import { backupsDir } from '../../electron/store/backup.js';
import { tempDir } from '../helpers/runtime.js';

const tmp = tempDir('wattwise-restore-');
after(() => tmp.cleanup());
let n = 0;
const at = Date.UTC(2026, 4, 1, 12, 30, 5, 123);
const backupName = 'wattwise-2026-05-01T12-00-00-000Z.db';

/** A data folder with a database holding one conversation titled `title`, and (when `backup`) a backup holding "From the backup". */
function setup(options: { backup?: 'good' | 'garbage' | 'none' } = {}) {
  n += 1;
  const dataDir = join(tmp.dir, `d${n}`);
  const dbPath = join(dataDir, 'wattwise.sqlite');
  const store = Store.open({ filePath: dbPath });
  store.createConversation({ systemPrompt: '', modelPath: null, title: 'Current' });
  store.close();
  mkdirSync(backupsDir(dataDir), { recursive: true });
  const backupPath = join(backupsDir(dataDir), backupName);
  if ((options.backup ?? 'good') === 'good') {
    const b = Store.open({ filePath: backupPath });
    b.createConversation({ systemPrompt: '', modelPath: null, title: 'From the backup' });
    b.close();
  } else if (options.backup === 'garbage') {
    writeFileSync(backupPath, 'SQLite format 3\0 but not really'.repeat(200));
  }
  return { dataDir, dbPath, backupPath };
}

function titles(dbPath: string): string[] {
  const db = new Database(dbPath, { readonly: true });
  try {
    return (db.prepare('SELECT title FROM conversations').all() as Array<{ title: string }>).map((r) => r.title);
  } finally {
    db.close();
  }
}

describe('applyPendingRestore', () => {
  test('without a request it does nothing', () => {
    const { dataDir, dbPath } = setup();
    assert.equal(applyPendingRestore({ dataDir, databasePath: dbPath }), null);
    assert.deepEqual(titles(dbPath), ['Current']);
    assert.equal(lastRestoreOutcome(dataDir), null);
  });

  test('a good backup replaces the database; the old one, with its -wal and -shm, is moved aside', () => {
    const { dataDir, dbPath } = setup();
    writeFileSync(`${dbPath}-wal`, '');
    writeFileSync(`${dbPath}-shm`, 'shm');
    stageRestore(dataDir, backupName, at - 1000);
    assert.equal(pendingRestore(dataDir), backupName);
    const outcome = applyPendingRestore({ dataDir, databasePath: dbPath, now: () => at });
    const aside = `${dbPath}.before-restore-2026-05-01T12-30-05-123Z`;
    assert.deepEqual(outcome, { state: 'restored', backup: backupName, at, detail: 'the previous database was kept as wattwise.sqlite.before-restore-2026-05-01T12-30-05-123Z' });
    assert.ok(readFileSync(`${aside}-shm`).equals(Buffer.from('shm')), 'the -shm moved with its database');
    assert.ok(existsSync(`${aside}-wal`) && !existsSync(`${dbPath}-wal`) && !existsSync(`${dbPath}-shm`));
    assert.deepEqual(titles(dbPath), ['From the backup']);
    assert.deepEqual(titles(aside), ['Current']);
    assert.equal(pendingRestore(dataDir), null);
    assert.deepEqual(lastRestoreOutcome(dataDir), outcome);
    // The restored database opens as the store and works.
    const store = Store.open({ filePath: dbPath });
    assert.deepEqual(store.listConversations().map((c) => c.title), ['From the backup']);
    store.close();
  });

  for (const [name, prepare, pattern] of [
    ['a missing backup', () => setup({ backup: 'none' }), /does not exist; the current database was kept$/],
    ['a file that is not a database', () => setup({ backup: 'garbage' }), /cannot be restored: it is not a SQLite database; the current database was kept$/],
    [
      'a SQLite file that is not Wattwise’s',
      () => {
        const s = setup({ backup: 'none' });
        const db = new Database(s.backupPath);
        db.exec('CREATE TABLE notes (text TEXT)');
        db.close();
        return s;
      },
      /it is not a Wattwise database \(no table conversations, messages, settings, power_samples\)/,
    ],
    [
      'a backup from a newer Wattwise',
      () => {
        const s = setup();
        const db = new Database(s.backupPath);
        db.pragma('user_version = 999');
        db.close();
        return s;
      },
      /it was made by a newer Wattwise \(schema version 999/,
    ],
  ] as const) {
    test(`${name} is refused, the database untouched, the request dropped`, () => {
      const { dataDir, dbPath } = prepare();
      const before = readFileSync(dbPath);
      stageRestore(dataDir, backupName);
      const outcome = applyPendingRestore({ dataDir, databasePath: dbPath, now: () => at });
      assert.equal(outcome?.state, 'refused');
      assert.match(outcome!.detail, pattern);
      assert.deepEqual(readFileSync(dbPath), before);
      assert.deepEqual(readdirSync(dataDir).filter((f) => f.includes('before-restore')), []);
      assert.equal(existsSync(join(dataDir, restoreMarkerName)), false);
      assert.deepEqual(lastRestoreOutcome(dataDir), outcome);
    });
  }

  test('an unreadable request is dropped and says so', () => {
    const { dataDir, dbPath } = setup();
    writeFileSync(join(dataDir, restoreMarkerName), '{"backup": "../../etc/passwd"}');
    assert.equal(pendingRestore(dataDir), null);
    const outcome = applyPendingRestore({ dataDir, databasePath: dbPath });
    assert.equal(outcome?.state, 'refused');
    assert.match(outcome!.detail, /the restore request \(restore-pending\.json\) is unreadable; nothing was changed/);
    assert.deepEqual(titles(dbPath), ['Current']);
  });

  test('a copy that fails puts the database back where it was', () => {
    const { dataDir, dbPath } = setup();
    writeFileSync(`${dbPath}-shm`, 'shm');
    // The staging path is taken by a folder: the copy fails after the database was moved aside.
    mkdirSync(`${dbPath}.restoring`);
    stageRestore(dataDir, backupName);
    const outcome = applyPendingRestore({ dataDir, databasePath: dbPath, now: () => at });
    assert.equal(outcome?.state, 'refused');
    assert.match(outcome!.detail, /could not be copied into place .*; the current database was kept$/);
    assert.ok(readFileSync(`${dbPath}-shm`).equals(Buffer.from('shm')), 'the -shm is back too');
    assert.deepEqual(titles(dbPath), ['Current']);
    assert.deepEqual(readdirSync(dataDir).filter((f) => f.includes('before-restore')), []);
  });

  test('a request can be cancelled before the restart', () => {
    const { dataDir, dbPath } = setup();
    stageRestore(dataDir, backupName);
    assert.equal(cancelRestore(dataDir), true);
    assert.equal(cancelRestore(dataDir), false);
    assert.equal(applyPendingRestore({ dataDir, databasePath: dbPath }), null);
    assert.deepEqual(titles(dbPath), ['Current']);
  });
});
