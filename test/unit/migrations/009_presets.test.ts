/**
 * Migration 009 on a version-8 database seeded with raw SQL: every chat conversation keeps its own system
 * prompt as an override (so it keeps behaving as before), API conversations get none, nobody has a preset
 * (Default); the `presets` table's CHECKs refuse out-of-range values, built-in ids and names taken in another
 * case; `overrides_json` must be a JSON object; deleting a preset moves its conversations back to Default;
 * a version-9 database is left untouched; the store reads the migrated file.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { migration009 } from '../../../electron/store/migrations/009_presets.js';
import { migrate, schemaVersion } from '../../../electron/store/migrations/index.js';
import { Store } from '../../../electron/store/store.js';
import { resolveGenerationSettings } from '../../../shared/presets.js';

const root = mkdtempSync(join(tmpdir(), 'wattwise-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** A version-8 file: three chat conversations (custom, default-looking and empty prompts) and one API conversation. */
function buildV8(file: string): void {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  assert.deepEqual(migrate(db, { targetVersion: 8 }).applied, [1, 2, 3, 4, 5, 6, 7, 8]);
  const insert = db.prepare(
    `INSERT INTO conversations (id, title, system_prompt, model_path, created_at, updated_at, title_is_auto, source, api_day) VALUES (?, ?, ?, NULL, ?, ?, 0, ?, ?)`,
  );
  insert.run('pirate', 'Pirate chat', 'Talk like a pirate. "Arr" — ünïcode ✓', 1, 2, 'app', null);
  insert.run('plain', 'Plain chat', 'You are Wattwise, a helpful and concise assistant running offline on this computer.', 3, 4, 'app', null);
  insert.run('empty', 'No prompt', '', 5, 6, 'app', null);
  insert.run('api', 'API requests · 2026-05-28', '', 7, 8, 'api', '2026-05-28');
  db.prepare(`INSERT INTO messages (id, conversation_id, role, content, status, created_at) VALUES ('m', 'pirate', 'user', 'ahoy', 'complete', 9)`).run();
  db.close();
}

function refused(fn: () => unknown, code: RegExp): void {
  assert.throws(fn, (e: unknown) => code.test(String((e as { code?: unknown }).code)));
}

/** Columns of a valid preset row, for INSERTs that change one of them. */
const validRow = {
  id: 'p1',
  name: 'Mine',
  system_prompt: null as string | null,
  temperature: 0.7,
  top_p: 0.9,
  min_p: 0.05,
  top_k: 40,
  repeat_penalty: 1.1,
  max_reply_tokens: null as number | null,
  seed: null as number | null,
  context_size: null as number | null,
};

function insertPreset(db: Database.Database, row: Partial<typeof validRow>): void {
  db.prepare(
    `INSERT INTO presets (id, name, system_prompt, temperature, top_p, min_p, top_k, repeat_penalty, max_reply_tokens, seed, context_size, created_at, updated_at)
     VALUES (@id, @name, @system_prompt, @temperature, @top_p, @min_p, @top_k, @repeat_penalty, @max_reply_tokens, @seed, @context_size, 1, 1)`,
  ).run({ ...validRow, ...row });
}

test('009 keeps each chat conversation\'s system prompt as an override; API conversations get none; all use Default', () => {
  const file = join(root, 'v8.sqlite');
  buildV8(file);
  const db = new Database(file);
  try {
    assert.deepEqual(migrate(db, { targetVersion: 9 }).applied, [9]);
    assert.equal(migration009.version, 9);
    assert.equal(migration009.name, 'presets');
    assert.equal(schemaVersion(db), 9);
    const rows = db.prepare(`SELECT id, preset_id AS presetId, overrides_json AS overrides, system_prompt AS systemPrompt FROM conversations ORDER BY seq`).all() as Array<{
      id: string;
      presetId: string | null;
      overrides: string | null;
      systemPrompt: string;
    }>;
    assert.deepEqual(
      rows.map((r) => [r.id, r.presetId, r.overrides === null ? null : JSON.parse(r.overrides)]),
      [
        ['pirate', null, { systemPrompt: 'Talk like a pirate. "Arr" — ünïcode ✓' }],
        ['plain', null, { systemPrompt: 'You are Wattwise, a helpful and concise assistant running offline on this computer.' }],
        ['empty', null, { systemPrompt: '' }],
        ['api', null, null],
      ],
    );
    // The old column is untouched, and nothing else was lost.
    assert.equal(rows[0]!.systemPrompt, 'Talk like a pirate. "Arr" — ünïcode ✓');
    assert.equal((db.prepare(`SELECT count(*) AS n FROM messages`).get() as { n: number }).n, 1);
    assert.equal((db.prepare(`SELECT count(*) AS n FROM presets`).get() as { n: number }).n, 0);
  } finally {
    db.close();
  }
});

test('the presets CHECKs refuse out-of-range values, built-in ids and a name taken in another case', () => {
  const file = join(root, 'checks.sqlite');
  buildV8(file);
  const db = new Database(file);
  try {
    migrate(db, { targetVersion: 9 });
    insertPreset(db, {});
    assert.deepEqual(db.prepare(`SELECT name, temperature, seed FROM presets`).get(), { name: 'Mine', temperature: 0.7, seed: null });
    refused(() => insertPreset(db, { id: 'p2', name: 'MINE' }), /UNIQUE/);
    refused(() => insertPreset(db, { id: 'p1', name: 'Other' }), /UNIQUE/);
    for (const builtIn of ['default', 'precise', 'creative']) refused(() => insertPreset(db, { id: builtIn, name: `x ${builtIn}` }), /CHECK/);
    const bad: Array<Partial<typeof validRow>> = [
      { name: '' },
      { name: '   ' },
      { name: ' padded' },
      { name: 'x'.repeat(61) },
      { temperature: -0.1 },
      { temperature: 2.5 },
      { top_p: 1.01 },
      { min_p: -1 },
      { top_k: -1 },
      { top_k: 1001 },
      { repeat_penalty: 0.9 },
      { repeat_penalty: 2.1 },
      { max_reply_tokens: 0 },
      { seed: -1 },
      { seed: 2 ** 32 },
      { context_size: 64 },
      { system_prompt: 'x'.repeat(20001) },
    ];
    bad.forEach((row, i) => refused(() => insertPreset(db, { id: `bad-${i}`, name: row.name ?? `Bad ${i}`, ...row }), /CHECK/));
    insertPreset(db, { id: 'p3', name: 'Edges', temperature: 0, top_p: 1, min_p: 0, top_k: 0, repeat_penalty: 2, max_reply_tokens: 32768, seed: 2 ** 32 - 1, context_size: 131072, system_prompt: '' });
    assert.equal((db.prepare(`SELECT count(*) AS n FROM presets`).get() as { n: number }).n, 2);

    // overrides_json: NULL or a JSON object only.
    refused(() => db.prepare(`UPDATE conversations SET overrides_json = 'not json' WHERE id = 'plain'`).run(), /CHECK/);
    refused(() => db.prepare(`UPDATE conversations SET overrides_json = '[1, 2]' WHERE id = 'plain'`).run(), /CHECK/);
    refused(() => db.prepare(`UPDATE conversations SET overrides_json = '0.5' WHERE id = 'plain'`).run(), /CHECK/);
    refused(() => db.prepare(`UPDATE conversations SET preset_id = '' WHERE id = 'plain'`).run(), /CHECK/);
    db.prepare(`UPDATE conversations SET overrides_json = '{"temperature": 0.3}', preset_id = 'p1' WHERE id = 'plain'`).run();
    db.prepare(`UPDATE conversations SET overrides_json = NULL WHERE id = 'empty'`).run();
  } finally {
    db.close();
  }
});

test('deleting a preset moves its conversations back to Default and keeps their overrides', () => {
  const file = join(root, 'trigger.sqlite');
  buildV8(file);
  const db = new Database(file);
  try {
    migrate(db, { targetVersion: 9 });
    insertPreset(db, { id: 'p1', name: 'One' });
    insertPreset(db, { id: 'p2', name: 'Two' });
    db.prepare(`UPDATE conversations SET preset_id = 'p1' WHERE id IN ('pirate', 'plain')`).run();
    db.prepare(`UPDATE conversations SET preset_id = 'p2' WHERE id = 'empty'`).run();
    db.prepare(`DELETE FROM presets WHERE id = 'p1'`).run();
    assert.deepEqual(
      db.prepare(`SELECT id, preset_id AS presetId FROM conversations WHERE source = 'app' ORDER BY seq`).all(),
      [
        { id: 'pirate', presetId: null },
        { id: 'plain', presetId: null },
        { id: 'empty', presetId: 'p2' },
      ],
    );
    assert.equal(JSON.parse((db.prepare(`SELECT overrides_json AS o FROM conversations WHERE id = 'pirate'`).get() as { o: string }).o).systemPrompt, 'Talk like a pirate. "Arr" — ünïcode ✓');
  } finally {
    db.close();
  }
});

test('a version-9 database is left untouched by migrating to 9 again', () => {
  const file = join(root, 'current.sqlite');
  buildV8(file);
  const first = new Database(file);
  migrate(first, { targetVersion: 9 });
  first.pragma('wal_checkpoint(TRUNCATE)');
  first.close();
  const before = readFileSync(file);
  const again = new Database(file);
  try {
    assert.deepEqual(migrate(again, { targetVersion: 9 }), { from: 9, to: 9, applied: [] });
  } finally {
    again.close();
  }
  assert.ok(readFileSync(file).equals(before), 'the file is byte for byte the same');
});

test('the store opens a version-8 file: each old chat still resolves to its own system prompt, whatever the default says now', () => {
  const file = join(root, 'store.sqlite');
  buildV8(file);
  const store = Store.open({ filePath: file });
  try {
    const byId = new Map(store.listConversations().map((c) => [c.id, c]));
    assert.deepEqual([...byId.keys()].sort(), ['empty', 'pirate', 'plain']);
    const settings = { defaultSystemPrompt: 'A default changed after the upgrade', maxReplyTokens: 300, contextSize: 1024 };
    for (const [id, expected] of [
      ['pirate', 'Talk like a pirate. "Arr" — ünïcode ✓'],
      ['plain', 'You are Wattwise, a helpful and concise assistant running offline on this computer.'],
      ['empty', ''],
    ] as const) {
      const c = byId.get(id)!;
      assert.equal(c.presetId, null);
      const resolved = resolveGenerationSettings({ settings, preset: null, overrides: c.overrides });
      assert.equal(resolved.systemPrompt, expected, id);
      assert.equal(resolved.sources.systemPrompt, 'override');
      // Sampling, reply length and context size are what they were before presets.
      assert.deepEqual(resolved.sampling, { temperature: 0.8, topK: 40, topP: 0.95, minP: 0.05, repeatPenalty: 1, seed: null });
      assert.equal(resolved.maxReplyTokens, 300);
      assert.equal(resolved.contextSize, 1024);
    }
    const api = store.getConversation('api')!.conversation;
    assert.equal(api.overrides, null);
  } finally {
    store.close();
  }
});
