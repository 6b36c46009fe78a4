/**
 * The decision: which variant to run against the user's target under the current power state, and why.
 * Pure and fast (100 candidates well under 1 ms: `npm run bench -- governor-decide`, bench/governor.ts): one
 * pass computes each candidate's numbers and violations into typed arrays, one sort orders them by the
 * profile's objective, and strings are built only for the final ranking and reason.
 */
import { batteryBudgetW, inferencePowerBudgetToEnergyPerToken } from './costModel.js';
import { THROTTLE_SPEED_RATIO } from './hysteresis.js';
import { DEFAULT_TOKENS_PER_HOUR } from './profiles.js';
import { formatTwoSignificant as fmtJ, variantLabel } from '../../shared/format.js';
import type {
  Candidate,
  Constraint,
  CostPrediction,
  Decision,
  GovernorTarget,
  PowerState,
  RankedCandidate,
  RecentUsage,
} from './types.js';
import { ALL_CONSTRAINTS } from './types.js';

const BIT: Readonly<Record<Constraint, number>> = {
  memory: 1,
  'min-speed': 2,
  'min-quality': 4,
  'watt-cap': 8,
  'battery-target': 16,
};

/**
 * Which violated constraint names the binding one when a candidate violates several: the physical one
 * first (memory), then the power limits the user set (battery target, watt cap), then the floors.
 */
const BINDING_PRIORITY: readonly Constraint[] = ['memory', 'battery-target', 'watt-cap', 'min-speed', 'min-quality'];

/** Relative tolerance of the comparisons, so a cap exactly AT a candidate's predicted power admits it. */
const TOL = 1e-9;

/** How the fallback picked, when nothing satisfies the target. */
type Fallback = 'none' | 'least-energy' | 'least-energy-within-cap' | 'least-power' | 'smallest';

/** Input of {@link decide}. */
export interface DecideInput {
  candidates: Candidate[];
  target: GovernorTarget;
  power: PowerState;
  usage: RecentUsage;
  /** Label of the battery deadline for the reason, e.g. "18:00"; else "in 3.5 h". */
  targetLabel?: string;
}

/**
 * Chooses the variant to run.
 *
 * Constraints (each candidate is checked against all that apply; see `Constraint`):
 * - `memory`: `fits` is false;
 * - `min-speed`: predicted decode tokens/s < `target.minDecodeTokensPerSecond`;
 * - `min-quality`: `quality` < `target.minQuality`;
 * - `watt-cap`: predicted power above idle > `target.wattCapW` (a cap exactly at a candidate's power admits it);
 * - `battery-target` (only on battery, `target.battery` set and the battery level known): J/token >
 *   {@link batteryBudgetW} × 3600 ÷ tokens per hour (usage, else {@link DEFAULT_TOKENS_PER_HOUR}); a
 *   budget ≤ 0 makes every candidate violate it. On AC the battery target is paused (said in the reason).
 *
 * Objective among the candidates that satisfy everything: `saver` → least J/token (then higher quality);
 * `performance`, `balanced`, `custom` → highest quality (then less J/token); remaining ties → smaller
 * file, then path (deterministic).
 *
 * When nothing satisfies the target, the least-J/token variant that fits in memory, listing what it
 * violates. A watt cap is honoured first as a hard ceiling: the least-energy variant within the cap when
 * one is, else the lowest-power one (so tightening a cap never raises the chosen power). When nothing
 * fits in memory: the smallest file, with `memory` violated. `chosen` is null only without candidates.
 *
 * Thermal throttling (`power.thermalThrottled`) is a power-state change: every predicted decode speed is
 * derated by {@link THROTTLE_SPEED_RATIO} (0.75, the threshold `detectThrottling`
 * uses) at the same power, so J/token rises by 1/0.75. A variant that only just met the speed floor or
 * the battery budget drops out and the choice moves to a cheaper one; `predicted` reports the derated cost.
 *
 * `bindingConstraint`: the first (by memory, battery target, watt cap, speed, quality) constraint violated
 * by the candidate ranked just above the chosen one in the objective order; 'none' when the chosen one is
 * the objective's best; when nothing satisfies the target, the chosen one's first violated constraint.
 *
 * Never throws: non-finite numbers count as the worst value (speed 0, energy and power ∞, quality 0).
 */
export function decide(input: DecideInput): Decision {
  const { candidates, target, power, usage, targetLabel } = input;
  const n = candidates.length;
  if (n === 0) {
    return {
      chosen: null,
      settings: null,
      predicted: null,
      bindingConstraint: 'no-candidates',
      violated: [],
      budgetW: null,
      reason: `${powerSituation(target, power)} → no model installed: nothing to choose`,
      ranked: [],
    };
  }

  // --- the target under this power state -----------------------------------------------------------
  const throttled = power.thermalThrottled === true;
  const speedFactor = throttled ? THROTTLE_SPEED_RATIO : 1;
  const minSpeed = finiteOr(target.minDecodeTokensPerSecond, 0);
  const minQuality = finiteOr(target.minQuality, 0);
  const wattCap = target.wattCapW != null && Number.isFinite(target.wattCapW) ? Math.max(0, target.wattCapW) : null;
  const tokensPerHour = usage.tokensPerHour != null && Number.isFinite(usage.tokensPerHour) && usage.tokensPerHour > 0 ? usage.tokensPerHour : DEFAULT_TOKENS_PER_HOUR;
  let batteryMode: 'none' | 'on-ac' | 'unknown' | 'applied' = 'none';
  let batteryBudget: number | null = null;
  let allowedJ = Number.POSITIVE_INFINITY;
  if (target.battery != null) {
    if (power.onAc) batteryMode = 'on-ac';
    else {
      batteryBudget = batteryBudgetW(power, target.battery);
      if (batteryBudget == null || Number.isNaN(batteryBudget)) {
        batteryBudget = null;
        batteryMode = 'unknown';
      } else {
        batteryMode = 'applied';
        allowedJ = batteryBudget > 0 ? inferencePowerBudgetToEnergyPerToken(batteryBudget, tokensPerHour) : Number.NEGATIVE_INFINITY;
      }
    }
  }
  const batteryApplied = batteryMode === 'applied';

  // --- one pass: numbers and violations --------------------------------------------------------------
  const speed = new Float64Array(n);
  const energy = new Float64Array(n);
  const powerW = new Float64Array(n);
  const quality = new Float64Array(n);
  const size = new Float64Array(n);
  const mask = new Uint8Array(n);
  const wattLimit = wattCap == null ? Number.POSITIVE_INFINITY : wattCap * (1 + TOL) + TOL;
  const speedLimit = minSpeed * (1 - TOL);
  const qualityLimit = minQuality - TOL;
  const energyLimit = allowedJ * (1 + TOL);
  let anyFits = false;
  for (let i = 0; i < n; i++) {
    const c = candidates[i]!;
    const s = finiteOr(c.cost.decodeTokensPerSecond, 0) * speedFactor;
    const e = nonNegativeOr(c.cost.energyJPerToken, Number.POSITIVE_INFINITY) / speedFactor;
    const p = nonNegativeOr(c.cost.powerW, Number.POSITIVE_INFINITY);
    const q = finiteOr(c.quality, 0);
    speed[i] = s;
    energy[i] = e;
    powerW[i] = p;
    quality[i] = q;
    size[i] = nonNegativeOr(c.sizeBytes, Number.POSITIVE_INFINITY);
    let m = 0;
    if (c.fits !== true) m |= BIT.memory;
    else anyFits = true;
    if (!(s >= speedLimit)) m |= BIT['min-speed'];
    if (!(q >= qualityLimit)) m |= BIT['min-quality'];
    if (p > wattLimit) m |= BIT['watt-cap'];
    if (batteryApplied && !(e <= energyLimit)) m |= BIT['battery-target'];
    mask[i] = m;
  }

  // --- one sort: the profile's objective -------------------------------------------------------------
  const saver = target.profile === 'saver';
  const tieBreak = (a: number, b: number): number => {
    const ds = size[a]! - size[b]!;
    if (ds !== 0) return ds;
    const pa = candidates[a]!.modelPath;
    const pb = candidates[b]!.modelPath;
    return pa < pb ? -1 : pa > pb ? 1 : a - b;
  };
  const compare = saver
    ? (a: number, b: number): number => energy[a]! - energy[b]! || quality[b]! - quality[a]! || tieBreak(a, b)
    : (a: number, b: number): number => quality[b]! - quality[a]! || energy[a]! - energy[b]! || tieBreak(a, b);
  const order: number[] = new Array<number>(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort(compare);
  const lessEnergy = (a: number, b: number): boolean => {
    const d = energy[a]! - energy[b]!;
    return d < 0 || (d === 0 && tieBreak(a, b) < 0);
  };

  // --- the choice -----------------------------------------------------------------------------------
  let chosenPos = -1;
  for (let k = 0; k < n; k++) {
    if (mask[order[k]!] === 0) {
      chosenPos = k;
      break;
    }
  }
  let chosen: number;
  let fallback: Fallback = 'none';
  if (chosenPos >= 0) {
    chosen = order[chosenPos]!;
  } else if (anyFits) {
    // Least energy among what fits; a watt cap is a hard ceiling first.
    let bestWithin = -1;
    let bestAny = -1;
    let bestPower = -1;
    for (let i = 0; i < n; i++) {
      if ((mask[i]! & BIT.memory) !== 0) continue;
      if (bestAny < 0 || lessEnergy(i, bestAny)) bestAny = i;
      if ((mask[i]! & BIT['watt-cap']) === 0) {
        if (bestWithin < 0 || lessEnergy(i, bestWithin)) bestWithin = i;
      } else if (bestPower < 0 || powerW[i]! < powerW[bestPower]! || (powerW[i] === powerW[bestPower] && lessEnergy(i, bestPower))) {
        bestPower = i;
      }
    }
    if (wattCap == null) {
      chosen = bestAny;
      fallback = 'least-energy';
    } else if (bestWithin >= 0) {
      chosen = bestWithin;
      fallback = 'least-energy-within-cap';
    } else {
      chosen = bestPower;
      fallback = 'least-power';
    }
  } else {
    let best = 0;
    for (let i = 1; i < n; i++) if (tieBreak(i, best) < 0) best = i;
    chosen = best;
    fallback = 'smallest';
  }
  const chosenCandidate = candidates[chosen]!;
  const chosenMask = mask[chosen]!;
  let binding: Constraint | 'none';
  if (fallback !== 'none') binding = firstByPriority(chosenMask);
  else binding = chosenPos === 0 ? 'none' : firstByPriority(mask[order[chosenPos - 1]!]!);

  // --- ranking and strings --------------------------------------------------------------------------
  const ctx: WhyContext = { minSpeed, minQuality, wattCap, allowedJ, batteryBudget, saver, speed, energy, powerW, quality, size, chosen };
  const ranked: RankedCandidate[] = [{ candidate: chosenCandidate, rank: 1, feasible: chosenMask === 0, chosen: true, violates: constraintsOf(chosenMask), whyNot: null }];
  for (let pass = 0; pass < 2; pass++) {
    for (let k = 0; k < n; k++) {
      const i = order[k]!;
      if (i === chosen) continue;
      const feasible = mask[i] === 0;
      if (feasible !== (pass === 0)) continue;
      ranked.push({
        candidate: candidates[i]!,
        rank: ranked.length + 1,
        feasible,
        chosen: false,
        violates: constraintsOf(mask[i]!),
        whyNot: whyNot(i, mask[i]!, candidates[i]!, ctx),
      });
    }
  }

  const predicted: CostPrediction = throttled
    ? { ...chosenCandidate.cost, decodeTokensPerSecond: speed[chosen]!, prefillTokensPerSecond: finiteOr(chosenCandidate.cost.prefillTokensPerSecond, 0) * speedFactor, energyJPerToken: energy[chosen]! }
    : chosenCandidate.cost;
  const budgetW = batteryApplied ? batteryBudget : wattCap;
  const violated = constraintsOf(chosenMask);

  // --- the reason sentence -------------------------------------------------------------------------
  let limits = '';
  if (batteryMode === 'applied') {
    const label = targetLabel != null && targetLabel.trim() !== '' ? targetLabel.trim() : `in ${fmtNumber(target.battery!.hoursLeft)} h`;
    limits += `, target ${label}`;
  } else if (batteryMode === 'on-ac') limits += ', battery target paused on AC';
  else if (batteryMode === 'unknown') limits += ', battery level unknown (battery target not applied)';
  const budgets: string[] = [];
  if (batteryMode === 'applied') budgets.push(batteryBudget! > 0 ? `${fmtW(batteryBudget!)} W budget` : `no power left for inference (${fmtW(batteryBudget!)} W budget)`);
  if (wattCap != null) budgets.push(`${fmtW(wattCap)} W cap`);
  let reason = `${powerSituation(target, power)}${limits}${budgets.length ? ` → ${budgets.join(', ')}` : ''} → ${variantLabel(chosenCandidate)} at ${fmtJ(energy[chosen]!)} J/token, ${fmtSpeed(speed[chosen]!)} tok/s${chosenCandidate.cost.source === 'roofline' ? ' (estimated)' : ' (measured)'}`;
  if (fallback === 'smallest') reason += '; nothing fits in memory, so the smallest file';
  else if (fallback !== 'none') {
    const how = fallback === 'least-power' ? 'the lowest-power variant that fits' : fallback === 'least-energy-within-cap' ? 'the least-energy variant within the cap' : 'the least-energy variant that fits';
    reason += `; nothing meets the target (${violated.map(violationPhrase).join(', ')}), so ${how}`;
  }

  return {
    chosen: chosenCandidate,
    settings: { ...chosenCandidate.settings },
    predicted,
    bindingConstraint: binding,
    violated,
    budgetW,
    reason,
    ranked,
  };
}

/** Constraints set in a violation mask, in {@link ALL_CONSTRAINTS} order. */
function constraintsOf(m: number): Constraint[] {
  if (m === 0) return [];
  const out: Constraint[] = [];
  for (const c of ALL_CONSTRAINTS) if ((m & BIT[c]) !== 0) out.push(c);
  return out;
}

function firstByPriority(m: number): Constraint | 'none' {
  for (const c of BINDING_PRIORITY) if ((m & BIT[c]) !== 0) return c;
  return 'none';
}

interface WhyContext {
  minSpeed: number;
  minQuality: number;
  wattCap: number | null;
  allowedJ: number;
  batteryBudget: number | null;
  saver: boolean;
  speed: Float64Array;
  energy: Float64Array;
  powerW: Float64Array;
  quality: Float64Array;
  size: Float64Array;
  chosen: number;
}

function whyNot(i: number, m: number, c: Candidate, x: WhyContext): string {
  if (m !== 0) {
    const parts: string[] = [];
    if (m & BIT.memory) parts.push(`does not fit in memory${c.memoryReason ? ` (${c.memoryReason})` : ''}`);
    if (m & BIT['min-speed']) parts.push(`${fmtSpeed(x.speed[i]!)} tok/s, under the ${fmtSpeed(x.minSpeed)} tok/s floor`);
    if (m & BIT['min-quality']) parts.push(`quality ${fmtQuality(x.quality[i]!)}, under the ${fmtQuality(x.minQuality)} floor`);
    if (m & BIT['watt-cap']) parts.push(`${fmtW(x.powerW[i]!)} W, over the ${fmtW(x.wattCap ?? 0)} W cap`);
    if (m & BIT['battery-target']) {
      parts.push(x.batteryBudget != null && x.batteryBudget > 0
        ? `${fmtJ(x.energy[i]!)} J/token, over the ${fmtJ(x.allowedJ)} J/token the battery target allows`
        : 'no power left for inference before the battery deadline');
    }
    return parts.join('; ');
  }
  const k = x.chosen;
  const [qi, qk] = fmtQualityPair(x.quality[i]!, x.quality[k]!);
  const qText = `quality ${qi} vs ${qk}`;
  const eText = `${fmtJ(x.energy[i]!)} vs ${fmtJ(x.energy[k]!)} J/token`;
  if (x.saver) {
    if (x.energy[i]! > x.energy[k]!) return `more energy (${eText})`;
    if (x.quality[i]! < x.quality[k]!) return `same energy, lower quality (${qText})`;
  } else {
    if (x.quality[i]! < x.quality[k]!) return `lower quality (${qText})`;
    if (x.energy[i]! > x.energy[k]!) return `same quality, more energy (${eText})`;
  }
  if (x.size[i]! > x.size[k]!) return 'same quality and energy, larger file';
  return 'same quality, energy and size; ordered by path';
}

function violationPhrase(c: Constraint): string {
  switch (c) {
    case 'memory': return 'does not fit in memory';
    case 'min-speed': return 'under the speed floor';
    case 'min-quality': return 'under the quality floor';
    case 'watt-cap': return 'over the watt cap';
    case 'battery-target': return 'over the battery budget';
  }
}

/** "On AC", "On battery, 41% left" (custom) or "Balanced profile, on battery, 41% left"; plus throttling. */
function powerSituation(target: GovernorTarget, power: PowerState): string {
  let where: string;
  if (power.onAc) where = 'on AC';
  else if (power.batteryPercent != null && Number.isFinite(power.batteryPercent)) where = `on battery, ${Math.round(Math.min(100, Math.max(0, power.batteryPercent)))}% left`;
  else where = 'on battery';
  const throttled = power.thermalThrottled === true ? ', thermally throttled' : '';
  const profile = target.profile;
  if (profile === 'performance' || profile === 'balanced' || profile === 'saver') {
    return `${profile[0]!.toUpperCase()}${profile.slice(1)} profile, ${where}${throttled}`;
  }
  return `${where[0]!.toUpperCase()}${where.slice(1)}${throttled}`;
}

function finiteOr(x: number, fallback: number): number {
  return typeof x === 'number' && Number.isFinite(x) ? x : fallback;
}

function nonNegativeOr(x: number, fallback: number): number {
  return typeof x === 'number' && Number.isFinite(x) && x >= 0 ? x : fallback;
}

/** Watts for people: one decimal at most ("6.2", "10.5", "15"); whole watts from 100 W. */
function fmtW(x: number): string {
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '?';
  return Math.abs(x) >= 100 ? x.toFixed(0) : Number(x.toFixed(1)).toString();
}

function fmtSpeed(x: number): string {
  if (!Number.isFinite(x)) return '∞';
  return x >= 10 ? x.toFixed(0) : Number(x.toFixed(1)).toString();
}

/** A quality with 2 decimals, or 2 significant digits below 0.01 (tiny models: "5.8e-8", never "0"). */
function fmtQuality(x: number): string {
  if (x > 0 && x < 0.01) return Number(x.toPrecision(2)).toString();
  return Number(x.toFixed(2)).toString();
}

/** Two qualities with the fewest decimals (2 to 4) that still tell them apart ("0.999 vs 1", not "1 vs 1"). */
function fmtQualityPair(a: number, b: number): [string, string] {
  if ((a > 0 && a < 0.01) || (b > 0 && b < 0.01)) return [fmtQuality(a), fmtQuality(b)];
  for (let digits = 2; digits < 4; digits++) {
    const fa = Number(a.toFixed(digits)).toString();
    const fb = Number(b.toFixed(digits)).toString();
    if (fa !== fb || a === b) return [fa, fb];
  }
  return [Number(a.toFixed(4)).toString(), Number(b.toFixed(4)).toString()];
}

function fmtNumber(x: number): string {
  return Number.isFinite(x) ? Number(x.toFixed(1)).toString() : '?';
}
