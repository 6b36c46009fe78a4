/**
 * The estimate: exact answers with an injected clock and CPU usage, clamping, the TDP helper, and the real
 * process.cpuUsage() rising under a busy loop in this test process.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  activeWPerCoreFromTdp,
  DEFAULT_ACTIVE_W_PER_CORE,
  DEFAULT_IDLE_W,
  EstimateSource,
} from '../../../electron/telemetry/sources/estimate.js';

describe('estimate (CPU-time model)', () => {
  test('P = idleW + activeWPerCore × (ΔCPU time ÷ Δwall time), exactly, with an injected clock', async () => {
    let now = 10_000;
    let cpu = { user: 2_000_000, system: 500_000 };
    const e = new EstimateSource({ idleW: 5, activeWPerCore: 4, now: () => now, cpuUsage: () => cpu, cpuCount: 8 });
    assert.equal(e.idlePowerW, 5);
    now += 2000; // 2 s of wall time
    cpu = { user: 4_500_000, system: 1_000_000 }; // 3 s of CPU → 1.5 busy cores
    const r = await e.read();
    assert.deepEqual(r, { sourceId: 'estimate', at: 12_000, powerW: 5 + 4 * 1.5, measured: false });
    assert.equal(e.lastBusyCores, 1.5);
    now += 1000;
    const idle = await e.read(); // no CPU used since → idle power only
    assert.equal(idle.powerW, 5);
    assert.equal(e.lastBusyCores, 0);
  });

  test('busyCores is clamped to [0, cpuCount]; no elapsed time keeps the last value', async () => {
    let now = 0;
    let cpuUs = 0;
    const e = new EstimateSource({ idleW: 1, activeWPerCore: 2, now: () => now, cpuUsage: () => ({ user: cpuUs, system: 0 }), cpuCount: 2 });
    now += 1000;
    cpuUs += 10_000_000; // 10 CPU-seconds in 1 s: more than 2 CPUs can do
    assert.equal((await e.read()).powerW, 1 + 2 * 2);
    assert.equal((await e.read()).powerW, 1 + 2 * 2, 'same instant: previous busyCores');
  });

  test('always ok, labelled "estimated", never measured; documented defaults', async () => {
    const e = new EstimateSource();
    assert.deepEqual(await e.probe(), { state: 'ok', detail: null, fix: null });
    assert.equal(e.label, 'estimated');
    assert.equal(e.scope, 'process-estimate');
    assert.equal(e.kind, 'estimate');
    assert.equal(e.idlePowerW, DEFAULT_IDLE_W);
    assert.equal(e.activeWPerCore, DEFAULT_ACTIVE_W_PER_CORE);
    assert.equal(DEFAULT_ACTIVE_W_PER_CORE, 3.75);
    const r = await e.read();
    assert.equal(r.measured, false);
    assert.ok(r.powerW >= DEFAULT_IDLE_W);
    assert.throws(() => new EstimateSource({ idleW: -1 }), RangeError);
  });

  test('activeWPerCoreFromTdp: TDP ÷ cores', () => {
    assert.equal(activeWPerCoreFromTdp(15, 4), 3.75);
    assert.equal(activeWPerCoreFromTdp(28, 4), 7);
    assert.throws(() => activeWPerCoreFromTdp(0, 4), RangeError);
    assert.throws(() => activeWPerCoreFromTdp(15, 0), RangeError);
    assert.equal(new EstimateSource({ activeWPerCore: activeWPerCoreFromTdp(45, 8) }).activeWPerCore, 5.625);
  });

  test('a busy loop in this process raises busyCores (real process.cpuUsage)', async () => {
    const e = new EstimateSource({ idleW: 0, activeWPerCore: 1 });
    await e.read();
    await new Promise((r) => setTimeout(r, 300)); // idle
    const idle = await e.read();
    const until = performance.now() + 300;
    let x = 0;
    while (performance.now() < until) x += Math.sqrt(x + 1); // busy
    const busy = await e.read();
    assert.ok(x > 0);
    assert.ok(busy.powerW > idle.powerW, `busy ${busy.powerW} > idle ${idle.powerW}`);
    // One busy thread is ≈1 core on an idle machine; this one is shared (2 cores, other test runs), so only
    // loose bounds: clearly above idle, and at most the one thread plus runtime noise.
    assert.ok(busy.powerW - idle.powerW >= 0.1, `busy ${busy.powerW} vs idle ${idle.powerW}`);
    assert.ok(busy.powerW <= 1.5, `one thread is at most ≈1 core (got ${busy.powerW})`);
  });
});
