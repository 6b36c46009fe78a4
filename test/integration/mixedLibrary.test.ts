/**
 * The governor on a realistic mixed library (sparse GGUFs of real shapes, test/fixtures/sparse: Qwen2.5
 * 0.5B–7B, Llama-3.2 1B/3B, Llama-3.1 8B, Phi-3.5-mini, Gemma-2-2B, SmolLM2-135M at their real sizes and
 * quantizations, a few MB on disk). One quality scale across families: no profile picks the 135M model
 * while 1–4B models fit and are fast enough; Performance picks the best quality above the speed floor;
 * published scores apply where they match. What the headers cost to read is cached in the store: a new
 * process decides without parsing a header again, and a changed file is read again.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { utimesSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { governorDecisionSchema, type GovernorDecision, type ProfileId } from '../../shared/contract.js';
import { defaultGovernorSettings } from '../../electron/core/governorSettings.js';
import type { GovernorPowerInput } from '../../electron/core/governorService.js';
import { databasePath } from '../../electron/core/paths.js';
import { forgetCachedModelInfo } from '../../electron/models/catalog.js';
import { qualityAtFullPrecision } from '../../shared/qualityScale.js';
import { writeMixedLibrary, type MixedLibraryEntry } from '../fixtures/sparse/library.js';
import { Store } from '../../electron/store/store.js';
import { machineKey } from '../../electron/core/runtime.js';
import { fileFingerprint } from '../../electron/models/fileIdentity.js';
import { heldOutText } from '../../electron/core/resources.js';
import { openTestBackend, ok, tempDir } from '../helpers/runtime.js';

const AC: GovernorPowerInput = { onAc: true, batteryPercent: null, batteryCapacityWh: null, batteryEnergyWh: null, baselinePowerW: 6 };
const BATTERY: GovernorPowerInput = { onAc: false, batteryPercent: 60, batteryCapacityWh: 55, batteryEnergyWh: null, baselinePowerW: 6 };

describe('governor on a mixed-family library (sparse GGUFs)', () => {
  const tmp = tempDir('wattwise-mixed-');
  const modelsDir = join(tmp.dir, 'models');
  const dataDir = join(tmp.dir, 'data');
  let library: MixedLibraryEntry[] = [];

  /** A decision on a laptop-like machine: 40 GB/s, 4 threads (the roofline's FLOP/s are per thread). */
  const decide = async (profile: ProfileId, power = AC): Promise<GovernorDecision> => {
    const backend = await openTestBackend({
      dataDir,
      modelsDirOverride: modelsDir,
      telemetry: false,
      powerStateOverride: power,
      measureBandwidth: () => 40e9,
      overrides: { threads: 4, governor: { ...defaultGovernorSettings, acProfile: profile, batteryProfile: profile } },
    });
    try {
      return governorDecisionSchema.parse(ok(await backend.request('governor.decide', {})));
    } finally {
      await backend.dispose();
    }
  };

  before(async () => {
    library = await writeMixedLibrary(modelsDir);
  });
  after(() => tmp.cleanup());

  test('every file is a candidate; quality is one scale: published where it matches, the prior elsewhere', async () => {
    const d = await decide('performance');
    assert.equal(d.candidates.length, library.length);
    const byFile = new Map(d.candidates.map((c) => [c.fileName, c]));
    for (const c of d.candidates) assert.ok(c.fits, `${c.fileName} fits (${c.memoryReason ?? ''})`);
    assert.equal(byFile.get('Qwen2.5-7B-Instruct-Q4_K_M.gguf')!.qualitySource, 'published');
    assert.equal(byFile.get('Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf')!.qualitySource, 'published');
    assert.equal(byFile.get('Phi-3.5-mini-instruct-Q4_K_M.gguf')!.qualitySource, 'published');
    assert.equal(byFile.get('gemma-2-2b-it-Q4_K_M.gguf')!.qualitySource, 'published');
    assert.equal(byFile.get('SmolLM2-135M-Instruct-Q8_0.gguf')!.qualitySource, 'prior');
    // A 135M model never scores like a 1B+ one, in any family.
    const smol = Math.max(byFile.get('SmolLM2-135M-Instruct-Q8_0.gguf')!.quality, byFile.get('SmolLM2-135M-Instruct-f16.gguf')!.quality);
    assert.ok(Math.abs(smol - qualityAtFullPrecision(134.5e6)) < 0.01, String(smol));
    for (const c of d.candidates) if ((c.parameterCount ?? 0) >= 1e9) assert.ok(c.quality > smol + 0.1, `${c.fileName} ${c.quality} vs SmolLM2 ${smol}`);
    // Within a family, bigger is better at the same quantization, and Q8_0 beats Q4_K_M at the same size.
    const q = (f: string) => byFile.get(f)!.quality;
    assert.ok(q('Qwen2.5-0.5B-Instruct-Q4_K_M.gguf') < q('Qwen2.5-1.5B-Instruct-Q4_K_M.gguf'));
    assert.ok(q('Qwen2.5-1.5B-Instruct-Q4_K_M.gguf') < q('Qwen2.5-3B-Instruct-Q4_K_M.gguf'));
    assert.ok(q('Qwen2.5-3B-Instruct-Q4_K_M.gguf') < q('Qwen2.5-7B-Instruct-Q4_K_M.gguf'));
    assert.ok(q('Qwen2.5-7B-Instruct-Q4_K_M.gguf') < q('Qwen2.5-7B-Instruct-Q8_0.gguf'));
    assert.ok(q('Llama-3.2-1B-Instruct-Q4_K_M.gguf') < q('Llama-3.2-3B-Instruct-Q4_K_M.gguf'));
    assert.ok(q('Llama-3.2-3B-Instruct-Q4_K_M.gguf') < q('Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf'));
  });

  for (const [profile, power] of [
    ['performance', AC],
    ['balanced', AC],
    ['saver', AC],
    ['performance', BATTERY],
    ['balanced', BATTERY],
    ['saver', BATTERY],
  ] as const) {
    test(`${profile} on ${power.onAc ? 'AC' : 'battery'} never picks the 135M model while 1–4B models fit and are fast enough`, async () => {
      const d = await decide(profile, power);
      const fastSmallish = d.candidates.filter((c) => c.fits && (c.parameterCount ?? 0) >= 1e9 && (c.parameterCount ?? 0) <= 4e9 && c.predicted.decodeTokensPerSecond >= 5);
      assert.ok(fastSmallish.length >= 3, 'the library has fast 1–4B models on this machine model');
      assert.ok(d.chosen, 'something is chosen');
      assert.doesNotMatch(d.chosen.fileName, /SmolLM2-135M/, `${profile}: ${d.reason}`);
      assert.ok((d.chosen.parameterCount ?? 0) >= 1e9, `${profile}: ${d.chosen.fileName}`);
    });
  }

  test('Performance picks the best quality among the variants that fit and meet the speed floor', async () => {
    const d = await decide('performance');
    const eligible = d.candidates.filter((c) => c.fits && c.predicted.decodeTokensPerSecond >= 5);
    const best = Math.max(...eligible.map((c) => c.quality));
    assert.equal(d.chosen!.quality, best);
    // Faster-than-floor bigger models lose only for speed: everything of higher quality is too slow.
    for (const c of d.candidates) if (c.quality > best) assert.ok(c.violates.includes('min-speed') || c.violates.includes('memory'), c.fileName);
    // Saver spends less per token than Performance.
    const saver = await decide('saver');
    assert.ok(saver.chosen!.predicted.energyJPerToken < d.chosen!.predicted.energyJPerToken);
  });

  test('a calibrated memory-bound model (≥ 128 MiB): measured speed and quality, and the bandwidth inferred from it', async () => {
    const d0 = await decide('performance');
    assert.equal(d0.machine.bandwidthSource, 'measured');
    // 270 MB at 40 GB/s: the memory roof (≈150 tok/s) is below 4 threads' compute roof (≈300 tok/s).
    const file = library.find((e) => e.spec.fileName === 'SmolLM2-135M-Instruct-f16.gguf')!.path;
    const predicted = d0.candidates.find((c) => c.modelPath === file)!.predicted.decodeTokensPerSecond;
    const store = Store.open({ filePath: databasePath(dataDir), machineKey: machineKey() });
    try {
      store.calibrations.save({
        modelPath: file, fileKey: await fileFingerprint(file), fileName: 'SmolLM2-135M-Instruct-f16.gguf', modelName: 'SmolLM2 135M Instruct',
        quantization: 'F16', sizeBytes: 2.7e8, parameterCount: 1.35e8, bitsPerByte: 0.62, textId: heldOutText().id, scoredTokens: 1000,
        scoredBytes: 4308, bitsPerByteTokensPerSecond: 40, loadMs: 3000, threads: 4, prefillTokens: 512, prefillTokensPerSecond: 30,
        decodeTokens: 300, decodeTokensPerSecond: predicted / 2, sustainedDurationMs: 60_000, sustainedFirstQuarterTokensPerSecond: 4,
        sustainedLastQuarterTokensPerSecond: 3.6, sustainedSlowdown: 0.1, energyJPerToken: 2.5, avgPowerW: 10, energySource: 'RAPL package',
        energyMeasured: true, peakRssBytes: 5.2e9, baselineRssBytes: 4e8, quick: false, measuredAt: Date.now(),
      });
    } finally {
      store.close();
    }
    const d = await decide('performance');
    const c = d.candidates.find((x) => x.modelPath === file)!;
    assert.equal(c.qualitySource, 'measured');
    assert.equal(c.bitsPerByte, 0.62);
    assert.equal(c.predicted.source, 'measured');
    assert.equal(c.predicted.energyJPerToken, 2.5);
    assert.equal(d.machine.bandwidthSource, 'inferred');
    assert.ok(Math.abs(d.machine.bandwidthBytesPerSecond / 40e9 - 0.5) < 0.01, String(d.machine.bandwidthBytesPerSecond));
    // The other memory-bound models are now predicted at half the speed too.
    const other = d.candidates.find((x) => x.fileName === 'SmolLM2-135M-Instruct-Q8_0.gguf')!;
    const otherBefore = d0.candidates.find((x) => x.fileName === 'SmolLM2-135M-Instruct-Q8_0.gguf')!;
    assert.ok(other.predicted.decodeTokensPerSecond < otherBefore.predicted.decodeTokensPerSecond * 0.6);
    // Remove it again for the next tests.
    const again = Store.open({ filePath: databasePath(dataDir), machineKey: machineKey() });
    try {
      assert.ok(again.calibrations.delete(await fileFingerprint(file)));
    } finally {
      again.close();
    }
  });

  test('a new process decides from the cached header facts; a changed file is read again', async () => {
    await decide('performance'); // fills the store's cache (already filled by the tests above)
    const facts = () => {
      const db = new Database(databasePath(dataDir), { readonly: true });
      try {
        return new Map((db.prepare('SELECT path, kind, updated_at AS at FROM model_facts').all() as Array<{ path: string; kind: string; at: number }>).map((r) => [`${r.path}|${r.kind}`, r.at]));
      } finally {
        db.close();
      }
    };
    const before = facts();
    assert.ok(before.size >= library.length * 2, `model info and a memory estimate per file (${before.size} rows)`);
    forgetCachedModelInfo(); // as after a restart
    const first = await decide('performance');
    assert.deepEqual(facts(), before, 'no header was parsed again');
    // Touching one file (new mtime) makes exactly that file's facts be read again.
    const touched = library[0]!.path;
    utimesSync(touched, new Date(), new Date(Date.now() + 5000));
    forgetCachedModelInfo();
    const again = await decide('performance');
    const after = facts();
    for (const [key, at] of after) {
      if (key.startsWith(`${touched}|`)) assert.ok(at >= (before.get(key) ?? 0), key);
      else assert.equal(at, before.get(key), `${key} unchanged`);
    }
    assert.ok([...after.keys()].some((k) => k.startsWith(`${touched}|`) && after.get(k)! > before.get(k)!), 'the touched file was read again');
    assert.equal(again.chosen?.modelPath, first.chosen?.modelPath);
  });
});
