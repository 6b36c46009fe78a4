/**
 * The power sampler: reads the best available {@link PowerSource} on a timer (1 Hz while a reply runs,
 * 0.2 Hz otherwise), keeps the recent trace for the gauges, and meters replies: each reply gets a
 * {@link ReplyMeter} that records the readings taken while it runs and, on `finish`, attributes energy
 * to the engine's `[startedAt, endedAt]` window with the pure functions of `./attribution.ts`.
 *
 * Which source (the "active" one, re-chosen whenever the battery's state changes and at most every
 * `reprobeIntervalMs` otherwise):
 * 1. a `system`-scope source (a battery while discharging) that probes `ok` → `system-minus-baseline`;
 * 2. else a `cpu-package` source (RAPL) that probes `ok` → `package-cpu-share`;
 * 3. else the estimate (kind `estimate`, always there) → `estimate`.
 * GPU boards (`gpu` scope) that probe `ok` are read too, and their energy above their own idle power is
 * ADDED (`gpu-whole`) to a `package-cpu-share` or `estimate` figure. It is never added to a
 * `system-minus-baseline` figure: the battery already sees the GPU. This counts a GPU whole even when
 * the reply did not use it, which is harmless: an idle GPU stays at its baseline and adds ~0 J.
 *
 * The estimate is read on every tick even when a sensor is active, so that a reply whose sensor vanishes
 * mid-reply (charger plugged in: the battery stops reading) can fall back to the estimate over its whole
 * window: `measured: false`, `method: 'estimate'`, with `fallbackReason` saying why. The sampler must be
 * the only reader of the estimate source it is given (the estimate averages CPU time since its previous
 * read).
 *
 * Reply figures: a reply keeps the source that was active at `beginReply` (a better source appearing
 * mid-reply serves the next replies). With GPUs added, `method` stays the CPU method, `sourceId` and
 * `sourceLabel` join the parts ("rapl:intel-rapl:0+nvidia:0", "RAPL package + GPU (NVML)"),
 * `baselinePowerW` is the sum of the idle powers used, and `peakPowerW` the sum of the parts' peaks.
 * RAPL and estimate readings are integrated as averages since the previous read, the others linearly
 * (see `attribution.ts`). Samples are stamped with the sampler's clock (`now`, the engine's `Date.now()`)
 * whenever a source's own timestamp disagrees with it.
 *
 * Baselines: for a system source, the median of that source's readings in the `baselineWindowMs` (30 s)
 * before the reply while no reply ran; with fewer than 2 such readings, the reading taken right at
 * `beginReply`. For GPUs the same rule. For the estimate, its `idlePowerW`. The sampler keeps one
 * baseline per reply; the attribution functions also take piecewise baselines, unused here for now.
 *
 * Cost: one timer (`unref()`ed, so it never keeps a CLI process alive), ticks never overlap (a tick is
 * skipped while the previous round of reads is pending), reads and probes time out after
 * `readTimeoutMs`, and the per-tick work is a few small objects. `overheadCpuFraction()` reports it.
 *
 * Nothing here throws out of `finish`, ticks or listeners: a failing source becomes a status and a
 * fallback, never an exception.
 */
import { readSync, openSync, closeSync } from 'node:fs';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { z } from 'zod';
import type { BatteryStateInfo, EnergyStatus, liveReplyEnergySchema, PowerSample, PowerSourceInfo, ReplyEnergy } from '../../shared/contract.js';
import {
  addAttributions,
  attributeEstimate,
  attributeGpuWhole,
  attributePackageCpuShare,
  attributeSystemMinusBaseline,
  buildReplyEnergy,
  cpuTimesInWindow,
  isPlausiblePowerW,
  medianPowerW,
  type AttributedEnergy,
  type CpuSnapshot,
  type EnergyMethod,
  type EnergyWindow,
  type PowerPoint,
  type TraceInterpolation,
} from './attribution.js';
import type { BatteryState, PowerReading, PowerSource, PowerSourceStatus } from './types.js';

/** The reply in progress, as the live gauges show it (the contract's `liveReplyEnergySchema`). */
export type LiveReplyEnergy = z.infer<typeof liveReplyEnergySchema>;

/** What every tick tells its listeners (the payload of the `power.sample` event). */
export interface SamplerTick {
  /** The reading of the active source (or of the estimate when the active one failed this tick). */
  sample: PowerSample;
  battery: BatteryStateInfo | null;
  /** Minutes to empty at the current system draw; null on AC or when unknown. */
  timeToEmptyMinutes: number | null;
  /** The most recently begun reply still running, if any. */
  reply: LiveReplyEnergy | null;
}

/** Options of {@link PowerSampler.create}. Times in ms. */
export interface PowerSamplerOptions {
  /** Sources in preference order (as `discoverPowerSources` gives them); one of kind `estimate` is required. */
  sources: PowerSource[];
  /** Battery facts for the gauges and the time to empty; errors and garbage count as "no battery". */
  readBattery?: () => Promise<BatteryState | null>;
  /** Tick interval while any reply runs. Defaults to 1000 (1 Hz). */
  activeIntervalMs?: number;
  /** Tick interval otherwise. Defaults to 5000 (0.2 Hz). */
  idleIntervalMs?: number;
  /** How much of the trace `status().recent` keeps (the sparkline). Defaults to 120_000. */
  recentWindowMs?: number;
  /** Clock, ms since the epoch. Defaults to `Date.now`. */
  now?: () => number;
  /** This process's CPU time (µs, all threads). Defaults to `process.cpuUsage`. */
  processCpuUsage?: () => NodeJS.CpuUsage;
  /**
   * All CPUs' cumulative busy and total time in ms (summed over CPUs), or null when unknown. Read only
   * while a reply is metered with a `cpu-package` source. Defaults to {@link defaultSystemCpuTimes}.
   */
  systemCpuTimes?: () => { busyMs: number; totalMs: number } | null;
  /** Pre-reply readings used for the idle baseline. Defaults to 30_000. */
  baselineWindowMs?: number;
  /** Probe every source at most this often (besides battery changes and failed reads). Defaults to 30_000. */
  reprobeIntervalMs?: number;
  /** Read the battery at most this often (and whenever a read fails). Defaults to `idleIntervalMs`. */
  batteryIntervalMs?: number;
  /** A read or probe that takes longer counts as failed. Defaults to 5000. */
  readTimeoutMs?: number;
}

/** Measures one reply; from {@link PowerSampler.beginReply}. */
export interface ReplyMeter {
  /** Tokens generated so far (live J/token in ticks). Non-finite or negative counts are ignored. */
  setCompletionTokens(count: number): void;
  /**
   * Takes a final reading, attributes energy over `[startedAt, endedAt]` (the engine's `ReplyStats`
   * window, ms since the epoch) and returns the contract's `ReplyEnergy`. Never throws: on any trouble
   * it falls back to the estimate and says why in `fallbackReason`. A second call returns the first result.
   */
  finish(window: { startedAt: number; endedAt: number; completionTokens: number }): Promise<ReplyEnergy>;
  /**
   * Samples taken between `beginReply` and `finish` (to store with the conversation's trace): at each
   * reading, the active source's sample (the estimate's when the active source failed), oldest first.
   */
  samples(): PowerSample[];
  /** Stops metering without a result (the reply was dropped). */
  cancel(): void;
}

/**
 * How old a source's own timestamp may be, relative to the start of the read, before the sampler stamps
 * the reading itself, ms. 5 s: nvidia-smi streams a line every 1 s and battery firmware updates every few
 * seconds (power-sources.md), so a genuine reading is younger; an older stamp means the clocks disagree.
 */
const READING_MAX_AGE_MS = 5000;

/** Consecutive failed reads (null with an `ok` probe, or garbage) after which a source counts as broken. */
const MAX_BAD_READS = 3;

/**
 * USER_HZ, the unit of `/proc/stat` CPU times: 100 on every mainstream Linux architecture (kernel
 * `Documentation/filesystems/proc.rst`: "in units of USER_HZ (typically hundredths of a second)";
 * `sysconf(_SC_CLK_TCK)` = 100 on x86 and arm64).
 */
const USER_HZ = 100;

const procStatBuffer = Buffer.alloc(512);

/**
 * All CPUs' cumulative busy and total time in ms: on Linux from the first line of `/proc/stat`
 * (busy = total − idle − iowait, in USER_HZ ticks), elsewhere from `os.cpus()` (busy = user + nice + sys
 * + irq). Null when neither can be read. Never throws.
 */
export function defaultSystemCpuTimes(): { busyMs: number; totalMs: number } | null {
  if (process.platform === 'linux') {
    try {
      const fd = openSync('/proc/stat', 'r');
      let n = 0;
      try {
        n = readSync(fd, procStatBuffer, 0, procStatBuffer.length, 0);
      } finally {
        closeSync(fd);
      }
      const line = procStatBuffer.toString('latin1', 0, n).split('\n', 1)[0] ?? '';
      const fields = line.trim().split(/\s+/);
      if (fields[0] === 'cpu' && fields.length >= 5) {
        // user nice system idle iowait irq softirq steal (guest and guest_nice are inside user and nice)
        const v = fields.slice(1, 9).map(Number);
        if (v.every((x) => Number.isFinite(x))) {
          const total = v.reduce((a, b) => a + b, 0);
          const idle = (v[3] ?? 0) + (v[4] ?? 0);
          return { busyMs: ((total - idle) * 1000) / USER_HZ, totalMs: (total * 1000) / USER_HZ };
        }
      }
    } catch {
      // Fall through to os.cpus().
    }
  }
  try {
    let busy = 0;
    let total = 0;
    for (const c of cpus()) {
      const t = c.times;
      busy += t.user + t.nice + t.sys + t.irq;
      total += t.user + t.nice + t.sys + t.irq + t.idle;
    }
    return total > 0 ? { busyMs: busy, totalMs: total } : null;
  } catch {
    return null;
  }
}

/** A fixed-size ring of recent readings of one source: time, power, and whether no reply ran. */
class ReadingRing {
  private readonly at: Float64Array;
  private readonly powerW: Float64Array;
  private readonly idle: Uint8Array;
  private head = 0;
  private size = 0;

  constructor(private readonly capacity: number) {
    this.at = new Float64Array(capacity);
    this.powerW = new Float64Array(capacity);
    this.idle = new Uint8Array(capacity);
  }

  push(at: number, powerW: number, idle: boolean): void {
    this.at[this.head] = at;
    this.powerW[this.head] = powerW;
    this.idle[this.head] = idle ? 1 : 0;
    this.head = (this.head + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
  }

  /** Powers of the idle readings with `fromAt ≤ at ≤ toAt`. */
  idlePowers(fromAt: number, toAt: number): number[] {
    const out: number[] = [];
    for (let k = 0; k < this.size; k++) {
      const idx = (this.head - 1 - k + this.capacity) % this.capacity;
      const at = this.at[idx]!;
      if (at < fromAt) break;
      if (at <= toAt && this.idle[idx] === 1) out.push(this.powerW[idx]!);
    }
    return out;
  }
}

/** Recent emitted samples, oldest first when listed. */
class SampleRing {
  private readonly items: (PowerSample | undefined)[];
  private head = 0;
  private size = 0;

  constructor(private readonly capacity: number) {
    this.items = new Array<PowerSample | undefined>(capacity);
  }

  push(sample: PowerSample): void {
    this.items[this.head] = sample;
    this.head = (this.head + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
  }

  /** Copies of the samples with `at ≥ fromAt`, oldest first. */
  since(fromAt: number): PowerSample[] {
    const out: PowerSample[] = [];
    for (let k = this.size - 1; k >= 0; k--) {
      const s = this.items[(this.head - 1 - k + this.capacity) % this.capacity];
      if (s && s.at >= fromAt) out.push({ ...s });
    }
    return out;
  }
}

/** A source and what the sampler knows about it. */
interface Slot {
  readonly source: PowerSource;
  status: PowerSourceStatus;
  /** Last valid reading, W. */
  lastPowerW: number | null;
  lastAt: number | null;
  /** Consecutive failed reads. */
  badReads: number;
  readonly history: ReadingRing;
  /** How its readings are integrated: counters and the estimate report averages since the previous read. */
  readonly interpolation: TraceInterpolation;
}

/** A valid reading of one slot in one round. */
interface Reading {
  at: number;
  powerW: number;
  measured: boolean;
}

const SOURCE_STATES: readonly PowerSourceStatus['state'][] = ['ok', 'no-permission', 'not-present', 'unavailable', 'error'];

const okStatus: PowerSourceStatus = Object.freeze({ state: 'ok', detail: null, fix: null });

/** Resolves `promise`, or `fallback` after `timeoutMs` or when it rejects; the timer is unref'd. */
async function withTimeout<T>(run: () => Promise<T>, timeoutMs: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<T>((resolve) => {
      timer = setTimeout(() => resolve(fallback), timeoutMs);
      timer.unref();
    });
    return await Promise.race([Promise.resolve().then(run), timeout]);
  } catch {
    return fallback;
  } finally {
    if (timer) clearTimeout(timer);
  }
}

/** Wall clock and process CPU time at the start of a synchronous stretch of the sampler's code. */
interface Mark {
  wallMs: number;
  cpu: NodeJS.CpuUsage;
}

function mark(): Mark {
  return { wallMs: performance.now(), cpu: process.cpuUsage() };
}

/**
 * The sampler's own time since `m`, in ms: the smaller of the wall time (≥ its CPU time, being one
 * thread, but inflated when the OS preempts it) and the whole process's CPU time (≥ its CPU time, but
 * inflated by other busy threads such as llama.cpp's). Both are upper bounds, so their minimum is too.
 */
function ownMsSince(m: Mark): number {
  const wallMs = performance.now() - m.wallMs;
  const cpu = process.cpuUsage(m.cpu);
  return Math.max(0, Math.min(wallMs, (cpu.user + cpu.system) / 1000));
}

/** A positive whole number of ms, else `fallback`. */
function intervalOption(value: number | undefined, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 1 ? Math.round(value) : fallback;
}

/** A battery state that parses with `batteryStateSchema`, or null for garbage. */
function sanitizeBattery(b: BatteryState | null | undefined): BatteryStateInfo | null {
  if (!b || typeof b !== 'object' || typeof b.percent !== 'number' || !Number.isFinite(b.percent)) return null;
  const wh = (x: number | null) => (typeof x === 'number' && Number.isFinite(x) && x >= 0 ? x : null);
  const statuses = ['charging', 'discharging', 'full', 'not-charging', 'unknown'] as const;
  return {
    percent: Math.min(100, Math.max(0, b.percent)),
    onAc: Boolean(b.onAc),
    energyWh: wh(b.energyWh),
    capacityWh: wh(b.capacityWh),
    status: (statuses as readonly string[]).includes(b.status) ? b.status : 'unknown',
  };
}

/** The sentence a reply's `fallbackReason` gives when its source stopped reading. */
function lostReasonFor(slot: Slot, status: PowerSourceStatus): string {
  if (slot.source.scope === 'system') return `${slot.source.label} stopped reading mid-reply (charger plugged in?)`;
  return `${slot.source.label} stopped reading mid-reply${status.detail ? `: ${status.detail}` : ''}`;
}

/** The attribution method of a reply metered with `slot` as its main source. */
function methodFor(slot: Slot): EnergyMethod {
  switch (slot.source.scope) {
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

/** Per-reply state behind {@link ReplyMeter}. */
class Meter implements ReplyMeter {
  readonly beganAt: number;
  readonly method: EnergyMethod;
  completionTokens = 0;
  readonly primaryTrace: PowerPoint[] = [];
  readonly estimateTrace: PowerPoint[] = [];
  readonly gpuTraces = new Map<Slot, PowerPoint[]>();
  readonly gpuBaselines = new Map<Slot, number>();
  readonly gpuLost = new Set<Slot>();
  readonly cpuSnapshots: CpuSnapshot[] = [];
  readonly display: PowerSample[] = [];
  /** Idle baseline of the primary source, W (known at once for the estimate and RAPL, else after the first round). */
  baselineW: number | null = null;
  /** Pre-reply baseline candidates, taken at `beginReply`. */
  preIdleMedianW: number | null = null;
  preIdleLastW: number | null = null;
  readonly gpuPreIdle = new Map<Slot, number | null>();
  lostReason: string | null = null;
  started: Promise<void> = Promise.resolve();
  result: Promise<ReplyEnergy> | null = null;
  active = true;

  constructor(
    private readonly sampler: PowerSampler,
    readonly requestId: string,
    readonly conversationId: string,
    readonly primary: Slot,
    beganAt: number,
  ) {
    this.beganAt = beganAt;
    this.method = methodFor(primary);
  }

  setCompletionTokens(count: number): void {
    if (typeof count === 'number' && Number.isFinite(count) && count >= 0) this.completionTokens = Math.floor(count);
  }

  finish(window: { startedAt: number; endedAt: number; completionTokens: number }): Promise<ReplyEnergy> {
    if (!this.result) this.result = this.sampler.finishMeter(this, window);
    return this.result;
  }

  samples(): PowerSample[] {
    return this.display.map((s) => ({ ...s }));
  }

  cancel(): void {
    this.sampler.dropMeter(this);
  }
}

/** See the module doc. Create with {@link PowerSampler.create}. */
export class PowerSampler {
  private readonly slots: Slot[];
  private readonly estimateSlot: Slot;
  private active: Slot;
  private readonly now: () => number;
  private readonly processCpuUsage: () => NodeJS.CpuUsage;
  private readonly systemCpuTimes: () => { busyMs: number; totalMs: number } | null;
  private readonly readBattery: (() => Promise<BatteryState | null>) | null;
  private readonly activeIntervalMs: number;
  private readonly idleIntervalMs: number;
  private readonly recentWindowMs: number;
  private readonly baselineWindowMs: number;
  private readonly reprobeIntervalMs: number;
  private readonly batteryIntervalMs: number;
  private readonly readTimeoutMs: number;
  private readonly recent: SampleRing;
  private readonly listeners = new Set<(tick: SamplerTick) => void>();
  private readonly meters = new Set<Meter>();

  private battery: BatteryStateInfo | null = null;
  private batteryReadAt = Number.NEGATIVE_INFINITY;
  private batteryKnown = false;
  private probedAt: number;
  private timeToEmptyMinutes: number | null = null;
  private timer: NodeJS.Timeout | null = null;
  private timerIntervalMs = 0;
  private started = false;
  private stopped = false;
  /** Rounds of reads queued or running (ticks are skipped while > 0). */
  private roundsPending = 0;
  private queue: Promise<void> = Promise.resolve();
  private skippedTicks = 0;
  private startedPerfMs = 0;
  private selfMs = 0;

  private constructor(options: PowerSamplerOptions, slots: Slot[], estimateSlot: Slot) {
    this.slots = slots;
    this.estimateSlot = estimateSlot;
    this.active = estimateSlot;
    this.now = options.now ?? Date.now;
    this.processCpuUsage = options.processCpuUsage ?? (() => process.cpuUsage());
    this.systemCpuTimes = options.systemCpuTimes ?? defaultSystemCpuTimes;
    this.readBattery = options.readBattery ?? null;
    this.activeIntervalMs = intervalOption(options.activeIntervalMs, 1000);
    this.idleIntervalMs = intervalOption(options.idleIntervalMs, 5000);
    this.recentWindowMs = intervalOption(options.recentWindowMs, 120_000);
    this.baselineWindowMs = intervalOption(options.baselineWindowMs, 30_000);
    this.reprobeIntervalMs = intervalOption(options.reprobeIntervalMs, 30_000);
    this.batteryIntervalMs = intervalOption(options.batteryIntervalMs, this.idleIntervalMs);
    this.readTimeoutMs = intervalOption(options.readTimeoutMs, 5000);
    const fastest = Math.min(this.activeIntervalMs, this.idleIntervalMs);
    this.recent = new SampleRing(Math.min(100_000, Math.ceil(this.recentWindowMs / fastest) + 16));
    this.probedAt = this.now();
  }

  /**
   * Probes every source (each within `readTimeoutMs`), reads the battery once, and picks the active
   * source. Does not start ticking (see {@link start}).
   *
   * @throws TypeError when `options.sources` holds no source of kind `estimate` (a programming error:
   *   discovery always appends it).
   */
  static async create(options: PowerSamplerOptions): Promise<PowerSampler> {
    const sources = Array.isArray(options?.sources) ? options.sources : [];
    const estimate = [...sources].reverse().find((s) => s && s.kind === 'estimate');
    if (!estimate) throw new TypeError('PowerSampler needs a source of kind "estimate" (the fallback)');
    const idle = intervalOption(options.idleIntervalMs, 5000);
    const active = intervalOption(options.activeIntervalMs, 1000);
    const keepMs = Math.max(intervalOption(options.baselineWindowMs, 30_000), 1000);
    const capacity = Math.min(100_000, Math.ceil(keepMs / Math.min(idle, active)) + 16);
    const slots: Slot[] = sources
      .filter((s) => s && typeof s.read === 'function')
      .map((source) => ({
        source,
        status: { state: 'not-present', detail: 'not probed yet', fix: null },
        lastPowerW: null,
        lastAt: null,
        badReads: 0,
        history: new ReadingRing(capacity),
        interpolation: source.kind === 'rapl' || source.kind === 'estimate' ? 'interval-average' : 'linear',
      }));
    const sampler = new PowerSampler(options, slots, slots.find((s) => s.source === estimate)!);
    await sampler.probeAll();
    await sampler.refreshBattery(true);
    return sampler;
  }

  /** Begins ticking at the idle rate, with one round of reads at once. Idempotent; no-op after {@link stop}. */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.startedPerfMs = performance.now();
    this.selfMs = 0;
    this.applyRate();
    this.onTimer();
  }

  /**
   * The OS reported a power change (AC plugged or unplugged, resume from sleep: Electron's powerMonitor):
   * re-reads the battery and re-probes every source in a round right now, instead of at the next tick.
   */
  notifyPowerChange(): void {
    this.probedAt = Number.NEGATIVE_INFINITY;
    this.batteryReadAt = Number.NEGATIVE_INFINITY;
    if (this.started) this.onTimer();
  }

  /** Stops the timer, waits for the reads in flight and disposes every source (errors ignored). Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.queue;
    await Promise.all(
      this.slots.map((s) =>
        withTimeout(
          async () => {
            await s.source.dispose();
          },
          this.readTimeoutMs,
          undefined,
        ),
      ),
    );
  }

  /** Subscribes to ticks; returns the unsubscribe function. A throwing listener does not stop the others. */
  onTick(listener: (tick: SamplerTick) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** The gauges' view (the contract's `EnergyStatus`): sources, the active one, battery, recent trace, reply. */
  status(): EnergyStatus {
    const sources: PowerSourceInfo[] = this.slots.map((s) => ({
      id: s.source.id,
      kind: s.source.kind,
      label: s.source.label,
      scope: s.source.scope,
      state: s.status.state,
      detail: s.status.detail,
      fix: s.status.fix,
      powerW: s.lastPowerW,
    }));
    return {
      sources,
      activeSourceId: this.active.source.id,
      activeSourceLabel: this.active.source.label,
      measured: this.active.source.kind !== 'estimate',
      battery: this.battery ? { ...this.battery } : null,
      timeToEmptyMinutes: this.timeToEmptyMinutes,
      idleBaselinePowerW: this.idleBaselinePowerW(),
      sampleIntervalMs: this.currentIntervalMs(),
      recent: this.recent.since(this.now() - this.recentWindowMs),
      reply: this.liveReply(),
    };
  }

  /** The idle draw replies are measured above now (see the contract's `idleBaselinePowerW`). */
  private idleBaselinePowerW(): number | null {
    if (this.active === this.estimateSlot) return this.estimateIdleW();
    if (this.active.source.scope !== 'system') return null;
    const now = this.now();
    const idle = this.active.history.idlePowers(now - this.baselineWindowMs, now);
    return idle.length >= 2 ? medianPowerW(idle) : null;
  }

  /**
   * Starts metering a reply: switches to the active rate, fixes the idle baseline candidates from the
   * readings of the last `baselineWindowMs`, and takes a reading at once.
   */
  beginReply(info: { requestId: string; conversationId: string }): ReplyMeter {
    const t0 = mark();
    const beganAt = this.now();
    const meter = new Meter(this, String(info?.requestId ?? ''), String(info?.conversationId ?? ''), this.active, beganAt);
    const from = beganAt - this.baselineWindowMs;
    if (meter.primary === this.estimateSlot) meter.baselineW = this.estimateIdleW();
    else if (meter.method === 'package-cpu-share') meter.baselineW = 0;
    else {
      const idle = meter.primary.history.idlePowers(from, beganAt);
      meter.preIdleMedianW = idle.length >= 2 ? medianPowerW(idle) : null;
      meter.preIdleLastW = idle[0] ?? null;
    }
    for (const gpu of this.gpuSlots()) {
      const idle = gpu.history.idlePowers(from, beganAt);
      meter.gpuPreIdle.set(gpu, idle.length >= 2 ? medianPowerW(idle) : null);
      meter.gpuTraces.set(gpu, []);
    }
    this.meters.add(meter);
    if (this.stopped) {
      meter.started = Promise.resolve();
    } else {
      this.applyRate();
      meter.started = this.runRound();
      meter.started = meter.started.then(() => this.resolveBaselines(meter));
    }
    this.selfMs += ownMsSince(t0);
    return meter;
  }

  /**
   * The sampler's own CPU time ÷ wall time since {@link start}, as a fraction of one core. Its own time
   * is summed over the synchronous stretches of its code (ticks, beginReply), each counted as the smaller
   * of its wall time and the whole process's CPU time over it (both upper bounds of the sampler's own).
   * Work a source does off the main thread (libuv file reads, child processes such as nvidia-smi) and
   * probes are not included; `bench/sampler.ts` measures the whole process instead. 0 before start.
   */
  overheadCpuFraction(): number {
    if (!this.started) return 0;
    const wallMs = performance.now() - this.startedPerfMs;
    return wallMs > 0 ? Math.min(1, this.selfMs / wallMs) : 0;
  }

  // ---------------------------------------------------------------------------------------------
  // Internals (used by Meter)
  // ---------------------------------------------------------------------------------------------

  /** Finishes a meter: final round of reads, then attribution. Never rejects. */
  async finishMeter(meter: Meter, window: { startedAt: number; endedAt: number; completionTokens: number }): Promise<ReplyEnergy> {
    try {
      await meter.started;
      if (meter.active && !this.stopped) await this.runRound();
    } catch {
      // A failed round leaves the traces as they are.
    }
    this.dropMeter(meter);
    meter.setCompletionTokens(window?.completionTokens ?? Number.NaN);
    const w: EnergyWindow =
      window && Number.isFinite(window.startedAt) && Number.isFinite(window.endedAt)
        ? { startAt: Math.min(window.startedAt, window.endedAt), endAt: Math.max(window.startedAt, window.endedAt) }
        : { startAt: meter.beganAt, endAt: this.now() };
    try {
      return this.attribute(meter, w, meter.completionTokens);
    } catch (error) {
      const reason = `attribution failed (${error instanceof Error ? error.message : String(error)})`;
      try {
        return this.estimateEnergy(meter, w, meter.completionTokens, reason);
      } catch {
        const zero = { energyJ: 0, avgPowerW: 0, peakPowerW: 0, sampleCount: 0 };
        const e = this.estimateSlot.source;
        return buildReplyEnergy({ attributed: zero, completionTokens: 0, baselinePowerW: 0, sourceId: e.id, sourceLabel: e.label, measured: false, method: 'estimate', fallbackReason: reason });
      }
    }
  }

  /** Stops metering `meter`; back to the idle rate when no reply runs. */
  dropMeter(meter: Meter): void {
    meter.active = false;
    if (this.meters.delete(meter)) this.applyRate();
  }

  // ---------------------------------------------------------------------------------------------
  // Private
  // ---------------------------------------------------------------------------------------------

  private currentIntervalMs(): number {
    return this.meters.size > 0 ? this.activeIntervalMs : this.idleIntervalMs;
  }

  private applyRate(): void {
    if (!this.started || this.stopped) return;
    const interval = this.currentIntervalMs();
    if (this.timer && this.timerIntervalMs === interval) return;
    if (this.timer) clearInterval(this.timer);
    this.timerIntervalMs = interval;
    this.timer = setInterval(() => this.onTimer(), interval);
    this.timer.unref();
  }

  private onTimer(): void {
    if (this.stopped) return;
    if (this.roundsPending > 0) {
      this.skippedTicks++;
      return;
    }
    void this.runRound();
  }

  private estimateIdleW(): number {
    const idle = (this.estimateSlot.source as { idlePowerW?: unknown }).idlePowerW;
    return typeof idle === 'number' && Number.isFinite(idle) && idle >= 0 ? idle : 0;
  }

  private gpuSlots(): Slot[] {
    return this.slots.filter((s) => s.source.scope === 'gpu' && s.status.state === 'ok');
  }

  /** Runs one round of reads after the ones queued before it. Never rejects. */
  private runRound(): Promise<void> {
    this.roundsPending++;
    const next = this.queue.then(async () => {
      try {
        if (!this.stopped) await this.round();
      } catch {
        // A round never breaks the sampler.
      } finally {
        this.roundsPending--;
      }
    });
    this.queue = next;
    return next;
  }

  /**
   * Reads one source within the timeout; a valid reading, `null` (no reading) or `'garbage'`. The reading
   * keeps the source's own `at` when it agrees with the sampler's clock (from `READING_MAX_AGE_MS` before
   * the read to 1 s after it); otherwise it is stamped with the sampler's clock when the read returned.
   * Sources stamp with `performance.timeOrigin + performance.now()`, which is monotonic and falls behind
   * `Date.now()` (the engine's clock for reply windows) across a suspend/resume or a clock change.
   */
  private async readSlot(slot: Slot): Promise<Reading | null | 'garbage'> {
    const before = this.now();
    const reading = await withTimeout<PowerReading | null | undefined>(() => slot.source.read(), this.readTimeoutMs, null);
    if (reading === null || reading === undefined) return null;
    if (typeof reading !== 'object' || !isPlausiblePowerW(reading.powerW)) return 'garbage';
    const after = this.now();
    const own = reading.at;
    const at = typeof own === 'number' && Number.isFinite(own) && own >= before - READING_MAX_AGE_MS && own <= after + 1000 ? own : after;
    return { at, powerW: reading.powerW, measured: reading.measured !== false && slot.source.kind !== 'estimate' };
  }

  private async probeSlot(slot: Slot): Promise<PowerSourceStatus> {
    const status = await withTimeout<PowerSourceStatus>(
      () => slot.source.probe(),
      this.readTimeoutMs,
      { state: 'error', detail: `no answer within ${this.readTimeoutMs} ms`, fix: null },
    );
    if (!status || typeof status !== 'object' || !SOURCE_STATES.includes(status.state)) return { state: 'error', detail: 'probe gave no valid status', fix: null };
    return { state: status.state, detail: typeof status.detail === 'string' ? status.detail : null, fix: typeof status.fix === 'string' ? status.fix : null };
  }

  /** The best source that probes ok: system, then cpu-package, then the estimate. */
  private chooseActive(): Slot {
    const ok = (scope: string) => this.slots.find((s) => s.source.scope === scope && s.status.state === 'ok');
    return ok('system') ?? ok('cpu-package') ?? this.estimateSlot;
  }

  /** Probes every source, marks replies whose source stopped, and re-chooses the active source. */
  private async probeAll(): Promise<void> {
    this.probedAt = this.now();
    const statuses = await Promise.all(this.slots.map((s) => this.probeSlot(s)));
    this.slots.forEach((slot, k) => this.setStatus(slot, statuses[k]!));
    this.active = this.chooseActive();
  }

  /** Records a source's status; a source that is no longer ok ends the measurement of its replies. */
  private setStatus(slot: Slot, status: PowerSourceStatus): void {
    const wasOk = slot.status.state === 'ok';
    slot.status = status.state === 'ok' ? okStatus : status;
    if (status.state === 'ok') return;
    if (wasOk) slot.badReads = 0;
    for (const meter of this.meters) {
      if (meter.primary === slot && meter.primary !== this.estimateSlot && !meter.lostReason) meter.lostReason = lostReasonFor(slot, status);
      if (meter.gpuTraces.has(slot)) meter.gpuLost.add(slot);
    }
    if (slot === this.active) this.active = this.chooseActive();
  }

  /** Reads the battery when due (or when forced); a change of AC or charge status returns true. */
  private async refreshBattery(force: boolean): Promise<boolean> {
    if (!this.readBattery) return false;
    const now = this.now();
    if (!force && now - this.batteryReadAt < this.batteryIntervalMs) return false;
    this.batteryReadAt = now;
    const read = this.readBattery;
    const next = sanitizeBattery(await withTimeout<BatteryState | null>(() => read(), this.readTimeoutMs, null));
    const prev = this.battery;
    const changed = this.batteryKnown && ((prev === null) !== (next === null) || (prev !== null && next !== null && (prev.onAc !== next.onAc || prev.status !== next.status)));
    this.battery = next;
    this.batteryKnown = true;
    return changed;
  }

  /** One round: read the sources in use, feed the meters, handle failures, emit a tick. */
  private async round(): Promise<void> {
    let t0 = mark();
    const active = this.active;
    const toRead = new Set<Slot>([active, this.estimateSlot]);
    for (const gpu of this.gpuSlots()) toRead.add(gpu);
    let needCpu = false;
    for (const m of this.meters) {
      if (!m.lostReason) toRead.add(m.primary);
      if (m.method === 'package-cpu-share' && !m.lostReason) needCpu = true;
    }
    const idle = this.meters.size === 0;
    const order = [...toRead];
    const pending = order.map((s) => this.readSlot(s));
    const batteryPending = this.refreshBattery(false);
    this.selfMs += ownMsSince(t0);

    const results = await Promise.all(pending);
    let batteryChanged = await batteryPending;

    t0 = mark();
    const readings = new Map<Slot, Reading>();
    const failed: Slot[] = [];
    order.forEach((slot, k) => {
      const r = results[k];
      if (r && r !== 'garbage') {
        slot.badReads = 0;
        slot.lastPowerW = r.powerW;
        slot.lastAt = r.at;
        slot.history.push(r.at, r.powerW, idle);
        readings.set(slot, r);
      } else {
        slot.badReads++;
        failed.push(slot);
      }
    });
    let cpu: CpuSnapshot | null = null;
    if (needCpu) {
      const usage = this.processCpuUsage();
      const sys = this.systemCpuTimes();
      if (usage && sys && Number.isFinite(usage.user + usage.system) && Number.isFinite(sys.busyMs)) {
        cpu = { at: this.now(), processCpuMs: (usage.user + usage.system) / 1000, busyCpuMs: sys.busyMs };
      }
    }
    const shown = readings.get(active) ?? readings.get(this.estimateSlot);
    const shownSlot = readings.has(active) ? active : this.estimateSlot;
    const sample: PowerSample | null = shown
      ? { at: Math.max(0, Math.round(shown.at)), powerW: shown.powerW, sourceId: shownSlot.source.id, sourceLabel: shownSlot.source.label, measured: shown.measured }
      : null;
    for (const m of this.meters) {
      const p = readings.get(m.primary);
      if (p && !m.lostReason) m.primaryTrace.push({ at: p.at, powerW: p.powerW });
      const e = readings.get(this.estimateSlot);
      if (e) m.estimateTrace.push({ at: e.at, powerW: e.powerW });
      for (const [gpu, trace] of m.gpuTraces) {
        const g = readings.get(gpu);
        if (g) trace.push({ at: g.at, powerW: g.powerW });
      }
      if (cpu && m.method === 'package-cpu-share') m.cpuSnapshots.push(cpu);
      if (sample) m.display.push(sample);
    }
    this.selfMs += ownMsSince(t0);

    // Failures: a null read is checked with a probe; repeated garbage marks the source broken.
    let forceBattery = false;
    for (const slot of failed) {
      if (slot === this.estimateSlot) continue;
      const status = await this.probeSlot(slot);
      if (status.state !== 'ok') {
        this.setStatus(slot, status);
        forceBattery = true;
      } else if (slot.badReads >= MAX_BAD_READS) {
        this.setStatus(slot, { state: 'error', detail: `no usable reading in ${MAX_BAD_READS} tries (garbage or empty values)`, fix: null });
      }
    }
    if (forceBattery) batteryChanged = (await this.refreshBattery(true)) || batteryChanged;
    if (batteryChanged || this.now() - this.probedAt >= this.reprobeIntervalMs) await this.probeAll();

    t0 = mark();
    this.timeToEmptyMinutes = this.computeTimeToEmpty();
    if (sample) {
      this.recent.push(sample);
      if (this.listeners.size > 0) {
        const tick: SamplerTick = { sample, battery: this.battery ? { ...this.battery } : null, timeToEmptyMinutes: this.timeToEmptyMinutes, reply: this.liveReply() };
        this.selfMs += ownMsSince(t0);
        for (const listener of this.listeners) {
          try {
            listener(tick);
          } catch {
            // A listener's failure is its own business.
          }
        }
        return;
      }
    }
    this.selfMs += ownMsSince(t0);
  }

  /** Energy Wh left ÷ current system power, in minutes; null on AC, charging, or without a system reading. */
  private computeTimeToEmpty(): number | null {
    const b = this.battery;
    if (!b || b.onAc || b.status === 'charging' || b.energyWh === null) return null;
    const system = this.slots.find((s) => s.source.scope === 'system' && s.status.state === 'ok' && s.lastPowerW !== null);
    if (!system || system.lastPowerW === null || system.lastPowerW <= 0) return null;
    const staleMs = 3 * Math.max(this.activeIntervalMs, this.idleIntervalMs);
    if (system.lastAt !== null && this.now() - system.lastAt > staleMs) return null;
    return (b.energyWh / system.lastPowerW) * 60;
  }

  /** After the reply's first round: the baselines that need a reading at `beginReply`. */
  private resolveBaselines(meter: Meter): void {
    if (meter.baselineW === null) {
      meter.baselineW = meter.preIdleMedianW ?? meter.primaryTrace[0]?.powerW ?? meter.preIdleLastW ?? null;
    }
    for (const [gpu, trace] of meter.gpuTraces) {
      const b = meter.gpuPreIdle.get(gpu) ?? trace[0]?.powerW ?? null;
      if (b !== null) meter.gpuBaselines.set(gpu, b);
    }
  }

  /** The live figure of the most recently begun reply still running. */
  private liveReply(): LiveReplyEnergy | null {
    let meter: Meter | null = null;
    for (const m of this.meters) meter = m;
    if (!meter) return null;
    let energyJ = 0;
    let measured = meter.method !== 'estimate';
    try {
      const lastAt = Math.max(meter.beganAt, ...meter.display.slice(-1).map((s) => s.at));
      const e = this.attribute(meter, { startAt: meter.beganAt, endAt: lastAt }, meter.completionTokens);
      energyJ = e.energyJ;
      measured = e.measured;
    } catch {
      // Live figures are best effort.
    }
    const tokens = meter.completionTokens;
    return {
      requestId: meter.requestId,
      conversationId: meter.conversationId,
      energyJ,
      completionTokens: tokens,
      energyJPerToken: tokens > 0 ? energyJ / tokens : null,
      measured,
    };
  }

  /** GPU energy above idle over the window, for the GPUs still ok; notes on the ones that stopped. */
  private gpuEnergy(meter: Meter, w: EnergyWindow): { part: AttributedEnergy | null; baselineW: number; ids: string[]; labels: string[]; notes: string[] } {
    let part: AttributedEnergy | null = null;
    let baselineW = 0;
    const ids: string[] = [];
    const labels: string[] = [];
    const notes: string[] = [];
    for (const [gpu, trace] of meter.gpuTraces) {
      if (meter.gpuLost.has(gpu)) {
        notes.push(`${gpu.source.label} stopped reading mid-reply: its energy is left out`);
        continue;
      }
      if (trace.length === 0) continue;
      const idleW = meter.gpuBaselines.get(gpu) ?? trace[0]!.powerW;
      const e = attributeGpuWhole(trace, w, idleW, { interpolation: gpu.interpolation });
      part = part ? addAttributions(part, e) : e;
      baselineW += idleW;
      ids.push(gpu.source.id);
      labels.push(gpu.source.label);
    }
    return { part, baselineW, ids, labels, notes };
  }

  /** The reply's energy with its own source, or the estimate when that is not possible. */
  private attribute(meter: Meter, w: EnergyWindow, tokens: number): ReplyEnergy {
    const slot = meter.primary;
    if (meter.lostReason) return this.estimateEnergy(meter, w, tokens, meter.lostReason);
    if (this.stopped && meter.primaryTrace.length === 0 && slot !== this.estimateSlot) return this.estimateEnergy(meter, w, tokens, 'the sampler was stopped');
    if (slot === this.estimateSlot || meter.method === 'estimate' || meter.method === 'gpu-whole') return this.estimateEnergy(meter, w, tokens, null);
    if (meter.primaryTrace.length === 0) return this.estimateEnergy(meter, w, tokens, `${slot.source.label} gave no reading during the reply`);

    if (meter.method === 'system-minus-baseline') {
      const baselineW = meter.baselineW ?? meter.preIdleMedianW ?? meter.primaryTrace[0]!.powerW;
      const e = attributeSystemMinusBaseline(meter.primaryTrace, w, baselineW, { interpolation: slot.interpolation });
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
    const cpu = cpuTimesInWindow(meter.cpuSnapshots, w);
    if (!cpu) return this.estimateEnergy(meter, w, tokens, 'CPU time share unavailable (cannot read /proc/stat or os.cpus())');
    let e: AttributedEnergy = attributePackageCpuShare(meter.primaryTrace, w, cpu, { interpolation: slot.interpolation });
    const gpu = this.gpuEnergy(meter, w);
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
  private estimateEnergy(meter: Meter, w: EnergyWindow, tokens: number, reason: string | null): ReplyEnergy {
    const idleW = this.estimateIdleW();
    let e: AttributedEnergy = attributeEstimate(meter.estimateTrace, w, idleW, { interpolation: this.estimateSlot.interpolation });
    const gpu = this.gpuEnergy(meter, w);
    if (gpu.part) e = addAttributions(e, gpu.part);
    const notes = [reason, ...gpu.notes].filter((x): x is string => Boolean(x));
    if (meter.estimateTrace.length === 0) notes.push('no estimate reading was taken during the reply');
    return buildReplyEnergy({
      attributed: e,
      completionTokens: tokens,
      baselinePowerW: idleW + gpu.baselineW,
      sourceId: [this.estimateSlot.source.id, ...gpu.ids].join('+'),
      sourceLabel: [this.estimateSlot.source.label, ...gpu.labels].join(' + '),
      measured: false,
      method: 'estimate',
      fallbackReason: notes.length > 0 ? notes.join('; ') : null,
    });
  }
}
