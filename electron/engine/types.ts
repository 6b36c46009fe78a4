/**
 * The chat engine's interface: what the backend (electron/core) needs from an inference engine.
 * Implemented by `LlamaEngine` (node-llama-cpp, ./llamaEngine.ts) and, in tests, by scripted engines.
 * No Electron imports here or in any implementation.
 */
import type { CalibrationPhase, ContextOverflow, EngineStatus, ErrorCode, ReplyStats, ThreadCalibration } from '../../shared/contract.js';

/** One turn of the history sent to the model. */
export interface ChatTurn {
  role: 'user' | 'assistant';
  content: string;
}

/** What one reply needs. */
export interface GenerateRequest {
  /** Absolute path of the GGUF to answer with; loaded (or swapped in) on demand. */
  modelPath: string;
  /** System prompt ('' for none). */
  systemPrompt: string;
  /** The conversation so far, oldest first, ending with the user turn to answer. */
  history: ChatTurn[];
  /** Reply length cap, in tokens. */
  maxTokens: number;
  /** Context size in tokens. */
  contextSize: number;
  /** CPU threads; `null` = the calibrated best for this model and machine (measured on first load). */
  threads: number | null;
  /** Aborting stops generation at once; the promise then resolves with `stopReason: 'abort'`. */
  signal: AbortSignal;
  /** Called with each piece of generated text, in order. */
  onText: (text: string) => void;
  /** Sampling for this reply, over the engine's defaults (the app chat's preset, shared/presets.ts; the OpenAI-compatible API's `temperature`, `top_p`, `seed`). */
  sampling?: SamplingOptions;
  /** Strings that end the reply when generated (not included in the text); at most a few, each non-empty. */
  stop?: readonly string[];
  /** What to do when the conversation no longer fits the context (default `rolling-window`; see ./contextOverflow.ts). */
  contextOverflow?: ContextOverflow;
  /**
   * Set for a plain text completion (OpenAI's `/v1/completions`): the model continues this text as is,
   * without the chat template; `systemPrompt` and `history` are then ignored.
   */
  prompt?: string;
}

/** What {@link ChatEngine.countPromptTokens} counts. */
export interface PromptCountRequest {
  modelPath: string;
  systemPrompt: string;
  history: readonly ChatTurn[];
  /** The context size asked for, tokens. */
  contextSize: number;
}

/** Sampling settings for replies. Defaults: llama.cpp's own (`common_params_sampling` in common/common.h). */
export interface SamplingOptions {
  /** 0 = greedy. Default 0.8. */
  temperature?: number;
  /** Default 40. */
  topK?: number;
  /** Default 0.95. */
  topP?: number;
  /** Default 0.05. */
  minP?: number;
  /** Penalty on tokens among the last 64 generated (llama.cpp `penalty_repeat`, `penalty_last_n = 64`); 1 = off. Default 1. */
  repeatPenalty?: number;
  /** Random seed (only matters with temperature > 0); default: random. */
  seed?: number;
}

/** Why a reply ended: end of sequence, the token cap, a stop string of the request, or an abort. */
export type StopReason = 'eos' | 'maxTokens' | 'stopSequence' | 'abort';

/** What one reply produced. */
export interface GenerateResult {
  /** The whole reply text (also when aborted: the partial text). */
  text: string;
  stopReason: StopReason;
  /** Per-reply statistics (timestamps in ms since the epoch). */
  stats: ReplyStats;
}

/** Where the engine keeps thread calibrations (the store implements it). */
export interface CalibrationStore {
  /** The calibration for this file at this size, or null if none (or the file changed size). */
  getThreadCalibration(modelPath: string, modelSizeBytes: number): ThreadCalibration | null;
  saveThreadCalibration(calibration: ThreadCalibration): void;
}

/** Whether a model fits in memory with a context of a given size (node-llama-cpp's estimate). */
export interface MemoryFit {
  fits: boolean;
  /** Why not, e.g. "qwen.gguf needs 5.1 GiB, 3.2 GiB free"; null when it fits. */
  reason: string | null;
  /** Estimated RAM for the model plus one context, bytes (null when it could not be estimated). */
  requiredRamBytes: number | null;
  /** Layers that would be offloaded to the GPU (0 on CPU-only machines). */
  gpuLayers: number;
}

/** What the calibration bench asks of the engine for one model file (see `LlamaEngine.benchmark`). */
export interface BenchmarkRequest {
  /** Absolute path of the GGUF. */
  modelPath: string;
  /** Text to measure bits per byte on (the app's held-out text). */
  text: string;
  /** Context size for scoring windows and decoding, tokens (capped at the model's training context). */
  contextSize: number;
  /** CPU threads; null = the calibrated best for this model (measured now if never measured). */
  threads: number | null;
  /** Prompt tokens for the prefill measurement (≈512; fewer when the context is smaller). */
  prefillTokens: number;
  /** Sustained decode: run at least this long (ms) and at least this many tokens. */
  decodeDurationMs: number;
  decodeMinTokens: number;
  /** Cancels the run: the promise rejects with `BenchmarkAbortedError` (modelBench.ts). */
  signal: AbortSignal;
  /** Called as the run advances: the phase and its progress 0..1. The `decode` phase starts at fraction 0 just before decoding. */
  onProgress: (phase: CalibrationPhase, fraction: number) => void;
}

/** What the engine measured for one model file. Durations in ms, speeds in tokens/s, memory in bytes. */
export interface BenchmarkMeasurement {
  modelPath: string;
  loadMs: number;
  threads: number;
  bitsPerByte: number | null;
  scoredTokens: number;
  scoredBytes: number;
  bitsPerByteTokensPerSecond: number;
  prefillTokens: number;
  prefillTokensPerSecond: number;
  decodeTokens: number;
  decodeTokensPerSecond: number;
  /** Every token decoded in the decode phase, warm-up included (the energy's denominator). */
  decodeTokensTotal: number;
  /** The decode run's window, ms since the epoch (the energy meter integrates over it). */
  decodeStartedAt: number;
  decodeEndedAt: number;
  sustainedDurationMs: number;
  sustainedFirstQuarterTokensPerSecond: number;
  sustainedLastQuarterTokensPerSecond: number;
  peakRssBytes: number;
  baselineRssBytes: number;
}

/** An inference engine: one model loaded at a time; loads and swaps are serialized. */
export interface ChatEngine {
  /** Current status (also pushed to `onStatus` listeners on every change). */
  status(): EngineStatus;
  /** Subscribes to status changes; returns the unsubscribe function. */
  onStatus(listener: (status: EngineStatus) => void): () => void;
  /**
   * Loads `modelPath` (unloading the current model, aborting any generation in flight).
   * Rejects with {@link EngineError} (`NOT_FOUND`, `MODEL_INVALID`, `MODEL_TOO_LARGE`, `MODEL_LOAD_FAILED`).
   */
  load(modelPath: string, options?: { contextSize?: number; threads?: number | null }): Promise<void>;
  /**
   * Whether `modelPath` would fit in free memory (counting what unloading the current model frees) with
   * a context of `contextSize` tokens. Never throws: an unreadable file does not fit, with the reason.
   */
  checkFit(modelPath: string, contextSize: number): Promise<MemoryFit>;
  /** Unloads the model (aborting any generation in flight) and frees its memory; the engine stays usable. */
  unload(): Promise<void>;
  /** Generates one reply; rejects with {@link EngineError} on failure (never for an abort). */
  generate(request: GenerateRequest): Promise<GenerateResult>;
  /**
   * Calibration bench (optional: engines without one cannot calibrate): loads the model afresh, then
   * measures bits per byte, prefill and sustained decode, queued like a reply (never beside one).
   * Rejects with `BenchmarkAbortedError` when cancelled, {@link EngineError} for a file that cannot load.
   */
  benchmark?(request: BenchmarkRequest): Promise<BenchmarkMeasurement>;
  /**
   * Tokens of a chat prompt (system prompt + history + the reply's opening, through the model's chat
   * template) with `modelPath`'s tokenizer, and the context size a reply would get (`contextSize` capped at
   * the model's training context); null when that model is not the one loaded (it never loads a model).
   * Texts are bounded by bytes as for a reply. Optional: engines without it leave callers to estimate.
   */
  countPromptTokens?(request: PromptCountRequest): { promptTokens: number; contextSize: number } | null;
  /** Unloads everything; the engine cannot be used afterwards. */
  dispose(): Promise<void>;
}

/** An engine failure with an API error code. */
export class EngineError extends Error {
  override readonly name = 'EngineError';
  constructor(
    readonly code: Extract<ErrorCode, 'NOT_FOUND' | 'MODEL_INVALID' | 'MODEL_TOO_LARGE' | 'MODEL_LOAD_FAILED' | 'GENERATION_FAILED' | 'CONTEXT_FULL'>,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
