/**
 * Idle hygiene (issue 10): the model is unloaded after the idle time in Settings (10 min on battery, 60 on
 * AC by default, never when null), on a fake clock, with the real engine and a kit model; the status says
 * so, and the next message loads it again (recorded as a model load for the governor).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend } from '../../electron/core/backend.js';
import type { ApiEvent, EngineStatus } from '../../shared/contract.js';
import { ok, openTestBackend, tempDir, waitForDone } from '../helpers/runtime.js';
import { testModel } from '../helpers/models.js';

const minute = 60_000;

describe('idle unload', () => {
  let data: ReturnType<typeof tempDir>;
  let backend: Backend;
  let now = 1_000_000;
  let onAc = false;
  let conversationId: string;

  before(async () => {
    data = tempDir('wattwise-idle-');
    const models = join(data.dir, 'models');
    mkdirSync(models);
    copyFileSync(testModel('stories260K.gguf'), join(models, 'stories260K.gguf'));
    backend = await openTestBackend({
      dataDir: data.dir,
      modelsDirOverride: models,
      overrides: { threads: 1, maxReplyTokens: 4 },
      telemetry: false,
      idleUnload: { now: () => now, start: false },
      powerStateOverride: {
        get onAc() {
          return onAc;
        },
        batteryPercent: 80,
        batteryCapacityWh: 50,
        batteryEnergyWh: 40,
        baselinePowerW: 5,
      },
    });
    conversationId = ok(await backend.request('conversations.create', {})).id;
  });

  after(async () => {
    await backend.dispose();
    data.cleanup();
  });

  async function reply(): Promise<void> {
    const started = ok(await backend.request('chat.send', { conversationId, content: 'Once upon a time' }));
    const done = waitForDone(backend, () => started.requestId);
    const end = await done.promise;
    assert.equal(end.error, null);
  }

  test('defaults: 10 minutes on battery, 60 on AC', () => {
    onAc = false;
    assert.equal(backend.idleUnloader.idleLimitMs(), 10 * minute);
    onAc = true;
    assert.equal(backend.idleUnloader.idleLimitMs(), 60 * minute);
    onAc = false;
  });

  test('on battery: kept for 9 minutes, unloaded at 10, the status says so; the next message loads it again', async () => {
    await reply();
    assert.equal(ok(await backend.request('engine.status', {})).state, 'ready');
    const events: ApiEvent[] = [];
    const unsubscribe = backend.onEvent((e) => events.push(e));
    now += 9 * minute;
    assert.equal(await backend.idleUnloader.check(), false);
    assert.equal(ok(await backend.request('engine.status', {})).state, 'ready');
    now += 1 * minute;
    assert.equal(await backend.idleUnloader.check(), true);
    const status: EngineStatus = ok(await backend.request('engine.status', {}));
    assert.equal(status.state, 'idle');
    assert.equal(status.modelPath, null);
    assert.equal(status.idleUnloaded, true);
    const last = events.filter((e): e is Extract<ApiEvent, { type: 'engine.status' }> => e.type === 'engine.status').at(-1);
    assert.equal(last?.status.idleUnloaded, true, 'the renderer hears it');
    unsubscribe();

    await reply();
    const after = ok(await backend.request('engine.status', {}));
    assert.equal(after.state, 'ready');
    assert.equal(after.idleUnloaded, false);
  });

  test('on AC the limit is 60 minutes; "never" never unloads', async () => {
    onAc = true;
    await reply();
    now += 59 * minute;
    assert.equal(await backend.idleUnloader.check(), false);
    const settings = ok(await backend.request('settings.get', {}));
    ok(await backend.request('settings.update', { idleUnload: { ...settings.idleUnload, onAcMinutes: null } }));
    now += 24 * 60 * minute;
    assert.equal(await backend.idleUnloader.check(), false);
    assert.equal(ok(await backend.request('engine.status', {})).state, 'ready');
    ok(await backend.request('settings.update', { idleUnload: settings.idleUnload }));
    assert.equal(await backend.idleUnloader.check(), true, 'back to 60 minutes, long passed');
    onAc = false;
  });

  test('activity restarts the idle time, and a reply in flight is never unloaded', async () => {
    await reply();
    now += 8 * minute;
    await reply(); // activity at +8
    now += 8 * minute; // 16 since the first, 8 since the last
    assert.equal(await backend.idleUnloader.check(), false);
    // A reply in flight: the idle time may be long past, the model stays.
    const started = ok(await backend.request('chat.send', { conversationId, content: 'Once upon a time' }));
    const done = waitForDone(backend, () => started.requestId);
    now += 60 * minute;
    assert.equal(await backend.idleUnloader.check(), false);
    await done.promise;
  });

  test('bad values are refused', async () => {
    const settings = ok(await backend.request('settings.get', {}));
    const bad = await backend.request('settings.update', { idleUnload: { ...settings.idleUnload, onBatteryMinutes: 0 } });
    assert.equal(bad.ok, false);
    if (!bad.ok) assert.equal(bad.error.code, 'BAD_INPUT');
  });
});
