/**
 * The recommended ladder (electron/governor/recommend.ts) on the shipped catalog predicted for two
 * machines: a typical laptop and a slow 2-core one; disk and memory limits; installed rungs.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCandidates, recommendLadder, type CandidateInput, type Candidate, type MachineModel, type PowerState } from '../../../electron/governor/index.js';
import { catalogEntryUri, catalogKvBytesPerToken, type CatalogEntry } from '../../../shared/modelCatalog.js';
import { loadModelCatalog } from '../../../electron/models/modelCatalog.js';

const entries = loadModelCatalog().entries;
const power: PowerState = { onAc: true, batteryPercent: 80, batteryCapacityWh: 55, baselinePowerW: 5, thermalThrottled: false };
const usage = { tokensPerHour: null };
/** A laptop: 8 threads, 50 GB/s, 2 W per busy core, 20 GFLOP/s per core. */
const laptop: MachineModel = { bandwidthBytesPerSecond: 50e9, activePowerW: 2, activePowerWPerCore: 2, flopsPerCore: 20e9 };

/** The ladder is ordered: a Balanced rung is better than Saver's and cheaper than Performance's. */
function assertOrdered(rungs: ReturnType<typeof recommendLadder>['rungs']): void {
  const by = new Map(rungs.map((r) => [r.profile, r.candidate]));
  const saver = by.get('saver');
  const balanced = by.get('balanced');
  const performance = by.get('performance');
  if (saver && balanced) assert.ok(balanced.quality > saver.quality && balanced.cost.energyJPerToken > saver.cost.energyJPerToken, `balanced ${balanced.fileName} vs saver ${saver.fileName}`);
  if (balanced && performance) assert.ok(balanced.cost.energyJPerToken < performance.cost.energyJPerToken, `balanced ${balanced.fileName} vs performance ${performance.fileName}`);
}

function candidates(machine: MachineModel, threads: number, memoryBytes = 16 * 2 ** 30): Candidate[] {
  const inputs: CandidateInput[] = entries.map((e: CatalogEntry) => {
    const need = e.sizeBytes + catalogKvBytesPerToken(e) * 2048 + 512 * 2 ** 20;
    return {
      modelPath: catalogEntryUri(e), fileName: e.file, name: e.name, family: e.basename.toLowerCase(), basename: e.basename, sizeLabel: e.sizeLabel,
      architecture: e.architecture, parameterCount: e.parameterCount, sizeBytes: e.sizeBytes, quantization: e.quantization,
      fits: need <= memoryBytes * 0.7, memoryReason: null, settings: { threads, gpuLayers: 0, contextSize: 2048 }, measured: null,
      kvCacheBytesPerToken: catalogKvBytesPerToken(e) * 512,
    };
  });
  return buildCandidates(inputs, machine);
}

describe('recommendLadder', () => {
  test('a laptop gets three distinct rungs, Saver cheapest and Performance best, none a sub-1B model', () => {
    const l = recommendLadder({ candidates: candidates(laptop, 8), power, usage, diskBudgetBytes: 100e9, installed: new Set() });
    assert.deepEqual(l.rungs.map((r) => r.profile), ['saver', 'balanced', 'performance']);
    assert.equal(new Set(l.rungs.map((r) => r.candidate.modelPath)).size, 3);
    const [saver, balanced, performance] = l.rungs.map((r) => r.candidate);
    assert.ok(saver!.cost.energyJPerToken <= balanced!.cost.energyJPerToken && saver!.cost.energyJPerToken <= performance!.cost.energyJPerToken);
    assert.ok(performance!.quality >= balanced!.quality && performance!.quality >= saver!.quality);
    for (const r of l.rungs) {
      assert.ok((r.candidate.parameterCount ?? 0) >= 1e9, `${r.profile}: ${r.candidate.fileName}`);
      assert.ok(r.candidate.cost.decodeTokensPerSecond >= 5, `${r.profile} reads faster than you do`);
      assert.ok(r.reason.length > 10);
    }
    assert.equal(l.downloadBytes, l.rungs.reduce((s, r) => s + r.candidate.sizeBytes, 0));
    assert.equal(l.note, null);
    assertOrdered(l.rungs);
  });

  test('a slow 2-core machine still gets a ladder of rungs it can run at reading speed', () => {
    const slow: MachineModel = { bandwidthBytesPerSecond: 11e9, activePowerW: 3.75, activePowerWPerCore: 3.75, flopsPerCore: 20e9 };
    const l = recommendLadder({ candidates: candidates(slow, 2), power, usage, diskBudgetBytes: 100e9, installed: new Set() });
    assert.ok(l.rungs.length >= 2);
    for (const r of l.rungs) assert.ok(r.candidate.cost.decodeTokensPerSecond >= 5, `${r.profile}: ${r.candidate.fileName}`);
    assertOrdered(l.rungs);
    // Every slow-machine configuration from 1 to 4 threads stays ordered too.
    for (const threads of [1, 2, 3, 4]) assertOrdered(recommendLadder({ candidates: candidates(slow, threads), power, usage, diskBudgetBytes: 100e9, installed: new Set() }).rungs);
  });

  test('the disk budget holds: bigger variants are passed over and the note says why', () => {
    const all = recommendLadder({ candidates: candidates(laptop, 8), power, usage, diskBudgetBytes: 100e9, installed: new Set() });
    const budget = Math.floor(all.downloadBytes / 2);
    const l = recommendLadder({ candidates: candidates(laptop, 8), power, usage, diskBudgetBytes: budget, installed: new Set() });
    assert.ok(l.downloadBytes <= budget, `${l.downloadBytes} ≤ ${budget}`);
    assert.match(l.note ?? '', /disk/);
  });

  test('installed rungs cost no disk; nothing fits in memory: an empty ladder that says so', () => {
    const c = candidates(laptop, 8);
    const first = recommendLadder({ candidates: c, power, usage, diskBudgetBytes: null, installed: new Set() });
    const installed = new Set([first.rungs[0]!.candidate.modelPath]);
    const again = recommendLadder({ candidates: c, power, usage, diskBudgetBytes: null, installed });
    assert.equal(again.downloadBytes, first.downloadBytes - first.rungs[0]!.candidate.sizeBytes);
    const none = recommendLadder({ candidates: candidates(laptop, 8, 256 * 2 ** 20), power, usage, diskBudgetBytes: null, installed: new Set() });
    assert.deepEqual(none.rungs, []);
    assert.match(none.note ?? '', /memory/);
  });
});
