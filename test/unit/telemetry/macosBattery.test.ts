/**
 * macOS battery: parsing `ioreg -rn AppleSmartBattery` fixture output (two's-complement amperage), power while
 * discharging, AC states, battery facts, and the source with an injected ioreg runner.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MacosBatterySource,
  macosBatteryPower,
  macosBatteryState,
  parseIoregBattery,
  parseIoregInteger,
} from '../../../electron/telemetry/sources/macosBattery.js';
import { errnoError, powerFixture } from './fixtures.js';

const ioreg = powerFixture('ioreg-AppleSmartBattery.txt');
const onAc = ioreg.replace('"ExternalConnected" = No', '"ExternalConnected" = Yes').replace('"IsCharging" = No', '"IsCharging" = Yes');

describe('macOS battery (ioreg)', () => {
  test('unsigned 64-bit two\'s complement prints are negative', () => {
    assert.equal(parseIoregInteger('18446744073709551004'), -612);
    assert.equal(parseIoregInteger('18446744073709550158'), -1458);
    assert.equal(parseIoregInteger('1523'), 1523);
    assert.equal(parseIoregInteger('-7'), -7);
    assert.equal(parseIoregInteger('Yes'), null);
    assert.equal(parseIoregInteger('99999999999999999999999'), null);
  });

  test('parses the top-level keys of the fixture (not the inline BatteryData copy)', () => {
    const b = parseIoregBattery(ioreg);
    assert.deepEqual(b, {
      voltageMv: 12412,
      amperageMa: -612,
      externalConnected: false,
      isCharging: false,
      fullyCharged: false,
      currentCapacity: 85,
      maxCapacity: 100,
      rawCurrentCapacityMah: 3870,
      rawMaxCapacityMah: 4556,
    });
    assert.equal(parseIoregBattery(''), null, 'a Mac without a battery prints nothing');
  });

  test('discharging: W = Voltage mV × |InstantAmperage| mA / 1e6', () => {
    const p = macosBatteryPower(parseIoregBattery(ioreg)!);
    assert.equal(p.status.state, 'ok');
    assert.ok(Math.abs(p.powerW! - (12412 * 612) / 1e6) < 1e-12);
    assert.ok(Math.abs(p.powerW! - 7.596144) < 1e-9);
  });

  test('on AC (charging) → unavailable; without ExternalConnected the amperage sign decides', () => {
    const p = macosBatteryPower(parseIoregBattery(onAc)!);
    assert.deepEqual(p, { status: { state: 'unavailable', detail: 'battery is charging: whole-system power reads only while discharging', fix: null }, powerW: null });
    const noKey = parseIoregBattery(ioreg.replace(/.*"ExternalConnected".*\n/, ''))!;
    assert.equal(noKey.externalConnected, null);
    assert.equal(macosBatteryPower(noKey).status.state, 'ok');
    const positive = { ...noKey, amperageMa: 900 };
    assert.equal(macosBatteryPower(positive).status.state, 'unavailable');
  });

  test('battery facts: percent, Wh from mAh × V, AC', () => {
    const s = macosBatteryState(parseIoregBattery(ioreg)!);
    assert.equal(s.percent, 85);
    assert.equal(s.onAc, false);
    assert.equal(s.status, 'discharging');
    assert.ok(Math.abs(s.energyWh! - 48.03444) < 1e-9);
    assert.ok(Math.abs(s.capacityWh! - 56.549072) < 1e-9);
    const ac = macosBatteryState(parseIoregBattery(onAc)!);
    assert.equal(ac.onAc, true);
    assert.equal(ac.status, 'charging');
  });

  test('source: injected ioreg output; missing ioreg → not-present; garbage → error, never a throw', async () => {
    const src = new MacosBatterySource({ runIoreg: async () => ioreg });
    assert.equal(src.id, 'macos-battery');
    assert.ok(Math.abs((await src.read())!.powerW - 7.596144) < 1e-9);
    const notMac = new MacosBatterySource({
      runIoreg: async () => {
        throw errnoError('ENOENT', 'ioreg');
      },
    });
    assert.equal((await notMac.probe()).state, 'not-present');
    assert.equal(await notMac.read(), null);
    const noVoltage = new MacosBatterySource({ runIoreg: async () => '    "CurrentCapacity" = 50\n    "ExternalConnected" = No\n' });
    assert.equal(await noVoltage.read(), null);
    assert.equal(noVoltage.status.state, 'error');
  });
});
