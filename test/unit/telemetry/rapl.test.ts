/**
 * RAPL (powercap) source: package zones only, Δenergy/Δt, wraparound at max_energy_range_uj, the first read,
 * permissions (a real EACCES error object, since root can read anything), garbage and a missing zone.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { listRaplPackages, RaplSource, RAPL_FIX } from '../../../electron/telemetry/sources/rapl.js';
import { tempDir } from '../../helpers/runtime.js';
import { copySysfs, errnoError, sysfsFixture } from './fixtures.js';

const ENERGY = 'sys/class/powercap/intel-rapl:0/energy_uj';

describe('RAPL (powercap)', () => {
  test('only package zones: never the nested intel-rapl:0:N subzones, never psys', async () => {
    assert.deepEqual(await listRaplPackages(sysfsFixture('rapl')), ['intel-rapl:0']);
    assert.deepEqual(await listRaplPackages(sysfsFixture('laptop-power-now')), []);
  });

  test('packages are sorted by number (two sockets and more)', async () => {
    const tmp = tempDir();
    try {
      for (const n of [10, 1, 0, 2]) {
        const d = join(tmp.dir, 'sys/class/powercap', `intel-rapl:${n}`);
        mkdirSync(d, { recursive: true });
        writeFileSync(join(d, 'name'), `package-${n}\n`);
        writeFileSync(join(d, 'energy_uj'), '1\n');
      }
      mkdirSync(join(tmp.dir, 'sys/class/powercap/intel-rapl-mmio:0'), { recursive: true });
      assert.deepEqual(await listRaplPackages(tmp.dir), ['intel-rapl:0', 'intel-rapl:1', 'intel-rapl:2', 'intel-rapl:10']);
    } finally {
      tmp.cleanup();
    }
  });

  test('first read stores the counter and returns null; the next gives ΔµJ / Δt', async () => {
    const t = copySysfs('rapl');
    try {
      let now = 50_000;
      const r = new RaplSource({ zone: 'intel-rapl:0', sysfsRoot: t.root, now: () => now });
      assert.equal(r.id, 'rapl:intel-rapl:0');
      assert.equal(r.scope, 'cpu-package');
      assert.deepEqual(await r.probe(), { state: 'ok', detail: null, fix: null });
      assert.equal(await r.read(), null);
      assert.equal(r.status.state, 'ok');
      now += 2000;
      t.write(ENERGY, `${74_538_292_174 + 17_500_000}\n`); // 17.5 J in 2 s
      const reading = await r.read();
      assert.ok(reading);
      assert.equal(reading.powerW, 8.75);
      assert.equal(reading.at, now);
      assert.equal(reading.measured, true);
    } finally {
      t.cleanup();
    }
  });

  test('wraparound at max_energy_range_uj', async () => {
    const t = copySysfs('rapl');
    try {
      let now = 0;
      const max = 262_143_328_850;
      t.write(ENERGY, `${max - 4_000_000}\n`); // 4 J before the wrap
      const r = new RaplSource({ zone: 'intel-rapl:0', sysfsRoot: t.root, now: () => now });
      assert.equal(await r.read(), null);
      now += 1000;
      t.write(ENERGY, '6000000\n'); // 6 J after it
      const reading = await r.read();
      assert.equal(reading?.powerW, 10);
    } finally {
      t.cleanup();
    }
  });

  test('a counter that goes backwards without a readable max_energy_range_uj is an error, then recovers', async () => {
    const t = copySysfs('rapl');
    try {
      let now = 0;
      t.write('sys/class/powercap/intel-rapl:0/max_energy_range_uj', 'garbage\n');
      const r = new RaplSource({ zone: 'intel-rapl:0', sysfsRoot: t.root, now: () => now });
      await r.read();
      now += 1000;
      t.write(ENERGY, '5\n');
      assert.equal(await r.read(), null);
      assert.equal(r.status.state, 'error');
      now += 1000;
      t.write(ENERGY, '3000005\n');
      assert.equal((await r.read())?.powerW, 3);
      assert.equal(r.status.state, 'ok');
    } finally {
      t.cleanup();
    }
  });

  test('EACCES (root-only since CVE-2020-8694) → no-permission with a one-line fix', async () => {
    const root = sysfsFixture('rapl');
    const readFileDenied = async (p: string) => {
      if (p.endsWith('energy_uj')) throw errnoError('EACCES', p);
      return readFile(p, 'utf8');
    };
    // Discovery still lists the zone: it is present, just not readable.
    assert.deepEqual(await listRaplPackages(root, readFileDenied), ['intel-rapl:0']);
    const r = new RaplSource({ zone: 'intel-rapl:0', sysfsRoot: root, readFile: readFileDenied });
    const status = await r.probe();
    assert.equal(status.state, 'no-permission');
    assert.equal(status.fix, 'sudo chmod o+r /sys/class/powercap/intel-rapl:*/energy_uj');
    assert.equal(status.fix, RAPL_FIX);
    assert.ok(!status.fix.includes('\n'));
    assert.match(status.detail ?? '', /root only/);
    assert.match(status.detail ?? '', /CVE-2020-8694/);
    assert.match(status.detail ?? '', /949dd0104c49/);
    assert.equal(await r.read(), null);
    assert.equal(r.status.state, 'no-permission');
  });

  test('garbage energy_uj and EIO are errors; a missing zone is not-present', async () => {
    const t = copySysfs('rapl');
    try {
      t.write(ENERGY, '\n');
      const r = new RaplSource({ zone: 'intel-rapl:0', sysfsRoot: t.root });
      assert.equal(await r.read(), null);
      assert.equal(r.status.state, 'error');
      const eio = new RaplSource({
        zone: 'intel-rapl:0',
        sysfsRoot: t.root,
        readFile: async (p) => {
          throw errnoError('EIO', p);
        },
      });
      assert.deepEqual(await eio.probe(), { state: 'error', detail: 'cannot read intel-rapl:0/energy_uj: EIO', fix: null });
      const gone = new RaplSource({ zone: 'intel-rapl:7', sysfsRoot: t.root });
      assert.equal((await gone.probe()).state, 'not-present');
      assert.equal(await gone.read(), null);
    } finally {
      t.cleanup();
    }
  });
});
