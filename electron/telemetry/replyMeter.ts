/**
 * The per-reply meter behind {@link ReplyMeter}: what the power sampler (`./sampler.ts`) records for one
 * reply while it runs, and how that becomes the contract's `ReplyEnergy` with the pure functions of
 * `./attribution.ts`.
 *
 * The sampler creates a {@link Meter} at `beginReply` with the source that is active then (its `primary`),
 * fixes its baseline candidates, feeds it every round's readings ({@link Meter.record}) and tells it when a
 * source stops ({@link Meter.sourceStopped}). The meter turns that into figures:
 * - `system-minus-baseline` (a battery): the primary trace above the idle baseline;
 * - `package-cpu-share` (RAPL): package energy × this process's share of the CPU time, plus GPUs;
 * - `estimate`: the estimate's trace above its idle power, plus GPUs; also the fallback whenever the
 *   primary source stopped or gave nothing (`measured: false`, with `fallbackReason` saying why).
 * With GPUs added, `method` stays the CPU method, `sourceId` and `sourceLabel` join the parts, and
 * `baselinePowerW` is the sum of the idle powers used. GPUs are never added to a battery's figure: the
 * battery already sees them.
 *
 * Nothing here throws out of `finish`: on any trouble the figure falls back to the estimate.
 */
import type { z } from 'zod';
import type { liveReplyEnergySchema, PowerSample, ReplyEnergy } from '../../shared/contract.js';
import {
  addAttributions,
  attributeEstimate,
  attributeGpuWhole,
  attributePackageCpuShare,
  attributeSystemMinusBaseline,
  buildReplyEnergy,
  cpuTimesInWindow,
  type AttributedEnergy,
  type CpuSnapshot,
  type EnergyMethod,
  type EnergyWindow,
  type PowerPoint,
  type TraceInterpolation,
} from './attribution.js';
import type { PowerSource, PowerSourceStatus } from './types.js';

/** The reply in progress, as the live gauges show it (the contract's `liveReplyEnergySchema`). */
export type LiveReplyEnergy = z.infer<typeof liveReplyEnergySchema>;

/** The window `finish` attributes energy to: the engine's `ReplyStats` times (ms since the epoch) and tokens. */
export interface ReplyWindow {
  startedAt: number;
  endedAt: number;
  completionTokens: number;
}

/** Measures one reply; from `PowerSampler.beginReply`. */
export interface ReplyMeter {
  /** Tokens generated so far (live J/token in ticks). Non-finite or negative counts are ignored. */
  setCompletionTokens(count: number): void;
  /**
   * Takes a final reading, attributes energy over `[startedAt, endedAt]` (the engine's `ReplyStats`
   * window, ms since the epoch) and returns the contract's `ReplyEnergy`. Never throws: on any trouble
   * it falls back to the estimate and says why in `fallbackReason`. A second call returns the first result.
   */
  finish(window: ReplyWindow): Promise<ReplyEnergy>;
  /**
   * Samples taken between `beginReply` and `finish` (to store with the conversation's trace): at each
   * reading, the active source's sample (the estimate's when the active source failed), oldest first.
   */
  samples(): PowerSample[];
  /** Stops metering without a result (the reply was dropped). */
  cancel(): void;
}

/** A power source as a meter sees it: the source, and how its readings are integrated. */
export interface MeteredSource {
  readonly source: PowerSource;
  /** Counters and the estimate report averages since the previous read; the others instantaneous power. */
  readonly interpolation: TraceInterpolation;
}

/** What a {@link Meter} needs of the sampler that feeds it. */
export interface MeterHost<S extends MeteredSource> {
  /** The estimate's source (the fallback of every reply). */
  readonly estimate: S;
  /** The estimate's idle power, W: its baseline. */
  estimateIdleW(): number;
  /** Whether the sampler was stopped (no more readings will come). */
  isStopped(): boolean;
  /** The sampler's clock, ms since the epoch. */
  now(): number;
  /** Runs one round of reads (feeding the meters) after the ones already queued. Never rejects. */
  runRound(): Promise<void>;
  /** Stops feeding `meter`. */
  drop(meter: Meter<S>): void;
}

/** The attribution method of a reply metered with `source` as its main source. */
function methodFor(source: MeteredSource): EnergyMethod {
  switch (source.source.scope) {
    case 'system':
      return 'system-minus-baseline';
    case 'cpu-package':
      return 'package-cpu-share';
    case 'gpu':
      return 'gpu-whole';
    default:
      return 'estimate';
  }
}

/** The sentence a reply's `fallbackReason` gives when its source stopped reading. */
function lostReasonFor(source: MeteredSource, status: PowerSourceStatus): string {
  if (source.source.scope === 'system') return `${source.source.label} stopped reading mid-reply (charger plugged in?)`;
  return `${source.source.label} stopped reading mid-reply${status.detail ? `: ${status.detail}` : ''}`;
}

/** One reply's readings and baselines, and its {@link ReplyMeter} methods. See the module doc. */
export class Meter<S extends MeteredSource> implements ReplyMeter {
  readonly beganAt: number;
  readonly method: EnergyMethod;
  completionTokens = 0;
  readonly primaryTrace: PowerPoint[] = [];
  readonly estimateTrace: PowerPoint[] = [];
  readonly gpuTraces = new Map<S, PowerPoint[]>();
  readonly gpuBaselines = new Map<S, number>();
  readonly gpuLost = new Set<S>();
  readonly cpuSnapshots: CpuSnapshot[] = [];
  readonly display: PowerSample[] = [];
  /** Idle baseline of the primary source, W (known at once for the estimate and RAPL, else after the first round). */
  baselineW: number | null = null;
  /** Pre-reply baseline candidates, taken at `beginReply`. */
  preIdleMedianW: number | null = null;
  preIdleLastW: number | null = null;
  readonly gpuPreIdle = new Map<S, number | null>();
  /** Set when the primary source stopped mid-reply: the reply falls back to the estimate, with this reason. */
  lostReason: string | null = null;
  /** The reply's first round of reads (then the baselines it fixes). */
  started: Promise<void> = Promise.resolve();
  private result: Promise<ReplyEnergy> | null = null;
  /** False once finished, cancelled or dropped. */
  active = true;

  constructor(
    private readonly host: MeterHost<S>,
    readonly requestId: string,
    readonly conversationId: string,
    readonly primary: S,
    beganAt: number,
  ) {
    this.beganAt = beganAt;
    this.method = methodFor(primary);
  }

  setCompletionTokens(count: number): void {
    if (typeof count === 'number' && Number.isFinite(count) && count >= 0) this.completionTokens = Math.floor(count);
  }

  finish(window: ReplyWindow): Promise<ReplyEnergy> {
    if (!this.result) this.result = this.settle(window);
    return this.result;
  }

  samples(): PowerSample[] {
    return this.display.map((s) => ({ ...s }));
  }

  cancel(): void {
    this.host.drop(this);
  }

  /**
   * Feeds one round: the readings of the sources read (by source), the CPU snapshot (taken only while a
   * `package-cpu-share` reply runs) and the sample shown on the gauges.
   */
  record(readings: ReadonlyMap<S, PowerPoint>, cpu: CpuSnapshot | null, sample: PowerSample | null): void {
    const p = readings.get(this.primary);
    if (p && !this.lostReason) this.primaryTrace.push({ at: p.at, powerW: p.powerW });
    const e = readings.get(this.host.estimate);
    if (e) this.estimateTrace.push({ at: e.at, powerW: e.powerW });
    for (const [gpu, trace] of this.gpuTraces) {
      const g = readings.get(gpu);
      if (g) trace.push({ at: g.at, powerW: g.powerW });
    }
    if (cpu && this.method === 'package-cpu-share') this.cpuSnapshots.push(cpu);
    if (sample) this.display.push(sample);
  }

  /** `source` is no longer ok: a primary source ends the measurement (the estimate takes over), a GPU is left out. */
  sourceStopped(source: S, status: PowerSourceStatus): void {
    if (this.primary === source && this.primary !== this.host.estimate && !this.lostReason) this.lostReason = lostReasonFor(source, status);
    if (this.gpuTraces.has(source)) this.gpuLost.add(source);
  }

  /** After the reply's first round: the baselines that need a reading at `beginReply`. */
  resolveBaselines(): void {
    if (this.baselineW === null) {
      this.baselineW = this.preIdleMedianW ?? this.primaryTrace[0]?.powerW ?? this.preIdleLastW ?? null;
    }
    for (const [gpu, trace] of this.gpuTraces) {
      const b = this.gpuPreIdle.get(gpu) ?? trace[0]?.powerW ?? null;
      if (b !== null) this.gpuBaselines.set(gpu, b);
    }
  }

  /** The live figure so far (best effort: 0 J when attribution fails). */
  live(): LiveReplyEnergy {
    let energyJ = 0;
    let measured = this.method !== 'estimate';
    try {
      const lastAt = Math.max(this.beganAt, ...this.display.slice(-1).map((s) => s.at));
      const e = this.attribute({ startAt: this.beganAt, endAt: lastAt }, this.completionTokens);
      energyJ = e.energyJ;
      measured = e.measured;
    } catch {
      // Live figures are best effort.
    }
    const tokens = this.completionTokens;
    return {
      requestId: this.requestId,
      conversationId: this.conversationId,
      energyJ,
      completionTokens: tokens,
      energyJPerToken: tokens > 0 ? energyJ / tokens : null,
      measured,
    };
  }

  /** Final round of reads, then attribution. Never rejects. */
  private async settle(window: ReplyWindow): Promise<ReplyEnergy> {
    const host = this.host;
    try {
      await this.started;
      if (this.active && !host.isStopped()) await host.runRound();
    } catch {
      // A failed round leaves the traces as they are.
    }
    host.drop(this);
    this.setCompletionTokens(window?.completionTokens ?? Number.NaN);
    const w: EnergyWindow =
      window && Number.isFinite(window.startedAt) && Number.isFinite(window.endedAt)
        ? { startAt: Math.min(window.startedAt, window.endedAt), endAt: Math.max(window.startedAt, window.endedAt) }
        : { startAt: this.beganAt, endAt: host.now() };
    try {
      return this.attribute(w, this.completionTokens);
    } catch (error) {
      const reason = `attribution failed (${error instanceof Error ? error.message : String(error)})`;
      try {
        return this.estimateEnergy(w, this.completionTokens, reason);
      } catch {
        const zero = { energyJ: 0, avgPowerW: 0, peakPowerW: 0, sampleCount: 0 };
        const e = host.estimate.source;
        return buildReplyEnergy({ attributed: zero, completionTokens: 0, baselinePowerW: 0, sourceId: e.id, sourceLabel: e.label, measured: false, method: 'estimate', fallbackReason: reason });
      }
    }
  }

  /** GPU energy above idle over the window, for the GPUs still ok; notes on the ones that stopped. */
  private gpuEnergy(w: EnergyWindow): { part: AttributedEnergy | null; baselineW: number; ids: string[]; labels: string[]; notes: string[] } {
    let part: AttributedEnergy | null = null;
    let baselineW = 0;
    const ids: string[] = [];
    const labels: string[] = [];
    const notes: string[] = [];
    for (const [gpu, trace] of this.gpuTraces) {
      if (this.gpuLost.has(gpu)) {
        notes.push(`${gpu.source.label} stopped reading mid-reply: its energy is left out`);
        continue;
      }
      if (trace.length === 0) continue;
      const idleW = this.gpuBaselines.get(gpu) ?? trace[0]!.powerW;
      const e = attributeGpuWhole(trace, w, idleW, { interpolation: gpu.interpolation });
      part = part ? addAttributions(part, e) : e;
      baselineW += idleW;
      ids.push(gpu.source.id);
      labels.push(gpu.source.label);
    }
    return { part, baselineW, ids, labels, notes };
  }

  /** The reply's energy with its own source, or the estimate when that is not possible. */
  private attribute(w: EnergyWindow, tokens: number): ReplyEnergy {
    const slot = this.primary;
    const estimate = this.host.estimate;
    if (this.lostReason) return this.estimateEnergy(w, tokens, this.lostReason);
    if (this.host.isStopped() && this.primaryTrace.length === 0 && slot !== estimate) return this.estimateEnergy(w, tokens, 'the sampler was stopped');
    if (slot === estimate || this.method === 'estimate' || this.method === 'gpu-whole') return this.estimateEnergy(w, tokens, null);
    if (this.primaryTrace.length === 0) return this.estimateEnergy(w, tokens, `${slot.source.label} gave no reading during the reply`);

    if (this.method === 'system-minus-baseline') {
      const baselineW = this.baselineW ?? this.preIdleMedianW ?? this.primaryTrace[0]!.powerW;
      const e = attributeSystemMinusBaseline(this.primaryTrace, w, baselineW, { interpolation: slot.interpolation });
      return buildReplyEnergy({
        attributed: e,
        completionTokens: tokens,
        baselinePowerW: baselineW,
        sourceId: slot.source.id,
        sourceLabel: slot.source.label,
        measured: true,
        method: 'system-minus-baseline',
        fallbackReason: null,
      });
    }

    // package-cpu-share (+ GPUs)
    const cpu = cpuTimesInWindow(this.cpuSnapshots, w);
    if (!cpu) return this.estimateEnergy(w, tokens, 'CPU time share unavailable (cannot read /proc/stat or os.cpus())');
    let e: AttributedEnergy = attributePackageCpuShare(this.primaryTrace, w, cpu, { interpolation: slot.interpolation });
    const gpu = this.gpuEnergy(w);
    if (gpu.part) e = addAttributions(e, gpu.part);
    return buildReplyEnergy({
      attributed: e,
      completionTokens: tokens,
      baselinePowerW: gpu.baselineW,
      sourceId: [slot.source.id, ...gpu.ids].join('+'),
      sourceLabel: [slot.source.label, ...gpu.labels].join(' + '),
      measured: true,
      method: 'package-cpu-share',
      fallbackReason: gpu.notes.length > 0 ? gpu.notes.join('; ') : null,
    });
  }

  /** The estimate over the whole window (+ GPUs), with `reason` as the fallback reason. */
  private estimateEnergy(w: EnergyWindow, tokens: number, reason: string | null): ReplyEnergy {
    const estimate = this.host.estimate;
    const idleW = this.host.estimateIdleW();
    let e: AttributedEnergy = attributeEstimate(this.estimateTrace, w, idleW, { interpolation: estimate.interpolation });
    const gpu = this.gpuEnergy(w);
    if (gpu.part) e = addAttributions(e, gpu.part);
    const notes = [reason, ...gpu.notes].filter((x): x is string => Boolean(x));
    if (this.estimateTrace.length === 0) notes.push('no estimate reading was taken during the reply');
    return buildReplyEnergy({
      attributed: e,
      completionTokens: tokens,
      baselinePowerW: idleW + gpu.baselineW,
      sourceId: [estimate.source.id, ...gpu.ids].join('+'),
      sourceLabel: [estimate.source.label, ...gpu.labels].join(' + '),
      measured: false,
      method: 'estimate',
      fallbackReason: notes.length > 0 ? notes.join('; ') : null,
    });
  }
}
