/**
 * Windows battery: parsing the WMI BatteryStatus JSON fixture, power and battery facts, unknown-rate sentinels,
 * and the ONE persistent PowerShell session driven through a fake shell (a real node child reading stdin).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import {
  parseWmiBatteryStatus,
  POWERSHELL_ARGS,
  WindowsBatterySource,
  windowsBatteryPower,
  windowsBatteryState,
  WMI_BATTERY_QUERY,
} from '../../../electron/telemetry/sources/windowsBattery.js';
import type { SpawnFn } from '../../../electron/telemetry/sources/spawn.js';
import { powerFixture } from './fixtures.js';
import { fakePowerShell } from './fakes.js';

const wmi = powerFixture('wmi-BatteryStatus.json');


describe('Windows battery (WMI through one PowerShell)', () => {
  test('parses the fixture: mW, mWh, flags, FullChargedCapacity matched by InstanceName', () => {
    assert.deepEqual(parseWmiBatteryStatus(wmi), {
      batteries: [
        {
          instanceName: 'ACPI\\PNP0C0A\\1_0',
          powerOnline: false,
          charging: false,
          discharging: true,
          dischargeRateMw: 9874,
          chargeRateMw: 0,
          remainingCapacityMwh: 38420,
          voltageMv: 11988,
          fullChargedCapacityMwh: 52150,
        },
      ],
    });
    assert.equal(parseWmiBatteryStatus('not json'), null);
    assert.equal(parseWmiBatteryStatus('[]'), null);
    assert.deepEqual(parseWmiBatteryStatus('{"status":[],"full":[]}'), { batteries: [] });
  });

  test('a single battery printed as an object (not an array) parses too', () => {
    const single = wmi.replace('"status":[', '"status":').replace(/}]}\s*$/, '}}');
    assert.equal(parseWmiBatteryStatus(single)?.batteries.length, 1);
  });

  test('power: DischargeRate mW / 1000 while discharging; AC and unknown rates are unavailable', () => {
    const report = parseWmiBatteryStatus(wmi)!;
    assert.deepEqual(windowsBatteryPower(report), { status: { state: 'ok', detail: null, fix: null }, powerW: 9.874 });
    const unknown = parseWmiBatteryStatus(wmi.replace('"DischargeRate":9874', '"DischargeRate":-2147483648'))!;
    assert.equal(unknown.batteries[0]!.dischargeRateMw, null);
    assert.equal(windowsBatteryPower(unknown).status.state, 'unavailable');
    const charging = parseWmiBatteryStatus(
      wmi.replace('"PowerOnline":false', '"PowerOnline":true').replace('"Charging":false', '"Charging":true').replace('"Discharging":true', '"Discharging":false'),
    )!;
    assert.deepEqual(windowsBatteryPower(charging).status, {
      state: 'unavailable',
      detail: 'battery is charging: whole-system power reads only while discharging',
      fix: null,
    });
    assert.equal(windowsBatteryPower({ batteries: [] }).status.state, 'not-present');
  });

  test('battery facts: percent from RemainingCapacity / FullChargedCapacity, Wh', () => {
    const s = windowsBatteryState(parseWmiBatteryStatus(wmi)!)!;
    assert.ok(Math.abs(s.percent - (38420 / 52150) * 100) < 1e-9);
    assert.equal(s.onAc, false);
    assert.equal(s.energyWh, 38.42);
    assert.equal(s.capacityWh, 52.15);
    assert.equal(s.status, 'discharging');
    assert.equal(windowsBatteryState({ batteries: [] }), null);
  });

  test('one session answers every sample: one spawn, one query line per read', async () => {
    const calls: { command: string; args: string[] }[] = [];
    const children: ChildProcess[] = [];
    const src = new WindowsBatterySource({ spawn: fakePowerShell({ calls, children }) });
    try {
      assert.deepEqual(await src.probe(), { state: 'ok', detail: null, fix: null });
      for (let i = 0; i < 5; i++) assert.equal((await src.read())?.powerW, 9.874);
      const [a, b] = await Promise.all([src.read(), src.read()]); // concurrent reads are serialized
      assert.equal(a?.powerW, 9.874);
      assert.equal(b?.powerW, 9.874);
      assert.equal(calls.length, 1, 'PowerShell is started once, not per sample');
      assert.deepEqual(calls[0], { command: 'powershell', args: POWERSHELL_ARGS });
      assert.ok(POWERSHELL_ARGS.includes('-NoProfile') && POWERSHELL_ARGS.includes('-NoLogo'));
      assert.deepEqual(POWERSHELL_ARGS.slice(-2), ['-Command', '-']);
      assert.ok(WMI_BATTERY_QUERY.includes('root/wmi') && WMI_BATTERY_QUERY.includes('BatteryStatus'));
    } finally {
      await src.dispose();
    }
    const child = children[0]!;
    assert.ok(child.exitCode !== null || child.signalCode !== null, 'dispose ends the shell');
  });

  test('missing PowerShell → not-present; a dying session → error, then restarted (bounded)', async () => {
    const missing = new WindowsBatterySource({ command: '/nonexistent/wattwise-no-powershell' });
    assert.equal((await missing.probe()).state, 'not-present');
    assert.equal(await missing.read(), null);
    await missing.dispose();

    const calls: { command: string; args: string[] }[] = [];
    const src = new WindowsBatterySource({ spawn: fakePowerShell({ calls, dieAfter: 1 }), restartBackoffMs: 10, maxRestarts: 1 });
    try {
      assert.equal((await src.read())?.powerW, 9.874); // answered, then the shell exits
      await new Promise((r) => setTimeout(r, 100));
      assert.equal((await src.read())?.powerW, 9.874, 'restarted once');
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(await src.read(), null);
      assert.equal(src.status.state, 'error');
      assert.match(src.status.detail ?? '', /PowerShell exited \(code 5\): boom \(gave up after 1 restarts\)/);
      assert.equal(calls.length, 2);
    } finally {
      await src.dispose();
    }
  });

  test('a garbage answer is an error state, not a throw', async () => {
    const spawnGarbage: SpawnFn = () =>
      spawn(process.execPath, ['-e', `process.stdin.on('data', d => { const m = /@@wattwise:(\\d+)/.exec(String(d)); if (m) process.stdout.write('@@wattwise:' + m[1] + ' <not json>\\n'); })`], { stdio: 'pipe' });
    const src = new WindowsBatterySource({ spawn: spawnGarbage });
    try {
      assert.equal(await src.read(), null);
      assert.equal(src.status.state, 'error');
      assert.match(src.status.detail ?? '', /not BatteryStatus JSON/);
    } finally {
      await src.dispose();
    }
  });
});
