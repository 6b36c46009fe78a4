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
 * Reply figures (computed by the meter of `./replyMeter.ts`): a reply keeps the source that was active at
 * `beginReply` (a better source appearing mid-reply serves the next replies). With GPUs added, `method`
 * stays the CPU method, `sourceId` and `sourceLabel` join the parts ("rapl:intel-rapl:0+nvidia:0", "RAPL
 * package + GPU (NVML)"), `baselinePowerW` is the sum of the idle powers used, and `peakPowerW` the sum of
 * the parts' peaks. RAPL and estimate readings are integrated as averages since the previous read, the
 * others linearly (see `attribution.ts`). Samples are stamped with the sampler's clock (`now`, the engine's
 * `Date.now()`) whenever a source's own timestamp disagrees with it. The CPU times of the RAPL share come
 * from `./sources/cpuTimes.ts`.
 *
 * Baselines: for a system source, the median of that source's readings in the `baselineWindowMs` (30 s)
 * before the reply while no reply ran; with fewer than 2 such readings, the reading taken right at
 * `beginReply`. For GPUs the same rule. For the estimate, its `idlePowerW`. The sampler keeps one
 * baseline per reply; the attribution functions also take piecewise baselines, unused here for now.
 *
 * Cost: one timer (`unref()`ed, so it never keeps a CLI process alive), ticks never overlap (a tick is
 * skipped while the previous round of reads is pending), reads and probes time out after
 * `readTimeoutMs`, and the per-tick work is a few small objects. `overheadCpuFraction()` reports it;
 * `npm run bench` (bench/sampler.ts) measures it and the real tick rates. The clock (`now`) and the timers
 * (`timers`) are options, so tests drive ticks by hand.
 *
 * Nothing here throws out of `finish`, ticks or listeners: a failing source becomes a status and a
 * fallback, never an exception.
 */
import { performance } from 'node:perf_hooks';
import type { BatteryStateInfo, EnergyStatus, PowerSample, PowerSourceInfo } from '../../shared/contract.js';
import { isPlausiblePowerW, medianPowerW, type CpuSnapshot } from './attribution.js';
import { Meter, type LiveReplyEnergy, type MeteredSource, type MeterHost, type ReplyMeter } from './replyMeter.js';
import { defaultSystemCpuTimes, type SystemCpuTimes } from './sources/cpuTimes.js';
import type { BatteryState, PowerReading, PowerSource, PowerSourceStatus } from './types.js';

export type { LiveReplyEnergy, ReplyMeter, ReplyWindow } from './replyMeter.js';
export { defaultSystemCpuTimes, type SystemCpuTimes } from './sources/cpuTimes.js';

/** A timer handle of {@link SamplerTimers}; `unref()` is called when present, so no timer keeps a process alive. */
export interface TimerHandle {
  unref?: () => unknown;
}

/** The timers the sampler schedules with: its tick and its read/probe timeouts. */
export interface SamplerTimers {
  setInterval(callback: () => void, ms: number): TimerHandle;
  clearInterval(handle: TimerHandle): void;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Node's own timers (the default of {@link PowerSamplerOptions.timers}). */
const realTimers: SamplerTimers = {
  setInterval: (callback, ms) => setInterval(callback, ms),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

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
  /**
   * Timers for the ticks and the read/probe timeouts. Defaults to Node's. Tests pass hand-driven ones
   * (with a matching `now`) to make rates and skipped ticks deterministic.
   */
  timers?: SamplerTimers;
  /** This process's CPU time (µs, all threads). Defaults to `process.cpuUsage`. */
  processCpuUsage?: () => NodeJS.CpuUsage;
  /**
   * All CPUs' cumulative busy and total time in ms (summed over CPUs), or null when unknown. Read only
   * while a reply is metered with a `cpu-package` source. Defaults to {@link defaultSystemCpuTimes}.
   */
  systemCpuTimes?: () => SystemCpuTimes | null;
  /** Pre-reply readings used for the idle baseline. Defaults to 30_000. */
  baselineWindowMs?: number;
  /** Probe every source at most this often (besides battery changes and failed reads). Defaults to 30_000. */
  reprobeIntervalMs?: number;
  /** Read the battery at most this often (and whenever a read fails). Defaults to `idleIntervalMs`. */
  batteryIntervalMs?: number;
  /** A read or probe that takes longer counts as failed. Defaults to 5000. */
  readTimeoutMs?: number;
}

/**
 * How old a source's own timestamp may be, relative to the start of the read, before the sampler stamps
 * the reading itself, ms. 5 s: nvidia-smi streams a line every 1 s and battery firmware updates every few
 * seconds (the team kit's `../shared/docs/power-sources.md`, beside the repository), so a genuine reading
 * is younger; an older stamp means the clocks disagree.
 */
const READING_MAX_AGE_MS = 5000;

/** Consecutive failed reads (null with an `ok` probe, or garbage) after which a source counts as broken. */
const MAX_BAD_READS = 3;

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
interface Slot extends MeteredSource {
  status: PowerSourceStatus;
  /** Last valid reading, W. */
  lastPowerW: number | null;
  lastAt: number | null;
  /** Consecutive failed reads. */
  badReads: number;
  readonly history: ReadingRing;
}

/** A valid reading of one slot in one round. */
interface Reading {
  at: number;
  powerW: number;
  measured: boolean;
}

const SOURCE_STATES: readonly PowerSourceStatus['state'][] = ['ok', 'no-permission', 'not-present', 'unavailable', 'error'];

const okStatus: PowerSourceStatus = Object.freeze({ state: 'ok', detail: null, fix: null });

/** Resolves what `run` resolves, or `fallback` after `timeoutMs` or when it rejects; the timer is unref'd. */
async function withTimeout<T>(timers: SamplerTimers, run: () => Promise<T>, timeoutMs: number, fallback: T): Promise<T> {
  let timer: TimerHandle | undefined;
  try {
    const timeout = new Promise<T>((resolve) => {
      timer = timers.setTimeout(() => resolve(fallback), timeoutMs);
      timer.unref?.();
    });
    return await Promise.race([Promise.resolve().then(run), timeout]);
  } catch {
    return fallback;
  } finally {
    if (timer) timers.clearTimeout(timer);
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

/** See the module doc. Create with {@link PowerSampler.create}. */
export class PowerSampler {
  private readonly slots: Slot[];
  private readonly estimateSlot: Slot;
  private active: Slot;
  private readonly now: () => number;
  private readonly timers: SamplerTimers;
  private readonly processCpuUsage: () => NodeJS.CpuUsage;
  private readonly systemCpuTimes: () => SystemCpuTimes | null;
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
  private readonly meters = new Set<Meter<Slot>>();
  /** What the meters see of this sampler. */
  private readonly meterHost: MeterHost<Slot>;

  private battery: BatteryStateInfo | null = null;
  private batteryReadAt = Number.NEGATIVE_INFINITY;
  private batteryKnown = false;
  private probedAt: number;
  private timeToEmptyMinutes: number | null = null;
  private timer: TimerHandle | null = null;
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
    this.timers = options.timers ?? realTimers;
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
    this.meterHost = {
      estimate: estimateSlot,
      estimateIdleW: () => this.estimateIdleW(),
      isStopped: () => this.stopped,
      now: () => this.now(),
      runRound: () => this.runRound(),
      drop: (meter) => this.dropMeter(meter),
    };
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
    if (this.timer) this.timers.clearInterval(this.timer);
    this.timer = null;
    await this.queue;
    await Promise.all(
      this.slots.map((s) =>
        withTimeout(
          this.timers,
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
    const meter = new Meter(this.meterHost, String(info?.requestId ?? ''), String(info?.conversationId ?? ''), this.active, beganAt);
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
      meter.started = meter.started.then(() => meter.resolveBaselines());
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
  // Private
  // ---------------------------------------------------------------------------------------------

  /** Stops metering `meter`; back to the idle rate when no reply runs. */
  private dropMeter(meter: Meter<Slot>): void {
    meter.active = false;
    if (this.meters.delete(meter)) this.applyRate();
  }

  private currentIntervalMs(): number {
    return this.meters.size > 0 ? this.activeIntervalMs : this.idleIntervalMs;
  }

  private applyRate(): void {
    if (!this.started || this.stopped) return;
    const interval = this.currentIntervalMs();
    if (this.timer && this.timerIntervalMs === interval) return;
    if (this.timer) this.timers.clearInterval(this.timer);
    this.timerIntervalMs = interval;
    this.timer = this.timers.setInterval(() => this.onTimer(), interval);
    this.timer.unref?.();
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
    const reading = await withTimeout<PowerReading | null | undefined>(this.timers, () => slot.source.read(), this.readTimeoutMs, null);
    if (reading === null || reading === undefined) return null;
    if (typeof reading !== 'object' || !isPlausiblePowerW(reading.powerW)) return 'garbage';
    const after = this.now();
    const own = reading.at;
    const at = typeof own === 'number' && Number.isFinite(own) && own >= before - READING_MAX_AGE_MS && own <= after + 1000 ? own : after;
    return { at, powerW: reading.powerW, measured: reading.measured !== false && slot.source.kind !== 'estimate' };
  }

  private async probeSlot(slot: Slot): Promise<PowerSourceStatus> {
    const status = await withTimeout<PowerSourceStatus>(
      this.timers,
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
    for (const meter of this.meters) meter.sourceStopped(slot, status);
    if (slot === this.active) this.active = this.chooseActive();
  }

  /** Reads the battery when due (or when forced); a change of AC or charge status returns true. */
  private async refreshBattery(force: boolean): Promise<boolean> {
    if (!this.readBattery) return false;
    const now = this.now();
    if (!force && now - this.batteryReadAt < this.batteryIntervalMs) return false;
    this.batteryReadAt = now;
    const read = this.readBattery;
    const next = sanitizeBattery(await withTimeout<BatteryState | null>(this.timers, () => read(), this.readTimeoutMs, null));
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
    for (const m of this.meters) m.record(readings, cpu, sample);
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

  /** The live figure of the most recently begun reply still running. */
  private liveReply(): LiveReplyEnergy | null {
    let meter: Meter<Slot> | null = null;
    for (const m of this.meters) meter = m;
    return meter ? meter.live() : null;
  }
}
