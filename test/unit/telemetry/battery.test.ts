/**
 * readBatteryState per platform: Linux sysfs fixtures (energy units, charge units, charging, odd names, several
 * batteries, desktop), macOS ioreg, Windows WMI through the session, and the systeminformation fallback.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import type si from 'systeminformation';
import { readBatteryState } from '../../../electron/telemetry/battery.js';
import { copySysfs, powerFixture, sysfsFixture } from './fixtures.js';
import { fakePowerShell } from './fakes.js';

const linux = (scenario: string) => readBatteryState({ platform: 'linux', sysfsRoot: sysfsFixture(scenario) });

function close(actual: number | null | undefined, expected: number, what: string): void {
  assert.ok(actual !== null && actual !== undefined && Math.abs(actual - expected) < 1e-9, `${what}: ${actual} ≠ ${expected}`);
}

describe('battery state', () => {
  test('Linux, energy units: capacity %, µWh → Wh, AC offline', async () => {
    assert.deepEqual(await linux('laptop-power-now'), { percent: 78, onAc: false, energyWh: 41.23, capacityWh: 52.6, status: 'discharging' });
  });

  test('Linux, charge units: µAh × voltage_min_design µV → Wh', async () => {
    const s = await linux('laptop-charge-units');
    assert.ok(s);
    assert.equal(s.percent, 72);
    close(s.energyWh, 2.84 * 7.6, 'energyWh');
    close(s.capacityWh, 3.92 * 7.6, 'capacityWh');
    assert.equal(s.onAc, false);
    assert.equal(s.status, 'discharging');
  });

  test('Linux, charging on AC', async () => {
    assert.deepEqual(await linux('laptop-charging'), { percent: 60, onAc: true, energyWh: 30, capacityWh: 50, status: 'charging' });
  });

  test('Linux, CMB0 + ADP1 offline; a mouse battery does not count', async () => {
    assert.deepEqual(await linux('nonstandard-name'), { percent: 75, onAc: false, energyWh: 33, capacityWh: 44, status: 'discharging' });
  });

  test('Linux, desktop with only Mains → null; a tree without power_supply → null (no fallback to this machine)', async () => {
    assert.equal(await linux('desktop-no-battery'), null);
    assert.equal(await linux('rapl'), null);
  });

  test('Linux, two batteries (BAT0 discharging, BAT1 idle "Not charging") are summed; not on AC', async () => {
    const t = copySysfs('laptop-power-now');
    try {
      const dir = join(t.root, 'sys/class/power_supply');
      cpSync(join(dir, 'BAT0'), join(dir, 'BAT1'), { recursive: true });
      t.write('sys/class/power_supply/BAT1/status', 'Not charging\n');
      t.write('sys/class/power_supply/BAT1/energy_now', '20000000\n');
      t.write('sys/class/power_supply/BAT1/energy_full', '23400000\n');
      const s = await readBatteryState({ platform: 'linux', sysfsRoot: t.root });
      assert.ok(s);
      close(s.energyWh, 61.23, 'energyWh');
      close(s.capacityWh, 76, 'capacityWh');
      close(s.percent, (61.23 / 76) * 100, 'percent');
      assert.equal(s.status, 'discharging');
      assert.equal(s.onAc, false);
    } finally {
      t.cleanup();
    }
  });

  test('macOS from ioreg; a Mac without a battery → null', async () => {
    const s = await readBatteryState({ platform: 'darwin', runIoreg: async () => powerFixture('ioreg-AppleSmartBattery.txt'), systeminformation: false });
    assert.ok(s);
    assert.equal(s.percent, 85);
    assert.equal(s.onAc, false);
    close(s.energyWh, 48.03444, 'energyWh');
    assert.equal(s.status, 'discharging');
    assert.equal(await readBatteryState({ platform: 'darwin', runIoreg: async () => '', systeminformation: async () => { throw new Error('must not be asked'); } }), null);
  });

  test('Windows from WMI through a PowerShell session (fake shell)', async () => {
    const s = await readBatteryState({ platform: 'win32', spawn: fakePowerShell(), systeminformation: false });
    assert.ok(s);
    close(s.percent, (38420 / 52150) * 100, 'percent');
    assert.equal(s.energyWh, 38.42);
    assert.equal(s.capacityWh, 52.15);
    assert.equal(s.onAc, false);
  });

  test('fallback: systeminformation battery() (mWh → Wh), and no battery → null', async () => {
    const data = {
      hasBattery: true,
      cycleCount: 100,
      isCharging: false,
      voltage: 11.9,
      designedCapacity: 57000,
      maxCapacity: 52000,
      currentCapacity: 26000,
      capacityUnit: 'mWh',
      percent: 50,
      timeRemaining: 120,
      acConnected: false,
      type: 'Li-ion',
      model: 'x',
      manufacturer: 'y',
      serial: 'z',
    } satisfies si.Systeminformation.BatteryData;
    assert.deepEqual(await readBatteryState({ platform: 'freebsd', systeminformation: async () => data }), {
      percent: 50,
      onAc: false,
      energyWh: 26,
      capacityWh: 52,
      status: 'discharging',
    });
    assert.equal(await readBatteryState({ platform: 'freebsd', systeminformation: async () => ({ ...data, hasBattery: false }) }), null);
    assert.equal(await readBatteryState({ platform: 'freebsd', systeminformation: async () => { throw new Error('no'); } }), null);
  });
});
