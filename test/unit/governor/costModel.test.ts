/** The governor's cost model, battery budget arithmetic and built-in profiles. */
import { qualityAtFullPrecision } from '../../../shared/qualityScale.js';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BALANCED_AC_WATT_CAP_W,
  BALANCED_BATTERY_WATT_CAP_W,
  batteryBudgetW,
  buildCandidates,
  DEFAULT_MACHINE,
  DEFAULT_MIN_DECODE_TOKENS_PER_SECOND,
  DEFAULT_PREFILL_SPEEDUP,
  inferencePowerBudgetToEnergyPerToken,
  predictCost,
  profileTarget,
  READING_TOKENS_PER_SECOND,
  SAVER_MIN_QUALITY,
  type CandidateInput,
  type MachineModel,
  type PowerState,
} from '../../../electron/governor/index.js';

function input(over: Partial<CandidateInput> = {}): CandidateInput {
  return {
    modelPath: '/m/x.gguf',
    fileName: 'x.gguf',
    name: 'X',
    family: 'x',
    architecture: 'llama',
    parameterCount: 1.5e9,
    sizeBytes: 1e9,
    quantization: 'Q4_K_M',
    fits: true,
    memoryReason: null,
    settings: { threads: 4, gpuLayers: 0, contextSize: 4096 },
    measured: null,
    kvCacheBytesPerToken: 0,
    ...over,
  };
}

const machine: MachineModel = { bandwidthBytesPerSecond: 40e9, activePowerW: 20 };

describe('predictCost: roofline', () => {
  test('decode = bandwidth ÷ (weights + KV bytes); power = active power; J/token = W ÷ tok/s', () => {
    const c = predictCost(input({ sizeBytes: 1.9e9, kvCacheBytesPerToken: 0.1e9 }), machine);
    assert.equal(c.source, 'roofline');
    assert.equal(c.decodeTokensPerSecond, 20);
    assert.equal(c.prefillTokensPerSecond, 20 * DEFAULT_PREFILL_SPEEDUP);
    assert.equal(c.powerW, 20);
    assert.equal(c.energyJPerToken, 1);
  });

  test('twice the bytes: half the speed, twice the energy per token', () => {
    const a = predictCost(input({ sizeBytes: 1e9 }), machine);
    const b = predictCost(input({ sizeBytes: 2e9 }), machine);
    assert.equal(b.decodeTokensPerSecond * 2, a.decodeTokensPerSecond);
    assert.equal(b.energyJPerToken, a.energyJPerToken * 2);
  });

  test('prefill speedup from the machine model', () => {
    assert.equal(predictCost(input(), { ...machine, prefillSpeedup: 4 }).prefillTokensPerSecond, 160);
  });

  test('bad machine numbers fall back to the defaults; zero bytes never divide by zero', () => {
    const c = predictCost(input({ sizeBytes: 1e9 }), { bandwidthBytesPerSecond: Number.NaN, activePowerW: -3, prefillSpeedup: 0 });
    assert.equal(c.decodeTokensPerSecond, DEFAULT_MACHINE.bandwidthBytesPerSecond / 1e9);
    assert.equal(c.powerW, DEFAULT_MACHINE.activePowerW);
    const z = predictCost(input({ sizeBytes: 0, kvCacheBytesPerToken: Number.NaN }), machine);
    assert.ok(Number.isFinite(z.decodeTokensPerSecond) && Number.isFinite(z.energyJPerToken));
  });

  test('cross-check against public numbers: the M4 Mac mini\'s 3B speed predicts its 8B speed within 30%', () => {
    // The team kit's ../shared/docs/power-sources.md: Llama 3.2 3B ~41 tok/s, Llama 3.1 8B ~21 tok/s, ≤ 30 W at the wall.
    // Assumed Q4_K_M files (Ollama's default): 3B ≈ 2.02 GB, 8B ≈ 4.92 GB.
    const m4: MachineModel = { bandwidthBytesPerSecond: 41 * 2.02e9, activePowerW: 30 };
    const eightB = predictCost(input({ sizeBytes: 4.92e9 }), m4);
    assert.ok(Math.abs(eightB.decodeTokensPerSecond - 21) / 21 < 0.3, String(eightB.decodeTokensPerSecond));
    assert.ok(eightB.energyJPerToken < 1.44 * 1.3, String(eightB.energyJPerToken));
    // The default machine is conservative: it never promises less energy than the measured CPU laptop figure
    // for the same 3B model (≤ 2.15 J/token wall) would allow by more than 2×.
    const def = predictCost(input({ sizeBytes: 2.02e9 }), DEFAULT_MACHINE);
    assert.ok(def.energyJPerToken > 2.15 / 2 && def.energyJPerToken < 2.15 * 2, String(def.energyJPerToken));
  });
});

describe('predictCost: measured', () => {
  test('measured speed and energy are used as is, power filled in from them', () => {
    const c = predictCost(input({ measured: { decodeTokensPerSecond: 12, prefillTokensPerSecond: 90, powerW: null, energyJPerToken: 0.5, replies: 4 } }), machine);
    assert.deepEqual(c, { decodeTokensPerSecond: 12, prefillTokensPerSecond: 90, powerW: 6, energyJPerToken: 0.5, source: 'measured' });
  });

  test('measured power without energy: J/token = W ÷ tok/s', () => {
    const c = predictCost(input({ measured: { decodeTokensPerSecond: 10, prefillTokensPerSecond: 0, powerW: 8, energyJPerToken: null, replies: 2 } }), machine);
    assert.equal(c.energyJPerToken, 0.8);
    assert.equal(c.powerW, 8);
    assert.equal(c.prefillTokensPerSecond, 10 * DEFAULT_PREFILL_SPEEDUP);
    assert.equal(c.source, 'measured');
  });

  test('speed only: power from the roofline power model', () => {
    const c = predictCost(input({ measured: { decodeTokensPerSecond: 10, prefillTokensPerSecond: 50, powerW: null, energyJPerToken: null, replies: 1 } }), machine);
    assert.equal(c.powerW, 20);
    assert.equal(c.energyJPerToken, 2);
    assert.equal(c.source, 'measured');
  });

  test('no replies or no decode speed: roofline', () => {
    for (const measured of [
      { decodeTokensPerSecond: 10, prefillTokensPerSecond: 50, powerW: 5, energyJPerToken: 0.5, replies: 0 },
      { decodeTokensPerSecond: 0, prefillTokensPerSecond: 50, powerW: 5, energyJPerToken: 0.5, replies: 3 },
      { decodeTokensPerSecond: Number.NaN, prefillTokensPerSecond: 50, powerW: 5, energyJPerToken: 0.5, replies: 3 },
    ]) {
      assert.equal(predictCost(input({ measured }), machine).source, 'roofline');
    }
  });
});

describe('buildCandidates', () => {
  test('cost and quality per input, quality absolute: the family plays no part', () => {
    const built = buildCandidates([
      input({ modelPath: '/a', family: 'a', parameterCount: 7e9, quantization: 'F16', sizeBytes: 14e9 }),
      input({ modelPath: '/b', family: 'a', parameterCount: 1.5e9, quantization: 'Q4_K_M', sizeBytes: 1e9 }),
      input({ modelPath: '/c', family: 'c', parameterCount: 1.5e9, quantization: 'F16', sizeBytes: 3e9 }),
      input({ modelPath: '/d', family: 'd', parameterCount: 1.5e9, quantization: 'F16', sizeBytes: 3e9 }),
    ], machine);
    assert.deepEqual(built.map((c) => c.modelPath), ['/a', '/b', '/c', '/d']);
    assert.ok(Math.abs(built[0]!.quality - qualityAtFullPrecision(7e9)) < 1e-12);
    assert.ok(built[1]!.quality < built[2]!.quality && built[2]!.quality < built[0]!.quality);
    assert.equal(built[2]!.quality, built[3]!.quality);
    assert.deepEqual(built.map((c) => c.qualitySource), ['prior', 'prior', 'prior', 'prior']);
    assert.equal(built[1]!.cost.decodeTokensPerSecond, 40);
    assert.match(built[1]!.qualityBasis, /1\.5B parameters/);
  });
});

describe('battery budget', () => {
  const power: PowerState = { onAc: false, batteryPercent: 50, batteryCapacityWh: 60, baselinePowerW: 5, thermalThrottled: false };

  test('(remaining − reserve) ÷ hours − baseline', () => {
    // 30 Wh left, 6 Wh reserve, 2 h: 12 W average, minus 5 W idle → 7 W.
    assert.equal(batteryBudgetW(power, { hoursLeft: 2, reservePercent: 10 }), 7);
    assert.equal(batteryBudgetW(power, { hoursLeft: 4, reservePercent: 10 }), 1);
  });

  test('can be ≤ 0: the deadline cannot be met even idle', () => {
    assert.ok(batteryBudgetW(power, { hoursLeft: 5, reservePercent: 10 })! < 0);
  });

  test('remaining energy in Wh wins over percent; capacity derived from energy and percent', () => {
    assert.equal(batteryBudgetW({ ...power, batteryEnergyWh: 20 }, { hoursLeft: 2, reservePercent: 0 }), 5);
    assert.equal(batteryBudgetW({ ...power, batteryCapacityWh: null, batteryEnergyWh: 30 }, { hoursLeft: 2, reservePercent: 10 }), 7);
  });

  test('null when it cannot be computed or the deadline has passed', () => {
    assert.equal(batteryBudgetW({ ...power, batteryPercent: null }, { hoursLeft: 2, reservePercent: 10 }), null);
    assert.equal(batteryBudgetW({ ...power, batteryCapacityWh: null }, { hoursLeft: 2, reservePercent: 10 }), null);
    assert.equal(batteryBudgetW(power, { hoursLeft: 0, reservePercent: 10 }), null);
    assert.equal(batteryBudgetW(power, { hoursLeft: Number.NaN, reservePercent: 10 }), null);
  });

  test('unknown idle draw counts as 0 W', () => {
    assert.equal(batteryBudgetW({ ...power, baselinePowerW: null }, { hoursLeft: 2, reservePercent: 10 }), 12);
  });

  test('allowed J/token = W × 3600 ÷ tokens per hour', () => {
    assert.ok(Math.abs(inferencePowerBudgetToEnergyPerToken(7, 2000) - 12.6) < 1e-12);
    assert.equal(inferencePowerBudgetToEnergyPerToken(0, 2000), 0);
    assert.ok(inferencePowerBudgetToEnergyPerToken(-1, 2000) < 0);
    assert.equal(inferencePowerBudgetToEnergyPerToken(5, 0), Number.POSITIVE_INFINITY);
    assert.ok(Number.isNaN(inferencePowerBudgetToEnergyPerToken(Number.NaN, 2000)));
  });
});

describe('profiles', () => {
  const ac: PowerState = { onAc: true, batteryPercent: 90, batteryCapacityWh: 60, baselinePowerW: 5, thermalThrottled: false };
  const battery: PowerState = { ...ac, onAc: false };

  test('reading speed: 238 words/min ÷ 0.75 words/token ≈ 5.3 tok/s; the default floor is 5', () => {
    assert.ok(Math.abs(READING_TOKENS_PER_SECOND - 5.29) < 0.01);
    assert.equal(DEFAULT_MIN_DECODE_TOKENS_PER_SECOND, 5);
    assert.ok(DEFAULT_MIN_DECODE_TOKENS_PER_SECOND <= READING_TOKENS_PER_SECOND);
  });

  test('performance: no power limit, on AC or battery', () => {
    for (const p of [ac, battery]) {
      const t = profileTarget('performance', p);
      assert.deepEqual(t, { profile: 'performance', wattCapW: null, battery: null, minDecodeTokensPerSecond: 5, minQuality: 0 });
    }
  });

  test('balanced: 15 W cap on AC, 8 W on battery', () => {
    assert.equal(profileTarget('balanced', ac).wattCapW, BALANCED_AC_WATT_CAP_W);
    assert.equal(profileTarget('balanced', battery).wattCapW, BALANCED_BATTERY_WATT_CAP_W);
    assert.equal(BALANCED_AC_WATT_CAP_W, 15);
    assert.equal(BALANCED_BATTERY_WATT_CAP_W, 8);
  });

  test('saver: a quality floor, no cap', () => {
    const t = profileTarget('saver', battery);
    assert.equal(t.minQuality, SAVER_MIN_QUALITY);
    assert.equal(t.wattCapW, null);
  });

  test('an unknown id at runtime gives balanced', () => {
    assert.equal(profileTarget('turbo' as 'balanced', ac).profile, 'balanced');
  });
});

describe('predictCost: per-core roofline', () => {
  const perCore: MachineModel = { bandwidthBytesPerSecond: 20e9, activePowerW: 15, activePowerWPerCore: 4, flopsPerCore: 20e9, dramEnergyJPerByte: 160e-12 };

  test('a large model is memory-bound and draws full DRAM power', () => {
    const c = predictCost(input({ parameterCount: 4e9, sizeBytes: 2e9, settings: { threads: 2, gpuLayers: 0, contextSize: 2048 } }), perCore);
    // memory roof 20e9/2e9 = 10 tok/s; compute roof 2 × 20e9 / 8e9 = 5 tok/s → compute-bound here
    assert.equal(c.decodeTokensPerSecond, 5);
    assert.ok(Math.abs(c.powerW - (2 * 4 + 160e-12 * 5 * 2e9)) < 1e-9);
    const fast = predictCost(input({ parameterCount: 1e9, sizeBytes: 4e9, settings: { threads: 4, gpuLayers: 0, contextSize: 2048 } }), perCore);
    // memory roof 5 tok/s; compute roof 4 × 20e9 / 2e9 = 40 → memory-bound: DRAM at the full 20 GB/s
    assert.equal(fast.decodeTokensPerSecond, 5);
    assert.ok(Math.abs(fast.powerW - (4 * 4 + 160e-12 * 20e9)) < 1e-9);
  });

  test('a small, compute-bound model draws less power than a large one at the same threads', () => {
    // Q4_0-like (0.56 bytes per weight): compute roof 20e9 / 2e6 = 10,000 tok/s < memory roof 35,714 tok/s.
    const small = predictCost(input({ parameterCount: 1e6, sizeBytes: 0.56e6, settings: { threads: 1, gpuLayers: 0, contextSize: 2048 } }), perCore);
    const large = predictCost(input({ parameterCount: 1.35e8, sizeBytes: 2.7e8, settings: { threads: 1, gpuLayers: 0, contextSize: 2048 } }), perCore);
    assert.ok(small.powerW < large.powerW, `${small.powerW} < ${large.powerW}`);
    assert.ok(small.energyJPerToken < large.energyJPerToken);
    assert.ok(small.decodeTokensPerSecond > large.decodeTokensPerSecond);
  });

  test('more threads: more power, and more speed only while compute-bound', () => {
    // Q4-like: memory roof 20e9 / 0.56e8 ≈ 357 tok/s; compute roof 100 tok/s per thread.
    const one = predictCost(input({ parameterCount: 1e8, sizeBytes: 0.56e8, settings: { threads: 1, gpuLayers: 0, contextSize: 2048 } }), perCore);
    const two = predictCost(input({ parameterCount: 1e8, sizeBytes: 0.56e8, settings: { threads: 2, gpuLayers: 0, contextSize: 2048 } }), perCore);
    const eight = predictCost(input({ parameterCount: 1e8, sizeBytes: 0.56e8, settings: { threads: 8, gpuLayers: 0, contextSize: 2048 } }), perCore);
    assert.ok(two.powerW > one.powerW);
    assert.equal(one.decodeTokensPerSecond, 100);
    assert.equal(two.decodeTokensPerSecond, 200);
    assert.ok(Math.abs(eight.decodeTokensPerSecond - 20e9 / 0.56e8) < 1e-6, 'capped by the memory roof');
    assert.ok(eight.energyJPerToken > two.energyJPerToken, 'threads past the memory roof only cost energy');
    assert.equal(two.source, 'roofline');
  });
});
