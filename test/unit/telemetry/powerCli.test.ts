/**
 * The `power` command: through the real CLI (`npm run -s wattwise -- power ...`, spawned) on the sysfs fixtures,
 * the human table, --watch until Ctrl+C, bad usage, and a no-permission RAPL in process (an EACCES reader).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { powerCommand, type PowerReport } from '../../../electron/cli/power.js';
import { repoRoot } from '../../helpers/models.js';
import { errnoError, sysfsFixture } from './fixtures.js';

function wattwise(...args: string[]) {
  const r = spawnSync('npm', ['run', '-s', 'wattwise', '--', ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('power command', () => {
  test('--json --sysfs-root laptop-power-now: the battery source, its W, the estimate last, the battery', () => {
    const r = wattwise('power', '--json', '--sysfs-root', 'test/fixtures/sysfs/laptop-power-now', '--interval-ms', '200');
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 1, `one JSON line: ${r.stdout}`);
    const report = JSON.parse(lines[0]!) as PowerReport;
    assert.deepEqual(report.sources[0], {
      id: 'linux-battery:BAT0',
      kind: 'linux-battery',
      label: 'battery sensor',
      scope: 'system',
      state: 'ok',
      detail: null,
      fix: null,
      powerW: 12.345,
    });
    const estimate = report.sources.at(-1)!;
    assert.equal(estimate.id, 'estimate');
    assert.equal(estimate.label, 'estimated');
    assert.equal(estimate.state, 'ok');
    assert.ok(typeof estimate.powerW === 'number' && estimate.powerW >= 6.6, String(estimate.powerW));
    assert.ok(!report.sources.some((s) => s.kind === 'rapl'), 'no powercap in this tree');
    assert.deepEqual(report.battery, { percent: 78, onAc: false, energyWh: 41.23, capacityWh: 52.6, status: 'discharging' });
  });

  test('human output: states, W, details and the battery line', () => {
    const r = wattwise('power', '--sysfs-root', 'test/fixtures/sysfs/laptop-charging', '--interval-ms', '100');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /battery sensor\s+linux-battery:BAT0\s+system\s+unavailable\s+—/);
    assert.match(r.stdout, /battery is charging: whole-system power reads only while discharging/);
    assert.match(r.stdout, /estimated\s+estimate\s+process-estimate\s+ok\s+\d+\.\d\d W \(estimated, not measured\)/);
    assert.match(r.stdout, /Battery: 60% · charging · on AC · 30\.0 Wh left of 50\.0 Wh/);
  });

  test('RAPL in a fixture: two reads a gap apart give a W figure (0 W: the copy does not count)', () => {
    const r = wattwise('power', '--json', '--sysfs-root', sysfsFixture('rapl'), '--interval-ms', '100');
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout) as PowerReport;
    const rapl = report.sources.find((s) => s.id === 'rapl:intel-rapl:0');
    assert.deepEqual(rapl && { state: rapl.state, powerW: rapl.powerW, scope: rapl.scope }, { state: 'ok', powerW: 0, scope: 'cpu-package' });
    assert.equal(report.sources.filter((s) => s.kind === 'rapl').length, 1, 'subzones and psys are not sources');
    assert.equal(report.battery, null);
  });

  test('this machine: prints sensibly, the estimate last', () => {
    const r = wattwise('power', '--json', '--interval-ms', '100');
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout) as PowerReport;
    assert.equal(report.sources.at(-1)?.id, 'estimate');
    assert.equal(typeof report.sources.at(-1)?.powerW, 'number');
  });

  test('--watch prints every interval until Ctrl+C, then exits 0', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'electron/cli/main.ts', 'power', '--watch', '--json', '--interval-ms', '100', '--sysfs-root', sysfsFixture('laptop-power-now')], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const start = Date.now();
    while (out.split('\n').filter(Boolean).length < 3) {
      if (Date.now() - start > 60_000) throw new Error(`no output: ${err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGINT');
    assert.equal(await exited, 0, err);
    const snapshots = out.trim().split('\n').map((l) => JSON.parse(l) as PowerReport);
    assert.ok(snapshots.length >= 3);
    for (const s of snapshots) assert.equal(s.sources[0]?.powerW, 12.345);
  });

  test('bad usage exits 2; help lists the power command', () => {
    const bad = wattwise('power', '--interval-ms', '0');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--interval-ms must be a positive integer/);
    assert.equal(wattwise('power', '--bogus').status, 2);
    const help = wattwise('help');
    assert.match(help.stdout, /power\s+\[--json\] \[--sysfs-root DIR\] \[--watch\] \[--interval-ms N\]/);
  });

  test('in process: RAPL without permission shows the state, the reason and the one-line fix', async () => {
    let out = '';
    const code = await powerCommand(['--sysfs-root', sysfsFixture('rapl'), '--interval-ms', '10'], {
      discover: {
        nvidia: false,
        readFile: async (p) => {
          if (p.endsWith('energy_uj')) throw errnoError('EACCES', p);
          return readFile(p, 'utf8');
        },
      },
      stdout: (t) => (out += t),
    });
    assert.equal(code, 0);
    assert.match(out, /RAPL package\s+rapl:intel-rapl:0\s+cpu-package\s+no permission\s+—/);
    assert.match(out, /CVE-2020-8694/);
    assert.match(out, /fix: sudo chmod o\+r \/sys\/class\/powercap\/intel-rapl:\*\/energy_uj/);
    assert.match(out, /Battery: none found/);
  });
});
