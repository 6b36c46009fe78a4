/** Hysteresis (when a new choice is worth a model swap) and throttling detection. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildCandidates,
  decide,
  detectThrottling,
  profileTarget,
  shouldSwitch,
  THROTTLE_SPEED_RATIO,
  type Candidate,
  type CandidateInput,
  type Decision,
  type GovernorTarget,
  type PowerState,
  type SwitchContext,
} from '../../../electron/governor/index.js';

function variant(fileName: string, parameterCount: number, quantization: string, sizeBytes: number, over: Partial<CandidateInput> = {}): CandidateInput {
  return {
    modelPath: `/models/${fileName}`,
    fileName,
    name: `Qwen2.5-${parameterCount / 1e9}B ${quantization}`,
    family: 'qwen2.5',
    architecture: 'qwen2',
    parameterCount,
    sizeBytes,
    quantization,
    fits: true,
    memoryReason: null,
    settings: { threads: 4, gpuLayers: 0, contextSize: 4096 },
    measured: null,
    kvCacheBytesPerToken: 0,
    ...over,
  };
}

const m = (decodeTokensPerSecond: number, powerW: number) => ({ decodeTokensPerSecond, prefillTokensPerSecond: decodeTokensPerSecond * 8, powerW, energyJPerToken: null, replies: 5 });

/** 7B Q4 8.5 tok/s 18 W (2.1 J/token), 3B 20 tok/s 12 W (0.6), 1.5B 40 tok/s 9 W (0.225), 0.5B 75 tok/s 6 W (0.08); 14B does not fit. */
const candidates: Candidate[] = buildCandidates([
  variant('14b.gguf', 14e9, 'Q4_K_M', 9.0e9, { fits: false, memoryReason: 'needs 10 GiB' }),
  variant('7b.gguf', 7e9, 'Q4_K_M', 4.7e9, { measured: m(8.5, 18) }),
  variant('3b.gguf', 3e9, 'Q4_K_M', 2.0e9, { measured: m(20, 12) }),
  variant('1.5b.gguf', 1.5e9, 'Q4_K_M', 1.0e9, { measured: m(40, 9) }),
  variant('0.5b.gguf', 0.5e9, 'Q8_0', 0.53e9, { measured: m(75, 6) }),
], { bandwidthBytesPerSecond: 40e9, activePowerW: 20 });
const byFile = (f: string) => candidates.find((c) => c.fileName === f)!;

const AC: PowerState = { onAc: true, batteryPercent: 100, batteryCapacityWh: 60, baselinePowerW: 5, thermalThrottled: false };
const BATTERY: PowerState = { ...AC, onAc: false, batteryPercent: 50 };
const NOW = 1_800_000_000_000;

function decision(target: GovernorTarget, power: PowerState = AC, list: Candidate[] = candidates): Decision {
  return decide({ candidates: list, target, power, usage: { tokensPerHour: 2000 } });
}

function ctx(current: Candidate | null, over: Partial<SwitchContext> = {}): SwitchContext {
  return {
    currentModelPath: current?.modelPath ?? null,
    lastSwitchAt: NOW - 120_000,
    now: NOW,
    minSwitchIntervalMs: 60_000,
    loadCost: { loadMs: 3000, loadEnergyJ: 60 },
    expectedTokensUntilNextDecision: 2000,
    ...over,
  };
}

/**
 * Saver without its quality floor, so the cheapest variant (the 0.5B, which scores under "a 1B at Q4_K_M")
 * is the choice: these tests are about the switch arithmetic, not the floor.
 */
const saver = decision({ ...profileTarget('saver', AC), minQuality: 0 });

describe('shouldSwitch', () => {
  test('the saver decision picks the 0.5B (fixture check)', () => {
    assert.equal(saver.chosen!.fileName, '0.5b.gguf');
  });

  test('no switch within the interval', () => {
    const r = shouldSwitch(saver, byFile('3b.gguf'), ctx(byFile('3b.gguf'), { lastSwitchAt: NOW - 10_000 }));
    assert.equal(r.switchTo, null);
    assert.equal(r.keep, true);
    assert.match(r.reason, /last switch 10 s ago: keep .* for 50 s more/);
  });

  test('a switch when the energy saved beats the load: (0.6 − 0.08) J/token × 2,000 tokens = 1,040 J > 60 J', () => {
    const r = shouldSwitch(saver, byFile('3b.gguf'), ctx(byFile('3b.gguf')));
    assert.equal(r.switchTo, saver.chosen);
    assert.equal(r.keep, false);
    assert.match(r.reason, /saves 1040 J over the next 2000 tokens, more than the 60 J load/);
  });

  test('no switch when it does not: 50 tokens save 26 J < 60 J', () => {
    const r = shouldSwitch(saver, byFile('3b.gguf'), ctx(byFile('3b.gguf'), { expectedTokensUntilNextDecision: 50 }));
    assert.equal(r.switchTo, null);
    assert.equal(r.keep, true);
    assert.match(r.reason, /would save 26 J, less than the 60 J load/);
  });

  test('an unmeasured load is estimated from the file size (0.53 GB at 500 MB/s = 1.06 s) × the new power (6 W) = 6.4 J', () => {
    const current = byFile('3b.gguf');
    // 0.52 J/token saved: 10 tokens (5.2 J) does not repay 6.4 J, 20 tokens (10.4 J) does.
    assert.equal(shouldSwitch(saver, current, ctx(current, { loadCost: null, expectedTokensUntilNextDecision: 10 })).switchTo, null);
    assert.equal(shouldSwitch(saver, current, ctx(current, { loadCost: null, expectedTokensUntilNextDecision: 20 })).switchTo, saver.chosen);
    // A measured load time without energy: 30 s × 6 W = 180 J > 10.4 J.
    assert.equal(shouldSwitch(saver, current, ctx(current, { loadCost: { loadMs: 30_000, loadEnergyJ: null }, expectedTokensUntilNextDecision: 20 })).switchTo, null);
  });

  test('forced switch, even right after the last one, when the current one no longer fits in memory', () => {
    const big = byFile('14b.gguf');
    const r = shouldSwitch(saver, big, ctx(big, { lastSwitchAt: NOW - 1000 }));
    assert.equal(r.switchTo, saver.chosen);
    assert.match(r.reason, /no longer fits in memory/);
  });

  test('forced switch when the current one is gone from the catalog', () => {
    const list = candidates.filter((c) => c.fileName !== '3b.gguf');
    const d = decision({ ...profileTarget('saver', AC), minQuality: 0 }, AC, list);
    const r = shouldSwitch(d, byFile('3b.gguf'), ctx(byFile('3b.gguf'), { lastSwitchAt: NOW - 1000 }));
    assert.equal(r.switchTo, d.chosen);
    assert.match(r.reason, /gone/);
  });

  test('forced switch when the current one breaks a power limit the new one keeps (watt cap on battery)', () => {
    const d = decision(profileTarget('balanced', BATTERY), BATTERY); // 8 W cap → the 0.5B at 6 W
    assert.equal(d.chosen!.fileName, '0.5b.gguf');
    const r = shouldSwitch(d, byFile('3b.gguf'), ctx(byFile('3b.gguf'), { lastSwitchAt: NOW - 1000, expectedTokensUntilNextDecision: 0 }));
    assert.equal(r.switchTo, d.chosen);
    assert.match(r.reason, /breaks the watt cap/);
  });

  test('a speed floor the current one misses waits for the interval, then switches', () => {
    const target: GovernorTarget = { profile: 'custom', wattCapW: null, battery: null, minDecodeTokensPerSecond: 25, minQuality: 0 };
    const d = decision(target); // the 3B (20 tok/s) is too slow → the 1.5B
    assert.equal(d.chosen!.fileName, '1.5b.gguf');
    const current = byFile('3b.gguf');
    const early = shouldSwitch(d, current, ctx(current, { lastSwitchAt: NOW - 1000, expectedTokensUntilNextDecision: 0 }));
    assert.equal(early.switchTo, null);
    const later = shouldSwitch(d, current, ctx(current, { expectedTokensUntilNextDecision: 0 }));
    assert.equal(later.switchTo, d.chosen);
    assert.match(later.reason, /meets the speed floor/);
  });

  test('a quality upgrade switches when the load is short next to the generation, not when it is long', () => {
    const d = decision(profileTarget('performance', AC)); // the 7B
    assert.equal(d.chosen!.fileName, '7b.gguf');
    const current = byFile('3b.gguf');
    // 2,000 tokens at 8.5 tok/s ≈ 235 s of generation: a 3 s load is 1.3% of it.
    const short = shouldSwitch(d, current, ctx(current));
    assert.equal(short.switchTo, d.chosen);
    assert.ok(short.reason.includes(`is better (quality ${d.chosen!.quality.toFixed(2)} vs ${current.quality.toFixed(2)})`), short.reason);
    // A 60 s load is 26% of it.
    const long = shouldSwitch(d, current, ctx(current, { loadCost: { loadMs: 60_000, loadEnergyJ: 1000 } }));
    assert.equal(long.switchTo, null);
    assert.equal(long.keep, true);
  });

  test('nothing loaded: load the choice; the same file: keep it', () => {
    const none = shouldSwitch(saver, null, ctx(null, { lastSwitchAt: NOW - 1 }));
    assert.equal(none.switchTo, saver.chosen);
    const same = shouldSwitch(saver, saver.chosen, ctx(saver.chosen, { lastSwitchAt: null }));
    assert.deepEqual([same.switchTo, same.keep], [null, true]);
  });

  test('no candidates at all: nothing to load; the current one is gone', () => {
    const empty = decision(profileTarget('saver', AC), AC, []);
    const r = shouldSwitch(empty, byFile('3b.gguf'), ctx(byFile('3b.gguf')));
    assert.deepEqual([r.switchTo, r.keep], [null, false]);
    assert.deepEqual([shouldSwitch(empty, null, ctx(null)).switchTo, shouldSwitch(empty, null, ctx(null)).keep], [null, false]);
  });

  test('never switched or a nonsense interval: no wait; a lastSwitchAt in the future (clock went back): wait', () => {
    const current = byFile('3b.gguf');
    assert.equal(shouldSwitch(saver, current, ctx(current, { lastSwitchAt: null })).switchTo, saver.chosen);
    assert.equal(shouldSwitch(saver, current, ctx(current, { lastSwitchAt: NOW + 5000 })).switchTo, null); // future: wait
    assert.equal(shouldSwitch(saver, current, ctx(current, { minSwitchIntervalMs: Number.NaN })).switchTo, saver.chosen);
  });
});

describe('detectThrottling', () => {
  test('threshold: median below 75% of the baseline', () => {
    assert.equal(THROTTLE_SPEED_RATIO, 0.75);
    assert.equal(detectThrottling([10, 10, 10], 10), false);
    assert.equal(detectThrottling([7.6, 7.6, 7.6], 10), false);
    assert.equal(detectThrottling([7.5, 7.5, 7.5], 10), false); // at the threshold: not below
    assert.equal(detectThrottling([7.4, 7.4, 7.4], 10), true);
  });

  test('sustained: one slow reply is not enough, two of three are', () => {
    assert.equal(detectThrottling([10, 10, 3], 10), false);
    assert.equal(detectThrottling([10, 3, 3], 10), true);
    assert.equal(detectThrottling([3, 3], 10), false); // fewer than 3 replies
  });

  test('looks at the last 5 replies only', () => {
    assert.equal(detectThrottling([3, 3, 3, 10, 10, 10, 10, 10], 10), false);
    assert.equal(detectThrottling([10, 10, 10, 10, 10, 3, 3, 3], 10), true);
  });

  test('bad input: no baseline, non-finite speeds', () => {
    assert.equal(detectThrottling([1, 1, 1], 0), false);
    assert.equal(detectThrottling([1, 1, 1], Number.NaN), false);
    assert.equal(detectThrottling([Number.NaN, 1, Number.POSITIVE_INFINITY, 1], 10), false); // 2 valid
    assert.equal(detectThrottling([Number.NaN, 1, 1, -4, 1], 10), true);
  });
});
