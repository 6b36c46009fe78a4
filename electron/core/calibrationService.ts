/**
 * The calibration bench as a service: estimates, runs (one at a time, in the background, cancellable),
 * progress events, the energy of each decode run from the telemetry in effect, and the results kept per
 * model file in the store. The engine does the measuring (`ChatEngine.benchmark`); this file decides
 * what to measure, when, and what to keep.
 *
 * Never beside a reply: a run waits while one is being written, and a reply that starts during a run
 * pre-empts it (the variant in progress is cancelled and measured again afterwards). Optionally runs by
 * itself when on AC and idle (setting `calibration.autoWhenIdleOnAc`).
 *
 * No Electron imports: the CLI (`calibrate`) and the browser mode use it too.
 */
import { randomUUID } from 'node:crypto';
import type { CalibrationEstimate, CalibrationPhase, CalibrationResult, CalibrationStatus, GovernorCandidate, ModelInfo } from '../../shared/contract.js';
import type { BenchmarkMeasurement, ChatEngine } from '../engine/types.js';
import { BenchmarkAbortedError } from '../engine/modelBench.js';
import { fileFingerprint } from '../models/fileIdentity.js';
import { readModelInfo } from '../models/catalog.js';
import type { Store } from '../store/store.js';
import type { PowerSampler, ReplyMeter } from '../telemetry/sampler.js';
import { heldOutText } from './resources.js';

/** Run lengths: the sustained decode of a full and a quick run, ms, and the least tokens either decodes. */
export const FULL_DECODE_MS = 60_000;
export const QUICK_DECODE_MS = 1_500;
export const MIN_DECODE_TOKENS = 16;
/**
 * Sixty seconds of full-speed decoding is long enough for a laptop to leave its boost budget (Intel's
 * PL2 "Tau" window is 28–56 s by default; Apple silicon and AMD throttle on temperature within a minute
 * of sustained load), so the last quarter shows the sustained speed. Quick runs (1.5 s) are for a first
 * look and for tests.
 */
export const SUSTAINED_DECODE_REASON = 'first vs last quarter of a 60 s decode';

/** Prompt tokens of the prefill measurement (llama-bench's pp512). */
export const PREFILL_TOKENS = 512;
/** Context of the bench: scoring windows and decode, tokens (capped at each model's training context). */
export const BENCH_CONTEXT_SIZE = 1024;

/**
 * Fixed cost of one variant beyond its measurements (model checks, context creation, the decode's prompt
 * re-evaluations, bookkeeping), ms: 1.5 s, from quick runs of the kit's tiny models on a 2-core VM
 * (3–3.5 s each, of which the measurements the estimate counts were ≈ 2 s).
 */
const OVERHEAD_MS = 1500;
/** Assumed cold read speed of a model file for the load estimate, bytes/s (a laptop NVMe SSD reads 1–3 GB/s). */
const ASSUMED_LOAD_BYTES_PER_SECOND = 1e9;
/** The held-out text's tokens per byte for the estimate (English ≈ 4 bytes/token; smaller vocabularies more). */
const ESTIMATE_TOKENS_PER_BYTE = 0.3;

/** Options of {@link CalibrationService}. */
export interface CalibrationServiceOptions {
  store: Store;
  engine: ChatEngine;
  sampler: PowerSampler | null;
  /** The usable installed models, and the governor's current predictions for them (for estimates). */
  models: () => Promise<{ models: ModelInfo[]; candidates: GovernorCandidate[] }>;
  /** Threads from Settings (null = the calibrated best per model). */
  threads: () => number | null;
  /** True while a reply is being written. */
  replyInFlight: () => boolean;
  /** Resolves when no reply is being written. */
  repliesIdle: () => Promise<void>;
  /** Pushes a progress event. */
  emit: (status: CalibrationStatus) => void;
  /** A run measured something: the governor's decision may change. */
  onResults: () => void;
  now?: () => number;
}

interface RunState {
  status: CalibrationStatus;
  controller: AbortController | null;
  /** The reason of the current variant's abort: `cancel` (the user) or `preempt` (a reply). */
  abortReason: 'cancel' | 'preempt' | null;
  cancelled: boolean;
  /** Aborted by `cancel()`: ends a wait for a reply at once. */
  cancelSignal: AbortController;
  done: Promise<void>;
}

/** Error thrown for a second run while one is going: the backend turns it into BUSY. */
export class CalibrationBusyError extends Error {
  override readonly name = 'CalibrationBusyError';
  constructor() {
    super('A calibration is already running. Cancel it or wait for it to finish.');
  }
}

/** A path to calibrate that is not a usable installed model (NOT_FOUND), or none to calibrate (NO_MODEL). */
export class CalibrationInputError extends Error {
  override readonly name = 'CalibrationInputError';
  constructor(
    readonly code: 'NOT_FOUND' | 'NO_MODEL',
    message: string,
  ) {
    super(message);
  }
}

/** Error thrown when the engine has no benchmark (a scripted engine). */
export class CalibrationUnsupportedError extends Error {
  override readonly name = 'CalibrationUnsupportedError';
}

/** The service. One per backend. */
export class CalibrationService {
  private run: RunState | null = null;
  private lastEmit = 0;
  private autoTimer: ReturnType<typeof setInterval> | null = null;
  private lastActivityAt: number;
  private holds = 0;
  private holdWaiters: Array<() => void> = [];

  constructor(private readonly options: CalibrationServiceOptions) {
    this.lastActivityAt = this.now();
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** The run in progress, or the last one of this process; null before any. */
  status(): CalibrationStatus | null {
    return this.run ? structuredClone(this.run.status) : null;
  }

  /** True while a run is going. */
  running(): boolean {
    return this.run?.status.state === 'running';
  }

  /**
   * The stored results of the installed usable models (this machine), newest first; a renamed or copied
   * file is found by its identity and shown at its current path.
   */
  async results(models?: ModelInfo[]): Promise<CalibrationResult[]> {
    const list = models ?? (await this.options.models()).models;
    const out: CalibrationResult[] = [];
    for (const m of list) {
      const r = await this.resultFor(m.path);
      if (r) out.push({ ...r, modelPath: m.path, fileName: m.fileName });
    }
    return out.sort((a, b) => b.measuredAt - a.measuredAt || a.modelPath.localeCompare(b.modelPath));
  }

  /** The stored result for the file at `modelPath` (by its identity), or null. Never throws. */
  async resultFor(modelPath: string): Promise<CalibrationResult | null> {
    try {
      return this.options.store.calibrations.get(await fileFingerprint(modelPath));
    } catch {
      return null;
    }
  }

  /**
   * How long calibrating `modelPaths` (default: every usable installed model) would take, per variant:
   * load (the median stored load time, else size at 1 GB/s), thread calibration when none is stored
   * (≈ 3 trials of 28 tokens), scoring the held-out text at the predicted prefill speed (×1.5 for the
   * overlapping windows), the 512-token prefill, the sustained decode (60 s, or 1.5 s quick), and 0.5 s.
   * @throws CalibrationInputError naming a path that is not a usable installed model.
   */
  async estimate(input: { modelPaths?: string[]; quick?: boolean; anyFile?: boolean } = {}): Promise<CalibrationEstimate> {
    const quick = input.quick ?? false;
    const { models, candidates } = await this.options.models();
    const chosen = await selectModels(models, input.modelPaths, input.anyFile ?? false);
    const text = heldOutText();
    const variants = chosen.map((m) => {
      const c = candidates.find((x) => x.modelPath === m.path);
      const decode = Math.max(0.5, c?.predicted.decodeTokensPerSecond ?? 5);
      const prefill = Math.max(decode, c?.predicted.prefillTokensPerSecond ?? decode * 10);
      const load = this.options.store.modelLoadCosts(m.path)?.medianLoadMs ?? (m.sizeBytes / ASSUMED_LOAD_BYTES_PER_SECOND) * 1000;
      const threads = this.options.store.getThreadCalibration(m.path, m.sizeBytes) ? 0 : 3 * (28 / decode) * 1000;
      const scoring = ((text.bytes * ESTIMATE_TOKENS_PER_BYTE * 1.5) / prefill) * 1000;
      const prefillMs = (PREFILL_TOKENS / prefill) * 1000;
      const decodeMs = Math.max(quick ? QUICK_DECODE_MS : FULL_DECODE_MS, (MIN_DECODE_TOKENS / decode) * 1000);
      return { modelPath: m.path, name: m.name, quantization: m.quantization, estimatedMs: Math.round(load + threads + scoring + prefillMs + decodeMs + OVERHEAD_MS) };
    });
    return { variants, totalMs: variants.reduce((s, v) => s + v.estimatedMs, 0), quick };
  }

  /**
   * Starts a run in the background and returns its first status; progress comes through `emit`.
   * @throws CalibrationBusyError when a run is going; CalibrationUnsupportedError when the engine cannot
   *   benchmark; CalibrationInputError for an unknown path or no usable model.
   */
  async start(input: { modelPaths?: string[]; quick?: boolean; anyFile?: boolean } = {}): Promise<CalibrationStatus> {
    if (this.running()) throw new CalibrationBusyError();
    if (!this.options.engine.benchmark) throw new CalibrationUnsupportedError('This engine cannot calibrate models');
    const estimate = await this.estimate(input);
    if (estimate.variants.length === 0) throw new CalibrationInputError('NO_MODEL', 'No usable model to calibrate: put a .gguf file in the models folder');
    if (this.running()) throw new CalibrationBusyError();
    const status: CalibrationStatus = {
      runId: randomUUID(),
      state: 'running',
      quick: estimate.quick,
      variants: estimate.variants.map((v) => ({ ...v, state: 'pending', phase: null, fraction: 0, error: null })),
      fraction: 0,
      estimatedMs: estimate.totalMs,
      startedAt: this.now(),
      endedAt: null,
      waiting: null,
    };
    const run: RunState = { status, controller: null, abortReason: null, cancelled: false, cancelSignal: new AbortController(), done: Promise.resolve() };
    this.run = run;
    run.done = this.execute(run).catch((error: unknown) => {
      run.status.state = 'failed';
      run.status.endedAt = this.now();
      for (const v of run.status.variants) if (v.state === 'pending' || v.state === 'running') v.state = 'failed';
      const message = error instanceof Error ? error.message : String(error);
      for (const v of run.status.variants) if (v.state === 'failed' && v.error === null) v.error = message;
      this.emit(true);
    });
    this.emit(true);
    return structuredClone(status);
  }

  /** Resolves when the current run (if any) has ended. */
  async idle(): Promise<void> {
    await this.run?.done;
  }

  /** Cancels the run in progress; results already measured are kept. @returns whether one was running. */
  cancel(): boolean {
    const run = this.run;
    if (!run || run.status.state !== 'running') return false;
    run.cancelled = true;
    run.abortReason = 'cancel';
    run.controller?.abort();
    run.cancelSignal.abort();
    return true;
  }

  /**
   * A reply is about to start: the variant being measured is cancelled (and measured again later), and
   * the run waits until every hold is released. Call the returned function when the reply has ended (or
   * failed to start); extra calls do nothing.
   */
  hold(): () => void {
    this.holds++;
    this.noteActivity();
    const run = this.run;
    if (run && run.status.state === 'running' && run.controller) {
      run.abortReason = 'preempt';
      run.controller.abort();
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
      if (this.holds === 0) {
        const waiters = this.holdWaiters;
        this.holdWaiters = [];
        for (const w of waiters) w();
      }
    };
  }

  private waitForHolds(): Promise<void> {
    return this.holds === 0 ? Promise.resolve() : new Promise((resolve) => this.holdWaiters.push(resolve));
  }

  /** Something the user did (a message): the idle timer of automatic calibration starts over. */
  noteActivity(): void {
    this.lastActivityAt = this.now();
  }

  /**
   * Automatic calibration: every `checkEveryMs` (default 60 s), when `enabled()`, on AC, idle for
   * `idleMs` (default 10 min) and no run is going, calibrates the usable models that have no result yet
   * (full runs). The timer is unref'd. Call the returned function to stop.
   */
  startAuto(options: { enabled: () => boolean; onAc: () => boolean; idleMs?: number; checkEveryMs?: number }): () => void {
    const idleMs = options.idleMs ?? 10 * 60_000;
    const tick = async () => {
      if (!options.enabled() || !options.onAc() || this.running() || this.holds > 0 || this.options.replyInFlight()) return;
      if (this.now() - this.lastActivityAt < idleMs) return;
      const { models } = await this.options.models();
      const missing: string[] = [];
      for (const m of models) if (!(await this.resultFor(m.path))) missing.push(m.path);
      if (missing.length > 0 && !this.running()) await this.start({ modelPaths: missing, quick: false }).catch(() => undefined);
    };
    this.autoTimer = setInterval(() => void tick().catch(() => undefined), options.checkEveryMs ?? 60_000);
    this.autoTimer.unref();
    return () => this.stopAuto();
  }

  /** Stops automatic calibration. */
  stopAuto(): void {
    if (this.autoTimer) clearInterval(this.autoTimer);
    this.autoTimer = null;
  }

  /** Cancels the run and waits for it to end (shutdown). */
  async dispose(): Promise<void> {
    this.stopAuto();
    this.cancel();
    await this.idle();
  }

  // -------------------------------------------------------------------------------------------

  private emit(force = false): void {
    const run = this.run;
    if (!run) return;
    const now = this.now();
    if (!force && now - this.lastEmit < 200) return;
    this.lastEmit = now;
    const st = run.status;
    const total = st.variants.reduce((s, v) => s + Math.max(1, v.estimatedMs), 0);
    const done = st.variants.reduce((s, v) => s + Math.max(1, v.estimatedMs) * (v.state === 'done' || v.state === 'failed' ? 1 : v.fraction), 0);
    st.fraction = Math.min(1, Math.max(0, total > 0 ? done / total : 0));
    try {
      this.options.emit(structuredClone(st));
    } catch {
      // A broken listener must not stop the run.
    }
  }

  private async execute(run: RunState): Promise<void> {
    const st = run.status;
    const text = heldOutText();
    const benchmark = this.options.engine.benchmark!.bind(this.options.engine);
    let index = 0;
    while (index < st.variants.length) {
      if (run.cancelled) break;
      const variant = st.variants[index]!;
      while ((this.holds > 0 || this.options.replyInFlight()) && !run.cancelled) {
        st.waiting = 'waiting for the reply to finish';
        this.emit(true);
        const cancelled = new Promise<void>((resolve) => run.cancelSignal.signal.addEventListener('abort', () => resolve(), { once: true }));
        await Promise.race([this.waitForHolds().then(() => this.options.repliesIdle()), cancelled]);
      }
      if (st.waiting !== null) {
        st.waiting = null;
        this.emit(true);
      }
      if (run.cancelled) break;
      variant.state = 'running';
      variant.phase = 'load';
      variant.fraction = 0;
      variant.error = null;
      this.emit(true);
      const controller = new AbortController();
      run.controller = controller;
      run.abortReason = null;
      let meter: ReplyMeter | null = null;
      const phases: CalibrationPhase[] = ['load', 'threads', 'bits-per-byte', 'prefill', 'decode'];
      // Share of a variant's time per phase, for its progress bar (the decode dominates a full run).
      const weights = st.quick ? [0.2, 0.1, 0.3, 0.1, 0.3] : [0.05, 0.05, 0.1, 0.05, 0.75];
      try {
        const measured = await benchmark({
          modelPath: variant.modelPath,
          text: text.text,
          contextSize: BENCH_CONTEXT_SIZE,
          threads: this.options.threads(),
          prefillTokens: PREFILL_TOKENS,
          decodeDurationMs: st.quick ? QUICK_DECODE_MS : FULL_DECODE_MS,
          decodeMinTokens: MIN_DECODE_TOKENS,
          signal: controller.signal,
          onProgress: (phase, fraction) => {
            if (phase === 'decode' && fraction === 0 && !meter) {
              meter = this.options.sampler?.beginReply({ requestId: `calibration:${st.runId}:${index}`, conversationId: 'calibration' }) ?? null;
            }
            const i = phases.indexOf(phase);
            const before = weights.slice(0, i).reduce((a, b) => a + b, 0);
            variant.phase = phase;
            variant.fraction = Math.min(0.999, before + weights[i]! * Math.min(1, Math.max(0, fraction)));
            this.emit();
          },
        });
        const decodeMeter = meter as ReplyMeter | null;
        const energy = decodeMeter
          ? await decodeMeter.finish({ startedAt: measured.decodeStartedAt, endedAt: measured.decodeEndedAt, completionTokens: measured.decodeTokensTotal })
          : null;
        await this.save(variant.modelPath, measured, text.id, st.quick, energy);
        variant.state = 'done';
        variant.phase = null;
        variant.fraction = 1;
        index++;
        this.options.onResults();
      } catch (error) {
        (meter as ReplyMeter | null)?.cancel();
        if (error instanceof BenchmarkAbortedError || controller.signal.aborted) {
          if (run.abortReason === 'preempt' && !run.cancelled) {
            // Measured again after the reply.
            variant.state = 'pending';
            variant.phase = null;
            variant.fraction = 0;
            continue;
          }
          break;
        }
        variant.state = 'failed';
        variant.phase = null;
        variant.error = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? 'failed';
        index++;
      } finally {
        run.controller = null;
        this.emit(true);
      }
    }
    const cancelled = run.cancelled;
    for (const v of st.variants) {
      if (v.state === 'pending' || v.state === 'running') {
        v.state = 'cancelled';
        v.phase = null;
      }
    }
    st.state = cancelled ? 'cancelled' : st.variants.every((v) => v.state === 'failed') ? 'failed' : 'done';
    st.endedAt = this.now();
    st.waiting = null;
    this.emit(true);
  }

  private async save(
    modelPath: string,
    m: BenchmarkMeasurement,
    textId: string,
    quick: boolean,
    energy: { energyJPerToken: number; avgPowerW: number; sourceLabel: string; measured: boolean } | null,
  ): Promise<void> {
    const { models } = await this.options.models();
    const info = models.find((x) => x.path === modelPath) ?? (await readModelInfo(modelPath));
    const fileKey = await fileFingerprint(modelPath);
    const result: CalibrationResult = {
      modelPath,
      fileKey,
      fileName: info.fileName,
      modelName: info.name,
      quantization: info.quantization,
      sizeBytes: info.sizeBytes,
      parameterCount: info.parameterCount,
      bitsPerByte: m.bitsPerByte,
      textId,
      scoredTokens: m.scoredTokens,
      scoredBytes: m.scoredBytes,
      bitsPerByteTokensPerSecond: finite(m.bitsPerByteTokensPerSecond),
      loadMs: finite(m.loadMs),
      threads: m.threads,
      prefillTokens: m.prefillTokens,
      prefillTokensPerSecond: finite(m.prefillTokensPerSecond),
      decodeTokens: m.decodeTokens,
      decodeTokensPerSecond: finite(m.decodeTokensPerSecond),
      sustainedDurationMs: finite(m.sustainedDurationMs),
      sustainedFirstQuarterTokensPerSecond: finite(m.sustainedFirstQuarterTokensPerSecond),
      sustainedLastQuarterTokensPerSecond: finite(m.sustainedLastQuarterTokensPerSecond),
      sustainedSlowdown:
        m.sustainedFirstQuarterTokensPerSecond > 0 ? 1 - m.sustainedLastQuarterTokensPerSecond / m.sustainedFirstQuarterTokensPerSecond : 0,
      energyJPerToken: energy && m.decodeTokensTotal > 0 ? energy.energyJPerToken : null,
      avgPowerW: energy ? energy.avgPowerW : null,
      energySource: energy ? energy.sourceLabel : null,
      energyMeasured: energy ? energy.measured : null,
      peakRssBytes: Math.round(m.peakRssBytes),
      baselineRssBytes: Math.round(m.baselineRssBytes),
      quick,
      measuredAt: this.now(),
    };
    this.options.store.calibrations.save(result);
  }
}

/**
 * `modelPaths` (default: every installed usable model), in the given order. Only installed usable models,
 * with one answer for anything else (so the API never tells whether some other file exists); with
 * `anyFile` (the CLI's `--model FILE`, in-process and trusted) a file elsewhere is read from its header.
 * @throws CalibrationInputError NOT_FOUND.
 */
async function selectModels(models: ModelInfo[], modelPaths: string[] | undefined, anyFile: boolean): Promise<ModelInfo[]> {
  if (!modelPaths) return models;
  const out: ModelInfo[] = [];
  for (const p of modelPaths) {
    const installed = models.find((x) => x.path === p);
    if (installed) {
      out.push(installed);
      continue;
    }
    if (!anyFile) throw new CalibrationInputError('NOT_FOUND', `Not an installed, usable model: ${p}`);
    const info = await readModelInfo(p);
    if (!info.usable) throw new CalibrationInputError('NOT_FOUND', `${p}: ${info.problem ?? 'not a usable GGUF model'}`);
    out.push(info);
  }
  return out;
}

function finite(x: number): number {
  return Number.isFinite(x) && x >= 0 ? x : 0;
}
