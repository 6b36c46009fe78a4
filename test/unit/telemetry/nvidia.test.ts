/**
 * NVIDIA source: one long-lived nvidia-smi fed with canned output through a real child process (node -e),
 * [N/A] values, a missing binary, a dying process with bounded restarts, and a hung one.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import {
  discoverNvidiaGpus,
  NvidiaGpuSource,
  NvidiaSmiMonitor,
  nvidiaSmiArgs,
  parseNvidiaSmiLine,
} from '../../../electron/telemetry/sources/nvidia.js';
import { fakeSmi } from './fakes.js';


async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('NVIDIA (nvidia-smi)', () => {
  test('parses csv,noheader,nounits lines; [N/A] and [Not Supported] are null; other text is not a line', () => {
    assert.deepEqual(parseNvidiaSmiLine('0, 34.52, 115.00'), { index: 0, powerW: 34.52, powerLimitW: 115, rawPower: '34.52' });
    assert.deepEqual(parseNvidiaSmiLine('1, [N/A], [N/A]'), { index: 1, powerW: null, powerLimitW: null, rawPower: '[N/A]' });
    assert.equal(parseNvidiaSmiLine('2, [Not Supported], 250.00')?.powerW, null);
    assert.equal(parseNvidiaSmiLine('No devices were found'), null);
    assert.equal(parseNvidiaSmiLine('index, power.draw [W], power.limit [W]'), null);
    assert.equal(parseNvidiaSmiLine('0, abc, 1'), null);
    assert.equal(parseNvidiaSmiLine(''), null);
    assert.deepEqual(nvidiaSmiArgs(1000), ['--query-gpu=index,power.draw,power.limit', '--format=csv,noheader,nounits', '-lms', '1000']);
  });

  test('one process streams both GPUs; [N/A] is unavailable; dispose stops the process', async () => {
    const calls: { command: string; args: string[] }[] = [];
    const children: ChildProcess[] = [];
    const gpus = await discoverNvidiaGpus({ spawn: fakeSmi({ calls, children }), intervalMs: 50 });
    try {
      assert.deepEqual(gpus.map((g) => g.id), ['nvidia:0', 'nvidia:1']);
      const [g0, g1] = gpus as [NvidiaGpuSource, NvidiaGpuSource];
      assert.equal(g0.label, 'GPU (NVML)');
      assert.equal(g0.scope, 'gpu');
      assert.deepEqual(await g0.probe(), { state: 'ok', detail: null, fix: null });
      for (let i = 0; i < 3; i++) {
        const r = await g0.read();
        assert.equal(r?.powerW, 34.52);
        assert.equal(r?.measured, true);
        await new Promise((res) => setTimeout(res, 60));
      }
      assert.equal(await g1.read(), null);
      assert.deepEqual(await g1.probe(), { state: 'unavailable', detail: 'GPU 1 reports power.draw [N/A]', fix: null });
      assert.equal(calls.length, 1, 'one nvidia-smi for every GPU and every sample');
      assert.deepEqual(calls[0], { command: 'nvidia-smi', args: nvidiaSmiArgs(50) });
    } finally {
      for (const g of gpus) await g.dispose();
    }
    const child = children[0]!;
    await until(() => child.exitCode !== null || child.signalCode !== null);
    assert.equal(child.signalCode, 'SIGTERM');
  });

  test('missing nvidia-smi (a nonexistent binary) → not-present; discovery finds nothing', async () => {
    const command = '/nonexistent/wattwise-no-nvidia-smi';
    const monitor = new NvidiaSmiMonitor({ command });
    const source = new NvidiaGpuSource(0, monitor);
    try {
      const status = await source.probe();
      assert.equal(status.state, 'not-present');
      assert.match(status.detail ?? '', /not found/);
      assert.equal(await source.read(), null);
      assert.equal(monitor.spawnCount, 1, 'no restart for a missing binary');
    } finally {
      await source.dispose();
    }
    assert.deepEqual(await discoverNvidiaGpus({ command }), []);
  });

  test('a dying process → error, restarted a bounded number of times with backoff', async () => {
    const monitor = new NvidiaSmiMonitor({ spawn: fakeSmi({ exitCode: 3 }), maxRestarts: 2, restartBackoffMs: 20 });
    const source = new NvidiaGpuSource(0, monitor);
    try {
      assert.equal((await source.probe()).state, 'ok');
      await until(() => monitor.spawnCount === 3 && monitor.status(0).detail?.includes('gave up') === true);
      const status = await source.probe();
      assert.equal(status.state, 'error');
      assert.match(status.detail ?? '', /nvidia-smi exited \(code 3\)/);
      assert.match(status.detail ?? '', /gave up after 2 restarts/);
      assert.equal(await source.read(), null);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(monitor.spawnCount, 3, 'no more restarts');
    } finally {
      await source.dispose();
    }
  });

  test('a hung process (no line for staleAfterMs) → error', async () => {
    const monitor = new NvidiaSmiMonitor({ spawn: fakeSmi({ everyMs: 0 }), staleAfterMs: 100 });
    const source = new NvidiaGpuSource(0, monitor);
    try {
      assert.equal((await source.probe()).state, 'ok');
      assert.equal((await source.read())?.powerW, 34.52);
      await new Promise((r) => setTimeout(r, 250));
      const status = await source.probe();
      assert.equal(status.state, 'error');
      assert.match(status.detail ?? '', /no sample from nvidia-smi/);
      assert.equal(await source.read(), null);
    } finally {
      await source.dispose();
    }
  });
});
