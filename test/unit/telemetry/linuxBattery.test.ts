/**
 * Linux battery source on the sysfs fixtures: power_now, current×voltage, charging, odd names, garbage,
 * a vanishing battery, and the energy_now cross-check.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { LinuxBatterySource, listLinuxBatteries, parseSysfsBatteryStatus } from '../../../electron/telemetry/sources/linuxBattery.js';
import { copySysfs, errnoError, sysfsFixture } from './fixtures.js';

function battery(scenario: string, name: string, extra: Partial<ConstructorParameters<typeof LinuxBatterySource>[0]> = {}) {
  return new LinuxBatterySource({ name, sysfsRoot: sysfsFixture(scenario), ...extra });
}

describe('Linux battery (sysfs)', () => {
  test('power_now in µW while discharging gives whole-system W', async () => {
    const b = battery('laptop-power-now', 'BAT0');
    assert.deepEqual(await b.probe(), { state: 'ok', detail: null, fix: null });
    const r = await b.read();
    assert.ok(r);
    assert.equal(r.powerW, 12.345);
    assert.equal(r.measured, true);
    assert.equal(r.sourceId, 'linux-battery:BAT0');
    assert.equal(b.kind, 'linux-battery');
    assert.equal(b.scope, 'system');
    assert.equal(b.label, 'battery sensor');
  });

  test('without power_now: current_now µA × voltage_now µV / 1e12', async () => {
    const r = await battery('laptop-charge-units', 'BAT1').read();
    assert.ok(r);
    assert.ok(Math.abs(r.powerW - (1_523_000 * 7_624_000) / 1e12) < 1e-9, String(r.powerW));
    assert.ok(Math.abs(r.powerW - 11.611352) < 1e-9);
  });

  test('a negative current_now (ABI sign convention) is taken as its magnitude', async () => {
    const t = copySysfs('laptop-charge-units');
    try {
      t.write('sys/class/power_supply/BAT1/current_now', '-1523000\n');
      const r = await new LinuxBatterySource({ name: 'BAT1', sysfsRoot: t.root }).read();
      assert.ok(r && Math.abs(r.powerW - 11.611352) < 1e-9);
    } finally {
      t.cleanup();
    }
  });

  test('charging: unavailable with the reason, and a null reading', async () => {
    const b = battery('laptop-charging', 'BAT0');
    assert.equal(await b.read(), null);
    assert.deepEqual(await b.probe(), {
      state: 'unavailable',
      detail: 'battery is charging: whole-system power reads only while discharging',
      fix: null,
    });
  });

  test('full and not charging are unavailable too', async () => {
    const t = copySysfs('laptop-charging');
    try {
      t.write('sys/class/power_supply/BAT0/status', 'Full\n');
      const b = new LinuxBatterySource({ name: 'BAT0', sysfsRoot: t.root });
      assert.equal(await b.read(), null);
      assert.equal(b.status.detail, 'battery is full: whole-system power reads only while discharging');
      t.write('sys/class/power_supply/BAT0/status', 'Not charging\n');
      assert.equal((await b.probe()).state, 'unavailable');
      assert.match(b.status.detail ?? '', /not charging/);
    } finally {
      t.cleanup();
    }
  });

  test('any battery name is found; Mains adapters and device batteries (a mouse) are not batteries', async () => {
    assert.deepEqual(await listLinuxBatteries(sysfsFixture('nonstandard-name')), ['CMB0']);
    assert.deepEqual(await listLinuxBatteries(sysfsFixture('laptop-charge-units')), ['BAT1']);
    assert.deepEqual(await listLinuxBatteries(sysfsFixture('desktop-no-battery')), []);
    assert.deepEqual(await listLinuxBatteries(sysfsFixture('no-such-scenario')), []);
    const r = await battery('nonstandard-name', 'CMB0').read();
    assert.equal(r?.powerW, 8.75);
  });

  test('garbage: non-numeric power_now is an error, not a throw', async () => {
    const b = battery('garbage-power-now', 'BAT0');
    assert.equal(await b.read(), null);
    assert.equal(b.status.state, 'error');
    assert.match(b.status.detail ?? '', /power_now is not a number: "N\/A"/);
  });

  test('garbage: an empty power_now is an error', async () => {
    const b = battery('garbage-empty', 'BAT0');
    assert.equal(await b.read(), null);
    assert.deepEqual(await b.probe(), { state: 'error', detail: 'BAT0/power_now is not a number: (empty)', fix: null });
  });

  test('garbage: negative voltage and implausible power are errors', async () => {
    const t = copySysfs('laptop-charge-units', 'laptop-power-now');
    try {
      t.write('sys/class/power_supply/BAT1/voltage_now', '-7624000\n');
      const b1 = new LinuxBatterySource({ name: 'BAT1', sysfsRoot: t.root });
      assert.equal(await b1.read(), null);
      assert.match(b1.status.detail ?? '', /voltage_now is not positive/);
      t.write('sys/class/power_supply/BAT0/power_now', '5000000000\n'); // 5 kW: a unit mix-up
      const b0 = new LinuxBatterySource({ name: 'BAT0', sysfsRoot: t.root });
      assert.equal(await b0.read(), null);
      assert.equal(b0.status.state, 'error');
      assert.match(b0.status.detail ?? '', /implausible/);
    } finally {
      t.cleanup();
    }
  });

  test('EIO from the driver is an error state with the code', async () => {
    const root = sysfsFixture('laptop-power-now');
    const b = new LinuxBatterySource({
      name: 'BAT0',
      sysfsRoot: root,
      readFile: async (p) => {
        if (p.endsWith('power_now')) throw errnoError('EIO', p);
        return (await import('node:fs/promises')).readFile(p, 'utf8');
      },
    });
    assert.equal(await b.read(), null);
    assert.deepEqual(b.status, { state: 'error', detail: 'cannot read BAT0/power_now: EIO', fix: null });
  });

  test('a battery that vanishes between reads (unplugged) is not-present and reads null', async () => {
    const t = copySysfs('laptop-power-now');
    try {
      const b = new LinuxBatterySource({ name: 'BAT0', sysfsRoot: t.root });
      assert.equal((await b.read())?.powerW, 12.345);
      rmSync(join(t.root, 'sys/class/power_supply/BAT0'), { recursive: true });
      assert.equal(await b.read(), null);
      assert.equal(b.status.state, 'not-present');
      assert.equal((await b.probe()).state, 'not-present');
    } finally {
      t.cleanup();
    }
  });

  test('cross-check: average power between two steps of energy_now (µWh)', async () => {
    const t = copySysfs('laptop-power-now');
    try {
      let now = 1_000_000;
      const b = new LinuxBatterySource({ name: 'BAT0', sysfsRoot: t.root, now: () => now });
      const energy = (uWh: number) => t.write('sys/class/power_supply/BAT0/energy_now', `${uWh}\n`);
      await b.read(); // sees 41 230 000 µWh
      now += 5_000;
      energy(41_220_000); // first step: starts the interval
      await b.read();
      assert.equal(b.lastCrossCheckW, null);
      now += 10_000;
      await b.read(); // unchanged: the firmware has not updated
      assert.equal(b.lastCrossCheckW, null);
      now += 20_000;
      energy(41_110_000); // 110 000 µWh = 0.11 Wh = 396 J over 30 s → 13.2 W
      await b.read();
      assert.ok(b.lastCrossCheckW !== null && Math.abs(b.lastCrossCheckW - 13.2) < 1e-9, String(b.lastCrossCheckW));
      assert.equal(b.lastCrossCheckAt, now);
    } finally {
      t.cleanup();
    }
  });

  test('cross-check in charge units uses voltage_now; it resets when the battery stops discharging', async () => {
    const t = copySysfs('laptop-charge-units');
    try {
      let now = 0;
      const b = new LinuxBatterySource({ name: 'BAT1', sysfsRoot: t.root, now: () => now });
      const charge = (uAh: number) => t.write('sys/class/power_supply/BAT1/charge_now', `${uAh}\n`);
      await b.read();
      now += 1000;
      charge(2_839_000);
      await b.read();
      now += 60_000;
      charge(2_814_000); // 25 000 µAh × 7.624 V = 0.1906 Wh over 60 s → 11.436 W
      await b.read();
      assert.ok(b.lastCrossCheckW !== null && Math.abs(b.lastCrossCheckW - (0.025 * 7.624 * 3600) / 60) < 1e-9, String(b.lastCrossCheckW));
      t.write('sys/class/power_supply/BAT1/status', 'Charging\n');
      await b.read();
      t.write('sys/class/power_supply/BAT1/status', 'Discharging\n');
      const before = b.lastCrossCheckAt;
      now += 1000;
      await b.read(); // first value after the reset: its age is unknown
      now += 1000;
      charge(2_790_000); // first step after the reset: starts an interval, no cross-check yet
      await b.read();
      assert.equal(b.lastCrossCheckAt, before);
      now += 30_000;
      charge(2_775_000); // 15 000 µAh × 7.624 V over 30 s → 13.7232 W
      await b.read();
      assert.equal(b.lastCrossCheckAt, now);
      assert.ok(Math.abs((b.lastCrossCheckW ?? 0) - (0.015 * 7.624 * 3600) / 30) < 1e-9, String(b.lastCrossCheckW));
    } finally {
      t.cleanup();
    }
  });

  test('status text mapping', () => {
    assert.equal(parseSysfsBatteryStatus('Discharging\n'), 'discharging');
    assert.equal(parseSysfsBatteryStatus('Not charging'), 'not-charging');
    assert.equal(parseSysfsBatteryStatus('Full'), 'full');
    assert.equal(parseSysfsBatteryStatus('Charging'), 'charging');
    assert.equal(parseSysfsBatteryStatus('Unknown'), 'unknown');
    assert.equal(parseSysfsBatteryStatus(''), 'unknown');
  });
});
