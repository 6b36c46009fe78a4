/**
 * Export, import and backup through the real backend (API calls), on real SQLite files: the JSON round trip into a
 * fresh data folder (everything equal: messages, stats, energy, governor reason, power trace, preset) and into the
 * same one (new ids), bad files refused with a clear BAD_INPUT and nothing written, the Markdown export, backups that
 * pass `quick_check`, and the staged restore at the next start (a damaged backup refused, the database kept).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { ConversationDetail, ConversationSummary } from '../../shared/contract.js';
import { archiveFormat, conversationArchiveSchema, type ConversationArchive } from '../../shared/archive.js';
import { ScriptedEngine } from '../../electron/engine/scriptedEngine.js';
import type { Backend } from '../../electron/core/backend.js';
import { databasePath } from '../../electron/core/paths.js';
import { stageRestore } from '../../electron/store/restore.js';
import { maxBodyBytes, startHttpServer } from '../../electron/server/httpServer.js';
import { ok, openTestBackend, tempDir } from '../helpers/runtime.js';
import { backupsFolderOf, seedHistory } from '../helpers/archiveData.js';

const tmp = tempDir('wattwise-archive-');
after(() => tmp.cleanup());
let folders = 0;
/** A new, empty data folder. */
function freshDataDir(): string {
  folders += 1;
  return join(tmp.dir, `data-${folders}`);
}

function open(dataDir: string): Promise<Backend> {
  return openTestBackend({ dataDir, engineFactory: () => new ScriptedEngine({ replies: ['ok'] }), telemetry: false });
}

/** Runs `fn` on a backend over `dataDir` and disposes it. */
async function withBackend<T>(dataDir: string, fn: (backend: Backend) => Promise<T>): Promise<T> {
  const backend = await open(dataDir);
  try {
    return await fn(backend);
  } finally {
    await backend.dispose();
  }
}

async function details(backend: Backend): Promise<ConversationDetail[]> {
  const list = ok(await backend.request('conversations.list', {}));
  return Promise.all(list.map(async (c) => ok(await backend.request('conversations.get', { id: c.id }))));
}

async function exportJson(backend: Backend, conversationId?: string): Promise<ConversationArchive> {
  const file = ok(await backend.request('history.export', { format: 'json', ...(conversationId ? { conversationId } : {}) }));
  assert.equal(file.mimeType, 'application/json;charset=utf-8');
  assert.match(file.fileName, /^wattwise-.+-\d{4}-\d{2}-\d{2}\.json$/);
  return conversationArchiveSchema.parse(JSON.parse(file.text));
}

/** What `history --json` compares: per conversation, its title, message count and totals. */
function totals(list: ConversationSummary[]) {
  return list.map((c) => ({ title: c.title, messageCount: c.messageCount, energyJ: c.energyJ, promptTokens: c.promptTokens, completionTokens: c.completionTokens }));
}

describe('history export and import', () => {
  const source = freshDataDir();
  const seeded = seedHistory(source);

  test('the JSON export holds everything, and imports into a fresh data folder exactly', async () => {
    const exported = await withBackend(source, (b) => exportJson(b));
    assert.equal(exported.format, archiveFormat);
    assert.equal(exported.conversations.length, 2);
    const [sky, haiku] = exported.conversations;
    // Oldest first, with stats, energy, governor reason and the trace attributed to its reply.
    assert.equal(sky!.conversation.title, 'Why is the sky blue?');
    const reply = sky!.messages[1]!;
    assert.equal(reply.governor?.reason, 'On battery, 41% left → Qwen2.5 0.5B Q4_K_M at 0.15 J/token');
    assert.equal(reply.energy?.energyJ, 3.75);
    assert.equal(reply.stats?.quantization, 'Q4_K_M');
    assert.deepEqual(
      sky!.powerSamples!.map((s) => s.messageId),
      [reply.id, reply.id, null],
    );
    assert.equal(haiku!.conversation.presetId, seeded.presetId);
    assert.deepEqual(exported.presets?.map((p) => p.name), ['Terse']);

    const target = freshDataDir();
    const before = await withBackend(source, async (b) => ({ details: await details(b), traces: await Promise.all(seeded.conversationIds.map(async (id) => ok(await b.request('energy.trace', { conversationId: id })))) }));
    await withBackend(target, async (b) => {
      const result = ok(await b.request('history.import', { text: JSON.stringify(exported) }));
      assert.deepEqual(result, { imported: 2, conversationIds: seeded.conversationIds, renamedIds: 0, messages: 6 });
      // Everything as it was: summaries (totals, preset, overrides), messages (stats, energy, governor), traces.
      assert.deepEqual(await details(b), before.details);
      for (const [i, id] of seeded.conversationIds.entries()) assert.deepEqual(ok(await b.request('energy.trace', { conversationId: id })), before.traces[i]);
      assert.equal(ok(await b.request('presets.list', {})).find((p) => p.id === seeded.presetId)?.name, 'Terse');
      // And exporting again gives the same archive.
      const again = await exportJson(b);
      assert.deepEqual({ ...again, exportedAt: 0 }, { ...exported, exportedAt: 0 });
    });
  });

  test('importing into the data folder it came from gives new ids, consistently, and keeps the originals', async () => {
    await withBackend(source, async (b) => {
      const exported = await exportJson(b, seeded.conversationIds[0]);
      const original = ok(await b.request('conversations.get', { id: seeded.conversationIds[0]! }));
      const result = ok(await b.request('history.import', { text: JSON.stringify(exported) }));
      assert.equal(result.imported, 1);
      assert.equal(result.renamedIds, 1);
      const copyId = result.conversationIds[0]!;
      assert.notEqual(copyId, original.conversation.id);
      const copy = ok(await b.request('conversations.get', { id: copyId }));
      assert.deepEqual(ok(await b.request('conversations.get', { id: original.conversation.id })), original, 'the original is untouched');
      // Same content, stats and energy; every message has a new id pointing at the new conversation.
      assert.deepEqual(
        copy.messages.map(({ id: _id, conversationId: _c, ...rest }) => rest),
        original.messages.map(({ id: _id, conversationId: _c, ...rest }) => rest),
      );
      for (const m of copy.messages) {
        assert.equal(m.conversationId, copyId);
        assert.ok(!original.messages.some((o) => o.id === m.id), 'a new message id');
      }
      const { id: _a, ...copySummary } = copy.conversation;
      const { id: _b, ...originalSummary } = original.conversation;
      assert.deepEqual(copySummary, originalSummary);
      // The copied trace follows the new reply ids.
      const trace = ok(await b.request('energy.trace', { conversationId: copyId }));
      assert.deepEqual(trace.replies.map((r) => r.messageId), [copy.messages[1]!.id, copy.messages[3]!.id]);
      assert.equal(trace.samples.length, 3);
      ok(await b.request('conversations.delete', { id: copyId }));
    });
  });

  test('a reply with alternatives round-trips with every version, the shown one kept', async () => {
    const exported = await withBackend(source, (b) => exportJson(b, seeded.conversationIds[0]));
    const entry = structuredClone(exported.conversations[0]!);
    // Reply 1 was regenerated: an older version (more energy) is kept, hidden, the current one shown.
    const { alternatives: _none, ...shown } = entry.messages[1]!;
    const older = { ...shown, id: 'alt-older-version', content: 'An older, longer answer.', energy: { ...shown.energy!, energyJ: 9.5 } };
    entry.messages[1] = { ...shown, alternatives: [older, shown] };
    entry.conversation = { ...entry.conversation, id: 'with-alternatives' };
    entry.messages = entry.messages.map((m) => ({
      ...m,
      conversationId: 'with-alternatives',
      ...(m.alternatives ? { alternatives: m.alternatives.map((v) => ({ ...v, conversationId: 'with-alternatives' })) } : {}),
    }));
    entry.powerSamples = [];
    const archive = { ...exported, conversations: [entry] };
    const target = freshDataDir();
    await withBackend(target, async (b) => {
      ok(await b.request('history.import', { text: JSON.stringify(archive) }));
      const detail = ok(await b.request('conversations.get', { id: 'with-alternatives' }));
      assert.equal(detail.messages.length, 4, 'the hidden version is not one of the messages');
      assert.equal(detail.conversation.messageCount, 4);
      assert.equal(detail.messages[1]!.id, shown.id);
      assert.deepEqual(detail.messages[1]!.alternatives?.map((v) => [v.id, v.content]), [
        ['alt-older-version', 'An older, longer answer.'],
        [shown.id, shown.content],
      ]);
      // Its energy was spent: the conversation's total counts both versions.
      assert.equal(detail.conversation.energyJ, 3.75 + 0.5 + 9.5);
      const again = await exportJson(b, 'with-alternatives');
      assert.deepEqual(again.conversations[0]!.messages, archive.conversations[0]!.messages);
      const md = ok(await b.request('history.export', { format: 'md', conversationId: 'with-alternatives' })).text;
      assert.match(md, /This is version 2 of 2 of this reply/);
      assert.match(md, /#### Version 1 of 2\n\nAn older, longer answer\./);
    });
  });

  test('a corrupt or foreign file is refused with a clear BAD_INPUT and nothing is written', async () => {
    const target = freshDataDir();
    const good = await withBackend(source, (b) => exportJson(b));
    const secondBroken = structuredClone(good) as unknown as { conversations: Array<{ messages: Array<{ role: string }> }> };
    secondBroken.conversations[1]!.messages[0]!.role = 'robot';
    const cases: Array<[string, string, RegExp]> = [
      ['truncated JSON', JSON.stringify(good).slice(0, 500), /cannot be imported: not JSON/],
      ['another app’s JSON', JSON.stringify({ conversations: [{ title: 'x', messages: [] }] }), /not a Wattwise conversation export/],
      ['a newer archive version', JSON.stringify({ ...good, version: 2 }), /made by a newer Wattwise \(archive version 2/],
      ['a bad field in the second conversation', JSON.stringify(secondBroken), /conversations\[1\]\.messages\[0\]\.role/],
      ['an empty file', '', /the file is empty/],
    ];
    await withBackend(target, async (b) => {
      for (const [name, text, pattern] of cases) {
        const result = await b.request('history.import', { text });
        assert.equal(result.ok, false, name);
        if (result.ok) continue;
        assert.equal(result.error.code, 'BAD_INPUT', name);
        assert.match(result.error.message, pattern, name);
        assert.ok(!result.error.message.includes('\n'), `${name}: one line`);
      }
      assert.deepEqual(ok(await b.request('conversations.list', {})), [], 'nothing was written, not even the valid first conversation');
    });
  });

  test('the Markdown export reads well: title, system prompt, who wrote what, and each reply’s model and energy', async () => {
    const md = await withBackend(source, async (b) => {
      const file = ok(await b.request('history.export', { format: 'md', conversationId: seeded.conversationIds[0]! }));
      assert.equal(file.mimeType, 'text/markdown;charset=utf-8');
      assert.match(file.fileName, /^wattwise-why-is-the-sky-blue-\d{4}-\d{2}-\d{2}\.md$/);
      return file.text;
    });
    assert.match(md, /^# Why is the sky blue\?\n/);
    assert.match(md, /\*\*System prompt\*\*\n\n> You are a physics teacher\./);
    assert.match(md, /### You · \d{4}-\d{2}-\d{2} \d{2}:\d{2}\n\nWhy is the sky blue\?/);
    assert.match(md, /### Assistant · .*\n\nBecause of \*\*Rayleigh scattering\*\*/);
    // The measured reply: model + quantization, J, J/token, tokens, time, speed, source; then the governor.
    assert.match(md, /\*Qwen2\.5 0\.5B Instruct Q4\\_K\\_M · 3\.75 J · 0\.15 J\/token · 25 tokens · 1\.80 s · 31\.3 tok\/s · battery sensor\*/);
    assert.match(md, /\*Chosen by the power governor \(Balanced\): On battery, 41% left → Qwen2\.5 0\.5B Q4\\_K\\_M at 0\.15 J\/token\*/);
    // The estimated, stopped reply says both.
    assert.match(md, /\*Stopped before the end\.\*/);
    assert.match(md, /≈ 0\.500 J · ≈ 0\.063 J\/token · 8 tokens · 800 ms/);
    assert.match(md, /≈ 4\.25 J for 33 tokens/);
    const all = await withBackend(source, async (b) => ok(await b.request('history.export', { format: 'md' })));
    assert.match(all.fileName, /^wattwise-conversations-/);
    assert.match(all.text, /# Why is the sky blue\?[\s\S]*# Write a haiku[\s\S]*\*Failed: The model file is not a valid GGUF\*/);
  });

  test('an unknown conversation is NOT_FOUND', async () => {
    await withBackend(source, async (b) => {
      const result = await b.request('history.export', { format: 'md', conversationId: 'no-such-conversation' });
      assert.equal(result.ok, false);
      if (!result.ok) assert.equal(result.error.code, 'NOT_FOUND');
    });
  });
});

describe('backups', () => {
  test('a backup is one self-contained file that passes quick_check and holds the history', async () => {
    const dataDir = freshDataDir();
    const seeded = seedHistory(dataDir);
    await withBackend(dataDir, async (b) => {
      const info = ok(await b.request('backup.create', {}));
      assert.match(info.name, /^wattwise-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z\.db$/);
      const path = join(backupsFolderOf(dataDir), info.name);
      assert.deepEqual(readdirSync(backupsFolderOf(dataDir)), [info.name], 'no -wal, -shm or partial file beside it');
      const db = new Database(path, { readonly: true, fileMustExist: true });
      try {
        assert.deepEqual(db.pragma('quick_check'), [{ quick_check: 'ok' }]);
        assert.equal(db.pragma('journal_mode', { simple: true }), 'delete');
        const ids = (db.prepare('SELECT id FROM conversations ORDER BY seq').all() as Array<{ id: string }>).map((r) => r.id);
        assert.deepEqual(ids, seeded.conversationIds);
      } finally {
        db.close();
      }
      const list = ok(await b.request('backup.list', {}));
      assert.equal(list.folder, backupsFolderOf(dataDir));
      assert.equal(list.backups.length, 1);
      assert.equal(list.backups[0]!.name, info.name);
      assert.equal(list.backups[0]!.bytes, info.bytes);
      assert.ok(info.bytes > 4096);
      assert.ok(Math.abs(list.backups[0]!.createdAt - Date.now()) < 60_000);
      assert.equal(list.pendingRestore, null);
    });
  });

  test('a staged restore replaces the database at the next start and keeps the previous one beside it', async () => {
    const dataDir = freshDataDir();
    const seeded = seedHistory(dataDir);
    let backupName = '';
    let laterId = '';
    await withBackend(dataDir, async (b) => {
      backupName = ok(await b.request('backup.create', {})).name;
      // Written after the backup: gone once it is restored.
      laterId = ok(await b.request('conversations.create', {})).id;
      const staged = ok(await b.request('backup.restore', { name: backupName }));
      assert.deepEqual(staged, { stagedFor: 'next-start', backup: backupName });
      assert.equal(ok(await b.request('backup.list', {})).pendingRestore, backupName);
      // Nothing changes before the restart.
      assert.equal(ok(await b.request('conversations.list', {})).length, 3);
    });
    await withBackend(dataDir, async (b) => {
      const ids = ok(await b.request('conversations.list', {})).map((c) => c.id);
      assert.deepEqual(ids.sort(), [...seeded.conversationIds].sort());
      const list = ok(await b.request('backup.list', {}));
      assert.equal(list.pendingRestore, null);
      assert.equal(list.lastRestore?.state, 'restored');
      assert.equal(list.lastRestore?.backup, backupName);
      assert.match(list.lastRestore!.detail, /previous database was kept as wattwise\.sqlite\.before-restore-/);
    });
    const aside = readdirSync(dataDir).filter((f) => /^wattwise\.sqlite\.before-restore-[^-]+.*Z$/.test(f));
    assert.equal(aside.length, 1, `moved aside: ${readdirSync(dataDir).join(', ')}`);
    const db = new Database(join(dataDir, aside[0]!), { readonly: true });
    try {
      assert.ok(db.prepare('SELECT 1 FROM conversations WHERE id = ?').get(laterId), 'the previous database, with what was written after the backup');
    } finally {
      db.close();
    }
  });

  test('a damaged backup is refused when asked for, and at the next start: the current database is kept', async () => {
    const dataDir = freshDataDir();
    const seeded = seedHistory(dataDir);
    let good = '';
    await withBackend(dataDir, async (b) => {
      good = ok(await b.request('backup.create', {})).name;
      const garbage = 'wattwise-2020-01-01T00-00-00-000Z.db';
      writeFileSync(join(backupsFolderOf(dataDir), garbage), 'not a database at all '.repeat(300));
      const refused = await b.request('backup.restore', { name: garbage });
      assert.equal(refused.ok, false);
      if (!refused.ok) {
        assert.equal(refused.error.code, 'BAD_INPUT');
        assert.match(refused.error.message, /cannot be restored: it is not a SQLite database/);
      }
      const missing = await b.request('backup.restore', { name: 'wattwise-2021-01-01T00-00-00-000Z.db' });
      assert.equal(!missing.ok && missing.error.code, 'NOT_FOUND');
      const traversal = await b.request('backup.restore', { name: '../wattwise.sqlite' } as never);
      assert.equal(!traversal.ok && traversal.error.code, 'BAD_INPUT');
      assert.equal(ok(await b.request('backup.list', {})).pendingRestore, null);
    });
    // A backup that passed when staged but was damaged before the restart (flipped bytes in its pages).
    const path = join(backupsFolderOf(dataDir), good);
    const bytes = Buffer.from((await import('node:fs')).readFileSync(path));
    for (let i = 4096; i < bytes.length; i += 7) bytes[i] = 0xa5;
    writeFileSync(path, bytes);
    stageRestore(dataDir, good);
    await withBackend(dataDir, async (b) => {
      assert.deepEqual(ok(await b.request('conversations.list', {})).map((c) => c.id).sort(), [...seeded.conversationIds].sort(), 'the current database is kept');
      const list = ok(await b.request('backup.list', {}));
      assert.equal(list.pendingRestore, null, 'the request is dropped, not retried at every start');
      assert.equal(list.lastRestore?.state, 'refused');
      assert.match(list.lastRestore!.detail, /cannot be restored: .*(damaged|integrity|not a SQLite)[\s\S]*the current database was kept/);
    });
    assert.ok(existsSync(databasePath(dataDir)));
    assert.deepEqual(readdirSync(dataDir).filter((f) => f.includes('before-restore')), []);
  });
});

describe('history --json after an import', () => {
  test('lists the same conversations with the same message counts and energy totals', async () => {
    const source = freshDataDir();
    seedHistory(source);
    const target = freshDataDir();
    const exported = await withBackend(source, async (b) => ({ text: ok(await b.request('history.export', { format: 'json' })).text, list: ok(await b.request('conversations.list', {})) }));
    await withBackend(target, async (b) => {
      ok(await b.request('history.import', { text: exported.text }));
      assert.deepEqual(totals(ok(await b.request('conversations.list', {}))), totals(exported.list));
    });
  });
});

describe('history.import over HTTP (the browser mode)', () => {
  test('takes an archive larger than the 1 MiB other calls are limited to', async () => {
    const source = freshDataDir();
    seedHistory(source);
    const exported = await withBackend(source, (b) => exportJson(b, undefined));
    // A long reply: the archive is about 3 MiB.
    const reply = exported.conversations[0]!.messages[1]!;
    reply.content = 'Rayleigh scattering. '.repeat(150_000);
    const text = JSON.stringify(exported);
    assert.ok(text.length > 3 * maxBodyBytes);
    const staticDir = join(tmp.dir, 'static');
    mkdirSync(staticDir, { recursive: true });
    writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>Wattwise</title>');
    const backend = await openTestBackend({ dataDir: freshDataDir(), transport: 'http', engineFactory: () => new ScriptedEngine({ replies: ['ok'] }), telemetry: false });
    const server = await startHttpServer({ backend, staticDir });
    try {
      const call = async (method: string, input: unknown) => {
        const res = await fetch(`${server.origin}/api/call/${method}`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' },
          body: JSON.stringify(input),
        });
        return { status: res.status, body: (await res.json()) as { ok: boolean; value?: { imported: number }; error?: { code: string } } };
      };
      const imported = await call('history.import', { text });
      assert.equal(imported.status, 200);
      assert.equal(imported.body.value?.imported, 2);
      // Other calls keep the 1 MiB limit.
      const other = await call('conversations.list', { query: 'x'.repeat(maxBodyBytes) });
      assert.equal(other.status, 413);
      const detail = ok(await backend.request('conversations.get', { id: reply.conversationId }));
      assert.equal(detail.messages[1]!.content, reply.content);
    } finally {
      await server.close();
      await backend.dispose();
    }
  });
});
