/**
 * `history export` and `history import` exactly as the README gives them (`npm run -s wattwise -- …`), on a data
 * folder written by the real store: export to stdout, import into another folder, and `history --json` there lists
 * the same conversations with the same message counts and energy totals; failures exit 1 with one stderr line, bad
 * usage exits 2, and a refused file writes nothing.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/models.js';
import { tempDir } from '../helpers/runtime.js';
import { seedHistory } from '../helpers/archiveData.js';
import { conversationArchiveSchema } from '../../shared/archive.js';
import { databasePath } from '../../electron/core/paths.js';

function wattwise(...args: string[]) {
  const r = spawnSync('npm', ['run', '-s', 'wattwise', '--', ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Listed {
  id: string;
  title: string;
  messageCount: number;
  energyJ: number;
  promptTokens: number;
  completionTokens: number;
}

function historyJson(dataDir: string): Listed[] {
  const r = wattwise('history', '--data-dir', dataDir, '--json');
  assert.equal(r.status, 0, r.stderr);
  return (JSON.parse(r.stdout) as { conversations: Listed[] }).conversations;
}

describe('history export / import (CLI)', () => {
  const tmp = tempDir('wattwise-archive-cli-');
  after(() => tmp.cleanup());
  const source = join(tmp.dir, 'source');
  const seeded = seedHistory(source);

  test('export prints an archive; import into another folder; history --json there lists the same', () => {
    const exported = wattwise('history', 'export', '--data-dir', source);
    assert.equal(exported.status, 0, exported.stderr);
    assert.equal(exported.stderr, '');
    const archive = conversationArchiveSchema.parse(JSON.parse(exported.stdout));
    assert.deepEqual(archive.conversations.map((c) => c.conversation.id), seeded.conversationIds);
    const file = join(tmp.dir, 'export.json');
    writeFileSync(file, exported.stdout);

    const target = join(tmp.dir, 'target');
    const imported = wattwise('history', 'import', file, '--data-dir', target, '--json');
    assert.equal(imported.status, 0, imported.stderr);
    assert.deepEqual(JSON.parse(imported.stdout), { imported: 2, conversationIds: seeded.conversationIds, renamedIds: 0, messages: 6 });

    const strip = (list: Listed[]) => list.map(({ id, title, messageCount, energyJ, promptTokens, completionTokens }) => ({ id, title, messageCount, energyJ, promptTokens, completionTokens }));
    const before = strip(historyJson(source));
    assert.ok(before.every((c) => c.messageCount > 0));
    assert.deepEqual(strip(historyJson(target)), before);

    // Again into the same folder: new ids, same totals, and the text output says so.
    const again = wattwise('history', 'import', file, '--data-dir', target);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(again.stdout, 'Imported 2 conversations (6 messages); 2 got new ids because theirs were already taken.\n');
    const after = historyJson(target);
    assert.equal(after.length, 4);
    assert.equal(new Set(after.map((c) => c.id)).size, 4);
  });

  test('export --conversation ID --format md prints that conversation as Markdown', () => {
    const r = wattwise('history', 'export', '--conversation', seeded.conversationIds[0]!, '--format', 'md', '--data-dir', source);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^# Why is the sky blue\?\n/);
    assert.match(r.stdout, /Qwen2\.5 0\.5B Instruct Q4\\_K\\_M · 3\.75 J · 0\.15 J\/token/);
    assert.ok(!r.stdout.includes('Write a haiku'));
  });

  test('a bad file exits 1 with one line on stderr and writes nothing', () => {
    const bad = join(tmp.dir, 'notes.json');
    writeFileSync(bad, JSON.stringify({ threads: [{ title: 'from another app' }] }));
    const target = join(tmp.dir, 'untouched');
    for (const [file, pattern] of [
      [bad, /^wattwise: This file cannot be imported: not a Wattwise conversation export/],
      [join(tmp.dir, 'missing.json'), /^wattwise: cannot read .*missing\.json: no such file$/],
    ] as const) {
      const r = wattwise('history', 'import', file, '--data-dir', target);
      assert.equal(r.status, 1, r.stderr);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr.trim(), pattern);
    }
    assert.deepEqual(historyJson(target), []);
    const unknown = wattwise('history', 'export', '--conversation', 'no-such-id', '--data-dir', source);
    assert.equal(unknown.status, 1);
    assert.match(unknown.stderr, /^wattwise: No conversation with id no-such-id\n$/);
  });

  test('bad usage exits 2', () => {
    for (const args of [
      ['history', 'import', '--data-dir', join(tmp.dir, 'x')],
      ['history', 'export', '--format', 'pdf'],
      ['history', 'export', '--nope'],
      ['history', 'import', 'a.json', 'b.json'],
    ]) {
      const r = wattwise(...args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^wattwise: .+\nRun "npm run -s wattwise -- help" for usage\.\n$/);
    }
  });

  test('export of a folder without a database prints an empty archive and creates nothing', () => {
    const empty = join(tmp.dir, 'empty');
    const r = wattwise('history', 'export', '--data-dir', empty);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(conversationArchiveSchema.parse(JSON.parse(r.stdout)).conversations, []);
    assert.equal(existsSync(databasePath(empty)), false);
  });
});
