/**
 * Bench: the power sampler's CPU overhead while it samples at 1 Hz (a reply running), as a fraction of one
 * core. Budget: < 0.005 (half a percent of one core), so that measuring a reply's energy costs a
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
