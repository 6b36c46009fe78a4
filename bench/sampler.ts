/**
 * Sampler benches: its real tick rates ({@link benchSamplerTickGaps}, {@link benchSamplerTickSkip}: the unit
 * tests drive the sampler's timers by hand, so real timers are measured here), and its CPU overhead.
 *
 * Overhead ({@link benchSampler}): the power sampler's CPU overhead while it samples at 1 Hz (a reply
 * running), as a fraction of one core. Budget: < 0.005 (half a percent of one core), so that measuring a reply's energy costs a
 * negligible part of it: at the estimate's 3.75 W per busy core (i5-8250U TDP ÷ cores, see
 * electron/telemetry/sources/estimate.ts) 0.005 core is ~0.02 W, well under the tens of W of a decode.
 *
 * Each run creates a sampler, starts it, begins a reply (1 Hz), lets it warm up for 1 s, then measures this
 * whole process's CPU time (`process.cpuUsage()`, every thread: the sampler, its sources' file reads in
 * libuv's pool, GC, Node's own idle cost) over `durationMs` of wall time. The process does nothing else
 * meanwhile, so the figure is an upper bound of the sampler's cost. Reported: the median of `runs` runs.
 */
import { performance } from 'node:perf_hooks';
import { discoverPowerSources } from '../electron/telemetry/discover.js';
import { readBatteryState } from '../electron/telemetry/battery.js';
import { PowerSampler } from '../electron/telemetry/sampler.js';
import type { PowerReading, PowerSource, PowerSourceStatus } from '../electron/telemetry/types.js';
import type { BenchResult } from './main.js';

/** The sampler's budget, as a fraction of one core (see the module doc). */
export const SAMPLER_OVERHEAD_BUDGET = 0.005;

/** Options of {@link benchSampler}. */
export interface SamplerBenchOptions {
  /**
   * `discovered` (default): the sources discovery finds on this machine (on a VM without sensors: the CPU
   * estimate alone) and the real battery reader, as the app runs them. `in-memory`: one estimate-like source
   * that computes from `process.cpuUsage()` and nothing else (the sampler's own cost alone).
   */
  setup?: 'discovered' | 'in-memory';
  /** Measured wall time per run, ms. Defaults to 10_000. */
  durationMs?: number;
  /** Runs; the median is reported. Defaults to 3. */
  runs?: number;
}

/** An estimate-like source held in memory: idle 5 W + 4 W per busy core since the previous read. */
function inMemoryEstimate(): PowerSource & { idlePowerW: number } {
  let previous = { cpuUs: 0, at: 0 };
  return {
    id: 'estimate',
    kind: 'estimate',
    label: 'estimated',
    scope: 'process-estimate',
    idlePowerW: 5,
    async probe(): Promise<PowerSourceStatus> {
      return { state: 'ok', detail: null, fix: null };
    },
    async read(): Promise<PowerReading> {
      const u = process.cpuUsage();
      const now = { cpuUs: u.user + u.system, at: Date.now() };
      const busy = previous.at > 0 && now.at > previous.at ? (now.cpuUs - previous.cpuUs) / ((now.at - previous.at) * 1000) : 0;
      previous = now;
      return { sourceId: 'estimate', at: now.at, powerW: 5 + 4 * Math.max(0, busy), measured: false };
    },
    async dispose(): Promise<void> {},
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits until `condition` holds, checking every 5 ms; throws after `timeoutMs`. */
async function waitFor(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** The median of the gaps between consecutive times, ms. */
function medianGapMs(times: number[]): number {
  return median(times.slice(1).map((t, i) => t - times[i]!));
}

/** Idle and active tick intervals of {@link benchSamplerTickGaps}, ms (the unit tests' fast rates). */
const GAP_IDLE_MS = 100;
const GAP_ACTIVE_MS = 20;

/** How far a phase's median tick gap may be from its interval, as a fraction of it. */
export const TICK_GAP_TOLERANCE = 0.5;

/**
 * Real tick rates: with an in-memory estimate at 100 ms idle and 20 ms active intervals, the median gap
 * between ticks in each phase (idle, a reply running, idle again after it) against the interval set.
 * Value: the worst |median gap ÷ interval − 1| of the three phases; limit {@link TICK_GAP_TOLERANCE}, which
 * also tells the idle rate (100 ms) from the active one (20 ms).
 */
export async function benchSamplerTickGaps(): Promise<BenchResult> {
  const sampler = await PowerSampler.create({ sources: [inMemoryEstimate()], activeIntervalMs: GAP_ACTIVE_MS, idleIntervalMs: GAP_IDLE_MS });
  const ticks: number[] = [];
  const phases: Array<{ name: string; intervalMs: number; gapMs: number }> = [];
  try {
    sampler.onTick(() => ticks.push(performance.now()));
    sampler.start();
    await waitFor('6 idle ticks', () => ticks.length >= 6);
    phases.push({ name: 'idle', intervalMs: GAP_IDLE_MS, gapMs: medianGapMs(ticks) });
    const k = ticks.length;
    const meter = sampler.beginReply({ requestId: 'bench', conversationId: 'bench' });
    await waitFor('11 active ticks', () => ticks.length >= k + 11);
    phases.push({ name: 'active', intervalMs: GAP_ACTIVE_MS, gapMs: medianGapMs(ticks.slice(k)) });
    await meter.finish({ startedAt: Date.now() - 100, endedAt: Date.now(), completionTokens: 1 });
    const k2 = ticks.length;
    await waitFor('4 idle ticks after the reply', () => ticks.length >= k2 + 4);
    phases.push({ name: 'idle after', intervalMs: GAP_IDLE_MS, gapMs: medianGapMs(ticks.slice(k2)) });
  } finally {
    await sampler.stop();
  }
  const deviations = phases.map((p) => Math.abs(p.gapMs / p.intervalMs - 1));
  const value = Math.max(...deviations);
  return {
    name: 'sampler-tick-gaps',
    metric: 'worst |median tick gap ÷ interval − 1| over idle, active, idle phases',
    value,
    unit: '×',
    limit: TICK_GAP_TOLERANCE,
    ok: value < TICK_GAP_TOLERANCE,
    runs: deviations,
    detail: phases.map((p) => `${p.name} ${p.gapMs.toFixed(1)} ms (set ${p.intervalMs} ms)`).join('; '),
  };
}

/**
 * Ticks never overlap on real timers: a source whose reads take 60 ms, ticked every 10 ms for `durationMs`
 * (default 1 s). Value: the most reads in flight at once (limit: under 2); it also fails when there were
 * more reads than one at a time allows (elapsed ÷ 60 ms + 1).
 */
export async function benchSamplerTickSkip(durationMs = 1000): Promise<BenchResult> {
  const readMs = 60;
  const estimate = inMemoryEstimate();
  let reads = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const slow: PowerSource = {
    id: 'slow',
    kind: 'linux-battery',
    label: 'slow sensor',
    scope: 'system',
    async probe(): Promise<PowerSourceStatus> {
      return { state: 'ok', detail: null, fix: null };
    },
    async read(): Promise<PowerReading> {
      reads++;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        await sleep(readMs);
        return { sourceId: 'slow', at: Date.now(), powerW: 10, measured: true };
      } finally {
        inFlight--;
      }
    },
    async dispose(): Promise<void> {},
  };
  const sampler = await PowerSampler.create({ sources: [slow, estimate], activeIntervalMs: 10, idleIntervalMs: 10 });
  let elapsedMs = 0;
  try {
    const t0 = performance.now();
    sampler.start();
    await sleep(durationMs);
    elapsedMs = performance.now() - t0;
  } finally {
    await sampler.stop();
  }
  const allowed = elapsedMs / readMs + 1;
  return {
    name: 'sampler-tick-skip',
    metric: 'most reads in flight at once, 60 ms reads ticked every 10 ms',
    value: maxInFlight,
    unit: 'reads',
    limit: 2,
    ok: maxInFlight < 2 && reads <= allowed,
    runs: [maxInFlight],
    detail: `${reads} reads in ${elapsedMs.toFixed(0)} ms (one at a time allows ≤ ${allowed.toFixed(1)}; overlapping ticks would give ~${(elapsedMs / 10).toFixed(0)})`,
  };
}

/** One run: `{ processFraction, selfFraction, sourceIds }`. */
async function runOnce(setup: 'discovered' | 'in-memory', durationMs: number) {
  const sources = setup === 'discovered' ? await discoverPowerSources() : [inMemoryEstimate()];
  const sampler = await PowerSampler.create({
    sources,
    ...(setup === 'discovered' ? { readBattery: () => readBatteryState() } : {}),
  });
  try {
    sampler.start();
    const meter = sampler.beginReply({ requestId: 'bench', conversationId: 'bench' });
    await sleep(1000);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const startedAt = Date.now();
    await sleep(durationMs);
    const cpu = process.cpuUsage(cpu0);
    const wallMs = performance.now() - t0;
    const energy = await meter.finish({ startedAt, endedAt: Date.now(), completionTokens: 1 });
    return {
      processFraction: (cpu.user + cpu.system) / 1000 / wallMs,
      selfFraction: sampler.overheadCpuFraction(),
      active: sampler.status().activeSourceLabel,
      samples: energy.sampleCount,
    };
  } finally {
    await sampler.stop();
  }
}

function median(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

/**
 * Runs the sampler at 1 Hz for `durationMs` (default 10 s), `runs` times (default 3), and reports the median
 * CPU overhead of the whole process as a fraction of one core, against {@link SAMPLER_OVERHEAD_BUDGET}.
 */
export async function benchSampler(options: SamplerBenchOptions = {}): Promise<BenchResult> {
  const setup = options.setup ?? 'discovered';
  const durationMs = options.durationMs ?? 10_000;
  const runs = Math.max(1, Math.floor(options.runs ?? 3));
  const results: Awaited<ReturnType<typeof runOnce>>[] = [];
  for (let i = 0; i < runs; i++) results.push(await runOnce(setup, durationMs));
  const value = median(results.map((r) => r.processFraction));
  const self = median(results.map((r) => r.selfFraction));
  const last = results[results.length - 1]!;
  return {
    name: `sampler overhead (${setup})`,
    metric: 'process CPU ÷ wall time at 1 Hz, fraction of one core',
    value,
    unit: 'core',
    limit: SAMPLER_OVERHEAD_BUDGET,
    ok: value < SAMPLER_OVERHEAD_BUDGET,
    runs: results.map((r) => r.processFraction),
    detail: `median of ${runs} × ${durationMs / 1000} s; source: ${last.active}; ~${last.samples} samples/run; sampler's own accounting ${self.toExponential(2)}`,
  };
}
