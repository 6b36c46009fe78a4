/**
 * `LlamaEngine`: the real {@link ChatEngine}, on node-llama-cpp (llama.cpp). No Electron imports.
 *
 * - One model is loaded at a time. Loads, swaps and generations run one after another through a promise
 *   queue; asking for another model (a `load`, or a `generate` with another `modelPath`) first aborts the
 *   generation in flight and any queued for the old model, which then resolve with `stopReason: 'abort'`.
 * - Before a load: the file must exist (`NOT_FOUND`), its header must be usable (`readModelInfo`,
 *   `MODEL_INVALID`), and node-llama-cpp's estimate of model + context memory must fit in free memory
 *   (`MODEL_TOO_LARGE`). A file that fails these checks leaves the current model loaded.
 * - One context + sequence per (model, context size, threads) is kept between replies, so the KV cache of
 *   the previous turn is reused and only the new turn is evaluated (prefill).
 * - Threads: `threads: null` means the calibrated best for this model file on this machine (see
 *   ./threadCalibration.ts): taken from the {@link CalibrationStore}, or measured on first load.
 */
import { stat } from 'node:fs/promises';
import os from 'node:os';
import { resolve } from 'node:path';
import {
  getLlama,
  GgufInsights,
  InsufficientMemoryError,
  LlamaChat,
  readGgufFileInfo,
  resolveChatWrapper,
  type ChatWrapper,
  type Llama,
  type LlamaContext,
  type LlamaLogLevel,
  type LlamaModel,
  type Token,
} from 'node-llama-cpp';
import si from 'systeminformation';
import type { EngineStatus, ModelInfo, ThreadCalibration } from '../../shared/contract.js';
import { formatGiB, readModelInfo } from '../models/catalog.js';
import { statKey, type FactCache } from '../models/fileIdentity.js';
import {
  chooseBestThreads,
  decodeSpeed,
  THREAD_TIE_TOLERANCE,
  defaultThreadCandidates,
  normalizeThreadCandidates,
  type ThreadTrial,
} from './threadCalibration.js';
import {
  EngineError,
  type CalibrationStore,
  type ChatEngine,
  type GenerateRequest,
  type GenerateResult,
  type BenchmarkMeasurement,
  type BenchmarkRequest,
  type MemoryFit,
  type PromptCountRequest,
  type SamplingOptions,
} from './types.js';
import { MAX_BYTES_PER_TOKEN, reason, runChat, runCompletion, toChatHistory, trimToBytes, type GenerationSession } from './generation.js';
import { promptTokenCount } from './contextOverflow.js';
import { BenchmarkAbortedError, measureBitsPerByte, measureDecode, measurePrefill, scoringTokens, trackPeakRss } from './modelBench.js';
import { EngineStatusTracker } from './engineStatus.js';
import { createTokenizerGuard, installTokenizerGuard, type TokenizerGuard, type VocabularyInfo } from './tokenizerGuard.js';

/** Re-exported for callers that import the guard from the engine (it lives in ./tokenizerGuard.ts). */
export { createTokenizerGuard, type TokenizerGuard, type VocabularyInfo } from './tokenizerGuard.js';
/** Re-exported for callers that import them from the engine (they live in ./generation.ts and ./types.ts). */
export { MAX_BYTES_PER_TOKEN, trimToBytes, toChatHistory } from './generation.js';
export type { SamplingOptions } from './types.js';

/** llama.cpp log levels, most to least severe after `disabled` (node-llama-cpp's `LlamaLogLevel` values). */
export type EngineLogLevel = 'disabled' | 'fatal' | 'error' | 'warn' | 'info' | 'log' | 'debug';

/** Options of {@link LlamaEngine.create}. */
export interface LlamaEngineOptions {
  /** Where thread calibrations are read from and saved to. */
  calibrationStore: CalibrationStore;
  /** `'auto'` (default): the best GPU backend node-llama-cpp finds, else CPU. `false`: CPU only (tests). */
  gpu?: 'auto' | false;
  /** Minimum llama.cpp log level printed (to the console). Default `'warn'`; info and debug are dropped. */
  logLevel?: EngineLogLevel;
  /**
   * Thread counts to calibrate, given the physical core count. Default: {@link defaultThreadCandidates}.
   * The result is cleaned (whole, ≥ 1, ≤ logical CPUs, deduplicated).
   */
  calibrationCandidates?: (physicalCores: number) => number[];
  /**
   * Free memory to assume, in bytes, instead of `os.freemem()` (+ what unloading the current model frees)
   * and free VRAM. For tests of `MODEL_TOO_LARGE`.
   */
  memoryLimitBytes?: number;
  /** Sampling settings for every reply. */
  sampling?: SamplingOptions;
  /**
   * A persistent cache of CPU-only memory estimates per context size (the store's `model_facts`), so a
   * governor decision after a restart does not estimate every model again. Not used with a GPU (the
   * layers offloaded depend on free VRAM).
   */
  estimateCache?: (contextSize: number) => FactCache<MemoryEstimate>;
}

/** node-llama-cpp's memory estimate of a model + one context, bytes, and the layers it would offload. */
export interface MemoryEstimate {
  ram: number;
  vram: number;
  gpuLayers: number;
}

/** Version of {@link LlamaEngine}'s memory estimate: persistent caches are valid only for the same one (bump with node-llama-cpp). */
export const MEMORY_ESTIMATE_VERSION = 'node-llama-cpp-3.22-v1';

/** Context size used by `load()` when none is given (the settings default, `settingsSchema` in shared/contract.ts). */
export const DEFAULT_CONTEXT_SIZE = 2048;

/** Calibration: text decoded from (any language model continues it), tokens decoded and not timed, timed. */
const CALIBRATION_PROMPT = 'Once upon a time, there was a little';
const CALIBRATION_WARMUP_TOKENS = 4;
const CALIBRATION_TIMED_TOKENS = 24;
/** A trial stops early after this long (a big model on a slow machine), in ms. */
const CALIBRATION_TRIAL_MAX_MS = 10_000;
/** Context size of calibration contexts, in tokens (prompt + 28 tokens fit; llama.cpp pads to 256). */
const CALIBRATION_CONTEXT_SIZE = 256;

/** How long a memory estimate stays valid with a GPU (free VRAM changes), ms. */
const GPU_ESTIMATE_TTL_MS = 30_000;

/** A loaded model and the context currently used with it. */
interface LoadedModel {
  path: string;
  info: ModelInfo;
  model: LlamaModel;
  /** The calibrated (or stored) best thread count; `null` until needed. */
  bestThreads: number | null;
  session: Session | null;
  /** Set for vocabularies that cannot encode every character (see {@link createTokenizerGuard}). */
  guard: TokenizerGuard | null;
  /** The file's identity when loaded (device, inode, size, mtime): a changed file is loaded again. */
  fileVersion: string;
  /** The model's chat template, resolved once for counting prompt tokens. */
  chatWrapper?: ChatWrapper;
}

/** A context + sequence + chat (see ./generation.ts). */
type Session = GenerationSession;

/** A generation that may be aborted by a swap: queued or running. */
interface PendingGeneration {
  modelPath: string;
  controller: AbortController;
}

/** Thrown inside a task when the generation was aborted before it started. */
class AbortedBeforeStart extends Error {}

/** Whole milliseconds since the epoch. */
const nowMs = () => Math.round(Date.now());

/**
 * node-llama-cpp's {@link ChatEngine}. Create with {@link LlamaEngine.create}; call {@link dispose} when done.
 */
export class LlamaEngine implements ChatEngine {
  private readonly tracker = new EngineStatusTracker();
  private queue: Promise<unknown> = Promise.resolve();
  private current: LoadedModel | null = null;
  private readonly pending = new Set<PendingGeneration>();
  private disposed = false;
  private physicalCoresValue: number | null = null;
  private readonly estimateCache = new Map<string, { version: string; at: number; estimate: { ram: number; vram: number; gpuLayers: number } }>();

  private constructor(
    private readonly llama: Llama,
    private readonly options: LlamaEngineOptions,
  ) {}

  /**
   * Starts llama.cpp (`getLlama`: prebuilt or local binaries only, never a download or build at run time)
   * and returns an idle engine. Rejects with {@link EngineError} `MODEL_LOAD_FAILED` when no usable
   * llama.cpp binary is found.
   */
  static async create(options: LlamaEngineOptions): Promise<LlamaEngine> {
    const logLevel = (options.logLevel ?? 'warn') as LlamaLogLevel;
    let llama: Llama;
    try {
      llama = await getLlama({
        gpu: options.gpu ?? 'auto',
        logLevel,
        build: 'never',
        skipDownload: true,
        progressLogs: false,
        // 0 = no cap: the `threads` given to each context is then exactly the number llama.cpp uses.
        maxThreads: 0,
        // Every native log line goes to stderr (node-llama-cpp's default prints info lines with
        // console.info, i.e. stdout): a command's stdout stays its output (`chat --json` is one JSON document).
        logger: (level, message) => {
          const text = message.endsWith('\n') ? message : `${message}\n`;
          process.stderr.write(`[llama.cpp ${level}] ${text}`);
        },
      });
    } catch (err) {
      throw new EngineError('MODEL_LOAD_FAILED', `cannot start llama.cpp: ${reason(err)}`, { cause: err });
    }
    return new LlamaEngine(llama, options);
  }

  // -------------------------------------------------------------------------------------------
  // Status
  // -------------------------------------------------------------------------------------------

  /** {@inheritDoc ChatEngine.status} */
  status(): EngineStatus {
    return this.tracker.get();
  }

  /** {@inheritDoc ChatEngine.onStatus} */
  onStatus(listener: (status: EngineStatus) => void): () => void {
    return this.tracker.subscribe(listener);
  }

  private setStatus(patch: Partial<EngineStatus>): void {
    this.tracker.set(patch);
  }


  private setReady(): void {
    const loaded = this.current;
    this.setStatus({
      state: loaded ? 'ready' : 'idle',
      modelPath: loaded?.path ?? null,
      loadProgress: null,
      threads: loaded?.session?.context.currentThreads ?? loaded?.session?.threads ?? loaded?.bestThreads ?? null,
      error: null,
    });
  }

  // -------------------------------------------------------------------------------------------
  // Queue
  // -------------------------------------------------------------------------------------------

  /** Runs `task` after every task queued before it. */
  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Aborts the generations (running or queued) that are not for `modelPath`. */
  private abortOthers(modelPath: string): void {
    for (const p of this.pending) {
      if (p.modelPath !== modelPath) p.controller.abort(new Error('model swapped'));
    }
  }

  private ensureNotDisposed(code: 'MODEL_LOAD_FAILED' | 'GENERATION_FAILED'): void {
    if (this.disposed) throw new EngineError(code, 'the engine has been disposed');
  }

  // -------------------------------------------------------------------------------------------
  // Public API
  // -------------------------------------------------------------------------------------------

  /**
   * {@inheritDoc ChatEngine.load}
   *
   * Loading the model that is already loaded keeps it (and does not abort its generation); the context is
   * (re)created for `contextSize` (default {@link DEFAULT_CONTEXT_SIZE}) and `threads` (default `null`:
   * calibrated). Status goes `loading` → (`calibrating`) → `ready`, or `error` on failure.
   */
  load(modelPath: string, options: { contextSize?: number; threads?: number | null } = {}): Promise<void> {
    const path = resolve(modelPath);
    this.abortOthers(path);
    return this.enqueue(async () => {
      this.ensureNotDisposed('MODEL_LOAD_FAILED');
      const contextSize = options.contextSize ?? DEFAULT_CONTEXT_SIZE;
      const loaded = await this.ensureModel(path, contextSize);
      const threads = await this.resolveThreads(loaded, options.threads ?? null);
      await this.ensureSession(loaded, contextSize, threads);
      this.setReady();
    });
  }

  /**
   * {@inheritDoc ChatEngine.generate}
   *
   * Loads or swaps in `request.modelPath` first when needed. Rejects with {@link EngineError}: the load
   * codes (`NOT_FOUND`, `MODEL_INVALID`, `MODEL_TOO_LARGE`, `MODEL_LOAD_FAILED`) or `GENERATION_FAILED`;
   * never for an abort. A prompt longer than the context loses its oldest turns (node-llama-cpp's context
   * shift, keeping the system prompt), and a last user message longer than the context keeps its end.
   *
   * Stats: `ttftMs` runs from this call (queue wait and model load included) to the first token;
   * `startedAt`..`endedAt` is prefill + decode only, so the energy window excludes loading.
   */
  generate(request: GenerateRequest): Promise<GenerateResult> {
    const requestStart = performance.now();
    const path = resolve(request.modelPath);
    this.abortOthers(path);
    const pending: PendingGeneration = { modelPath: path, controller: new AbortController() };
    this.pending.add(pending);
    const signal = AbortSignal.any([request.signal, pending.controller.signal]);
    return this.enqueue(async () => {
      try {
        this.ensureNotDisposed('GENERATION_FAILED');
        if (signal.aborted) throw new AbortedBeforeStart();
        const loaded = await this.ensureModel(path, request.contextSize);
        if (signal.aborted) throw new AbortedBeforeStart();
        const threads = await this.resolveThreads(loaded, request.threads);
        const session = await this.ensureSession(loaded, request.contextSize, threads);
        if (signal.aborted) throw new AbortedBeforeStart();
        this.setStatus({ state: 'generating', modelPath: path, loadProgress: null, threads: session.context.currentThreads, error: null });
        try {
          const run = { loaded, session, request, signal, requestStart, defaults: this.options.sampling ?? {} };
          return request.prompt !== undefined ? await runCompletion(run) : await runChat(run);
        } finally {
          this.setReady();
        }
      } catch (err) {
        if (err instanceof AbortedBeforeStart) return this.abortedResult(path, request);
        throw err;
      } finally {
        this.pending.delete(pending);
      }
    });
  }

  /** {@inheritDoc ChatEngine.countPromptTokens} */
  countPromptTokens(request: PromptCountRequest): { promptTokens: number; contextSize: number } | null {
    const loaded = this.current;
    if (this.disposed || !loaded || loaded.path !== resolve(request.modelPath)) return null;
    // The context the next reply gets: the session's while it matches the request, else a new one of the requested size.
    const session = loaded.session?.requestedContextSize === request.contextSize ? loaded.session : null;
    const contextSize = session?.context.contextSize ?? this.effectiveContextSize(loaded.info, request.contextSize);
    const maxBytes = contextSize * MAX_BYTES_PER_TOKEN;
    const guard = loaded.guard;
    const clean = guard ? (text: string) => guard.sanitize(text) : undefined;
    const history = toChatHistory(
      trimToBytes(request.systemPrompt, maxBytes, 'start'),
      request.history.map((t) => ({ ...t, content: trimToBytes(t.content, maxBytes, 'end') })),
      clean,
    );
    loaded.chatWrapper ??= loaded.session?.chat.chatWrapper ?? resolveChatWrapper(loaded.model);
    return { promptTokens: promptTokenCount(history, loaded.chatWrapper, loaded.model.tokenizer), contextSize };
  }

  /**
   * {@inheritDoc ChatEngine.benchmark}
   *
   * In the queue: unloads the current model and loads `modelPath` (timed: file checks, memory estimate and
   * llama.cpp's load), resolves the thread count (the calibrated best, measuring it if needed), creates a
   * context of `contextSize` (≤ the training context), then measures bits per byte on `text`, prefill of
   * `prefillTokens` tokens of it, and a sustained greedy decode (see modelBench.ts). The model stays
   * loaded afterwards. Status: `loading` → `calibrating` → `ready`. Peak RSS is sampled every 100 ms from
   * before the load.
   */
  benchmark(request: BenchmarkRequest): Promise<BenchmarkMeasurement> {
    const path = resolve(request.modelPath);
    const { signal } = request;
    return this.enqueue(async () => {
      this.ensureNotDisposed('MODEL_LOAD_FAILED');
      if (signal.aborted) throw new BenchmarkAbortedError();
      const rss = trackPeakRss();
      let context: LlamaContext | null = null;
      try {
        request.onProgress('load', 0);
        await this.freeCurrent();
        const loadStart = performance.now();
        const loaded = await this.ensureModel(path, request.contextSize);
        const loadMs = performance.now() - loadStart;
        request.onProgress('load', 1);
        if (signal.aborted) throw new BenchmarkAbortedError();

        request.onProgress('threads', 0);
        const threads = await this.resolveThreads(loaded, request.threads);
        request.onProgress('threads', 1);
        if (signal.aborted) throw new BenchmarkAbortedError();
        this.setStatus({ state: 'calibrating', modelPath: path, loadProgress: null, threads, error: null });

        context = await loaded.model.createContext({
          contextSize: this.effectiveContextSize(loaded.info, request.contextSize),
          threads,
          sequences: 1,
          failedCreationRemedy: false,
        });
        const sequence = context.getSequence();

        request.onProgress('bits-per-byte', 0);
        const bpb = await measureBitsPerByte(loaded.model, sequence, request.text, signal, (f) => request.onProgress('bits-per-byte', f));
        rss.sample();

        request.onProgress('prefill', 0);
        const { tokens: textTokens } = scoringTokens(loaded.model, request.text);
        const want = Math.max(1, Math.min(request.prefillTokens, context.contextSize - 8));
        const promptTokens: Token[] = [];
        while (promptTokens.length < want && textTokens.length > 0) promptTokens.push(...textTokens.slice(0, want - promptTokens.length));
        const prefill = await measurePrefill(sequence, promptTokens, signal);
        request.onProgress('prefill', 1);
        rss.sample();

        request.onProgress('decode', 0);
        const decodePrompt = textTokens.slice(0, Math.min(32, Math.max(1, Math.floor(context.contextSize / 8))));
        const decode = await measureDecode(sequence, decodePrompt, {
          durationMs: request.decodeDurationMs,
          minTokens: request.decodeMinTokens,
          signal,
          onFraction: (f) => request.onProgress('decode', f),
        });
        return {
          modelPath: path,
          loadMs,
          threads,
          bitsPerByte: bpb.bitsPerByte,
          scoredTokens: bpb.scoredTokens,
          scoredBytes: bpb.scoredBytes,
          bitsPerByteTokensPerSecond: bpb.tokensPerSecond,
          prefillTokens: prefill.tokens,
          prefillTokensPerSecond: prefill.tokensPerSecond,
          decodeTokens: decode.tokens,
          decodeTokensPerSecond: decode.tokensPerSecond,
          decodeTokensTotal: decode.totalTokens,
          decodeStartedAt: decode.startedAt,
          decodeEndedAt: decode.endedAt,
          sustainedDurationMs: decode.durationMs,
          sustainedFirstQuarterTokensPerSecond: decode.firstQuarterTokensPerSecond,
          sustainedLastQuarterTokensPerSecond: decode.lastQuarterTokensPerSecond,
          peakRssBytes: rss.stop(),
          baselineRssBytes: rss.baselineBytes,
        };
      } catch (err) {
        if (err instanceof BenchmarkAbortedError || err instanceof EngineError) throw err;
        if (signal.aborted) throw new BenchmarkAbortedError();
        throw new EngineError('GENERATION_FAILED', `calibration of ${path.replace(/^.*[\\/]/, '')} failed: ${reason(err)}`, { cause: err });
      } finally {
        rss.stop();
        if (context) await context.dispose().catch(() => undefined);
        if (this.current?.path === path) this.setReady();
      }
    });
  }

  /** {@inheritDoc ChatEngine.unload} */
  unload(): Promise<void> {
    for (const p of this.pending) p.controller.abort(new Error('model unloaded'));
    return this.enqueue(async () => {
      await this.freeCurrent();
      this.setStatus({ state: 'idle', modelPath: null, loadProgress: null, threads: null, error: null });
    });
  }

  /** {@inheritDoc ChatEngine.dispose} Aborts every generation, waits for the queue, frees model, context and llama.cpp. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    for (const p of this.pending) p.controller.abort(new Error('engine disposed'));
    await this.enqueue(async () => {
      this.disposed = true;
      await this.freeCurrent();
      await this.llama.dispose().catch(() => undefined);
      this.setStatus({ state: 'idle', modelPath: null, loadProgress: null, threads: null, error: null });
    });
    this.tracker.clear();
  }

  // -------------------------------------------------------------------------------------------
  // Loading
  // -------------------------------------------------------------------------------------------

  /** The loaded model for `path`, loading (and unloading the current one) when needed. */
  /**
   * The model at `path`, loaded. The loaded one is reused only while its file is the one that was loaded:
   * llama.cpp memory-maps the weights, so a file replaced by rename (`mv`, a download) would keep answering
   * with the old, still-mapped weights, and a file overwritten in place is truncated under the mapping
   * (touching those pages kills the process with SIGBUS, which no code can catch). Checking the identity
   * (device, inode, size, mtime) before each reply and loading again when it changed covers every change
   * made between replies; overwriting a file in place while a reply is being generated from it cannot be
   * made safe with mmap.
   */
  private async ensureModel(path: string, contextSize: number): Promise<LoadedModel> {
    if (this.current?.path === path) {
      const version = await stat(path).then(statKey, () => null);
      if (version === this.current.fileVersion) return this.current;
      // Changed or gone: unload it rather than compute on pages that may have vanished.
      await this.freeCurrent();
    }
    this.setStatus({ state: 'loading', modelPath: path, loadProgress: 0, threads: null, error: null });
    try {
      const info = await this.validate(path, contextSize);
      const fileVersion = statKey(await stat(path));
      await this.freeCurrent();
      let lastProgress = 0;
      let stillLoading = true;
      let model: LlamaModel;
      try {
        model = await this.llama.loadModel({
          modelPath: path,
          gpuLayers: this.llama.gpu === false ? 0 : { fitContext: { contextSize } },
          onLoadProgress: (progress) => {
            // Progress callbacks can arrive after loadModel resolved: ignore those.
            if (!stillLoading) return;
            if (progress - lastProgress >= 0.02 || progress >= 1) {
              lastProgress = progress;
              this.setStatus({ loadProgress: Math.min(1, Math.max(0, progress)) });
            }
          },
        });
      } catch (err) {
        stillLoading = false;
        if (err instanceof InsufficientMemoryError) throw new EngineError('MODEL_TOO_LARGE', reason(err), { cause: err });
        throw new EngineError('MODEL_LOAD_FAILED', `llama.cpp could not load ${info.fileName}: ${reason(err)}`, { cause: err });
      }
      stillLoading = false;
      const guard = createTokenizerGuard(model.fileInfo.metadata?.tokenizer?.ggml as VocabularyInfo | undefined);
      if (guard != null) installTokenizerGuard(model, guard);
      this.current = { path, info, model, bestThreads: null, session: null, guard, fileVersion };
      return this.current;
    } catch (err) {
      const error =
        err instanceof EngineError ? err : new EngineError('MODEL_LOAD_FAILED', reason(err), { cause: err });
      this.setStatus({ state: 'error', modelPath: path, loadProgress: null, threads: null, error: { code: error.code, message: error.message } });
      throw error;
    }
  }

  /**
   * Checks a model file before loading it: exists (`NOT_FOUND`), usable header (`MODEL_INVALID`), fits in
   * memory with a context of `contextSize` (`MODEL_TOO_LARGE`, from node-llama-cpp's estimates).
   */
  private async validate(path: string, contextSize: number): Promise<ModelInfo> {
    try {
      const st = await stat(path);
      if (!st.isFile()) throw new EngineError('NOT_FOUND', `not a model file: ${path}`);
    } catch (err) {
      if (err instanceof EngineError) throw err;
      throw new EngineError('NOT_FOUND', `model file not found: ${path}`, { cause: err });
    }
    const info = await readModelInfo(path);
    if (!info.usable) throw new EngineError('MODEL_INVALID', `${info.fileName}: ${info.problem ?? 'not a usable GGUF file'}`);

    const fit = await this.fitOf(info, contextSize);
    if (!fit.fits) throw new EngineError('MODEL_TOO_LARGE', fit.reason ?? `${info.fileName} does not fit in memory`);
    return info;
  }

  /** {@inheritDoc ChatEngine.checkFit} */
  async checkFit(modelPath: string, contextSize: number): Promise<MemoryFit> {
    const info = await readModelInfo(resolve(modelPath));
    if (!info.usable) return { fits: false, reason: `${info.fileName}: ${info.problem ?? 'not a usable GGUF file'}`, requiredRamBytes: null, gpuLayers: 0 };
    return this.fitOf(info, contextSize);
  }

  /** Memory check against free RAM (and VRAM), counting what unloading the current model would free. */
  private async fitOf(info: ModelInfo, contextSize: number): Promise<MemoryFit> {
    let need: { ram: number; vram: number; gpuLayers: number };
    try {
      need = await this.estimateMemory(info.path, this.effectiveContextSize(info, contextSize));
    } catch {
      // An estimate we cannot make is no reason to refuse the model: llama.cpp checks again at load time.
      return { fits: true, reason: null, requiredRamBytes: null, gpuLayers: 0 };
    }
    const reclaim = this.current?.session?.context.memoryUsage ?? { ram: 0, vram: 0 };
    const modelReclaim = this.current?.model.memoryUsage ?? { ram: 0, vram: 0 };
    const limit = this.options.memoryLimitBytes;
    const freeRam = limit ?? os.freemem() + reclaim.ram + modelReclaim.ram;
    const result = { requiredRamBytes: need.ram, gpuLayers: need.gpuLayers };
    if (need.ram > freeRam) {
      return { fits: false, reason: `${info.fileName} needs ${formatGiB(need.ram)}, ${formatGiB(freeRam)} free`, ...result };
    }
    if (need.vram > 0) {
      const freeVram = limit ?? (await this.llama.getVramState()).free + reclaim.vram + modelReclaim.vram;
      if (need.vram > freeVram) {
        return { fits: false, reason: `${info.fileName} needs ${formatGiB(need.vram)} of GPU memory, ${formatGiB(freeVram)} free`, ...result };
      }
    }
    return { fits: true, reason: null, ...result };
  }

  /**
   * node-llama-cpp's estimate of RAM and VRAM for the model + one context of `contextSize`, in bytes.
   * Cached per file version ({@link statKey}) and context size: on CPU for as long as the file is unchanged,
   * in memory and in `options.estimateCache` (the estimate depends only on the file), for
   * {@link GPU_ESTIMATE_TTL_MS} with a GPU (the layers offloaded depend on free VRAM). An
   * estimate takes node-llama-cpp 0.3–1 s per multi-GB model, which a governor decision over a library
   * cannot pay every time.
   */
  private async estimateMemory(path: string, contextSize: number): Promise<{ ram: number; vram: number; gpuLayers: number }> {
    const key = `${path}\u0000${contextSize}`;
    const version = statKey(await stat(path));
    const cpuOnly = this.llama.gpu === false;
    const cached = this.estimateCache.get(key);
    if (cached && cached.version === version && (cpuOnly || performance.now() - cached.at < GPU_ESTIMATE_TTL_MS)) return cached.estimate;
    const persistent = cpuOnly ? (this.options.estimateCache?.(contextSize) ?? null) : null;
    const stored = persistent?.get(path, version) ?? null;
    const estimate = stored ?? (await this.estimateMemoryUncached(path, contextSize));
    if (!stored) persistent?.set(path, version, estimate);
    if (this.estimateCache.size >= 2000) this.estimateCache.clear();
    this.estimateCache.set(key, { version, at: performance.now(), estimate });
    return estimate;
  }

  private async estimateMemoryUncached(path: string, contextSize: number): Promise<{ ram: number; vram: number; gpuLayers: number }> {
    const fileInfo = await readGgufFileInfo(path, { sourceType: 'filesystem', logWarnings: false });
    const insights = await GgufInsights.from(fileInfo, this.llama);
    let gpuLayers = 0;
    if (this.llama.gpu !== false) {
      const config = await insights.configurationResolver.resolveAndScoreConfig({ targetContextSize: contextSize });
      gpuLayers = config.resolvedValues.gpuLayers;
    }
    const model = await insights.estimateModelResourceRequirementsV2({ gpuLayers });
    const context = await insights.estimateContextResourceRequirementsV2({ contextSize, modelGpuLayers: gpuLayers, sequences: 1 });
    return { ram: model.cpuRam + context.cpuRam, vram: model.gpuVram + context.gpuVram, gpuLayers };
  }

  /** The context size actually asked of llama.cpp: the request, capped at the model's training context. */
  private effectiveContextSize(info: ModelInfo, requested: number): number {
    const size = Math.max(1, Math.floor(requested));
    return info.trainContextSize != null && info.trainContextSize > 0 ? Math.min(size, info.trainContextSize) : size;
  }

  /** Frees the current context and model. */
  private async freeCurrent(): Promise<void> {
    const loaded = this.current;
    this.current = null;
    if (loaded == null) return;
    await this.disposeSession(loaded);
    await loaded.model.dispose().catch(() => undefined);
  }

  private async disposeSession(loaded: LoadedModel): Promise<void> {
    const session = loaded.session;
    loaded.session = null;
    if (session == null) return;
    session.chat.dispose({ disposeSequence: true });
    await session.context.dispose().catch(() => undefined);
  }

  /** The context for (contextSize, threads), reusing the current one when both are unchanged. */
  private async ensureSession(loaded: LoadedModel, contextSize: number, threads: number): Promise<Session> {
    const existing = loaded.session;
    if (existing && existing.requestedContextSize === contextSize && existing.threads === threads && !existing.context.disposed) {
      return existing;
    }
    await this.disposeSession(loaded);
    let context: LlamaContext;
    try {
      context = await loaded.model.createContext({
        contextSize: this.effectiveContextSize(loaded.info, contextSize),
        threads,
        sequences: 1,
        failedCreationRemedy: false,
      });
    } catch (err) {
      const error =
        err instanceof InsufficientMemoryError
          ? new EngineError('MODEL_TOO_LARGE', `not enough memory for a ${contextSize}-token context: ${reason(err)}`, { cause: err })
          : new EngineError('MODEL_LOAD_FAILED', `llama.cpp could not create a context: ${reason(err)}`, { cause: err });
      this.setStatus({ state: 'error', error: { code: error.code, message: error.message }, loadProgress: null });
      throw error;
    }
    const sequence = context.getSequence();
    const chat = new LlamaChat({ contextSequence: sequence });
    loaded.session = { requestedContextSize: contextSize, threads, context, sequence, chat, last: null };
    return loaded.session;
  }

  // -------------------------------------------------------------------------------------------
  // Threads
  // -------------------------------------------------------------------------------------------

  /** Explicit `threads`, else the model's calibrated best (from the store, or measured now). */
  private async resolveThreads(loaded: LoadedModel, requested: number | null): Promise<number> {
    if (requested != null) return Math.max(1, Math.floor(requested));
    if (loaded.bestThreads != null) return loaded.bestThreads;
    let stored: ThreadCalibration | null = null;
    try {
      stored = this.options.calibrationStore.getThreadCalibration(loaded.path, loaded.info.sizeBytes);
    } catch {
      stored = null;
    }
    if (stored != null && stored.bestThreads >= 1) {
      loaded.bestThreads = stored.bestThreads;
      return stored.bestThreads;
    }
    loaded.bestThreads = await this.calibrate(loaded);
    return loaded.bestThreads;
  }

  private async physicalCores(): Promise<number> {
    if (this.physicalCoresValue == null) {
      let cores = 0;
      try {
        cores = (await si.cpu()).physicalCores;
      } catch {
        cores = 0;
      }
      this.physicalCoresValue = cores >= 1 ? cores : os.availableParallelism();
    }
    return this.physicalCoresValue;
  }

  /**
   * Times a short decode at each candidate thread count (ascending) and saves the result. Each trial: a
   * fresh context, a short prompt, {@link CALIBRATION_WARMUP_TOKENS} untimed tokens, then
   * {@link CALIBRATION_TIMED_TOKENS} timed ones (greedy) — cut short once the trial can no longer tie the
   * best so far (on 2 cores, 2 threads can decode a tiny model at 5 tok/s against 4000 with 1 thread).
   * Returns the best thread count (ties: fewer).
   * If calibration itself fails, falls back to the physical core count (not saved).
   */
  private async calibrate(loaded: LoadedModel): Promise<number> {
    this.setStatus({ state: 'calibrating', modelPath: loaded.path, loadProgress: null, threads: null, error: null });
    const physical = await this.physicalCores();
    const logical = os.availableParallelism();
    const candidates = this.options.calibrationCandidates
      ? normalizeThreadCandidates(this.options.calibrationCandidates(physical), logical)
      : defaultThreadCandidates(physical, logical);
    const trials: ThreadTrial[] = [];
    try {
      const model = loaded.model;
      const prompt: Token[] = model.tokenize(loaded.guard?.sanitize(CALIBRATION_PROMPT) ?? CALIBRATION_PROMPT);
      if (model.tokens.shouldPrependBosToken && model.tokens.bos != null) prompt.unshift(model.tokens.bos);
      for (const threads of candidates) {
        const best = trials.length > 0 ? Math.max(...trials.map((t) => t.decodeTokensPerSecond)) : null;
        // A trial that can no longer reach a tie with the best so far is stopped early.
        const deadlineMs = best != null && best > 0 ? (CALIBRATION_TIMED_TOKENS * 1000) / (best * (1 - THREAD_TIE_TOLERANCE)) : Infinity;
        trials.push({ threads, decodeTokensPerSecond: await this.timeDecode(loaded, prompt, threads, deadlineMs) });
      }
    } catch {
      if (trials.length === 0) return Math.min(physical, logical);
    }
    const bestThreads = chooseBestThreads(trials);
    try {
      this.options.calibrationStore.saveThreadCalibration({
        modelPath: loaded.path,
        modelSizeBytes: loaded.info.sizeBytes,
        bestThreads,
        trials,
        measuredAt: nowMs(),
      });
    } catch {
      // Not saved: measured again on next start. The engine still uses the result now.
    }
    return bestThreads;
  }

  /**
   * One calibration trial: decode speed at `threads`, in tokens/s (rounded to 0.1), over the timed tokens,
   * or over those decoded before the timed part ran past `deadlineMs` (or {@link CALIBRATION_TRIAL_MAX_MS}).
   */
  private async timeDecode(loaded: LoadedModel, prompt: Token[], threads: number, deadlineMs: number): Promise<number> {
    const limitMs = Math.min(deadlineMs, CALIBRATION_TRIAL_MAX_MS);
    const context = await loaded.model.createContext({
      contextSize: this.effectiveContextSize(loaded.info, CALIBRATION_CONTEXT_SIZE),
      threads,
      sequences: 1,
      failedCreationRemedy: false,
    });
    try {
      const sequence = context.getSequence();
      let generated = 0;
      let timedFrom = 0;
      let timedEnd = 0;
      for await (const _token of sequence.evaluate(prompt, { temperature: 0 })) {
        generated++;
        const now = performance.now();
        if (generated === CALIBRATION_WARMUP_TOKENS) timedFrom = now;
        timedEnd = now;
        if (generated >= CALIBRATION_WARMUP_TOKENS + CALIBRATION_TIMED_TOKENS) break;
        if (generated > CALIBRATION_WARMUP_TOKENS && now - timedFrom > limitMs) break;
      }
      const timed = Math.max(0, generated - CALIBRATION_WARMUP_TOKENS);
      return Math.round(decodeSpeed(timed, timedEnd - timedFrom) * 10) / 10;
    } finally {
      await context.dispose().catch(() => undefined);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Generation
  // -------------------------------------------------------------------------------------------

  /** The result of a generation aborted before it started (nothing loaded or evaluated for it). */
  private abortedResult(path: string, request: GenerateRequest): GenerateResult {
    const loaded = this.current?.path === path ? this.current : null;
    const at = nowMs();
    return {
      text: '',
      stopReason: 'abort',
      stats: {
        modelPath: path,
        modelName: loaded?.info.name ?? path.replace(/^.*[\\/]/, '').replace(/\.gguf$/i, ''),
        quantization: loaded?.info.quantization ?? null,
        promptTokens: 0,
        prefillTokens: 0,
        completionTokens: 0,
        ttftMs: 0,
        prefillTokensPerSecond: 0,
        decodeTokensPerSecond: 0,
        threads: Math.max(1, loaded?.session?.context.currentThreads ?? request.threads ?? loaded?.bestThreads ?? 1),
        contextSize: Math.max(1, loaded?.session?.context.contextSize ?? Math.floor(request.contextSize)),
        startedAt: at,
        endedAt: at,
      },
    };
  }
}
