/**
 * Hysteresis and throttling detection: when the governor's new choice is worth a model swap, and when
 * decode speeds say the machine is throttling. Pure: the clock comes in as `ctx.now`.
 *
 * Swaps happen between turns only (the caller's job); this module says whether to swap at all.
 */
import { formatTwoSignificant } from '../../shared/format.js';
import type { Candidate, Constraint, Decision } from './types.js';

/** Suggested `minSwitchIntervalMs`: one minute. Loading a few-GB model takes seconds, so a minute between swaps bounds the load overhead to a few percent of the time. */
export const DEFAULT_MIN_SWITCH_INTERVAL_MS = 60_000;

/**
 * Read speed assumed for a load whose cost was never measured: 500 MB/s, a SATA SSD's sequential read
 * (the SATA III link tops out at 600 MB/s); NVMe is faster, so the estimate errs on the slow side.
 */
export const DEFAULT_LOAD_BYTES_PER_SECOND = 500e6;

/**
 * A quality-driven swap (the decision prefers a better variant that is not cheaper) needs at least this
 * quality gain (0.005 on the 0..1 scale, ≈ 0.005 nats/token) ...
 */
export const MIN_QUALITY_GAIN = 0.005;

/** ... and a load no longer than this share of the time the expected tokens take on the new variant (10%). */
export const MAX_LOAD_SHARE_FOR_QUALITY_SWITCH = 0.1;

/**
 * Constraints that force a swap even within the interval when the current variant violates them and the
 * new one does not: memory (it cannot run) and the user's power limits (watt cap, battery target), which
 * are what the governor exists to keep. The speed and quality floors are preferences: they wait for the
 * interval.
 */
export const HARD_CONSTRAINTS: readonly Constraint[] = ['memory', 'watt-cap', 'battery-target'];

/** What the caller knows about switching now. */
export interface SwitchContext {
  /** Path of the loaded variant, null when none is loaded. */
  currentModelPath: string | null;
  /** When the last swap happened, ms since the epoch; null when never. */
  lastSwitchAt: number | null;
  /** Now, ms since the epoch. */
  now: number;
  /** Minimum time between two swaps, ms (suggested {@link DEFAULT_MIN_SWITCH_INTERVAL_MS}). */
  minSwitchIntervalMs: number;
  /** Measured cost of loading the new model; null when never measured (estimated from its size). */
  loadCost: { loadMs: number; loadEnergyJ: number | null } | null;
  /** Tokens expected before the next decision (e.g. tokens/hour × hours until the next check). */
  expectedTokensUntilNextDecision: number;
}

/** What to do: `switchTo` the variant to load (null: load nothing), `keep` whether to keep the current one loaded. */
export interface SwitchAdvice {
  switchTo: Candidate | null;
  keep: boolean;
  /** One line for the log and the UI. */
  reason: string;
}

/**
 * Whether to swap from `current` to `decision.chosen`.
 *
 * - Nothing chosen (no candidates): keep the current one only if the decision still lists it.
 * - Nothing loaded, or the same file chosen: load it / keep it.
 * - Forced, ignoring the interval: the current variant is gone (not in `decision.ranked`), does not fit,
 *   or violates a {@link HARD_CONSTRAINTS} constraint the new one satisfies.
 * - Otherwise never within `minSwitchIntervalMs` of `lastSwitchAt` (a missing or future `lastSwitchAt`
 *   counts as: long ago / not yet), and then only when the gain beats the load cost:
 *   1. the new one satisfies a constraint (speed or quality floor) that the current one violates; or
 *   2. energy: (current J/token − new J/token) × expected tokens > the load's energy. The load's energy is
 *      `loadCost.loadEnergyJ`, else its time × the new variant's power (the machine busy as when
 *      decoding: conservative); its time is `loadCost.loadMs`, else sizeBytes ÷
 *      {@link DEFAULT_LOAD_BYTES_PER_SECOND}; or
 *   3. quality: the new one is better by ≥ {@link MIN_QUALITY_GAIN} and the load takes at most
 *      {@link MAX_LOAD_SHARE_FOR_QUALITY_SWITCH} of the time the expected tokens take on it.
 *
 * The current variant's cost and violations are read from `decision.ranked` (fresh), else from `current`.
 * Never throws.
 */
export function shouldSwitch(decision: Decision, current: Candidate | null, ctx: SwitchContext): SwitchAdvice {
  const next = decision.chosen;
  const currentPath = current?.modelPath ?? ctx.currentModelPath;
  const currentEntry = currentPath == null ? undefined : decision.ranked.find((r) => r.candidate.modelPath === currentPath);

  if (next == null) {
    if (currentPath == null) return { switchTo: null, keep: false, reason: 'no model installed' };
    if (currentEntry == null) return { switchTo: null, keep: false, reason: 'the loaded model is gone and no other is installed' };
    return { switchTo: null, keep: true, reason: 'nothing else to choose' };
  }
  if (currentPath == null) return { switchTo: next, keep: false, reason: `nothing loaded: load ${next.name}` };
  if (next.modelPath === currentPath) return { switchTo: null, keep: true, reason: `${next.name} is still the choice` };

  if (currentEntry == null) return { switchTo: next, keep: false, reason: `the loaded model is gone: load ${next.name}` };
  const cur = currentEntry.candidate;
  const curViolates = currentEntry.violates;
  const nextViolates = decision.ranked.find((r) => r.candidate.modelPath === next.modelPath)?.violates ?? decision.violated;
  if (!cur.fits || curViolates.includes('memory')) {
    return { switchTo: next, keep: false, reason: `${cur.name} no longer fits in memory: switch to ${next.name}` };
  }
  const hardFixed = HARD_CONSTRAINTS.filter((c) => curViolates.includes(c) && !nextViolates.includes(c));
  if (hardFixed.length > 0) {
    return { switchTo: next, keep: false, reason: `${cur.name} breaks the ${hardFixed.map(constraintName).join(' and ')}: switch to ${next.name}` };
  }

  const interval = Number.isFinite(ctx.minSwitchIntervalMs) ? Math.max(0, ctx.minSwitchIntervalMs) : 0;
  if (ctx.lastSwitchAt != null && Number.isFinite(ctx.lastSwitchAt) && Number.isFinite(ctx.now)) {
    const elapsed = ctx.now - ctx.lastSwitchAt;
    if (elapsed < interval) {
      const waitS = Math.ceil((interval - Math.max(0, elapsed)) / 1000);
      return { switchTo: null, keep: true, reason: `last switch ${Math.max(0, Math.round(elapsed / 1000))} s ago: keep ${cur.name} for ${waitS} s more` };
    }
  }

  const softFixed = curViolates.filter((c) => !nextViolates.includes(c));
  if (softFixed.length > 0) {
    return { switchTo: next, keep: false, reason: `${next.name} meets the ${softFixed.map(constraintName).join(' and ')} that ${cur.name} misses` };
  }

  const tokens = Number.isFinite(ctx.expectedTokensUntilNextDecision) ? Math.max(0, ctx.expectedTokensUntilNextDecision) : 0;
  const loadMs = ctx.loadCost != null && Number.isFinite(ctx.loadCost.loadMs) && ctx.loadCost.loadMs >= 0
    ? ctx.loadCost.loadMs
    : (Math.max(0, next.sizeBytes) / DEFAULT_LOAD_BYTES_PER_SECOND) * 1000;
  const measuredLoadJ = ctx.loadCost?.loadEnergyJ;
  const loadEnergyJ = typeof measuredLoadJ === 'number' && Number.isFinite(measuredLoadJ) && measuredLoadJ >= 0
    ? measuredLoadJ
    : (loadMs / 1000) * Math.max(0, next.cost.powerW);
  const savedJ = (cur.cost.energyJPerToken - next.cost.energyJPerToken) * tokens;
  if (savedJ > loadEnergyJ) {
    return { switchTo: next, keep: false, reason: `${next.name} saves ${formatTwoSignificant(savedJ)} J over the next ${Math.round(tokens)} tokens, more than the ${formatTwoSignificant(loadEnergyJ)} J load` };
  }
  const qualityGain = next.quality - cur.quality;
  const generationMs = next.cost.decodeTokensPerSecond > 0 ? (tokens / next.cost.decodeTokensPerSecond) * 1000 : Number.POSITIVE_INFINITY;
  if (qualityGain >= MIN_QUALITY_GAIN && loadMs <= MAX_LOAD_SHARE_FOR_QUALITY_SWITCH * generationMs) {
    return { switchTo: next, keep: false, reason: `${next.name} is better (quality ${next.quality.toFixed(2)} vs ${cur.quality.toFixed(2)}) for a ${formatTwoSignificant(loadMs / 1000)} s load` };
  }
  if (savedJ > 0) {
    return { switchTo: null, keep: true, reason: `keep ${cur.name}: ${next.name} would save ${formatTwoSignificant(savedJ)} J, less than the ${formatTwoSignificant(loadEnergyJ)} J load` };
  }
  return { switchTo: null, keep: true, reason: `keep ${cur.name}: switching to ${next.name} would not repay the ${formatTwoSignificant(loadMs / 1000)} s load` };
}

function constraintName(c: Constraint): string {
  switch (c) {
    case 'memory': return 'memory limit';
    case 'min-speed': return 'speed floor';
    case 'min-quality': return 'quality floor';
    case 'watt-cap': return 'watt cap';
    case 'battery-target': return 'battery target';
  }
}


/**
 * Replies at least needed before a slowdown counts as sustained (3: the median of 3 needs 2 slow replies,
 * so one outlier — a background task, a long prompt — never triggers it).
 */
export const THROTTLE_MIN_REPLIES = 3;

/** Replies the median looks at: the last 5 at most, so an old fast stretch does not hide a new slowdown. */
export const THROTTLE_WINDOW_REPLIES = 5;

/**
 * Throttled when the recent median decode speed is below 75% of the baseline: a 25% drop is far outside
 * the run-to-run noise of a decode under fixed settings (a few percent; thread calibration treats 5% as a
 * tie), while thermal or power-limit throttling cuts clocks by 20–50%. `decide` uses the same factor to
 * derate speeds while `PowerState.thermalThrottled` is set.
 */
export const THROTTLE_SPEED_RATIO = 0.75;

/**
 * A sustained drop in decode speed under the same settings: the median of the last up to
 * {@link THROTTLE_WINDOW_REPLIES} speeds (tokens/s, oldest first; non-finite or negative entries ignored),
 * with at least {@link THROTTLE_MIN_REPLIES} of them, is below {@link THROTTLE_SPEED_RATIO} × the
 * baseline (the median speed of the same file and settings when cool). False when there are too few
 * replies or the baseline is not a positive number.
 */
export function detectThrottling(recentDecodeTokensPerSecond: number[], baselineDecodeTokensPerSecond: number): boolean {
  if (!Number.isFinite(baselineDecodeTokensPerSecond) || baselineDecodeTokensPerSecond <= 0) return false;
  const valid = recentDecodeTokensPerSecond.filter((x) => Number.isFinite(x) && x >= 0);
  if (valid.length < THROTTLE_MIN_REPLIES) return false;
  const window = valid.slice(-THROTTLE_WINDOW_REPLIES).sort((a, b) => a - b);
  const mid = window.length >> 1;
  const median = window.length % 2 === 1 ? window[mid]! : (window[mid - 1]! + window[mid]!) / 2;
  return median < THROTTLE_SPEED_RATIO * baselineDecodeTokensPerSecond;
}
