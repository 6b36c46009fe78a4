/** Known-answer tests of the pure attribution functions (electron/telemetry/attribution.ts). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { replyEnergySchema } from '../../../shared/contract.js';
import {
  addAttributions,
  attributeEstimate,
  attributeGpuWhole,
  attributePackageCpuShare,
  attributeSystemMinusBaseline,
  buildReplyEnergy,
  cpuShare,
  cpuTimesInWindow,
  estimateEnergyFromCpuTime,
  integrateAboveBaseline,
  integrateTrace,
  isPlausiblePowerW,
  MAX_PLAUSIBLE_POWER_W,
  medianPowerW,
  normalizeTrace,
  type PowerPoint,
} from '../../../electron/telemetry/attribution.js';

const T0 = 1_700_000_000_000;
/** Points at T0 + i seconds with the given powers. */
function everySecond(powers: number[], from = T0): PowerPoint[] {
  return powers.map((powerW, i) => ({ at: from + i * 1000, powerW }));
}
function close(actual: number, expected: number, tolerance = 1e-9): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `expected ${expected}, got ${actual}`);
}

describe('integrateTrace / integrateAboveBaseline (trapezoidal)', () => {
  test('constant 10 W over 2 s above a 4 W baseline = 12 J', () => {
    const r = attributeSystemMinusBaseline(everySecond([10, 10, 10]), { startAt: T0, endAt: T0 + 2000 }, 4);
    close(r.energyJ, 12);
    close(r.avgPowerW, 6);
    close(r.peakPowerW, 6);
    assert.equal(r.sampleCount, 3);
  });

  test('constant 10 W over 2 s with no baseline = 20 J', () => {
    close(integrateTrace(everySecond([10, 10, 10]), { startAt: T0, endAt: T0 + 2000 }).energyJ, 20);
  });

  test('a ramp 0 → 10 W over 2 s: 10 J, and 3.6 J above 4 W (the crossing solved exactly)', () => {
    const ramp = everySecond([0, 5, 10]);
    const w = { startAt: T0, endAt: T0 + 2000 };
    close(integrateTrace(ramp, w).energyJ, 10);
    // max(0, 5t − 4) on [0, 2] s: zero until 0.8 s, then a triangle 1.2 s wide and 6 W high.
    const above = integrateAboveBaseline(ramp, w, 4);
    close(above.energyJ, 3.6);
    close(above.peakPowerW, 6);
    close(above.avgPowerW, 1.8);
  });

  test('a ramp down that crosses the baseline', () => {
    // 10 → 0 W over 2 s, baseline 4: a triangle 1.2 s wide and 6 W high at the start.
    close(integrateAboveBaseline(everySecond([10, 5, 0]), { startAt: T0, endAt: T0 + 2000 }, 4).energyJ, 3.6);
  });

  test('a window cutting samples interpolates at its edges', () => {
    // P(t) = 10 W/s × t; ∫ from 0.5 s to 2.5 s = 5 × (2.5² − 0.5²) = 30 J.
    const r = integrateTrace(everySecond([0, 10, 20, 30, 40]), { startAt: T0 + 500, endAt: T0 + 2500 });
    close(r.energyJ, 30);
    assert.equal(r.sampleCount, 2);
    close(r.peakPowerW, 25);
    close(r.avgPowerW, 15);
  });

  test('a window reaching past the samples holds the nearest value', () => {
    // 6 W held 1 s before the first sample, then 6 → 8 W over 1 s, then 8 W held 1 s: 6 + 7 + 8 = 21 J.
    close(integrateTrace(everySecond([6, 8], T0 + 1000), { startAt: T0, endAt: T0 + 3000 }).energyJ, 21);
  });

  test('0 samples → 0 J; 1 sample → its value held over the window', () => {
    assert.deepEqual(integrateTrace([], { startAt: T0, endAt: T0 + 1000 }), { energyJ: 0, avgPowerW: 0, peakPowerW: 0, sampleCount: 0 });
    const one = integrateTrace([{ at: T0 + 5000, powerW: 8 }], { startAt: T0, endAt: T0 + 1000 });
    close(one.energyJ, 8);
    assert.equal(one.sampleCount, 0);
    close(integrateAboveBaseline([{ at: T0 + 500, powerW: 8 }], { startAt: T0, endAt: T0 + 2000 }, 3).energyJ, 10);
  });

  test('unsorted and duplicate timestamps give the sorted answer; duplicates are averaged', () => {
    const sorted = everySecond([0, 10, 20, 30]);
    const w = { startAt: T0, endAt: T0 + 3000 };
    const shuffled = [sorted[2]!, sorted[0]!, sorted[3]!, sorted[1]!];
    close(integrateTrace(shuffled, w).energyJ, integrateTrace(sorted, w).energyJ);
    close(integrateTrace(sorted, w).energyJ, 45);
    // Two readings at T0 + 1000 (6 and 14 W) count as one of 10 W.
    const dup = [sorted[0]!, { at: T0 + 1000, powerW: 6 }, { at: T0 + 1000, powerW: 14 }, sorted[2]!, sorted[3]!];
    close(integrateTrace(dup, w).energyJ, 45);
    assert.equal(integrateTrace(dup, w).sampleCount, 4);
  });

  test('garbage points are dropped, not integrated', () => {
    const trace: PowerPoint[] = [
      ...everySecond([10, 10, 10]),
      { at: T0 + 500, powerW: Number.NaN },
      { at: T0 + 700, powerW: -50 },
      { at: T0 + 900, powerW: 1e9 },
      { at: Number.POSITIVE_INFINITY, powerW: 10 },
      { at: T0 + 1500, powerW: Number.POSITIVE_INFINITY },
    ];
    const r = attributeSystemMinusBaseline(trace, { startAt: T0, endAt: T0 + 2000 }, 4);
    close(r.energyJ, 12);
    assert.equal(r.sampleCount, 3);
    assert.equal(normalizeTrace(trace).length, 3);
    assert.equal(isPlausiblePowerW(MAX_PLAUSIBLE_POWER_W), true);
    assert.equal(isPlausiblePowerW(MAX_PLAUSIBLE_POWER_W + 1), false);
  });

  test('empty, inverted and non-finite windows give 0 J', () => {
    const trace = everySecond([10, 10]);
    assert.equal(integrateTrace(trace, { startAt: T0, endAt: T0 }).energyJ, 0);
    assert.equal(integrateTrace(trace, { startAt: T0 + 1000, endAt: T0 }).energyJ, 0);
    assert.equal(integrateTrace(trace, { startAt: Number.NaN, endAt: T0 }).energyJ, 0);
  });

  test('a baseline below 0 counts as 0; a baseline above the power gives 0 J', () => {
    close(integrateAboveBaseline(everySecond([10, 10]), { startAt: T0, endAt: T0 + 1000 }, -5).energyJ, 10);
    assert.equal(integrateAboveBaseline(everySecond([10, 10]), { startAt: T0, endAt: T0 + 1000 }, 12).energyJ, 0);
  });
});

describe('baseline changing mid-reply', () => {
  test('constant 10 W over 4 s, baseline 4 W then 6 W from 2 s: 12 + 8 = 20 J', () => {
    const r = attributeSystemMinusBaseline(everySecond([10, 10, 10, 10, 10]), { startAt: T0, endAt: T0 + 4000 }, [
      { fromAt: T0, powerW: 4 },
      { fromAt: T0 + 2000, powerW: 6 },
    ]);
    close(r.energyJ, 20);
    close(r.peakPowerW, 6);
  });

  test('a step between samples splits the trapezoid exactly', () => {
    // Ramp 0 → 10 W over 1 s; baseline 0 until 0.5 s, then 5 W. ∫₀^.5 10t = 1.25 J; ∫.5^1 (10t − 5) = 1.25 J.
    const r = attributeSystemMinusBaseline(everySecond([0, 10]), { startAt: T0, endAt: T0 + 1000 }, [
      { fromAt: T0 + 500, powerW: 5 },
      { fromAt: T0 - 10_000, powerW: 0 },
    ]);
    close(r.energyJ, 2.5);
  });

  test('before the first step the first step holds; an empty list is 0 W', () => {
    close(attributeSystemMinusBaseline(everySecond([10, 10]), { startAt: T0, endAt: T0 + 1000 }, [{ fromAt: T0 + 5000, powerW: 4 }]).energyJ, 6);
    close(attributeSystemMinusBaseline(everySecond([10, 10]), { startAt: T0, endAt: T0 + 1000 }, []).energyJ, 10);
  });
});

describe('interval-average traces (RAPL counters, the estimate)', () => {
  test('each reading covers the time since the previous one', () => {
    // Readings at 1, 2, 3 s of 10, 20, 30 W cover (0,1], (1,2], (2,3] → 60 J; the first one is held backwards.
    const trace = everySecond([10, 20, 30], T0 + 1000);
    close(integrateTrace(trace, { startAt: T0, endAt: T0 + 3000 }, { interpolation: 'interval-average' }).energyJ, 60);
    // Cut at 1.5 s … 2.5 s: half of 20 W's second and half of 30 W's → 25 J.
    const cut = integrateTrace(trace, { startAt: T0 + 1500, endAt: T0 + 2500 }, { interpolation: 'interval-average' });
    close(cut.energyJ, 25);
    close(cut.peakPowerW, 30);
    // After the last reading its value is held.
    close(integrateTrace(trace, { startAt: T0 + 3000, endAt: T0 + 4000 }, { interpolation: 'interval-average' }).energyJ, 30);
  });
});

describe('package-cpu-share', () => {
  test('package energy × process CPU ÷ busy CPU', () => {
    // 20 W over 2 s = 40 J; the process used 500 ms of the 2000 ms the CPUs were busy → 10 J.
    const r = attributePackageCpuShare(everySecond([20, 20, 20]), { startAt: T0, endAt: T0 + 2000 }, { processCpuMs: 500, busyCpuMs: 2000 });
    close(r.share, 0.25);
    close(r.energyJ, 10);
    close(r.avgPowerW, 5);
    close(r.peakPowerW, 5);
  });

  test('the share is clamped to [0, 1]', () => {
    const w = { startAt: T0, endAt: T0 + 2000 };
    close(attributePackageCpuShare(everySecond([20, 20, 20]), w, { processCpuMs: 3000, busyCpuMs: 2000 }).energyJ, 40);
    assert.equal(attributePackageCpuShare(everySecond([20, 20, 20]), w, { processCpuMs: -5, busyCpuMs: 2000 }).energyJ, 0);
    assert.equal(cpuShare(Number.NaN, 100), 0);
    assert.equal(cpuShare(100, 0), 1);
    assert.equal(cpuShare(0, 0), 0);
  });

  test('CPU time in a window from cumulative snapshots, interpolated at the edges', () => {
    const snaps = [
      { at: T0, processCpuMs: 1000, busyCpuMs: 10_000 },
      { at: T0 + 1000, processCpuMs: 1500, busyCpuMs: 12_000 },
      { at: T0 + 2000, processCpuMs: 1500, busyCpuMs: 14_000 },
    ];
    assert.deepEqual(cpuTimesInWindow(snaps, { startAt: T0 + 500, endAt: T0 + 1500 }), { processCpuMs: 250, busyCpuMs: 2000 });
    // Reversed input and a window past the ends (clamped to the snapshots).
    assert.deepEqual(cpuTimesInWindow([...snaps].reverse(), { startAt: T0 - 5000, endAt: T0 + 9000 }), { processCpuMs: 500, busyCpuMs: 4000 });
    assert.equal(cpuTimesInWindow(snaps.slice(0, 1), { startAt: T0, endAt: T0 + 1000 }), null);
  });
});

describe('gpu-whole and estimate', () => {
  test('GPU above its idle power, counted whole', () => {
    // 40 W for 3 s over a 10 W idle board → 90 J.
    close(attributeGpuWhole(everySecond([40, 40, 40, 40]), { startAt: T0, endAt: T0 + 3000 }, 10).energyJ, 90);
  });

  test('estimate: ∫ (P_est − idleW) dt = active W per core × CPU seconds', () => {
    // Readings every second from CPU use: 1, 0.5 and 2 busy cores, 10 W per core, 3 W idle.
    const busy = [1, 0.5, 2];
    const trace = [{ at: T0, powerW: 3 }, ...busy.map((b, i) => ({ at: T0 + (i + 1) * 1000, powerW: 3 + 10 * b }))];
    const r = attributeEstimate(trace, { startAt: T0, endAt: T0 + 3000 }, 3, { interpolation: 'interval-average' });
    close(r.energyJ, 35);
    close(r.energyJ, estimateEnergyFromCpuTime(10, 3500));
    close(r.peakPowerW, 20);
    // A constant 7 W estimate over a 2 W idle for 3 s → 15 J, either way of reading it.
    close(attributeEstimate(everySecond([7, 7, 7, 7]), { startAt: T0, endAt: T0 + 3000 }, 2).energyJ, 15);
    assert.equal(estimateEnergyFromCpuTime(Number.NaN, 1000), 0);
  });
});

describe('helpers', () => {
  test('median', () => {
    assert.equal(medianPowerW([5, 1, 3]), 3);
    assert.equal(medianPowerW([4, 1, 3, 100]), 3.5);
    assert.equal(medianPowerW([Number.NaN]), null);
    assert.equal(medianPowerW([]), null);
  });

  test('addAttributions sums the parts', () => {
    assert.deepEqual(addAttributions({ energyJ: 1, avgPowerW: 2, peakPowerW: 3, sampleCount: 4 }, { energyJ: 10, avgPowerW: 20, peakPowerW: 30, sampleCount: 40 }), {
      energyJ: 11,
      avgPowerW: 22,
      peakPowerW: 33,
      sampleCount: 44,
    });
  });

  test('buildReplyEnergy: J/token, 0 without tokens, garbage made safe, parses with the contract', () => {
    const base = {
      attributed: { energyJ: 12, avgPowerW: 6, peakPowerW: 7, sampleCount: 3 },
      completionTokens: 48,
      baselinePowerW: 4,
      sourceId: 'linux-battery:BAT0',
      sourceLabel: 'battery sensor',
      measured: true,
      method: 'system-minus-baseline' as const,
      fallbackReason: null,
    };
    const e = buildReplyEnergy(base);
    assert.equal(e.energyJPerToken, 0.25);
    assert.equal(e.energyJ, 12);
    assert.equal(e.baselinePowerW, 4);
    assert.deepEqual(replyEnergySchema.parse(e), e);
    assert.equal(buildReplyEnergy({ ...base, completionTokens: 0 }).energyJPerToken, 0);
    const garbage = buildReplyEnergy({ ...base, attributed: { energyJ: Number.NaN, avgPowerW: -1, peakPowerW: Number.POSITIVE_INFINITY, sampleCount: 2.7 }, baselinePowerW: -3 });
    assert.equal(garbage.energyJ, 0);
    assert.equal(garbage.avgPowerW, 0);
    assert.equal(garbage.peakPowerW, 0);
    assert.equal(garbage.sampleCount, 2);
    assert.equal(garbage.baselinePowerW, 0);
    assert.ok(replyEnergySchema.safeParse(garbage).success);
  });
});
