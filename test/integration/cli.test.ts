/**
 * The CLI exactly as the README gives it (`npm run -s wattwise -- ...`), with the kit's models and a temp
 * data folder: chat --json, the error paths, models and history.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, testModel } from '../helpers/models.js';
import { tempDir } from '../helpers/runtime.js';
import { Store } from '../../electron/store/store.js';
import { databasePath } from '../../electron/core/paths.js';

function wattwise(...args: string[]) {
  const r = spawnSync('npm', ['run', '-s', 'wattwise', '--', ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('CLI', () => {
  const tmp = tempDir('wattwise-cli-');
  const dataDir = join(tmp.dir, 'data');
  const stories = testModel('stories260K.gguf');
  after(() => tmp.cleanup());

  test('chat --json prints one JSON object with the reply and its stats, and stores the conversation', () => {
    const r = wattwise('chat', '--model', stories, '--prompt', 'Once upon a time', '--max-tokens', '24', '--threads', '1', '--data-dir', dataDir, '--json');
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 1, `stdout is one JSON line: ${r.stdout}`);
    const out = JSON.parse(lines[0]!);
    assert.ok(out.conversationId && out.messageId);
    assert.ok(out.reply.length > 0);
    assert.deepEqual(
      { path: out.model.path, name: out.model.name, architecture: out.model.architecture, quantization: out.model.quantization },
      { path: stories, name: 'stories260K', architecture: 'llama', quantization: 'F32' },
    );
    assert.equal(out.model.sizeBytes, 1_185_376);
    assert.ok(out.promptTokens > 0);
    assert.ok(out.completionTokens > 0 && out.completionTokens <= 24);
    assert.ok(out.ttftMs > 0);
    assert.ok(out.decodeTokensPerSecond > 0);
    assert.equal(out.threads, 1);
    // Energy: on this machine (no battery, no readable RAPL) the CPU estimate, and it says so.
    assert.ok(out.energyJ > 0, `energyJ ${out.energyJ}`);
    assert.ok(Math.abs(out.energyJPerToken - out.energyJ / out.completionTokens) < 1e-9);
    assert.ok(out.avgPowerW > 0);
    assert.equal(typeof out.energySource, 'string');
    assert.equal(typeof out.energyMeasured, 'boolean');
    if (!out.energyMeasured) assert.equal(out.energySource, 'estimated');
    assert.equal(out.governor, undefined, 'an explicit --model bypasses the governor');

    const h = wattwise('history', '--data-dir', dataDir, '--json');
    assert.equal(h.status, 0, h.stderr);
    const { conversations } = JSON.parse(h.stdout);
    const c = conversations.find((x: { id: string }) => x.id === out.conversationId);
    assert.ok(c, 'the conversation is stored');
    assert.equal(c.messageCount, 2);
    assert.equal(c.completionTokens, out.completionTokens);
    const table = wattwise('history', '--data-dir', dataDir);
    assert.match(table.stdout, /Once upon a time/);
  });

  test('chat without --json streams the reply to stdout', () => {
    const r = wattwise('chat', '--model', stories, '--prompt', 'Once upon a time', '--max-tokens', '16', '--threads', '1', '--data-dir', dataDir);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.stdout.trim().length > 0);
    assert.match(r.stderr, /completion tokens/);
  });

  test('a bad model path or file exits non-zero with one line on stderr', () => {
    const notGguf = join(tmp.dir, 'notes.gguf');
    writeFileSync(notGguf, 'plain text');
    for (const [model, pattern] of [
      [join(tmp.dir, 'missing.gguf'), /not found/],
      [notGguf, /not a GGUF/],
    ] as const) {
      const r = wattwise('chat', '--model', model, '--prompt', 'hi', '--data-dir', dataDir, '--json');
      assert.equal(r.status, 1);
      assert.equal(r.stdout, '');
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, pattern);
    }
    const usage = wattwise('chat', '--model', stories, '--data-dir', dataDir);
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /--prompt/);
    const badProfile = wattwise('governor', '--profile', 'turbo', '--data-dir', dataDir);
    assert.equal(badProfile.status, 2);
    assert.match(badProfile.stderr, /--profile must be/);
  });

  test('models --json lists usable and unusable files with the reason', () => {
    const dir = join(tmp.dir, 'models');
    mkdirSync(dir);
    symlinkSync(stories, join(dir, 'stories260K.gguf'));
    writeFileSync(join(dir, 'empty.gguf'), '');
    const r = wattwise('models', '--models-dir', dir, '--json');
    assert.equal(r.status, 0, r.stderr);
    const { modelsDir, models } = JSON.parse(r.stdout);
    assert.equal(modelsDir, dir);
    const byFile = new Map(models.map((m: { fileName: string }) => [m.fileName, m]));
    assert.equal((byFile.get('stories260K.gguf') as { usable: boolean }).usable, true);
    const empty = byFile.get('empty.gguf') as { usable: boolean; problem: string };
    assert.equal(empty.usable, false);
    assert.match(empty.problem, /empty/);
    const table = wattwise('models', '--models-dir', dir);
    assert.match(table.stdout, /unusable: .*empty/);
  });
  test('a whitespace-only prompt is bad usage; a chat that fails before its message leaves no empty conversation', () => {
    const blank = wattwise('chat', '--model', stories, '--prompt', '   \n ', '--data-dir', join(tmp.dir, 'data-blank'));
    assert.equal(blank.status, 2);
    const failData = join(tmp.dir, 'data-no-model');
    const empty = join(tmp.dir, 'no-models-here');
    mkdirSync(empty);
    const failed = wattwise('chat', '--prompt', 'hello', '--models-dir', empty, '--data-dir', failData);
    assert.equal(failed.status, 1);
    assert.equal(failed.stderr.trim().split('\n').length, 1, failed.stderr);
    const history = wattwise('history', '--data-dir', failData, '--json');
    assert.equal(history.status, 0, history.stderr);
    assert.deepEqual(JSON.parse(history.stdout).conversations, []);
  });
  test('history only reads: a data folder on a read-only disk is listed, a missing one is not created', async (t) => {
    const none = join(tmp.dir, 'data-never-created');
    const empty = wattwise('history', '--data-dir', none);
    assert.equal(empty.status, 0, empty.stderr);
    assert.match(empty.stdout, /No conversations yet/);
    assert.equal(existsSync(none), false, 'history creates no data folder');

    const src = join(tmp.dir, 'data-ro-src');
    const store = Store.open({ filePath: databasePath(src) });
    store.createConversation({ systemPrompt: '', modelPath: null, title: 'kept on a read-only disk' });
    store.close();
    const mnt = join(tmp.dir, 'data-ro');
    mkdirSync(mnt);
    try {
      execFileSync('mount', ['--bind', src, mnt], { stdio: 'ignore' });
      execFileSync('mount', ['-o', 'remount,ro,bind', mnt], { stdio: 'ignore' });
    } catch {
      t.skip('cannot make a read-only mount here');
      return;
    }
    try {
      const h = wattwise('history', '--data-dir', mnt, '--json');
      assert.equal(h.status, 0, h.stderr);
      assert.deepEqual(JSON.parse(h.stdout).conversations.map((c: { title: string }) => c.title), ['kept on a read-only disk']);
    } finally {
      execFileSync('umount', [mnt], { stdio: 'ignore' });
    }
  });
  test('a closed stdout (chat | head -c 10) stops the reply and stores it, with one stderr line', async () => {
    const dir = join(tmp.dir, 'data-epipe');
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'electron/cli/main.ts'), 'chat', '--model', stories, '--prompt', 'Once upon a time', '--max-tokens', '4000', '--threads', '1', '--context-size', '4096', '--data-dir', dir], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    // Like `head -c 10`: read the first bytes, then close the pipe.
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    assert.equal(code, 1, stderr);
    assert.equal(stderr.trim().split('\n').length, 1, stderr);
    assert.match(stderr, /output was closed: the reply was stopped and its \d+ characters stored/);
    const store = Store.open({ filePath: join(dir, 'wattwise.sqlite') });
    try {
      const [conversation] = store.listConversations();
      const reply = store.getConversation(conversation!.id)!.messages.find((m) => m.role === 'assistant')!;
      assert.equal(reply.status, 'stopped');
      assert.ok(reply.content.length > 0);
    } finally {
      store.close();
    }
  });
});
