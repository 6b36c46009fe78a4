/**
 * The power sampler with small in-test sources that replay synthetic traces: source choice, rates,
 * baselines, fallbacks, garbage, status and reply shapes, and that nothing keeps a process alive. Rates,
 * skipped ticks and the recent window run on a hand-driven clock and timers ({@link ManualClock}); the
 * rest on real timers with short intervals, waiting for conditions rather than for time. The real tick
 * rates and the sampler's CPU cost are measured by `npm run bench` (bench/sampler.ts).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { energyStatusSchema, liveReplyEnergySchema, powerSampleSchema, replyEnergySchema } from '../../../shared/contract.js';
import { PowerSampler, type PowerSamplerOptions, type SamplerTick, type SamplerTimers, type TimerHandle } from '../../../electron/telemetry/sampler.js';
import { EstimateSource } from '../../../electron/telemetry/sources/estimate.js';
import type { BatteryState, PowerReading, PowerScope, PowerSource, PowerSourceKind, PowerSourceState, PowerSourceStatus } from '../../../electron/telemetry/types.js';
import { repoRoot } from '../../helpers/models.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Lets every pending promise callback run (the sampler's rounds only wait on promises of the fakes). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The gaps between consecutive times, in ms. */
function gapsMs(times: number[]): number[] {
  return times.slice(1).map((t, i) => t - times[i]!);
}

/** A timer of {@link ManualClock}. */
interface ManualTimer extends TimerHandle {
  id: number;
}

/**
 * A hand-driven clock and timers for the sampler's `now` and `timers` options: nothing fires until
 * {@link advance}, which moves the clock to each due timer in turn, fires it and lets the sampler's
 * round finish before the next.
 */
class ManualClock implements SamplerTimers {
  /** ms since the epoch; far from `Date.now()`, so the sampler stamps the fakes' readings with this clock. */
  nowMs = 1_000_000;
  private nextId = 1;
  private readonly pending = new Map<number, { at: number; everyMs: number | null; callback: () => void }>();

  readonly now = (): number => this.nowMs;

  /** The sampler options that put it on this clock. */
  options(): Pick<PowerSamplerOptions, 'now' | 'timers'> {
    return { now: this.now, timers: this };
  }

  setInterval(callback: () => void, ms: number): ManualTimer {
    return this.add(callback, ms, ms);
  }

  setTimeout(callback: () => void, ms: number): ManualTimer {
    return this.add(callback, ms, null);
  }

  clearInterval(handle: TimerHandle): void {
    this.pending.delete((handle as ManualTimer).id);
  }

  clearTimeout(handle: TimerHandle): void {
    this.pending.delete((handle as ManualTimer).id);
  }

  /** The periods of the intervals set now, ms. */
  intervals(): number[] {
    return [...this.pending.values()].flatMap((t) => (t.everyMs === null ? [] : [t.everyMs]));
  }

  /** Moves the clock `ms` forward, firing each timer when due (in time order) and settling after each. */
  async advance(ms: number): Promise<void> {
    const until = this.nowMs + ms;
    await settle();
    for (;;) {
      let next: [number, { at: number; everyMs: number | null; callback: () => void }] | null = null;
      for (const entry of this.pending) if (entry[1].at <= until && (next === null || entry[1].at < next[1].at)) next = entry;
      if (next === null) break;
      const [id, timer] = next;
      this.nowMs = timer.at;
      if (timer.everyMs === null) this.pending.delete(id);
      else timer.at += timer.everyMs;
      timer.callback();
      await settle();
    }
    this.nowMs = until;
  }

  private add(callback: () => void, ms: number, everyMs: number | null): ManualTimer {
    const id = this.nextId++;
    this.pending.set(id, { at: this.nowMs + Math.max(1, ms), everyMs: everyMs === null ? null : Math.max(1, everyMs), callback });
    return { id, unref: () => undefined };
  }
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out waiting for: ${what}`);
    await sleep(5);
  }
}

function close(actual: number, expected: number, relTolerance: number): void {
  assert.ok(Math.abs(actual - expected) <= Math.abs(expected) * relTolerance + 1e-9, `expected ≈ ${expected}, got ${actual}`);
}

/**
 * A source replaying a synthetic trace: `powerW` is read at each `read()` (a number, null for "no
 * reading", or anything else for garbage); `state` is what `probe()` says. While `state` is not ok
 * and `readsWhileUnavailable` is false, `read()` returns null (as the real battery does when charging).
 */
class FakeSource implements PowerSource {
  state: PowerSourceState = 'ok';
  detail: string | null = null;
  powerW: number | null | (() => unknown) = 0;
  readsWhileUnavailable = false;
  readDelayMs = 0;
  /** While set, reads wait for it. */
  gate: Promise<void> | null = null;
  hang = false;
  reads = 0;
  probes = 0;
  inFlight = 0;
  maxInFlight = 0;
  disposed = false;
  idlePowerW?: number;
  /** Added to Date.now() in the readings' `at`. */
  clockSkewMs = 0;

  constructor(
    readonly id: string,
    readonly kind: PowerSourceKind,
    readonly label: string,
    readonly scope: PowerScope,
    powerW: number | null | (() => unknown),
  ) {
    this.powerW = powerW;
  }

  async probe(): Promise<PowerSourceStatus> {
    this.probes++;
    return { state: this.state, detail: this.state === 'ok' ? null : (this.detail ?? `${this.label} is ${this.state}`), fix: null };
  }

  async read(): Promise<PowerReading | null> {
    this.reads++;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.hang) await new Promise(() => {});
      if (this.readDelayMs > 0) await sleep(this.readDelayMs);
      if (this.gate) await this.gate;
      if (this.state !== 'ok' && !this.readsWhileUnavailable) return null;
      const v = typeof this.powerW === 'function' ? this.powerW() : this.powerW;
      if (v === null) return null;
      return { sourceId: this.id, at: Date.now() + this.clockSkewMs, powerW: v as number, measured: this.kind !== 'estimate' };
    } finally {
      this.inFlight--;
    }
  }

  async dispose(): Promise<void> {
    this.disposed = true;
  }
}

const battery = (powerW: number | null | (() => unknown) = 10) => new FakeSource('linux-battery:BAT0', 'linux-battery', 'battery sensor', 'system', powerW);
const rapl = (powerW: number | null | (() => unknown) = 20) => new FakeSource('rapl:intel-rapl:0', 'rapl', 'RAPL package', 'cpu-package', powerW);
const gpu = (powerW: number | null | (() => unknown) = 10) => new FakeSource('nvidia:0', 'nvidia', 'GPU (NVML)', 'gpu', powerW);
function estimate(powerW = 7, idlePowerW = 2): FakeSource {
  const s = new FakeSource('estimate', 'estimate', 'estimated', 'process-estimate', powerW);
  s.idlePowerW = idlePowerW;
  return s;
}

/** Fast rates for tests: 20 ms while a reply runs, 100 ms otherwise. */
const fast: Partial<PowerSamplerOptions> = { activeIntervalMs: 20, idleIntervalMs: 100 };

async function withSampler<T>(options: PowerSamplerOptions, body: (sampler: PowerSampler) => Promise<T>): Promise<T> {
  const sampler = await PowerSampler.create(options);
  try {
    return await body(sampler);
  } finally {
    await sampler.stop();
  }
}

/** Runs a reply: waits `leadMs` after beginReply, then a `durationMs` window, then finishes. */
async function runReply(sampler: PowerSampler, opts: { leadMs?: number; durationMs?: number; tokens?: number; during?: () => Promise<void> } = {}) {
  const meter = sampler.beginReply({ requestId: 'r1', conversationId: 'c1' });
  await sleep(opts.leadMs ?? 40);
  const startedAt = Date.now();
  if (opts.during) await opts.during();
  await sleep(opts.durationMs ?? 200);
  const endedAt = Date.now();
  const energy = await meter.finish({ startedAt, endedAt, completionTokens: opts.tokens ?? 20 });
  return { meter, energy, durationS: (endedAt - startedAt) / 1000 };
}

describe('PowerSampler: choosing the source', () => {
  test('needs an estimate source', async () => {
    await assert.rejects(PowerSampler.create({ sources: [battery()] }), TypeError);
  });

  test('battery that reads wins, then RAPL, then the estimate', async () => {
    const b = battery();
    const r = rapl();
    const e = estimate();
    await withSampler({ sources: [b, r, e] }, async (s) => assert.equal(s.status().activeSourceId, 'linux-battery:BAT0'));
    b.state = 'unavailable';
    await withSampler({ sources: [b, r, e] }, async (s) => assert.equal(s.status().activeSourceId, 'rapl:intel-rapl:0'));
    r.state = 'no-permission';
    await withSampler({ sources: [b, r, e] }, async (s) => {
      const st = s.status();
      assert.equal(st.activeSourceId, 'estimate');
      assert.equal(st.activeSourceLabel, 'estimated');
      assert.equal(st.measured, false);
      assert.deepEqual(
        st.sources.map((x) => [x.id, x.state]),
        [
          ['linux-battery:BAT0', 'unavailable'],
          ['rapl:intel-rapl:0', 'no-permission'],
          ['estimate', 'ok'],
        ],
      );
      assert.ok(energyStatusSchema.safeParse(st).success);
    });
  });

  test('plugging the charger in switches to the next source; unplugging switches back', async () => {
    const b = battery(10);
    b.readsWhileUnavailable = true; // only the battery's change of state can reveal the switch
    let state: BatteryState = { percent: 80, onAc: false, energyWh: 40, capacityWh: 50, status: 'discharging' };
    await withSampler({ sources: [b, estimate()], readBattery: async () => ({ ...state }), ...fast, reprobeIntervalMs: 60_000 }, async (s) => {
      s.start();
      await waitFor('a battery reading', () => s.status().sources[0]!.powerW === 10);
      await waitFor('time to empty', () => s.status().timeToEmptyMinutes !== null);
      assert.equal(s.status().activeSourceId, 'linux-battery:BAT0');
      assert.equal(s.status().timeToEmptyMinutes, 240); // 40 Wh ÷ 10 W = 4 h
      assert.ok(energyStatusSchema.safeParse(s.status()).success);

      state = { ...state, onAc: true, status: 'charging' };
      b.state = 'unavailable';
      await waitFor('the switch to the estimate', () => s.status().activeSourceId === 'estimate');
      assert.equal(s.status().timeToEmptyMinutes, null);
      assert.equal(s.status().sources[0]!.state, 'unavailable');

      state = { ...state, onAc: false, status: 'discharging' };
      b.state = 'ok';
      await waitFor('the switch back to the battery', () => s.status().activeSourceId === 'linux-battery:BAT0');
    });
  });

  test('a source whose reads hang is given up after a few timeouts', async () => {
    const r = rapl(20);
    await withSampler({ sources: [r, estimate()], ...fast, idleIntervalMs: 20, readTimeoutMs: 30 }, async (s) => {
      r.hang = true;
      s.start();
      await waitFor('the switch to the estimate', () => s.status().activeSourceId === 'estimate');
      assert.equal(s.status().sources[0]!.state, 'error');
    });
  });
});

describe('PowerSampler: rates', () => {
  test('idle rate without a reply, active rate during one, idle again after', async () => {
    const clock = new ManualClock();
    await withSampler({ sources: [battery(), estimate()], ...fast, ...clock.options() }, async (s) => {
      const ticks: number[] = [];
      s.onTick((tick) => ticks.push(tick.sample.at));
      s.start();
      await settle();
      assert.equal(s.status().sampleIntervalMs, 100);
      assert.deepEqual(clock.intervals(), [100]);
      await clock.advance(400);
      assert.deepEqual(gapsMs(ticks), [100, 100, 100, 100], 'a round at start, then one every 100 ms');

      const k = ticks.length;
      const meter = s.beginReply({ requestId: 'r', conversationId: 'c' });
      assert.equal(s.status().sampleIntervalMs, 20);
      assert.deepEqual(clock.intervals(), [20]);
      await clock.advance(200);
      assert.deepEqual(gapsMs(ticks.slice(k)), Array<number>(10).fill(20), 'a round at beginReply, then one every 20 ms');
      await meter.finish({ startedAt: clock.now() - 100, endedAt: clock.now(), completionTokens: 3 });

      assert.equal(s.status().sampleIntervalMs, 100);
      assert.deepEqual(clock.intervals(), [100]);
      const k2 = ticks.length;
      await clock.advance(300);
      assert.deepEqual(gapsMs(ticks.slice(k2 - 1)), [100, 100, 100], 'the final round at finish, then one every 100 ms');
    });
  });

  test('ticks never overlap: a slow read makes the next ticks skip', async () => {
    const clock = new ManualClock();
    const b = battery(10);
    let release = () => {};
    b.gate = new Promise<void>((resolve) => (release = resolve));
    await withSampler({ sources: [b, estimate()], activeIntervalMs: 10, idleIntervalMs: 10, ...clock.options() }, async (s) => {
      s.start(); // the first round's battery read waits for the gate
      await clock.advance(100); // 10 ticks while it is pending
      assert.equal(b.reads, 1, 'the ticks during a pending round are skipped');
      assert.equal(b.maxInFlight, 1);
      b.gate = null;
      release();
      await settle();
      await clock.advance(10);
      assert.equal(b.reads, 2, 'the next tick after the round reads again');
      assert.equal(b.maxInFlight, 1);
    });
  });

  test('cancel goes back to the idle rate; finish twice gives the same result', async () => {
    await withSampler({ sources: [battery(), estimate()], ...fast }, async (s) => {
      s.start();
      const m = s.beginReply({ requestId: 'a', conversationId: 'c' });
      assert.equal(s.status().sampleIntervalMs, 20);
      m.cancel();
      assert.equal(s.status().sampleIntervalMs, 100);
      const m2 = s.beginReply({ requestId: 'b', conversationId: 'c' });
      const w = { startedAt: Date.now(), endedAt: Date.now() + 50, completionTokens: 1 };
      await sleep(60);
      const [x, y] = await Promise.all([m2.finish(w), m2.finish(w)]);
      assert.deepEqual(x, y);
    });
  });
});

describe('PowerSampler: reply energy', () => {
  test('system source: baseline = median of the pre-reply samples, energy above it', async () => {
    const b = battery(4);
    await withSampler({ sources: [b, estimate()], ...fast, idleIntervalMs: 15 }, async (s) => {
      s.start();
      await waitFor('pre-reply samples', () => b.reads >= 5);
      b.powerW = 10;
      const { energy, durationS, meter } = await runReply(s, { tokens: 24 });
      assert.ok(replyEnergySchema.safeParse(energy).success, JSON.stringify(energy));
      assert.equal(energy.method, 'system-minus-baseline');
      assert.equal(energy.measured, true);
      assert.equal(energy.fallbackReason, null);
      assert.equal(energy.sourceId, 'linux-battery:BAT0');
      assert.equal(energy.sourceLabel, 'battery sensor');
      assert.equal(energy.baselinePowerW, 4);
      close(energy.energyJ, 6 * durationS, 1e-6);
      close(energy.avgPowerW, 6, 1e-6);
      close(energy.peakPowerW, 6, 1e-6);
      close(energy.energyJPerToken, energy.energyJ / 24, 1e-9);
      assert.ok(energy.sampleCount >= 5, `samples in the window: ${energy.sampleCount}`);
      const samples = meter.samples();
      assert.ok(samples.length >= energy.sampleCount);
      for (const x of samples) assert.ok(powerSampleSchema.safeParse(x).success);
      assert.ok(samples.every((x) => x.sourceId === 'linux-battery:BAT0' && x.powerW === 10 && x.measured));
    });
  });

  test('system source with fewer than 2 pre-reply samples: the reading at beginReply is the baseline', async () => {
    const b = battery(3);
    await withSampler({ sources: [b, estimate()], activeIntervalMs: 1000, idleIntervalMs: 10_000 }, async (s) => {
      s.start(); // one idle reading of 3 W at once, the next one in 10 s
      await waitFor('the first reading', () => b.reads >= 1);
      await sleep(20);
      b.powerW = 5;
      const meter = s.beginReply({ requestId: 'r', conversationId: 'c' });
      const startedAt = Date.now();
      await sleep(50);
      b.powerW = 12;
      await sleep(50);
      const endedAt = Date.now();
      const energy = await meter.finish({ startedAt, endedAt, completionTokens: 5 });
      assert.equal(energy.baselinePowerW, 5);
      assert.equal(energy.measured, true);
      // Between the 5 W reading at the start and the 12 W one at the end: above 0, at most 7 W × duration.
      assert.ok(energy.energyJ > 0 && energy.energyJ <= (7 * (endedAt - startedAt)) / 1000 + 1e-9, String(energy.energyJ));
    });
  });

  test('a battery that vanishes mid-reply: the estimate over the whole window, and the reason', async () => {
    const b = battery(4);
    const e = estimate(7, 2);
    await withSampler({ sources: [b, e], ...fast, idleIntervalMs: 15 }, async (s) => {
      s.start();
      await waitFor('pre-reply samples', () => b.reads >= 3);
      b.powerW = 10;
      const { energy, durationS, meter } = await runReply(s, {
        during: async () => {
          await sleep(80);
          b.state = 'unavailable'; // charger plugged in: the battery stops reading
          await waitFor('the switch to the estimate', () => s.status().activeSourceId === 'estimate');
        },
      });
      assert.ok(replyEnergySchema.safeParse(energy).success);
      assert.equal(energy.measured, false);
      assert.equal(energy.method, 'estimate');
      assert.equal(energy.sourceId, 'estimate');
      assert.equal(energy.sourceLabel, 'estimated');
      assert.equal(energy.fallbackReason, 'battery sensor stopped reading mid-reply (charger plugged in?)');
      assert.equal(energy.baselinePowerW, 2);
      close(energy.energyJ, 5 * durationS, 1e-6); // (7 − 2) W over the whole window
      const ids = new Set(meter.samples().map((x) => x.sourceId));
      assert.ok(ids.has('linux-battery:BAT0') && ids.has('estimate'), [...ids].join());
      assert.equal(s.status().sources[0]!.state, 'unavailable');
    });
  });

  test('garbage readings are ignored: the reply stays measured and exact', async () => {
    const garbage = [Number.NaN, -3, 1e9, Number.POSITIVE_INFINITY, 'ten', undefined];
    let n = 0;
    let level = 4;
    const b = battery(() => (n++ % 2 === 1 ? garbage[n % garbage.length] : level));
    await withSampler({ sources: [b, estimate()], ...fast, idleIntervalMs: 15 }, async (s) => {
      s.start();
      await waitFor('pre-reply samples', () => b.reads >= 8);
      level = 10;
      const { energy, durationS } = await runReply(s);
      assert.equal(energy.measured, true);
      assert.equal(energy.baselinePowerW, 4);
      close(energy.energyJ, 6 * durationS, 1e-6);
      const st = s.status();
      assert.ok(energyStatusSchema.safeParse(st).success);
      assert.ok(st.recent.length > 0);
      assert.ok(st.recent.every((x) => x.powerW === 4 || x.powerW === 10 || (x.sourceId === 'estimate' && x.powerW === 7)), JSON.stringify(st.recent));
      assert.equal(st.sources[0]!.state, 'ok');
    });
  });

  test('a source giving only garbage is marked broken and replaced', async () => {
    const r = rapl(Number.NaN);
    await withSampler({ sources: [r, estimate()], ...fast, idleIntervalMs: 15 }, async (s) => {
      s.start();
      await waitFor('the switch to the estimate', () => s.status().activeSourceId === 'estimate');
      assert.equal(s.status().sources[0]!.state, 'error');
      assert.equal(s.status().sources[0]!.powerW, null);
    });
  });

  test('RAPL: package energy × this process CPU share', async () => {
    const t0 = Date.now();
    await withSampler(
      {
        sources: [rapl(20), estimate()],
        ...fast,
        // The process keeps half a core busy while all CPUs together are 2 cores busy: share 0.25.
        processCpuUsage: () => ({ user: (Date.now() - t0) * 1000 * 0.5, system: 0 }),
        systemCpuTimes: () => ({ busyMs: (Date.now() - t0) * 2, totalMs: (Date.now() - t0) * 4 }),
      },
      async (s) => {
        s.start();
        const { energy, durationS } = await runReply(s);
        assert.ok(replyEnergySchema.safeParse(energy).success);
        assert.equal(energy.method, 'package-cpu-share');
        assert.equal(energy.measured, true);
        assert.equal(energy.sourceId, 'rapl:intel-rapl:0');
        assert.equal(energy.baselinePowerW, 0);
        close(energy.energyJ, 20 * 0.25 * durationS, 0.05);
      },
    );
  });

  test('RAPL without CPU times falls back to the estimate', async () => {
    await withSampler({ sources: [rapl(20), estimate(7, 2)], ...fast, systemCpuTimes: () => null }, async (s) => {
      s.start();
      const { energy, durationS } = await runReply(s);
      assert.equal(energy.method, 'estimate');
      assert.equal(energy.measured, false);
      assert.match(energy.fallbackReason ?? '', /CPU time share unavailable/);
      close(energy.energyJ, 5 * durationS, 1e-6);
    });
  });

  test('estimate only: ∫ (P_est − idle) dt', async () => {
    await withSampler({ sources: [estimate(9.5, 2)], ...fast }, async (s) => {
      s.start();
      const { energy, durationS } = await runReply(s, { tokens: 0 });
      assert.equal(energy.method, 'estimate');
      assert.equal(energy.measured, false);
      assert.equal(energy.fallbackReason, null);
      assert.equal(energy.baselinePowerW, 2);
      assert.equal(energy.energyJPerToken, 0);
      close(energy.energyJ, 7.5 * durationS, 1e-6);
    });
  });

  test('an ok GPU is added on top of the estimate (gpu-whole), never on top of the battery', async () => {
    const g = gpu(10);
    await withSampler({ sources: [g, estimate(7, 2)], ...fast, idleIntervalMs: 15 }, async (s) => {
      s.start();
      await waitFor('GPU idle samples', () => g.reads >= 4);
      g.powerW = 40;
      const { energy, durationS } = await runReply(s);
      assert.ok(replyEnergySchema.safeParse(energy).success);
      assert.equal(energy.method, 'estimate');
      assert.equal(energy.sourceId, 'estimate+nvidia:0');
      assert.equal(energy.sourceLabel, 'estimated + GPU (NVML)');
      assert.equal(energy.baselinePowerW, 12);
      close(energy.energyJ, (5 + 30) * durationS, 1e-6);
    });
    const b = battery(4);
    const g2 = gpu(10);
    await withSampler({ sources: [b, g2, estimate(7, 2)], ...fast, idleIntervalMs: 15 }, async (s) => {
      s.start();
      await waitFor('idle samples', () => b.reads >= 4 && g2.reads >= 4);
      b.powerW = 10;
      g2.powerW = 40;
      const { energy, durationS } = await runReply(s);
      assert.equal(energy.method, 'system-minus-baseline');
      assert.equal(energy.sourceId, 'linux-battery:BAT0');
      close(energy.energyJ, 6 * durationS, 1e-6);
    });
  });

  test("a source whose clock fell behind (suspend/resume) is stamped with the sampler's clock", async () => {
    const b = battery(4);
    b.clockSkewMs = -3_600_000; // its timestamps are an hour behind Date.now()
    await withSampler({ sources: [b, estimate()], ...fast, idleIntervalMs: 15 }, async (s) => {
      s.start();
      await waitFor('pre-reply samples', () => b.reads >= 4);
      b.powerW = 10;
      const { energy, durationS, meter } = await runReply(s);
      assert.equal(energy.baselinePowerW, 4);
      assert.ok(energy.sampleCount >= 5, String(energy.sampleCount));
      close(energy.energyJ, 6 * durationS, 1e-6);
      assert.ok(meter.samples().every((x) => Math.abs(x.at - Date.now()) < 10_000));
    });
  });

  test('with the real EstimateSource: active W per core × CPU seconds, its idlePowerW as the baseline', async () => {
    const t0 = Date.now();
    // Half a core busy all along: 0.5 × 10 W per core = 5 W above the 2 W idle.
    const e = new EstimateSource({ idleW: 2, activeWPerCore: 10, now: () => Date.now(), cpuUsage: () => ({ user: (Date.now() - t0) * 500, system: 0 }) });
    await withSampler({ sources: [e], ...fast }, async (s) => {
      s.start();
      const { energy, durationS } = await runReply(s, { tokens: 10 });
      assert.equal(energy.method, 'estimate');
      assert.equal(energy.baselinePowerW, 2);
      assert.equal(energy.sourceLabel, 'estimated');
      close(energy.energyJ, 5 * durationS, 0.03);
    });
  });

  test('works without start(): readings at beginReply and finish only', async () => {
    const e = estimate(6, 1);
    await withSampler({ sources: [e] }, async (s) => {
      const { energy, durationS } = await runReply(s, { leadMs: 10, durationMs: 50 });
      assert.equal(e.reads, 2);
      close(energy.energyJ, 5 * durationS, 1e-6);
      assert.equal(s.overheadCpuFraction(), 0);
    });
  });
});

describe('PowerSampler: ticks and status', () => {
  test('ticks carry the sample, battery and live reply (J/token); status parses with the contract', async () => {
    const b = battery(4);
    await withSampler(
      { sources: [b, estimate()], ...fast, idleIntervalMs: 15, readBattery: async () => ({ percent: 50, onAc: false, energyWh: 25, capacityWh: 50, status: 'discharging' }) },
      async (s) => {
        const ticks: SamplerTick[] = [];
        s.onTick(() => {
          throw new Error('a broken listener');
        });
        const off = s.onTick((t) => ticks.push(t));
        s.start();
        await waitFor('pre-reply samples', () => b.reads >= 4);
        assert.equal(ticks.at(-1)!.reply, null);
        b.powerW = 10;
        const meter = s.beginReply({ requestId: 'req-1', conversationId: 'conv-1' });
        meter.setCompletionTokens(10);
        await waitFor('live energy', () => (ticks.at(-1)?.reply?.energyJ ?? 0) > 0.3); // 6 W above baseline → 0.3 J in 50 ms
        const live = ticks.at(-1)!;
        assert.ok(powerSampleSchema.safeParse(live.sample).success);
        assert.equal(live.sample.powerW, 10);
        assert.equal(live.battery?.percent, 50);
        assert.equal(live.timeToEmptyMinutes, 150); // 25 Wh at 10 W
        assert.ok(live.reply);
        assert.ok(liveReplyEnergySchema.safeParse(live.reply).success);
        assert.equal(live.reply.requestId, 'req-1');
        assert.equal(live.reply.completionTokens, 10);
        assert.equal(live.reply.measured, true);
        close(live.reply.energyJPerToken!, live.reply.energyJ / 10, 1e-9);

        const st = s.status();
        const parsed = energyStatusSchema.safeParse(st);
        assert.ok(parsed.success, parsed.success ? '' : JSON.stringify(parsed.error.issues));
        assert.equal(st.reply?.requestId, 'req-1');
        assert.equal(st.sampleIntervalMs, 20);
        assert.ok(st.recent.length >= 5);
        for (let i = 1; i < st.recent.length; i++) assert.ok(st.recent[i]!.at >= st.recent[i - 1]!.at);
        assert.equal(st.sources[0]!.powerW, 10);

        await meter.finish({ startedAt: Date.now() - 150, endedAt: Date.now(), completionTokens: 10 });
        assert.equal(s.status().reply, null);
        off();
        const count = ticks.length;
        await sleep(60);
        assert.equal(ticks.length, count);
        // Its bound (a small fraction of a core) is measured by `npm run bench` (bench/sampler.ts), not here.
        assert.ok(s.overheadCpuFraction() >= 0 && s.overheadCpuFraction() <= 1, String(s.overheadCpuFraction()));
      },
    );
  });

  test('the recent trace keeps only recentWindowMs, oldest first', async () => {
    const clock = new ManualClock();
    await withSampler({ sources: [battery(5), estimate()], activeIntervalMs: 10, idleIntervalMs: 10, recentWindowMs: 100, ...clock.options() }, async (s) => {
      let ticks = 0;
      s.onTick(() => ticks++);
      s.start();
      await clock.advance(300);
      assert.equal(ticks, 31);
      const now = clock.now();
      const recent = s.status().recent;
      assert.ok(recent.length >= 1 && recent.length < ticks, `kept ${recent.length} of ${ticks}`);
      assert.ok(recent.every((x) => x.at >= now - 100 && x.at <= now), JSON.stringify(recent.map((x) => now - x.at)));
      for (let i = 1; i < recent.length; i++) assert.ok(recent[i]!.at >= recent[i - 1]!.at);
    });
  });

  test('stop(): no more ticks, sources disposed, replies still finish', async () => {
    const b = battery(5);
    const e = estimate(7, 2);
    const s = await PowerSampler.create({ sources: [b, e], ...fast, activeIntervalMs: 10 });
    let ticks = 0;
    s.onTick(() => ticks++);
    s.start();
    const meter = s.beginReply({ requestId: 'r', conversationId: 'c' });
    await sleep(60);
    await s.stop();
    assert.ok(b.disposed && e.disposed);
    const count = ticks;
    const reads = b.reads;
    await sleep(80);
    assert.equal(ticks, count);
    assert.equal(b.reads, reads);
    const energy = await meter.finish({ startedAt: Date.now() - 50, endedAt: Date.now(), completionTokens: 1 });
    assert.ok(replyEnergySchema.safeParse(energy).success);
    await s.stop(); // idempotent
  });

  test('timers never keep the process alive (with and without stop())', () => {
    const url = pathToFileURL(join(repoRoot, 'electron/telemetry/sampler.ts')).href;
    const source = (callStop: boolean) => `
      import { PowerSampler } from ${JSON.stringify(url)};
      const est = { id: 'estimate', kind: 'estimate', label: 'estimated', scope: 'process-estimate', idlePowerW: 1,
        probe: async () => ({ state: 'ok', detail: null, fix: null }),
        read: async () => ({ sourceId: 'estimate', at: Date.now(), powerW: 3, measured: false }),
        dispose: async () => {} };
      const s = await PowerSampler.create({ sources: [est] }); // default 1 s / 5 s intervals
      s.start();
      const m = s.beginReply({ requestId: 'r', conversationId: 'c' });
      const t = Date.now();
      await new Promise((r) => setTimeout(r, 50));
      const e = await m.finish({ startedAt: t, endedAt: Date.now(), completionTokens: 2 });
      s.beginReply({ requestId: 'left-running', conversationId: 'c' });
      ${callStop ? 'await s.stop();' : ''}
      console.log(JSON.stringify(e));
    `;
    for (const callStop of [true, false]) {
      const started = Date.now();
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', source(callStop)], { cwd: repoRoot, encoding: 'utf8', timeout: 20_000 });
      assert.equal(r.status, 0, `exit ${r.status} signal ${r.signal}: ${r.stderr}`);
      const energy = replyEnergySchema.parse(JSON.parse(r.stdout.trim().split('\n').at(-1)!));
      assert.equal(energy.method, 'estimate');
      assert.ok(energy.energyJ > 0);
      assert.ok(Date.now() - started < 15_000);
    }
  });
});

describe('PowerSampler: OS power events', () => {
  test('notifyPowerChange re-probes at once instead of waiting for the next slow tick', async () => {
    const bat = battery(12);
    const est = estimate();
    // Idle ticks every 10 s and re-probes every 60 s: only the notification can explain a quick switch.
    await withSampler({ sources: [bat, est], activeIntervalMs: 10_000, idleIntervalMs: 10_000, reprobeIntervalMs: 60_000 }, async (sampler) => {
      sampler.start();
      await sleep(50);
      assert.equal(sampler.status().activeSourceLabel, 'battery sensor');
      bat.state = 'unavailable'; // charger plugged in: the battery no longer reads whole-system power
      const probesBefore = bat.probes;
      sampler.notifyPowerChange();
      for (let i = 0; i < 50 && sampler.status().activeSourceLabel !== 'estimated'; i++) await sleep(10);
      assert.ok(bat.probes > probesBefore, 're-probed');
      assert.equal(sampler.status().activeSourceLabel, 'estimated');
    });
  });
});

describe('PowerSampler: idle baseline in status()', () => {
  test('the estimate: its idle power; a battery: the median of its idle readings', async () => {
    await withSampler({ sources: [estimate(7, 2.5)], ...fast }, async (sampler) => {
      assert.equal(sampler.status().idleBaselinePowerW, 2.5);
    });
    let w = 9;
    const bat = battery(() => (w = w === 9 ? 11 : 9)); // alternates 11, 9, 11, ... → median 10
    await withSampler({ sources: [bat, estimate()], activeIntervalMs: 10, idleIntervalMs: 10 }, async (sampler) => {
      sampler.start();
      for (let i = 0; i < 100 && bat.reads < 6; i++) await sleep(10);
      const baseline = sampler.status().idleBaselinePowerW;
      assert.ok(baseline !== null && baseline >= 9 && baseline <= 11, `median of idle readings: ${baseline}`);
      assert.equal(sampler.status().activeSourceLabel, 'battery sensor');
    });
    await withSampler({ sources: [rapl(), estimate()], ...fast }, async (sampler) => {
      assert.equal(sampler.status().idleBaselinePowerW, null, 'a package counter is shared by CPU time instead');
    });
  });
});
