/**
 * The governor's decision, table-driven: each profile, watt caps at and between candidates' powers,
 * battery targets (easy, tight, impossible), memory, roofline vs measured predictions, thermal
 * throttling, the reason sentence, and the bench's decision timer (its wall-clock bound, under 1 ms a
 * decision, is checked by `npm run bench -- governor-decide`, bench/governor.ts).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildCandidates,
  decide,
  profileTarget,
  THROTTLE_SPEED_RATIO,
  type CandidateInput,
  type Constraint,
  type Decision,
  type GovernorTarget,
  type MachineModel,
  type PowerState,
  type RecentUsage,
} from '../../../electron/governor/index.js';
import { benchDecide } from '../../../bench/governorData.js';

const machine: MachineModel = { bandwidthBytesPerSecond: 40e9, activePowerW: 20 };

type Measured = NonNullable<CandidateInput['measured']>;

function variant(fileName: string, parameterCount: number, quantization: string, sizeBytes: number, over: Partial<CandidateInput> = {}): CandidateInput {
  return {
    modelPath: `/models/${fileName}`,
    fileName,
    name: `Qwen2.5-${parameterCount / 1e9}B`,
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

function measured(decodeTokensPerSecond: number, powerW: number): Measured {
  return { decodeTokensPerSecond, prefillTokensPerSecond: decodeTokensPerSecond * 8, powerW, energyJPerToken: null, replies: 5 };
}

/**
 * The family, roofline at 40 GB/s and 20 W (qualities from the published Qwen2.5 scores, best first):
 *   14B Q4_K_M  9.0 GB  does not fit
 *   7B  Q8_0    8.1 GB  4.9 tok/s (under the 5 tok/s floor)  4.05 J/token
 *   7B  Q4_K_M  4.7 GB  8.5 tok/s                             2.35 J/token
 *   3B  Q4_K_M  2.0 GB  20 tok/s                              1.0  J/token
 *   1.5B Q4_K_M 1.0 GB  40 tok/s                              0.5  J/token
 *   0.5B Q8_0   0.53 GB 75 tok/s                              0.27 J/token  (above Saver's floor, a 1B at Q4_K_M)
 */
function family(over: Record<string, Partial<CandidateInput>> = {}): CandidateInput[] {
  const base = [
    variant('qwen2.5-14b-q4_k_m.gguf', 14e9, 'Q4_K_M', 9.0e9, { fits: false, memoryReason: 'needs 10.2 GiB, 6.1 GiB free' }),
    variant('qwen2.5-7b-q8_0.gguf', 7e9, 'Q8_0', 8.1e9),
    variant('qwen2.5-7b-q4_k_m.gguf', 7e9, 'Q4_K_M', 4.7e9),
    variant('qwen2.5-3b-q4_k_m.gguf', 3e9, 'Q4_K_M', 2.0e9),
    variant('qwen2.5-1.5b-q4_k_m.gguf', 1.5e9, 'Q4_K_M', 1.0e9),
    variant('qwen2.5-0.5b-q8_0.gguf', 0.5e9, 'Q8_0', 0.53e9),
  ];
  return base.map((v) => ({ ...v, ...(over[v.fileName] ?? {}) }));
}

/** The same family with measured powers: 7B Q4 18 W, 3B 12 W, 1.5B 9 W, 0.5B 6 W (speeds as the roofline). */
function measuredFamily(): CandidateInput[] {
  return family({
    'qwen2.5-7b-q4_k_m.gguf': { measured: measured(8.5, 18) },
    'qwen2.5-3b-q4_k_m.gguf': { measured: measured(20, 12) },
    'qwen2.5-1.5b-q4_k_m.gguf': { measured: measured(40, 9) },
    'qwen2.5-0.5b-q8_0.gguf': { measured: measured(75, 6) },
  });
}

const AC: PowerState = { onAc: true, batteryPercent: 100, batteryCapacityWh: 60, baselinePowerW: 5, thermalThrottled: false };
const BATTERY: PowerState = { onAc: false, batteryPercent: 50, batteryCapacityWh: 60, baselinePowerW: 5, thermalThrottled: false };
const USAGE: RecentUsage = { tokensPerHour: 2000 };

function custom(over: Partial<GovernorTarget> = {}): GovernorTarget {
  return { profile: 'custom', wattCapW: null, battery: null, minDecodeTokensPerSecond: 5, minQuality: 0, ...over };
}

interface Case {
  name: string;
  inputs: () => CandidateInput[];
  target: (power: PowerState) => GovernorTarget;
  power: PowerState;
  usage?: RecentUsage;
  targetLabel?: string;
  chosen: string;
  binding: Constraint | 'none' | 'no-candidates';
  violated?: Constraint[];
  budgetW?: number | null;
  reason?: RegExp[];
  source?: 'measured' | 'roofline';
}

const cases: Case[] = [
  // --- profiles -------------------------------------------------------------------------------------
  {
    name: 'performance on AC: best quality that fits and meets the speed floor (7B Q8_0 too slow, 14B too big)',
    inputs: family, target: (p) => profileTarget('performance', p), power: AC,
    chosen: 'qwen2.5-7b-q4_k_m.gguf', binding: 'min-speed', violated: [], budgetW: null, source: 'roofline',
    reason: [/^Performance profile, on AC → Qwen2\.5-7B Q4_K_M at 2\.4 J\/token, 8\.5 tok\/s \(estimated\)$/],
  },
  {
    name: 'performance on battery: still no power limit',
    inputs: measuredFamily, target: (p) => profileTarget('performance', p), power: BATTERY,
    chosen: 'qwen2.5-7b-q4_k_m.gguf', binding: 'min-speed', budgetW: null, source: 'measured',
  },
  {
    name: 'balanced on AC: best quality within 15 W (7B at 18 W excluded)',
    inputs: measuredFamily, target: (p) => profileTarget('balanced', p), power: AC,
    chosen: 'qwen2.5-3b-q4_k_m.gguf', binding: 'watt-cap', budgetW: 15, reason: [/15 W cap/],
  },
  {
    name: 'balanced on battery: 8 W cap → the 0.5B at 6 W',
    inputs: measuredFamily, target: (p) => profileTarget('balanced', p), power: BATTERY,
    chosen: 'qwen2.5-0.5b-q8_0.gguf', binding: 'watt-cap', budgetW: 8, reason: [/^Balanced profile, on battery, 50% left → 8 W cap → /],
  },
  {
    name: "saver: least J/token meeting the floors: the 1.5B (the cheaper 0.5B scores under Saver's floor, a 1B at Q4_K_M)",
    inputs: family, target: (p) => profileTarget('saver', p), power: AC,
    chosen: 'qwen2.5-1.5b-q4_k_m.gguf', binding: 'min-quality',
  },
  {
    name: 'saver without a quality floor: the cheapest, the 0.5B',
    inputs: family, target: (p) => ({ ...profileTarget('saver', p), minQuality: 0 }), power: AC,
    chosen: 'qwen2.5-0.5b-q8_0.gguf', binding: 'none',
  },
  {
    name: 'saver: a cheaper 2-bit variant under the quality floor is passed over',
    inputs: () => [...family(), variant('qwen2.5-3b-q2_k.gguf', 3e9, 'Q2_K', 1.3e9)],
    target: (p) => profileTarget('saver', p), power: AC,
    chosen: 'qwen2.5-1.5b-q4_k_m.gguf', binding: 'min-quality',
  },
  {
    name: 'custom with no limits: best quality, like performance',
    inputs: family, target: () => custom(), power: AC,
    chosen: 'qwen2.5-7b-q4_k_m.gguf', binding: 'min-speed', reason: [/^On AC → /],
  },
  {
    name: 'custom quality floor above everything that runs: the least-energy variant that fits, floor violated',
    inputs: family, target: () => custom({ minQuality: 0.99 }), power: AC,
    chosen: 'qwen2.5-0.5b-q8_0.gguf', binding: 'min-quality', violated: ['min-quality'],
    reason: [/nothing meets the target \(under the quality floor\), so the least-energy variant that fits/],
  },
  // --- watt caps at and between candidates' predicted powers ----------------------------------------
  {
    name: 'watt cap exactly AT the 3B\'s 12 W admits it',
    inputs: measuredFamily, target: () => custom({ wattCapW: 12 }), power: AC,
    chosen: 'qwen2.5-3b-q4_k_m.gguf', binding: 'watt-cap', budgetW: 12,
  },
  {
    name: 'watt cap BETWEEN the 1.5B (9 W) and the 3B (12 W) → the 1.5B',
    inputs: measuredFamily, target: () => custom({ wattCapW: 10.5 }), power: AC,
    chosen: 'qwen2.5-1.5b-q4_k_m.gguf', binding: 'watt-cap', budgetW: 10.5, reason: [/→ 10\.5 W cap → Qwen2\.5-1\.5B Q4_K_M at 0\.23 J\/token, 40 tok\/s \(measured\)$/],
  },
  {
    name: 'watt cap AT the 7B\'s 18 W → the 7B',
    inputs: measuredFamily, target: () => custom({ wattCapW: 18 }), power: AC,
    // The 7B Q8_0 above it is both too slow and (roofline 20 W) over the cap: the cap names the binding one.
    chosen: 'qwen2.5-7b-q4_k_m.gguf', binding: 'watt-cap',
  },
  {
    name: 'watt cap under every candidate → the lowest-power one that fits, cap violated',
    inputs: measuredFamily, target: () => custom({ wattCapW: 5 }), power: AC,
    chosen: 'qwen2.5-0.5b-q8_0.gguf', binding: 'watt-cap', violated: ['watt-cap'],
    reason: [/nothing meets the target \(over the watt cap\), so the lowest-power variant that fits/],
  },
  // --- battery targets: 30 Wh left, 10% reserve (6 Wh), 5 W idle, 2,000 tokens/hour -------------------
  {
    name: 'easy battery target: 2 h → 7 W budget → 12.6 J/token allowed: best quality',
    inputs: family, target: () => custom({ battery: { hoursLeft: 2, reservePercent: 10 } }), power: BATTERY, targetLabel: '18:00',
    chosen: 'qwen2.5-7b-q4_k_m.gguf', binding: 'min-speed', budgetW: 7,
    reason: [/^On battery, 50% left, target 18:00 → 7 W budget → Qwen2\.5-7B Q4_K_M at 2\.4 J\/token/],
  },
  {
    name: 'tight battery target: 4 h → 1 W budget → 1.8 J/token allowed: the 3B',
    inputs: family, target: () => custom({ battery: { hoursLeft: 4, reservePercent: 10 } }), power: BATTERY,
    chosen: 'qwen2.5-3b-q4_k_m.gguf', binding: 'battery-target', budgetW: 1, reason: [/target in 4 h → 1 W budget/],
  },
  {
    name: 'tight battery target with heavy usage (10,000 tokens/hour → 0.36 J/token): the 0.5B',
    inputs: family, target: () => custom({ battery: { hoursLeft: 4, reservePercent: 10 } }), power: BATTERY, usage: { tokensPerHour: 10_000 },
    chosen: 'qwen2.5-0.5b-q8_0.gguf', binding: 'battery-target', budgetW: 1,
  },
  {
    name: 'impossible battery target: 5 h → −0.2 W budget → the least-energy variant, target violated',
    inputs: family, target: () => custom({ battery: { hoursLeft: 5, reservePercent: 10 } }), power: BATTERY,
    chosen: 'qwen2.5-0.5b-q8_0.gguf', binding: 'battery-target', violated: ['battery-target'],
    reason: [/no power left for inference \(-0\.2 W budget\)/, /nothing meets the target \(over the battery budget\)/],
  },
  {
    name: 'battery target on AC: paused (the battery is charging)',
    inputs: family, target: () => custom({ battery: { hoursLeft: 5, reservePercent: 10 } }), power: AC,
    chosen: 'qwen2.5-7b-q4_k_m.gguf', binding: 'min-speed', violated: [], budgetW: null, reason: [/battery target paused on AC/],
  },
  {
    name: 'battery level unknown: the battery target cannot be applied and the reason says so',
    inputs: family, target: () => custom({ battery: { hoursLeft: 4, reservePercent: 10 } }), power: { ...BATTERY, batteryPercent: null },
    chosen: 'qwen2.5-7b-q4_k_m.gguf', binding: 'min-speed', budgetW: null, reason: [/^On battery, battery level unknown \(battery target not applied\) → Qwen2\.5-7B/],
  },
  // --- memory -------------------------------------------------------------------------------------
  {
    name: 'nothing fits: the smallest file, memory violated',
    inputs: () => family().map((v) => ({ ...v, fits: false, memoryReason: 'needs more than the 0.4 GiB free' })),
    target: (p) => profileTarget('performance', p), power: AC,
    chosen: 'qwen2.5-0.5b-q8_0.gguf', binding: 'memory', violated: ['memory'], reason: [/nothing fits in memory, so the smallest file/],
  },
  {
    name: 'the 14B is the best quality but does not fit: memory binds when the 7B Q8_0 is gone',
    inputs: () => family().filter((v) => v.fileName !== 'qwen2.5-7b-q8_0.gguf'),
    target: (p) => profileTarget('performance', p), power: AC,
    chosen: 'qwen2.5-7b-q4_k_m.gguf', binding: 'memory',
  },
  // --- measured vs roofline -----------------------------------------------------------------------
  {
    name: 'measured beats roofline: the 7B Q4 measures 4 tok/s (roofline said 8.5) → the 3B',
    inputs: () => family({ 'qwen2.5-7b-q4_k_m.gguf': { measured: measured(4, 20) } }),
    target: (p) => profileTarget('performance', p), power: AC,
    chosen: 'qwen2.5-3b-q4_k_m.gguf', binding: 'min-speed', source: 'roofline',
  },
  {
    name: 'measured beats roofline: the 7B Q8_0 measures 6 tok/s (roofline said 4.9) → the 7B Q8_0',
    inputs: () => family({ 'qwen2.5-7b-q8_0.gguf': { measured: measured(6, 25) } }),
    target: (p) => profileTarget('performance', p), power: AC,
    chosen: 'qwen2.5-7b-q8_0.gguf', binding: 'memory', source: 'measured', reason: [/\(measured\)$/],
  },
  // --- thermal throttling -------------------------------------------------------------------------
  {
    name: 'thermal throttling derates speeds by 0.75: the 7B Q4 (8.5 → 6.4 tok/s) still meets the floor',
    inputs: family, target: (p) => profileTarget('performance', p), power: { ...AC, thermalThrottled: true },
    chosen: 'qwen2.5-7b-q4_k_m.gguf', binding: 'min-speed', reason: [/on AC, thermally throttled/, /6\.4 tok\/s/],
  },
  {
    name: 'thermal throttling: a variant that only just met the floor (6 tok/s → 4.5) gives way to a cheaper one',
    inputs: () => family({ 'qwen2.5-7b-q4_k_m.gguf': { measured: measured(6, 20) } }),
    target: (p) => profileTarget('performance', p), power: { ...AC, thermalThrottled: true },
    chosen: 'qwen2.5-3b-q4_k_m.gguf', binding: 'min-speed',
  },
];

function run(c: Case): Decision {
  const candidates = buildCandidates(c.inputs(), machine);
  return decide({ candidates, target: c.target(c.power), power: c.power, usage: c.usage ?? USAGE, ...(c.targetLabel ? { targetLabel: c.targetLabel } : {}) });
}

describe('decide: table', () => {
  for (const c of cases) {
    test(c.name, () => {
      const d = run(c);
      assert.equal(d.chosen?.fileName, c.chosen, d.reason);
      assert.equal(d.bindingConstraint, c.binding, d.reason);
      if (c.violated) assert.deepEqual(d.violated, c.violated);
      if (c.budgetW !== undefined) {
        if (c.budgetW == null) assert.equal(d.budgetW, null);
        else assert.ok(d.budgetW != null && Math.abs(d.budgetW - c.budgetW) < 1e-9, `budget ${d.budgetW}`);
      }
      if (c.source) assert.equal(d.predicted?.source, c.source);
      for (const r of c.reason ?? []) assert.match(d.reason, r);
      // Invariants of every decision.
      assert.equal(d.ranked.length, c.inputs().length);
      assert.deepEqual(d.ranked.map((r) => r.rank), d.ranked.map((_, i) => i + 1));
      assert.equal(d.ranked[0]!.candidate, d.chosen);
      assert.ok(d.ranked[0]!.chosen && d.ranked.slice(1).every((r) => !r.chosen && r.whyNot != null && r.whyNot.length > 0));
      assert.deepEqual(d.settings, d.chosen!.settings);
      assert.equal(d.ranked[0]!.feasible, d.violated.length === 0);
    });
  }
});

describe('decide: details', () => {
  test('no candidates: null choice, "no-candidates", a reason', () => {
    const d = decide({ candidates: [], target: custom(), power: AC, usage: USAGE });
    assert.equal(d.chosen, null);
    assert.equal(d.settings, null);
    assert.equal(d.predicted, null);
    assert.equal(d.bindingConstraint, 'no-candidates');
    assert.deepEqual(d.ranked, []);
    assert.match(d.reason, /no model installed/);
  });

  test('why each lost: memory with its reason, the speed floor with numbers, lower quality', () => {
    const d = run(cases[0]!);
    const why = new Map(d.ranked.map((r) => [r.candidate.fileName, r]));
    assert.match(why.get('qwen2.5-14b-q4_k_m.gguf')!.whyNot!, /does not fit in memory \(needs 10\.2 GiB, 6\.1 GiB free\)/);
    assert.ok(why.get('qwen2.5-14b-q4_k_m.gguf')!.violates.includes('memory'));
    assert.match(why.get('qwen2.5-7b-q8_0.gguf')!.whyNot!, /4\.9 tok\/s, under the 5 tok\/s floor/);
    const q = (f: string) => why.get(f)!.candidate.quality.toFixed(2);
    assert.ok(why.get('qwen2.5-3b-q4_k_m.gguf')!.whyNot!.includes(`lower quality (quality ${q('qwen2.5-3b-q4_k_m.gguf')} vs ${q('qwen2.5-7b-q4_k_m.gguf')})`));
    // Feasible losers rank before infeasible ones.
    const firstInfeasible = d.ranked.findIndex((r) => !r.feasible);
    assert.ok(d.ranked.slice(firstInfeasible).every((r) => !r.feasible));
  });

  test('why each lost: watt cap and battery budget with numbers', () => {
    const capped = decide({ candidates: buildCandidates(measuredFamily(), machine), target: custom({ wattCapW: 10.5 }), power: AC, usage: USAGE });
    assert.match(capped.ranked.find((r) => r.candidate.fileName === 'qwen2.5-3b-q4_k_m.gguf')!.whyNot!, /12 W, over the 10\.5 W cap/);
    const battery = decide({ candidates: buildCandidates(family(), machine), target: custom({ battery: { hoursLeft: 4, reservePercent: 10 } }), power: BATTERY, usage: USAGE });
    assert.match(battery.ranked.find((r) => r.candidate.fileName === 'qwen2.5-7b-q4_k_m.gguf')!.whyNot!, /2\.4 J\/token, over the 1\.8 J\/token the battery target allows/);
  });

  test('saver losers: more energy', () => {
    const d = decide({ candidates: buildCandidates(family(), machine), target: profileTarget('saver', AC), power: AC, usage: USAGE });
    assert.match(d.ranked[1]!.whyNot!, /^more energy \(1 vs 0\.5 J\/token\)$/);
  });

  test('throttled: the prediction is derated and J/token rises by 1/0.75', () => {
    const candidates = buildCandidates(family(), machine);
    const cool = decide({ candidates, target: profileTarget('performance', AC), power: AC, usage: USAGE });
    const hot = decide({ candidates, target: profileTarget('performance', AC), power: { ...AC, thermalThrottled: true }, usage: USAGE });
    assert.equal(hot.chosen, cool.chosen);
    assert.ok(Math.abs(hot.predicted!.decodeTokensPerSecond - cool.predicted!.decodeTokensPerSecond * THROTTLE_SPEED_RATIO) < 1e-9);
    assert.ok(Math.abs(hot.predicted!.energyJPerToken - cool.predicted!.energyJPerToken / THROTTLE_SPEED_RATIO) < 1e-9);
    assert.equal(hot.predicted!.powerW, cool.predicted!.powerW);
    // The candidate itself keeps its cool prediction.
    assert.equal(hot.chosen!.cost.decodeTokensPerSecond, cool.predicted!.decodeTokensPerSecond);
  });

  test('throttled on a battery target: J/token rises, so the budget moves the choice down', () => {
    // 4 h → 1 W → 1.8 J/token: the 3B (1.0 J/token) fits cool; throttled it costs 1.33 — still fits;
    // at 3,000 tokens/hour → 1.2 J/token: fits cool (1.0), not throttled (1.33) → the 1.5B.
    const candidates = buildCandidates(family(), machine);
    const target = custom({ battery: { hoursLeft: 4, reservePercent: 10 } });
    const cool = decide({ candidates, target, power: BATTERY, usage: { tokensPerHour: 3000 } });
    const hot = decide({ candidates, target, power: { ...BATTERY, thermalThrottled: true }, usage: { tokensPerHour: 3000 } });
    assert.equal(cool.chosen!.fileName, 'qwen2.5-3b-q4_k_m.gguf');
    assert.equal(hot.chosen!.fileName, 'qwen2.5-1.5b-q4_k_m.gguf');
  });

  test('usage null or nonsense → 2,000 tokens/hour', () => {
    const candidates = buildCandidates(family(), machine);
    const target = custom({ battery: { hoursLeft: 4, reservePercent: 10 } });
    const ref = decide({ candidates, target, power: BATTERY, usage: { tokensPerHour: 2000 } });
    for (const tokensPerHour of [null, 0, -5, Number.NaN]) {
      const d = decide({ candidates, target, power: BATTERY, usage: { tokensPerHour } });
      assert.equal(d.chosen, ref.chosen);
      assert.equal(d.ranked[1]!.whyNot, ref.ranked[1]!.whyNot);
    }
  });

  test('ties: less energy, then smaller file, then path', () => {
    const twin = (path: string, size: number, m: Measured | null) =>
      variant(path, 1.5e9, 'Q4_K_M', size, { modelPath: `/models/${path}`, measured: m });
    const candidates = buildCandidates([
      twin('b.gguf', 1e9, measured(40, 10)),
      twin('a.gguf', 1e9, measured(40, 10)),
      twin('c.gguf', 0.9e9, measured(40, 10)),
      twin('d.gguf', 1e9, measured(40, 8)),
    ], machine);
    const order = (t: GovernorTarget) => decide({ candidates, target: t, power: AC, usage: USAGE }).ranked.map((r) => r.candidate.fileName);
    assert.deepEqual(order(custom()), ['d.gguf', 'c.gguf', 'a.gguf', 'b.gguf']);
    assert.deepEqual(order(profileTarget('saver', AC)), ['d.gguf', 'c.gguf', 'a.gguf', 'b.gguf']);
    // Input order does not matter.
    const reversed = [...candidates].reverse();
    assert.deepEqual(decide({ candidates: reversed, target: custom(), power: AC, usage: USAGE }).ranked.map((r) => r.candidate.fileName), ['d.gguf', 'c.gguf', 'a.gguf', 'b.gguf']);
  });

  test('nonsense numbers never throw and never win', () => {
    const candidates = buildCandidates(family(), machine);
    const broken = { ...candidates[3]!, quality: Number.NaN, cost: { ...candidates[3]!.cost, energyJPerToken: Number.NaN, powerW: Number.NaN, decodeTokensPerSecond: Number.NaN } };
    const d = decide({ candidates: [...candidates, broken], target: custom({ wattCapW: Number.NaN, minQuality: Number.NaN }), power: { ...AC, batteryPercent: Number.NaN }, usage: USAGE });
    assert.equal(d.chosen!.fileName, 'qwen2.5-7b-q4_k_m.gguf');
    assert.ok(d.ranked[d.ranked.length - 1]!.violates.includes('min-speed'));
  });

  test('the reason names the variant once when its name already carries the quantization', () => {
    const inputs = family().map((v) => ({ ...v, name: `${v.name} ${v.quantization}` }));
    const d = decide({ candidates: buildCandidates(inputs, machine), target: custom(), power: AC, usage: USAGE });
    assert.match(d.reason, /→ Qwen2\.5-7B Q4_K_M at /);
    assert.doesNotMatch(d.reason, /Q4_K_M Q4_K_M/);
  });
});

describe('decide: the bench timer', () => {
  test('times 1,000 decisions over 100 candidates with the clock it is given', () => {
    let reads = 0;
    const clock = () => (reads++ === 0 ? 0 : 250); // a fake clock: 250 ms from the first read to the second
    const r = benchDecide({ clock, iterations: 1000, candidates: 100 });
    assert.equal(r.iterations, 1000);
    assert.equal(r.candidates, 100);
    assert.equal(reads, 2);
    assert.equal(r.totalMs, 250);
    assert.equal(r.meanMs, 0.25);
  });
});
