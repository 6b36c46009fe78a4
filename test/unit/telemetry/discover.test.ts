/**
 * discoverPowerSources: what each platform finds, in preference order (batteries, RAPL packages, GPUs,
 * estimate last), on fixture trees with fake tools, and on this machine.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { discoverPowerSources } from '../../../electron/telemetry/discover.js';
import type { PowerSource } from '../../../electron/telemetry/types.js';
import type { SpawnFn } from '../../../electron/telemetry/sources/spawn.js';
import { copySysfs, powerFixture, sysfsFixture } from './fixtures.js';
import { fakePowerShell, fakeSmi } from './fakes.js';

const noNvidia = { command: '/nonexistent/wattwise-no-nvidia-smi' };

async function ids(sources: PowerSource[]): Promise<string[]> {
  try {
    return sources.map((s) => s.id);
  } finally {
    await Promise.all(sources.map((s) => s.dispose()));
  }
}

describe('discovery', () => {
  test('Linux laptop with RAPL and two GPUs: battery, package, GPUs, estimate last', async () => {
    const t = copySysfs('laptop-power-now', 'rapl');
    try {
      const sources = await discoverPowerSources({ platform: 'linux', sysfsRoot: t.root, spawn: fakeSmi(), nvidia: { intervalMs: 50 } });
      assert.deepEqual(
        sources.map((s) => [s.id, s.kind, s.scope]),
        [
          ['linux-battery:BAT0', 'linux-battery', 'system'],
          ['rapl:intel-rapl:0', 'rapl', 'cpu-package'],
          ['nvidia:0', 'nvidia', 'gpu'],
          ['nvidia:1', 'nvidia', 'gpu'],
          ['estimate', 'estimate', 'process-estimate'],
        ],
      );
      assert.equal((await sources[0]!.read())?.powerW, 12.345);
      await ids(sources);
    } finally {
      t.cleanup();
    }
  });

  test('Linux: odd battery names, charging batteries (present, unavailable), desktops', async () => {
    assert.deepEqual(await ids(await discoverPowerSources({ platform: 'linux', sysfsRoot: sysfsFixture('nonstandard-name'), nvidia: noNvidia })), [
      'linux-battery:CMB0',
      'estimate',
    ]);
    const charging = await discoverPowerSources({ platform: 'linux', sysfsRoot: sysfsFixture('laptop-charging'), nvidia: noNvidia });
    assert.equal((await charging[0]!.probe()).state, 'unavailable');
    assert.deepEqual(await ids(charging), ['linux-battery:BAT0', 'estimate']);
    assert.deepEqual(await ids(await discoverPowerSources({ platform: 'linux', sysfsRoot: sysfsFixture('desktop-no-battery'), nvidia: noNvidia })), ['estimate']);
  });

  test('macOS: battery when ioreg has one, else only the estimate', async () => {
    const ioreg = powerFixture('ioreg-AppleSmartBattery.txt');
    assert.deepEqual(await ids(await discoverPowerSources({ platform: 'darwin', runIoreg: async () => ioreg })), ['macos-battery', 'estimate']);
    assert.deepEqual(await ids(await discoverPowerSources({ platform: 'darwin', runIoreg: async () => '' })), ['estimate']);
  });

  test('Windows: battery over PowerShell, then GPUs, then the estimate; no PowerShell → skipped', async () => {
    const smi = fakeSmi();
    const ps = fakePowerShell();
    const spawn: SpawnFn = (command, args) => (command === 'nvidia-smi' ? smi(command, args) : ps(command, args));
    assert.deepEqual(await ids(await discoverPowerSources({ platform: 'win32', spawn, nvidia: { intervalMs: 50 } })), [
      'windows-battery',
      'nvidia:0',
      'nvidia:1',
      'estimate',
    ]);
    assert.deepEqual(
      await ids(await discoverPowerSources({ platform: 'win32', windows: { command: '/nonexistent/wattwise-no-powershell' }, nvidia: noNvidia })),
      ['estimate'],
    );
  });

  test('the estimate takes its options', async () => {
    const sources = await discoverPowerSources({ platform: 'linux', sysfsRoot: sysfsFixture('desktop-no-battery'), nvidia: false, estimate: { idleW: 3, activeWPerCore: 1 } });
    const e = sources.at(-1) as PowerSource & { idlePowerW: number };
    assert.equal(e.idlePowerW, 3);
    await ids(sources);
  });

  test('this machine: the estimate is last and every source probes without throwing', async () => {
    const sources = await discoverPowerSources();
    try {
      assert.ok(sources.length >= 1);
      assert.equal(sources.at(-1)!.id, 'estimate');
      assert.equal(new Set(sources.map((s) => s.id)).size, sources.length);
      for (const s of sources) {
        const status = await s.probe();
        assert.ok(['ok', 'no-permission', 'not-present', 'unavailable', 'error'].includes(status.state), `${s.id}: ${status.state}`);
      }
    } finally {
      await Promise.all(sources.map((s) => s.dispose()));
    }
  });
});
