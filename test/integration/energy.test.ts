/**
 * Energy telemetry through the backend (real SQLite file, real sampler, real sources): a real tiny model's
 * reply gets non-zero estimated energy on this machine, stored and returned by the API; a battery sensor
 * from a sysfs fixture that vanishes mid-reply (unplugged) never breaks chat and the reply falls back to
 * the estimate, saying so; the Energy view's calls and CSV export work.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { energyStatusSchema, replyEnergySchema } from '../../shared/contract.js';
import { ScriptedEngine } from '../../electron/engine/scriptedEngine.js';
import { openTestBackend, ok, tempDir, waitForDone } from '../helpers/runtime.js';
import { repoRoot, testModel } from '../helpers/models.js';
import type { Backend } from '../../electron/core/backend.js';

async function reply(backend: Backend, conversationId: string, content: string, modelPath?: string) {
  let requestId: string | null = null;
  const wait = waitForDone(backend, () => requestId);
  requestId = ok(await backend.request('chat.send', { conversationId, content, ...(modelPath ? { modelPath } : {}) })).requestId;
  return { done: await wait.promise, events: wait.events };
}

describe('energy telemetry through the backend', () => {
  const tmp = tempDir('wattwise-energy-');
  after(() => tmp.cleanup());

  test('a real model reply gets estimated energy, stored, listed, traced and exported', async () => {
    const backend = await openTestBackend({
      dataDir: join(tmp.dir, 'real'),
      // No battery or RAPL in this fixture: only the CPU estimate, like this VM.
      telemetry: { discover: { sysfsRoot: join(repoRoot, 'test/fixtures/sysfs/desktop-no-battery'), nvidia: false }, sampler: { activeIntervalMs: 50, idleIntervalMs: 200 } },
    });
    try {
      ok(await backend.request('settings.update', { threads: 1, maxReplyTokens: 400 }));
      const conversation = ok(await backend.request('conversations.create', {}));
      const { done, events } = await reply(backend, conversation.id, 'Once upon a time', testModel('stories260K.gguf'));
      const energy = replyEnergySchema.parse(done.message.energy);
      assert.ok(energy.energyJ > 0, `energy ${energy.energyJ} J`);
      assert.equal(energy.measured, false);
      assert.equal(energy.sourceLabel, 'estimated');
      assert.equal(energy.method, 'estimate');
      assert.ok(Math.abs(energy.energyJPerToken - energy.energyJ / done.message.stats!.completionTokens) < 1e-12);
      assert.ok(events.some((e) => e.type === 'power.sample'), 'power samples were pushed');

      const stored = ok(await backend.request('conversations.get', { id: conversation.id })).messages[1]!;
      assert.deepEqual(stored.energy, done.message.energy);
      assert.ok(Math.abs(ok(await backend.request('conversations.list', {}))[0]!.energyJ - energy.energyJ) < 1e-9);

      const status = energyStatusSchema.parse(ok(await backend.request('energy.status', {})));
      assert.equal(status.activeSourceLabel, 'estimated');
      assert.equal(status.measured, false);
      assert.equal(status.battery, null);

      const summary = ok(await backend.request('energy.summary', { days: 7 }));
      const row = summary.conversations.find((c) => c.conversationId === conversation.id)!;
      assert.ok(row && Math.abs(row.energyJ - energy.energyJ) < 1e-9);
      assert.deepEqual(row.models, ['stories260K']);
      assert.equal(summary.days.length, 1);

      const trace = ok(await backend.request('energy.trace', { conversationId: conversation.id }));
      assert.equal(trace.replies.length, 1);
      assert.equal(trace.replies[0]!.messageId, done.message.id);
      const csv = ok(await backend.request('energy.exportCsv', { kind: 'messages', conversationId: conversation.id }));
      assert.match(csv.fileName, /\.csv$/);
      assert.match(csv.csv.split('\r\n')[0]!, /energy_j/);
      assert.ok(csv.csv.includes(done.message.id));
      const missing = await backend.request('energy.trace', { conversationId: 'nope' });
      assert.equal(!missing.ok && missing.error.code, 'NOT_FOUND');
    } finally {
      await backend.dispose();
    }
  });

  test('a battery sensor that vanishes mid-reply: chat completes, energy falls back to the estimate and says why', async () => {
    const sysfs = join(tmp.dir, 'sysfs');
    cpSync(join(repoRoot, 'test/fixtures/sysfs/laptop-power-now'), sysfs, { recursive: true });
    const backend = await openTestBackend({
      dataDir: join(tmp.dir, 'vanish'),
      engineFactory: () => new ScriptedEngine({ replies: ['word '.repeat(120)], tokenDelayMs: 10 }),
      telemetry: { discover: { sysfsRoot: sysfs, nvidia: false }, sampler: { activeIntervalMs: 40, idleIntervalMs: 100, reprobeIntervalMs: 100 } },
    });
    try {
      const before = energyStatusSchema.parse(ok(await backend.request('energy.status', {})));
      assert.equal(before.activeSourceLabel, 'battery sensor', 'the discharging fixture battery is the active source');
      assert.equal(before.battery?.onAc, false);
      const conversation = ok(await backend.request('conversations.create', {}));
      let requestId: string | null = null;
      const wait = waitForDone(backend, () => requestId);
      requestId = ok(await backend.request('chat.send', { conversationId: conversation.id, content: 'Tell me', modelPath: testModel('stories260K.gguf') })).requestId;
      await new Promise((r) => setTimeout(r, 300));
      rmSync(join(sysfs, 'sys/class/power_supply/BAT0'), { recursive: true, force: true }); // unplugged
      const done = await wait.promise;
      assert.equal(done.message.status, 'complete');
      assert.equal(done.error, null);
      const energy = replyEnergySchema.parse(done.message.energy);
      assert.equal(energy.measured, false);
      assert.equal(energy.method, 'estimate');
      assert.match(energy.fallbackReason ?? '', /battery/i);
      assert.ok(energy.energyJ > 0);
    } finally {
      await backend.dispose();
    }
  });
});
