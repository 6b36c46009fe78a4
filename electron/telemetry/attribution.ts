/**
 * Attribution of energy to one reply: pure functions over power traces, no I/O.
 *
 * The methods follow what CodeCarbon, Scaphandre and PowerJoular do (see the team kit's
 * `../shared/docs/power-sources.md` beside the repository, "Attribution to one reply"):
 * - `system-minus-baseline` (a battery sensor reads the whole machine): E = ∫ max(0, P(t) − P_idle(t)) dt,
 *   P_idle measured just before the reply; the baseline may change mid-reply (piecewise constant),
 * - `package-cpu-share` (RAPL reads the CPU package, shared by every process): E = ∫ P dt × (this
 *   process's CPU time ÷ all CPUs' busy time) over the window,
 * - `gpu-whole` (a GPU board): E = ∫ max(0, P − P_idle) dt, counted whole (the reply is taken to be the
 *   only GPU work),
 * - `estimate` (no sensor): E = ∫ (P_est − idleW) dt, which equals active W per core × process CPU seconds
 *   when the estimate's readings are integrated as interval averages.
 *
 * Traces are `{ at, powerW }` points (`at` in ms since the epoch, `powerW` in W). Two ways to read them:
 * - `linear` (default): P(t) is linear between samples (trapezoidal rule). For instantaneous or
 *   firmware-averaged readings (battery sensors, nvidia-smi's power.draw).
 * - `interval-average`: each reading is the mean power since the previous reading (RAPL counters and the
 *   CPU estimate report that, see `PowerReading.powerW`), so P(t) is that value over (previous at, at].
 * In both, before the first sample and after the last the nearest value is held; with no sample at all
 * nothing is known and the energy is 0. Integration is exact for the chosen reading (breakpoints at
 * samples, baseline steps and the window edges; crossings of the baseline are solved exactly).
 *
 * Nothing here throws on bad numbers: non-finite or negative powers and non-finite times are dropped,
 * samples are sorted, and samples sharing a timestamp are averaged.
 */
import type { z } from 'zod';
import type { energyMethodSchema, ReplyEnergy } from '../../shared/contract.js';

/** How a reply's energy was attributed (the contract's `energyMethodSchema`). */
export type EnergyMethod = z.infer<typeof energyMethodSchema>;

/** One power sample: `at` in ms since the epoch, `powerW` in W. */
export interface PowerPoint {
  at: number;
  powerW: number;
}

/** A time window `[startAt, endAt]`, both in ms since the epoch (the engine's `ReplyStats` window). */
export interface EnergyWindow {
  startAt: number;
  endAt: number;
}

/** One step of a piecewise-constant baseline: `powerW` (W) holds from `fromAt` (ms) until the next step. */
export interface BaselineSegment {
  fromAt: number;
  powerW: number;
}

/**
 * An idle baseline in W: one number for the whole window, or steps (e.g. the power state changed
 * mid-reply). Before the first step the first step's value holds; an empty list means 0 W.
 */
export type Baseline = number | readonly BaselineSegment[];

/** How samples are read between their timestamps (see the module doc). */
export type TraceInterpolation = 'linear' | 'interval-average';

/** Options of the integration functions. */
export interface IntegrationOptions {
  /** Defaults to `'linear'` (trapezoidal rule). */
  interpolation?: TraceInterpolation;
}

/** What an attribution gives for one window. */
export interface AttributedEnergy {
  /** Energy attributed over the window, in J (≥ 0). */
  energyJ: number;
  /** `energyJ` ÷ window duration, in W (0 for an empty window). */
  avgPowerW: number;
  /** Highest attributed power over the window (at a sample, a baseline step or an edge), in W. */
  peakPowerW: number;
  /** Samples (after dropping garbage and merging duplicates) with `startAt ≤ at ≤ endAt`. */
  sampleCount: number;
}

/** Cumulative CPU counters at one moment, for {@link cpuTimesInWindow}. */
export interface CpuSnapshot {
  /** When read, ms since the epoch. */
  at: number;
  /** This process's CPU time so far (user + system, all threads), in ms. */
  processCpuMs: number;
  /** All CPUs' busy (non-idle) time so far, in ms (summed over CPUs). */
  busyCpuMs: number;
}

/** CPU time spent over a window, in ms. */
export interface CpuTimes {
  /** This process's CPU time in the window (all its threads), ms. */
  processCpuMs: number;
  /** All CPUs' busy time in the window (summed over CPUs), ms. */
  busyCpuMs: number;
}

/**
 * Readings above this are garbage and dropped, in W. 10 kW is well above anything a desktop app runs
 * on: the largest ATX power supplies sold are ~2.8 kW and a 16 A / 230 V outlet gives 3.7 kW (IEC 60884).
 */
export const MAX_PLAUSIBLE_POWER_W = 10_000;

/** True when `powerW` is a finite number in [0, {@link MAX_PLAUSIBLE_POWER_W}]. */
export function isPlausiblePowerW(powerW: unknown): powerW is number {
  return typeof powerW === 'number' && Number.isFinite(powerW) && powerW >= 0 && powerW <= MAX_PLAUSIBLE_POWER_W;
}

/**
 * Cleans a trace: drops points with a non-finite `at` or an implausible `powerW` (see
 * {@link isPlausiblePowerW}), sorts by `at`, and merges points sharing a timestamp into their mean.
 * Returns a new array of new points; never throws (a non-array gives `[]`).
 */
export function normalizeTrace(samples: readonly PowerPoint[]): PowerPoint[] {
  if (!Array.isArray(samples)) return [];
  const valid: PowerPoint[] = [];
  for (const s of samples) {
    if (s && typeof s.at === 'number' && Number.isFinite(s.at) && isPlausiblePowerW(s.powerW)) valid.push({ at: s.at, powerW: s.powerW });
  }
  valid.sort((a, b) => a.at - b.at);
  const out: PowerPoint[] = [];
  let i = 0;
  while (i < valid.length) {
    const first = valid[i]!;
    let sum = first.powerW;
    let count = 1;
    let k = i + 1;
    while (k < valid.length && valid[k]!.at === first.at) {
      sum += valid[k]!.powerW;
      count++;
      k++;
    }
    out.push({ at: first.at, powerW: sum / count });
    i = k;
  }
  return out;
}

/**
 * Cleans a baseline into sorted steps: a number becomes one step from −∞; steps with a non-finite
 * `powerW` or a NaN `fromAt` are dropped; negative powers count as 0 W. Never throws.
 */
export function normalizeBaseline(baseline: Baseline): BaselineSegment[] {
  if (typeof baseline === 'number') {
    return [{ fromAt: Number.NEGATIVE_INFINITY, powerW: Number.isFinite(baseline) ? Math.max(0, baseline) : 0 }];
  }
  if (!Array.isArray(baseline)) return [];
  const out: BaselineSegment[] = [];
  for (const s of baseline) {
    if (!s || typeof s.fromAt !== 'number' || Number.isNaN(s.fromAt) || typeof s.powerW !== 'number' || !Number.isFinite(s.powerW)) continue;
    out.push({ fromAt: s.fromAt, powerW: Math.max(0, s.powerW) });
  }
  out.sort((a, b) => a.fromAt - b.fromAt);
  return out;
}

/** Area of max(0, linear excess) over a piece whose excess goes from `a` to `b` W over `dtS` s, in J. */
function positiveTrapezoidJ(a: number, b: number, dtS: number): number {
  if (a >= 0 && b >= 0) return ((a + b) / 2) * dtS;
  if (a <= 0 && b <= 0) return 0;
  // The excess crosses zero inside the piece: only the triangle above zero counts.
  const top = a > 0 ? a : b;
  const fraction = top / Math.abs(a - b);
  return (top * fraction * dtS) / 2;
}

/** Index of the first point with `at > t` (binary search over a sorted trace). */
function firstAfter(trace: readonly PowerPoint[], t: number): number {
  let lo = 0;
  let hi = trace.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (trace[mid]!.at > t) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Linear power at `t`, with `i` the index of the first point after the piece's start (see {@link firstAfter}). */
function linearAt(trace: readonly PowerPoint[], i: number, t: number): number {
  if (i <= 0) return trace[0]!.powerW;
  if (i >= trace.length) return trace[trace.length - 1]!.powerW;
  const a = trace[i - 1]!;
  const b = trace[i]!;
  const span = b.at - a.at;
  if (span <= 0) return b.powerW;
  return a.powerW + ((b.powerW - a.powerW) * (t - a.at)) / span;
}

/**
 * The integration core over an already normalized trace and baseline: ∫ max(0, P(t) − B(t)) dt over the
 * window, and the peak of that excess. Exact for the chosen interpolation.
 */
function integrateNormalized(
  trace: readonly PowerPoint[],
  startAt: number,
  endAt: number,
  steps: readonly BaselineSegment[],
  interpolation: TraceInterpolation,
): { energyJ: number; peakPowerW: number } {
  if (trace.length === 0 || !(endAt > startAt)) return { energyJ: 0, peakPowerW: 0 };
  let energyJ = 0;
  let peakPowerW = 0;
  let t = startAt;
  let i = firstAfter(trace, t);
  let j = 0;
  while (j + 1 < steps.length && steps[j + 1]!.fromAt <= t) j++;
  while (t < endAt) {
    let next = endAt;
    if (i < trace.length && trace[i]!.at < next) next = trace[i]!.at;
    if (j + 1 < steps.length && steps[j + 1]!.fromAt < next) next = steps[j + 1]!.fromAt;
    const baselineW = steps.length > 0 ? steps[j]!.powerW : 0;
    const dtS = (next - t) / 1000;
    if (interpolation === 'interval-average') {
      // The reading that covers (t, next] is the first one at or after `next`; past the last, hold it.
      const p = (i < trace.length ? trace[i]! : trace[trace.length - 1]!).powerW;
      const excess = Math.max(0, p - baselineW);
      energyJ += excess * dtS;
      if (excess > peakPowerW) peakPowerW = excess;
    } else {
      const a = linearAt(trace, i, t) - baselineW;
      const b = linearAt(trace, i, next) - baselineW;
      energyJ += positiveTrapezoidJ(a, b, dtS);
      if (a > peakPowerW) peakPowerW = a;
      if (b > peakPowerW) peakPowerW = b;
    }
    t = next;
    while (i < trace.length && trace[i]!.at <= t) i++;
    while (j + 1 < steps.length && steps[j + 1]!.fromAt <= t) j++;
  }
  return { energyJ, peakPowerW };
}

/** Samples of a normalized trace with `startAt ≤ at ≤ endAt`. */
function countInWindow(trace: readonly PowerPoint[], startAt: number, endAt: number): number {
  let n = 0;
  for (const p of trace) if (p.at >= startAt && p.at <= endAt) n++;
  return n;
}

/** A window with finite edges and `endAt ≥ startAt`, or null. */
function cleanWindow(window: EnergyWindow): EnergyWindow | null {
  if (!window || !Number.isFinite(window.startAt) || !Number.isFinite(window.endAt)) return null;
  return window.endAt >= window.startAt ? window : null;
}

/**
 * ∫ max(0, P(t) − B(t)) dt over the window, with B the baseline (a number or piecewise-constant steps).
 * The trace is cleaned first ({@link normalizeTrace}). An empty, inverted or non-finite window gives all
 * zeros (and the samples inside it, if any, counted). Never throws.
 *
 * @returns energy in J, average attributed power (J ÷ window seconds) in W, peak attributed power in W,
 *   and the number of samples inside the window.
 */
export function integrateAboveBaseline(
  samples: readonly PowerPoint[],
  window: EnergyWindow,
  baseline: Baseline,
  options: IntegrationOptions = {},
): AttributedEnergy {
  const trace = normalizeTrace(samples);
  const w = cleanWindow(window);
  if (!w) return { energyJ: 0, avgPowerW: 0, peakPowerW: 0, sampleCount: 0 };
  const sampleCount = countInWindow(trace, w.startAt, w.endAt);
  const { energyJ, peakPowerW } = integrateNormalized(trace, w.startAt, w.endAt, normalizeBaseline(baseline), options.interpolation ?? 'linear');
  const durationS = (w.endAt - w.startAt) / 1000;
  return { energyJ, avgPowerW: durationS > 0 ? energyJ / durationS : 0, peakPowerW, sampleCount };
}

/** ∫ P(t) dt over the window (no baseline): {@link integrateAboveBaseline} with a 0 W baseline. */
export function integrateTrace(samples: readonly PowerPoint[], window: EnergyWindow, options: IntegrationOptions = {}): AttributedEnergy {
  return integrateAboveBaseline(samples, window, 0, options);
}

/**
 * `system-minus-baseline`: a whole-system trace (battery sensor) minus the idle baseline measured
 * before the reply, never below 0 W at any moment: E = ∫ max(0, P(t) − P_idle(t)) dt.
 */
export function attributeSystemMinusBaseline(
  samples: readonly PowerPoint[],
  window: EnergyWindow,
  baseline: Baseline,
  options: IntegrationOptions = {},
): AttributedEnergy {
  return integrateAboveBaseline(samples, window, baseline, options);
}

/**
 * This process's share of the CPUs' busy time: `processCpuMs ÷ busyCpuMs`, clamped to [0, 1]. When all
 * CPUs report no busy time but the process does (counter granularity), the share is 1; non-finite inputs
 * or no CPU time at all give 0.
 */
export function cpuShare(processCpuMs: number, busyCpuMs: number): number {
  if (!Number.isFinite(processCpuMs) || !Number.isFinite(busyCpuMs) || processCpuMs <= 0) return 0;
  if (busyCpuMs <= 0) return 1;
  return Math.min(1, Math.max(0, processCpuMs / busyCpuMs));
}

/**
 * `package-cpu-share`: the package energy over the window (RAPL), times this process's share of the
 * CPUs' busy time in that window ({@link cpuShare}). Average and peak are scaled by the same share.
 *
 * @param cpu CPU time in the window, in ms: this process's (all threads) and all CPUs' busy time.
 * @returns the attribution and the `share` used (0..1).
 */
export function attributePackageCpuShare(
  samples: readonly PowerPoint[],
  window: EnergyWindow,
  cpu: CpuTimes,
  options: IntegrationOptions = {},
): AttributedEnergy & { share: number } {
  const share = cpuShare(cpu?.processCpuMs ?? Number.NaN, cpu?.busyCpuMs ?? Number.NaN);
  const whole = integrateTrace(samples, window, options);
  return {
    energyJ: whole.energyJ * share,
    avgPowerW: whole.avgPowerW * share,
    peakPowerW: whole.peakPowerW * share,
    sampleCount: whole.sampleCount,
    share,
  };
}

/** `gpu-whole`: a GPU board's energy above its idle power, counted whole: ∫ max(0, P − idleW) dt. */
export function attributeGpuWhole(
  samples: readonly PowerPoint[],
  window: EnergyWindow,
  idlePowerW: Baseline,
  options: IntegrationOptions = {},
): AttributedEnergy {
  return integrateAboveBaseline(samples, window, idlePowerW, options);
}

/**
 * `estimate`: the CPU model's readings minus its idle power, ∫ (P_est − idleW) dt. Pass
 * `interpolation: 'interval-average'` for readings that average since the previous read (the estimate
 * source does): then the result equals {@link estimateEnergyFromCpuTime} over the same CPU time.
 */
export function attributeEstimate(
  samples: readonly PowerPoint[],
  window: EnergyWindow,
  idlePowerW: number,
  options: IntegrationOptions = {},
): AttributedEnergy {
  return integrateAboveBaseline(samples, window, idlePowerW, options);
}

/**
 * The estimate's energy straight from CPU time: active W per busy core × CPU seconds, in J.
 * Non-finite or negative inputs count as 0.
 *
 * @param activeWPerCore extra power of one fully busy core, in W.
 * @param processCpuMs this process's CPU time, in ms.
 */
export function estimateEnergyFromCpuTime(activeWPerCore: number, processCpuMs: number): number {
  const w = Number.isFinite(activeWPerCore) ? Math.max(0, activeWPerCore) : 0;
  const ms = Number.isFinite(processCpuMs) ? Math.max(0, processCpuMs) : 0;
  return (w * ms) / 1000;
}

/** Linear interpolation of a cumulative counter at `t`, clamped to the snapshots' range. */
function counterAt(snapshots: readonly CpuSnapshot[], t: number, pick: (s: CpuSnapshot) => number): number {
  const first = snapshots[0]!;
  const last = snapshots[snapshots.length - 1]!;
  if (t <= first.at) return pick(first);
  if (t >= last.at) return pick(last);
  for (let i = 1; i < snapshots.length; i++) {
    const b = snapshots[i]!;
    if (b.at >= t) {
      const a = snapshots[i - 1]!;
      const span = b.at - a.at;
      return span > 0 ? pick(a) + ((pick(b) - pick(a)) * (t - a.at)) / span : pick(b);
    }
  }
  return pick(last);
}

/**
 * CPU time spent inside a window, from cumulative snapshots (e.g. taken at each sample): each counter is
 * interpolated linearly at the window edges (clamped to the first and last snapshot). Snapshots with
 * non-finite values are dropped. Returns null with fewer than 2 usable snapshots or a bad window.
 * Counters that went backwards (a reset) give 0 for that counter.
 */
export function cpuTimesInWindow(snapshots: readonly CpuSnapshot[], window: EnergyWindow): CpuTimes | null {
  const w = cleanWindow(window);
  if (!w || !Array.isArray(snapshots)) return null;
  const clean = snapshots
    .filter((s) => s && Number.isFinite(s.at) && Number.isFinite(s.processCpuMs) && Number.isFinite(s.busyCpuMs))
    .sort((a, b) => a.at - b.at);
  if (clean.length < 2) return null;
  const process = (s: CpuSnapshot) => s.processCpuMs;
  const busy = (s: CpuSnapshot) => s.busyCpuMs;
  return {
    processCpuMs: Math.max(0, counterAt(clean, w.endAt, process) - counterAt(clean, w.startAt, process)),
    busyCpuMs: Math.max(0, counterAt(clean, w.endAt, busy) - counterAt(clean, w.startAt, busy)),
  };
}

/** Median of the finite values (mean of the middle two for an even count); null when there is none. */
export function medianPowerW(values: readonly number[]): number | null {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = v.length >>> 1;
  return v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

/**
 * Sums two attributions over the same window (e.g. the CPU figure plus a GPU's `gpu-whole` energy):
 * energies, averages and sample counts add; the peak is the sum of the peaks (an upper bound of the
 * peak of the sum).
 */
export function addAttributions(a: AttributedEnergy, b: AttributedEnergy): AttributedEnergy {
  return {
    energyJ: a.energyJ + b.energyJ,
    avgPowerW: a.avgPowerW + b.avgPowerW,
    peakPowerW: a.peakPowerW + b.peakPowerW,
    sampleCount: a.sampleCount + b.sampleCount,
  };
}

/** A finite number ≥ 0, else 0. */
function nonNegative(x: number): number {
  return Number.isFinite(x) && x > 0 ? x : 0;
}

/** What {@link buildReplyEnergy} needs besides the attribution. */
export interface ReplyEnergyInput {
  attributed: AttributedEnergy;
  /** Tokens generated in the reply. */
  completionTokens: number;
  /** Idle baseline subtracted (system, GPU) or used by the estimate, in W; 0 for `package-cpu-share`. */
  baselinePowerW: number;
  sourceId: string;
  /** "battery sensor", "RAPL package", "GPU (NVML)", "estimated". */
  sourceLabel: string;
  measured: boolean;
  method: EnergyMethod;
  /** Why a measured source was not used, or null. */
  fallbackReason: string | null;
}

/**
 * Builds the contract's {@link ReplyEnergy}: `energyJPerToken` = energyJ ÷ completionTokens (0 without
 * tokens). Every number is made finite and ≥ 0 (garbage becomes 0) and `sampleCount` a whole number,
 * so the result always parses with `replyEnergySchema`. Never throws.
 */
export function buildReplyEnergy(input: ReplyEnergyInput): ReplyEnergy {
  const energyJ = nonNegative(input.attributed.energyJ);
  const tokens = Math.floor(nonNegative(input.completionTokens));
  return {
    energyJ,
    energyJPerToken: tokens > 0 ? energyJ / tokens : 0,
    avgPowerW: nonNegative(input.attributed.avgPowerW),
    peakPowerW: nonNegative(input.attributed.peakPowerW),
    baselinePowerW: nonNegative(input.baselinePowerW),
    sourceId: String(input.sourceId),
    sourceLabel: String(input.sourceLabel),
    measured: Boolean(input.measured),
    method: input.method,
    fallbackReason: input.fallbackReason,
    sampleCount: Math.floor(nonNegative(input.attributed.sampleCount)),
  };
}
