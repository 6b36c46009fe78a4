/**
 * The calibration bench end to end on real models and a real SQLite store: stories260K re-quantized to
 * F32 / F16 / Q8_0 / Q4_0 (test/fixtures/ladder). Bits per byte grows as bits shrink; results are stored
 * per file identity and machine (a copy under another name is recognized); the governor then reports
 * `qualitySource: "measured"`; a reply pre-empts a run, which measures the variant again afterwards;
 * cancel keeps what was measured; bad inputs are refused before anything runs; the CLI prints one JSON
 * document and `governor --json` then shows measured qualities.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { basename, join } from 'node:path';
import { calibrationResultSchema, governorDecisionSchema, type ApiEvent, type CalibrationStatus } from '../../shared/contract.js';
import type { Backend } from '../../electron/core/backend.js';
import type { GovernorPowerInput } from '../../electron/core/governorService.js';
import { Store } from '../../electron/store/store.js';
import { databasePath } from '../../electron/core/paths.js';
import { machineKey } from '../../electron/core/runtime.js';
import { generateLadder, ladderDir, type LadderModel } from '../fixtures/ladder/ladder.js';
import { openTestBackend, ok, tempDir, waitForDone } from '../helpers/runtime.js';
import { repoRoot } from '../helpers/models.js';

const onAc: GovernorPowerInput = { onAc: true, batteryPercent: null, batteryCapacityWh: null, batteryEnergyWh: null, baselinePowerW: 6 };

/** Resolves with the status once a `calibration.progress` event says the run ended. */
function runEnded(backend: Backend, timeoutMs = 120_000): Promise<{ status: CalibrationStatus; events: CalibrationStatus[] }> {
  const events: CalibrationStatus[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('calibration did not end in time')), timeoutMs);
    const off = backend.onEvent((e: ApiEvent) => {
      if (e.type !== 'calibration.progress') return;
      events.push(e.status);
      if (e.status.state !== 'running') {
        clearTimeout(timer);
        off();
        resolve({ status: e.status, events });
      }
    });
  });
}

describe('calibration bench on the stories260K ladder', () => {
  const tmp = tempDir('wattwise-calibration-');
  const modelsDir = join(tmp.dir, 'models');
  const dataDir = join(tmp.dir, 'data');
  let ladder: LadderModel[] = [];
  const byQuant = (q: string) => join(modelsDir, basename(ladder.find((m) => m.quantization === q)!.path));
  const open = (dir = dataDir): Promise<Backend> =>
    openTestBackend({
      dataDir: dir,
      modelsDirOverride: modelsDir,
      // The estimate source is what this VM has; tests must not depend on a battery or RAPL.
      telemetry: { discover: { sysfsRoot: join(tmp.dir, 'no-sysfs') }, sampler: { activeIntervalMs: 200 } },
      powerStateOverride: onAc,
      measureBandwidth: () => 20e9,
      overrides: { threads: 1, maxReplyTokens: 24 },
    });

  before(async () => {
    ladder = await generateLadder({ outDir: ladderDir(), sizes: [] });
    assert.deepEqual(ladder.map((m) => m.quantization).sort(), ['F16', 'F32', 'Q4_0', 'Q8_0']);
    mkdirSync(modelsDir);
    for (const m of ladder) symlinkSync(m.path, join(modelsDir, basename(m.path)));
  });
  after(() => tmp.cleanup());

  test('Calibrate all (quick): progress, BPB grows as bits shrink, results stored, governor says measured', async () => {
    const backend = await open();
    try {
      const estimate = ok(await backend.request('calibration.estimate', { quick: true }));
      assert.equal(estimate.variants.length, 4);
      assert.ok(estimate.totalMs > 0 && estimate.variants.every((v) => v.estimatedMs > 0));
      const ended = runEnded(backend);
      const started = ok(await backend.request('calibration.start', { quick: true }));
      assert.equal(started.state, 'running');
      // A second run while one is going: BUSY.
      const again = await backend.request('calibration.start', { quick: true });
      assert.equal(again.ok ? null : again.error.code, 'BUSY');
      const { status, events } = await ended;
      assert.equal(status.state, 'done');
      assert.ok(status.variants.every((v) => v.state === 'done'), JSON.stringify(status.variants));
      assert.equal(status.fraction, 1);
      // Progress went through the phases and rose.
      const phases = new Set(events.flatMap((e) => e.variants.map((v) => v.phase)).filter(Boolean));
      for (const p of ['load', 'bits-per-byte', 'decode']) assert.ok(phases.has(p as never), `phase ${p} reported`);
      assert.ok(events.some((e) => e.fraction > 0 && e.fraction < 1), 'an intermediate overall fraction');

      const { results, run } = ok(await backend.request('calibration.list', {}));
      assert.equal(run?.runId, started.runId);
      assert.equal(results.length, 4);
      const bpb = Object.fromEntries(results.map((r) => [r.quantization, r.bitsPerByte!]));
      for (const r of results) {
        calibrationResultSchema.parse(r);
        assert.ok(r.bitsPerByte! > 0.5 && r.bitsPerByte! < 8, `${r.fileName}: ${r.bitsPerByte}`);
        assert.ok(r.scoredBytes > 4000 && r.scoredTokens > 1000);
        assert.ok(r.decodeTokensPerSecond > 0 && r.prefillTokensPerSecond > 0 && r.loadMs >= 0);
        assert.ok(r.peakRssBytes >= r.baselineRssBytes && r.peakRssBytes > 0);
        assert.equal(r.energySource, 'estimated');
        assert.equal(r.energyMeasured, false);
        assert.ok(r.energyJPerToken! > 0);
        assert.equal(r.quick, true);
      }
      // The quantizer's loss shows: Q4_0 clearly worse than F32; Q8_0 and F16 within a hair of it.
      assert.ok(bpb.Q4_0! > bpb.F32! + 0.01, JSON.stringify(bpb));
      assert.ok(bpb.Q8_0! >= bpb.F32! - 1e-3 && bpb.Q8_0! < bpb.Q4_0!, JSON.stringify(bpb));
      assert.ok(Math.abs(bpb.F16! - bpb.F32!) < 0.01, JSON.stringify(bpb));

      const decision = governorDecisionSchema.parse(ok(await backend.request('governor.decide', {})));
      assert.equal(decision.candidates.length, 4);
      for (const c of decision.candidates) {
        assert.equal(c.qualitySource, 'measured', c.fileName);
        assert.equal(c.bitsPerByte, bpb[c.quantization!]);
        assert.equal(c.predicted.source, 'measured');
      }
      // Tiny (1 MB, overhead-bound) models never say what the memory bandwidth is: it stays the measured one.
      assert.equal(decision.machine.bandwidthSource, 'measured');
      assert.equal(decision.machine.bandwidthBytesPerSecond, 20e9);
      const quality = Object.fromEntries(decision.candidates.map((c) => [c.quantization, c.quality]));
      // Quality follows the measured bits per byte (F32, F16 and Q8_0 measure within a hair of each other, in
      // either order depending on the machine's float summation), and Q4_0 is clearly the worst.
      const byBpb = Object.keys(bpb).sort((a, b) => bpb[a]! - bpb[b]!);
      for (let i = 1; i < byBpb.length; i++) assert.ok(quality[byBpb[i]!]! <= quality[byBpb[i - 1]!]!, JSON.stringify({ quality, bpb }));
      assert.equal(byBpb.at(-1), 'Q4_0');
      assert.ok(quality.Q4_0! < Math.min(quality.Q8_0!, quality.F16!, quality.F32!), JSON.stringify({ quality, bpb }));

      const csv = ok(await backend.request('calibration.exportCsv', {}));
      const lines = csv.csv.trim().split('\r\n');
      assert.equal(lines.length, 5);
      assert.match(lines[0]!, /^model_path,file_name,model_name,quantization,size_bytes,parameter_count,bits_per_byte,/);
    } finally {
      await backend.dispose();
    }

    // Stored per machine in SQLite: a fresh store sees the results.
    const store = Store.open({ filePath: databasePath(dataDir), machineKey: machineKey() });
    try {
      assert.equal(store.calibrations.list().length, 4);
    } finally {
      store.close();
    }
  });

  test('a copy under another name is recognized by its identity and keeps the measurement', async () => {
    const copy = join(modelsDir, 'renamed-copy-of-q8.gguf');
    copyFileSync(byQuant('Q8_0'), copy);
    const backend = await open();
    try {
      const { results } = ok(await backend.request('calibration.list', {}));
      const original = results.find((r) => r.modelPath === byQuant('Q8_0'))!;
      const copied = results.find((r) => r.modelPath === copy);
      assert.ok(copied, 'the copy has the result');
      assert.equal(copied.bitsPerByte, original.bitsPerByte);
      assert.equal(copied.fileName, 'renamed-copy-of-q8.gguf');
      const decision = ok(await backend.request('governor.decide', {}));
      assert.equal(decision.candidates.find((c) => c.modelPath === copy)?.qualitySource, 'measured');
    } finally {
      await backend.dispose();
    }
  });

  test('bad input is refused before anything runs', async () => {
    const backend = await open();
    try {
      const missing = await backend.request('calibration.start', { modelPaths: [join(modelsDir, 'nope.gguf')] });
      assert.equal(missing.ok ? null : missing.error.code, 'NOT_FOUND');
      // A file that exists outside the models folder gets the same answer as one that does not exist:
      // the API never tells what is on the disk.
      const junk = join(tmp.dir, 'junk.gguf');
      writeFileSync(junk, 'not a model');
      const bad = await backend.request('calibration.start', { modelPaths: [junk] });
      assert.equal(bad.ok ? null : bad.error.code, 'NOT_FOUND');
      assert.equal(bad.ok ? '' : bad.error.message.replace(junk, 'X'), missing.ok ? '' : missing.error.message.replace(join(modelsDir, 'nope.gguf'), 'X'));
      assert.equal(ok(await backend.request('calibration.list', {})).run, null);
      assert.equal(ok(await backend.request('calibration.cancel', {})).cancelled, false);
    } finally {
      await backend.dispose();
    }
  });

  test('a reply during a run pre-empts it: the reply is answered, the variant is measured again after', async () => {
    const backend = await open(join(tmp.dir, 'data-preempt'));
    try {
      const ended = runEnded(backend);
      ok(await backend.request('calibration.start', { quick: true, modelPaths: [byQuant('F32'), byQuant('Q4_0')] }));
      // Wait until the first variant is being measured.
      await new Promise<void>((resolve) => {
        const off = backend.onEvent((e) => {
          if (e.type === 'calibration.progress' && e.status.variants[0]?.phase === 'bits-per-byte') {
            off();
            resolve();
          }
        });
      });
      const conversation = ok(await backend.request('conversations.create', { modelPath: byQuant('F32') }));
      let requestId: string | null = null;
      const done = waitForDone(backend, () => requestId, 60_000);
      const t0 = Date.now();
      requestId = ok(await backend.request('chat.send', { conversationId: conversation.id, content: 'Once upon a time' })).requestId;
      const reply = await done.promise;
      assert.equal(reply.message.status, 'complete');
      assert.ok(Date.now() - t0 < 30_000, 'the reply did not wait for the run');
      const { status, events } = await ended;
      assert.equal(status.state, 'done');
      assert.ok(status.variants.every((v) => v.state === 'done'));
      assert.ok(events.some((e) => e.waiting !== null), 'the run said it was waiting for the reply');
      assert.equal(ok(await backend.request('calibration.list', {})).results.length, 2);
    } finally {
      await backend.dispose();
    }
  });

  test('cancel stops the run and keeps what was measured', async () => {
    const backend = await open(join(tmp.dir, 'data-cancel'));
    try {
      const ended = runEnded(backend);
      ok(await backend.request('calibration.start', { quick: true, modelPaths: [byQuant('F16'), byQuant('Q8_0'), byQuant('Q4_0')] }));
      await new Promise<void>((resolve) => {
        const off = backend.onEvent((e) => {
          if (e.type === 'calibration.progress' && e.status.variants[0]?.state === 'done') {
            off();
            resolve();
          }
        });
      });
      assert.equal(ok(await backend.request('calibration.cancel', {})).cancelled, true);
      const { status } = await ended;
      assert.equal(status.state, 'cancelled');
      assert.equal(status.variants[0]!.state, 'done');
      assert.ok(status.variants.slice(1).every((v) => v.state === 'cancelled' || v.state === 'done'));
      assert.ok(status.variants.some((v) => v.state === 'cancelled'));
      const { results } = ok(await backend.request('calibration.list', {}));
      assert.ok(results.some((r) => r.modelPath === byQuant('F16')));
    } finally {
      await backend.dispose();
    }
  });

  test('automatic calibration: off by default; when on, on AC and idle, it measures the uncalibrated models by itself', async () => {
    const dir = join(tmp.dir, 'data-auto');
    const backend = await openTestBackend({
      dataDir: dir,
      modelsDirOverride: modelsDir,
      telemetry: false,
      powerStateOverride: onAc,
      measureBandwidth: () => 20e9,
      overrides: { threads: 1 },
      autoCalibration: { idleMs: 300, checkEveryMs: 100 },
    });
    try {
      await new Promise((r) => setTimeout(r, 800));
      assert.equal(ok(await backend.request('calibration.list', {})).run, null, 'off by default');
      const settings = ok(await backend.request('settings.get', {}));
      assert.equal(settings.calibration.autoWhenIdleOnAc, false);
      // Only two models left uncalibrated, so the automatic (full, 60 s decode) run is cut short by cancel.
      ok(await backend.request('settings.update', { calibration: { autoWhenIdleOnAc: true } }));
      // The automatic check runs on an unref'd timer: this timeout keeps the test's event loop alive meanwhile.
      const started = await new Promise<CalibrationStatus>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no automatic run within 30 s')), 30_000);
        const off = backend.onEvent((e) => {
          if (e.type === 'calibration.progress') {
            clearTimeout(timer);
            off();
            resolve(e.status);
          }
        });
      });
      assert.equal(started.quick, false, 'automatic runs are full runs');
      const usable = ok(await backend.request('models.list', {})).filter((m) => m.usable).length;
      assert.equal(started.variants.length, usable, 'every uncalibrated model');
      assert.equal(ok(await backend.request('calibration.cancel', {})).cancelled, true);
      await backend.calibration.idle();
    } finally {
      await backend.dispose();
    }
  });

  test('CLI: calibrate --json prints one document; governor --json then reports measured quality', () => {
    const cliData = join(tmp.dir, 'data-cli');
    const run = (args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'electron/cli/main.ts'), ...args], {
        cwd: repoRoot,
        encoding: 'utf8',
        timeout: 120_000,
        env: { ...process.env, WATTWISE_DATA_DIR: cliData },
      });
    const cal = run(['calibrate', '--models-dir', modelsDir, '--model', byQuant('F32'), '--model', byQuant('Q4_0'), '--quick', '--cpu-only', '--json']);
    assert.equal(cal.status, 0, cal.stderr);
    const lines = cal.stdout.trim().split('\n');
    assert.equal(lines.length, 1, 'exactly one JSON document on stdout');
    const doc = JSON.parse(lines[0]!) as { results: Array<Record<string, unknown>>; failed: unknown[] };
    assert.equal(doc.results.length, 2);
    assert.deepEqual(doc.failed, []);
    for (const r of doc.results) {
      for (const key of ['modelPath', 'quantization', 'bitsPerByte', 'loadMs', 'prefillTokensPerSecond', 'decodeTokensPerSecond', 'energyJPerToken', 'energySource', 'peakRssBytes', 'sustainedSlowdown']) {
        assert.ok(key in r, `result has ${key}`);
      }
    }
    assert.match(cal.stderr, /Calibrating 2 models \(quick\)/);

    const gov = run(['governor', '--models-dir', modelsDir, '--cpu-only', '--json']);
    assert.equal(gov.status, 0, gov.stderr);
    const decision = JSON.parse(gov.stdout) as { candidates: Array<{ modelPath: string; qualitySource: string }> };
    const source = Object.fromEntries(decision.candidates.map((c) => [c.modelPath, c.qualitySource]));
    assert.equal(source[byQuant('F32')], 'measured');
    assert.equal(source[byQuant('Q4_0')], 'measured');
    assert.equal(source[byQuant('F16')], 'prior');

    const usage = run(['calibrate', '--bogus']);
    assert.equal(usage.status, 2);
    const missing = run(['calibrate', '--models-dir', modelsDir, '--model', join(modelsDir, 'missing.gguf'), '--json']);
    assert.equal(missing.status, 1);
    assert.equal(missing.stdout, '');
    assert.equal(missing.stderr.trim().split('\n').length, 1, missing.stderr);
  });
});
