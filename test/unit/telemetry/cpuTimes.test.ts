/** All CPUs' busy and total time (`/proc/stat` on Linux, `os.cpus()` elsewhere), for the RAPL CPU share. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultSystemCpuTimes } from '../../../electron/telemetry/sources/cpuTimes.js';

describe('defaultSystemCpuTimes', () => {
  test('cumulative busy ≤ total, growing with work', () => {
    const a = defaultSystemCpuTimes();
    assert.ok(a);
    assert.ok(a.busyMs >= 0 && a.busyMs <= a.totalMs);
    const until = Date.now() + 100;
    let x = 0;
    while (Date.now() < until) x += Math.sqrt(x + 1);
    const b = defaultSystemCpuTimes();
    assert.ok(b && b.busyMs > a.busyMs && b.totalMs > a.totalMs, `${JSON.stringify(a)} → ${JSON.stringify(b)} (${x})`);
  });
});
