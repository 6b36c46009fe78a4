/**
 * A process killed mid-reply loses nothing: the partial reply is on disk (flushed while streaming, WAL +
 * synchronous=FULL) and shows as `interrupted` after the restart; while its writer lives, another process
 * opening the same data folder leaves it `streaming`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { partialFlushIntervalMs } from '../../electron/core/backend.js';
import { openTestBackend, ok, tempDir } from '../helpers/runtime.js';
import { repoRoot, testModel } from '../helpers/models.js';
import { ScriptedEngine } from '../../electron/engine/scriptedEngine.js';

test('a reply cut by SIGKILL is kept and marked interrupted', async () => {
  const tmp = tempDir();
  const dataDir = join(tmp.dir, 'data');
  const model = testModel('stories260K.gguf');
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'test/helpers/crashChild.ts'), dataDir, model], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const conversationId = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const m = /STREAMING (\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.on('exit', (code) => reject(new Error(`child exited early with ${code}`)));
    });
    // Give the backend two flush intervals to write the partial text.
    await new Promise((r) => setTimeout(r, partialFlushIntervalMs * 2 + 100));
    // A second process opening the same data folder (the CLI beside the app) leaves the live reply alone.
    const beside = await openTestBackend({ dataDir, engineFactory: () => new ScriptedEngine({ replies: ['unused'] }) });
    try {
      const live = ok(await beside.request('conversations.get', { id: conversationId })).messages[1]!;
      assert.equal(live.status, 'streaming', 'a reply another live process is writing is not marked interrupted');
    } finally {
      await beside.dispose();
    }
    // Then kill the writer without warning.
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    const backend = await openTestBackend({ dataDir, engineFactory: () => new ScriptedEngine({ replies: ['unused'] }) });
    try {
      const detail = ok(await backend.request('conversations.get', { id: conversationId }));
      assert.deepEqual(detail.messages.map((m) => m.role), ['user', 'assistant']);
      const reply = detail.messages[1]!;
      assert.equal(reply.status, 'interrupted');
      assert.match(reply.content, /^(word )+/);
      assert.ok(reply.content.length >= 'word '.length * 20, `partial reply kept (${reply.content.length} chars)`);
    } finally {
      await backend.dispose();
    }
  } finally {
    tmp.cleanup();
  }
});
