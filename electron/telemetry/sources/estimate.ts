/**
 * The fallback when no sensor can be read: a model of this process's CPU power, ALWAYS available, never a
 * measurement (`measured: false`, label "estimated", scope `process-estimate`).
 *
 *   P (W) = idleW + activeWPerCore × busyCores
 *   busyCores = Δ(process CPU time, user + system) ÷ Δ(wall time) since the previous read
 *
 * `process.cpuUsage()` counts every thread of the process, so llama.cpp's native worker threads are included.
 * busyCores counts logical CPUs: two busy hyperthreads of one physical core count as 2, which overestimates on
 * SMT machines (a core's second thread adds far less than its first). The first read averages since the source
 * was constructed.
 *
 * Defaults (override with {@link EstimateOptions}; attribution subtracts {@link EstimateSource.idlePowerW}):
 * - {@link DEFAULT_ACTIVE_W_PER_CORE} = 3.75 W: a typical 15 W laptop CPU spread over its cores, Intel Core
 *   i5-8250U (Intel ARK: 4 cores, TDP 15 W) → 15 W ÷ 4. Use {@link activeWPerCoreFromTdp} when the CPU's TDP is
 *   known (e.g. AMD Ryzen 7 5800U: 15 W, 8 cores → 1.9 W; Intel i7-1165G7 at 28 W, 4 cores → 7 W).
 * - {@link DEFAULT_IDLE_W} = 6.6 W: whole-laptop power at light load measured on battery for a Lenovo IdeaPad
 *   U300s ultrabook (tecchannel.de battery test, "durchschnittlich 6,6 Watt": power-saving plan, text entry,
 *   display dimmed, WLAN off; https://www.tecchannel.de/a/test-lenovo-ideapad-u300s-ultrabook-mit-core-i7,2039071,3).
 */
import { availableParallelism } from 'node:os';
import type { PowerReading, PowerSource, PowerSourceStatus } from '../types.js';

/** Default active power per busy core, W (Intel Core i5-8250U: TDP 15 W ÷ 4 cores, Intel ARK). */
export const DEFAULT_ACTIVE_W_PER_CORE = 15 / 4;

/** Default idle whole-system power, W (Lenovo IdeaPad U300s on battery at light load, tecchannel.de: 6.6 W). */
export const DEFAULT_IDLE_W = 6.6;

/**
 * Active power per busy core from a CPU's TDP, W: `tdpW ÷ cores` (TDP is the sustained all-core power the
 * vendor rates the part for: Intel ARK "Processor Base Power"/"TDP", AMD "Default TDP"). Throws RangeError when
 * either is not a positive finite number.
 */
export function activeWPerCoreFromTdp(tdpW: number, cores: number): number {
  if (!(Number.isFinite(tdpW) && tdpW > 0)) throw new RangeError(`TDP must be a positive number of W, got ${tdpW}`);
  if (!(Number.isFinite(cores) && cores > 0)) throw new RangeError(`cores must be a positive number, got ${cores}`);
  return tdpW / cores;
}

/** CPU time used by this process so far, µs (the shape of `process.cpuUsage()`). */
export interface CpuUsage {
  user: number;
  system: number;
}

/** Options of {@link EstimateSource}. */
export interface EstimateOptions {
  /** Idle whole-system power, W. Defaults to {@link DEFAULT_IDLE_W}. */
  idleW?: number;
  /** Active power per busy core, W. Defaults to {@link DEFAULT_ACTIVE_W_PER_CORE}. */
  activeWPerCore?: number;
  /** CPU time of the process, µs. Defaults to `process.cpuUsage()`. */
  cpuUsage?: () => CpuUsage;
  /** Wall clock, ms since the epoch. Defaults to `performance.timeOrigin + performance.now()`. */
  now?: () => number;
  /** Upper bound for busyCores (logical CPUs). Defaults to `os.availableParallelism()`. */
  cpuCount?: number;
}

/** The CPU-time model as a power source (see the module comment). */
export class EstimateSource implements PowerSource {
  readonly id = 'estimate';
  readonly kind = 'estimate' as const;
  readonly label = 'estimated';
  readonly scope = 'process-estimate' as const;
  /** Idle whole-system power included in every reading, W (attribution subtracts it). */
  readonly idlePowerW: number;
  /** Active power per busy core, W. */
  readonly activeWPerCore: number;
  /** busyCores of the last read (0 before the first). */
  lastBusyCores = 0;

  private readonly cpuUsage: () => CpuUsage;
  private readonly now: () => number;
  private readonly cpuCount: number;
  private previous: { cpuUs: number; at: number };

  /** Throws RangeError when `idleW` or `activeWPerCore` is negative or not finite. */
  constructor(options: EstimateOptions = {}) {
    this.idlePowerW = options.idleW ?? DEFAULT_IDLE_W;
    this.activeWPerCore = options.activeWPerCore ?? DEFAULT_ACTIVE_W_PER_CORE;
    for (const [name, v] of [['idleW', this.idlePowerW], ['activeWPerCore', this.activeWPerCore]] as const) {
      if (!(Number.isFinite(v) && v >= 0)) throw new RangeError(`${name} must be a non-negative number of W, got ${v}`);
    }
    this.cpuUsage = options.cpuUsage ?? (() => process.cpuUsage());
    this.now = options.now ?? (() => performance.timeOrigin + performance.now());
    this.cpuCount = options.cpuCount ?? availableParallelism();
    this.previous = { cpuUs: this.cpuTotalUs(), at: this.now() };
  }

  /** Always ok. */
  async probe(): Promise<PowerSourceStatus> {
    return { state: 'ok', detail: null, fix: null };
  }

  /**
   * idleW + activeWPerCore × busyCores since the previous read (or construction); busyCores is clamped to
   * [0, cpuCount]. With no wall time elapsed, busyCores is that of the previous read. Never null; never throws.
   */
  async read(): Promise<PowerReading> {
    const at = this.now();
    const cpuUs = this.cpuTotalUs();
    const wallUs = (at - this.previous.at) * 1000;
    if (wallUs > 0) {
      const busy = (cpuUs - this.previous.cpuUs) / wallUs;
      this.lastBusyCores = Math.min(this.cpuCount, Math.max(0, Number.isFinite(busy) ? busy : 0));
      this.previous = { cpuUs, at };
    }
    return { sourceId: this.id, at, powerW: this.idlePowerW + this.activeWPerCore * this.lastBusyCores, measured: false };
  }

  /** Nothing to stop. */
  async dispose(): Promise<void> {}

  private cpuTotalUs(): number {
    const u = this.cpuUsage();
    return u.user + u.system;
  }
}
