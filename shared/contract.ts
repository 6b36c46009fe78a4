/**
 * The Wattwise API contract: the only way the renderer talks to the backend.
 *
 * Every call is `{ input, output }` zod schemas keyed by a method name; every event is one member of
 * the {@link apiEventSchema} discriminated union. The contract is bound twice:
 * - Electron IPC (`electron/shell/main.ts` + the sandboxed `electron/shell/preload.ts`), and
 * - HTTP + server-sent events for the browser mode (`electron/server/httpServer.ts`).
 *
 * Both transports carry {@link ApiResult} values: errors cross the boundary as data with a code from the
 * closed {@link errorCodeSchema} set, never as thrown exceptions.
 *
 * Units: timestamps are milliseconds since the Unix epoch (`...At`), durations are `...Ms`, sizes are
 * `...Bytes`, speeds are `...TokensPerSecond`.
 *
 * This file must stay free of Node, DOM and Electron imports: it is shared by both sides.
 */
import { z } from 'zod';
import { catalogEntrySchema } from './modelCatalog.js';
import { presetFieldsSchema, presetOverridesSchema, presetSchema } from './presets.js';
import { backupInfoSchema, backupListSchema, backupNameSchema, exportFileSchema, importResultSchema, maxArchiveTextChars } from './dataContract.js';

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/**
 * Closed set of error codes that may cross the API boundary. The renderer switches over them
 * exhaustively (see `renderer/src/api/errors.ts`).
 */
export const errorCodeSchema = z.enum([
  /** The input failed validation against the contract. */
  'BAD_INPUT',
  /** The conversation, message, request or model file does not exist. */
  'NOT_FOUND',
  /** No usable model is available, or none was chosen. */
  'NO_MODEL',
  /** The file is not a valid GGUF (bad magic, truncated header, unsupported architecture...). */
  'MODEL_INVALID',
  /** The model needs more memory than is free (node-llama-cpp's estimate). */
  'MODEL_TOO_LARGE',
  /** llama.cpp failed to load the model for another reason. */
  'MODEL_LOAD_FAILED',
  /** A reply is already being generated in this conversation. */
  'BUSY',
  /** Generation failed after it started. */
  'GENERATION_FAILED',
  /** The conversation no longer fits the context window and the setting says to stop there. */
  'CONTEXT_FULL',
  /** The disk is full or read-only: nothing could be written. */
  'STORAGE_FULL',
  /** Another storage failure. */
  'STORAGE_FAILED',
  /** The HTTP transport's access token is missing or wrong. */
  'UNAUTHORIZED',
  /** A bug: anything not covered above. The message says what happened. */
  'INTERNAL',
]);
/** One of the closed set of API error codes. */
export type ErrorCode = z.infer<typeof errorCodeSchema>;

/** An error as a value: `code` from the closed set and a one-line human-readable `message`. */
export const apiErrorSchema = z.object({
  code: errorCodeSchema,
  message: z.string(),
});
/** An error as a value: `code` from the closed set and a one-line human-readable `message`. */
export type ApiError = z.infer<typeof apiErrorSchema>;

/** What every call returns: the output on success, or an {@link ApiError}. */
export type ApiResult<T> = { ok: true; value: T } | { ok: false; error: ApiError };

/** Builds the zod schema of `ApiResult<T>` for a given output schema (used by the transports). */
export function apiResultSchema<T extends z.ZodType>(value: T) {
  return z.discriminatedUnion('ok', [
    z.object({ ok: z.literal(true), value }),
    z.object({ ok: z.literal(false), error: apiErrorSchema }),
  ]);
}

// ---------------------------------------------------------------------------------------------
// Domain types
// ---------------------------------------------------------------------------------------------

const id = z.string().min(1).max(64);
/** Milliseconds since the Unix epoch. */
const epochMs = z.number().int().nonnegative();

/**
 * Where an installed model was found: Wattwise's own models folder, or another app's folder read in place
 * (never copied, changed or deleted): LM Studio, Ollama, the Hugging Face cache, GPT4All, Jan.
 */
export const modelSourceSchema = z.enum(['models-folder', 'lmstudio', 'ollama', 'huggingface-cache', 'gpt4all', 'jan']);
/** Where an installed model was found. */
export type ModelSource = z.infer<typeof modelSourceSchema>;
/** The other apps whose folders can be read (each can be turned off in Settings). */
export const externalModelSourceSchema = z.enum(['lmstudio', 'ollama', 'huggingface-cache', 'gpt4all', 'jan']);
/** One of the other apps whose folders can be read. */
export type ExternalModelSource = z.infer<typeof externalModelSourceSchema>;

/**
 * One `.gguf` file in the models folder (or another app's), as read from its GGUF header (node-llama-cpp's
 * `readGgufFileInfo`). A file that could not be read is listed with `usable: false` and `problem`.
 */
export const modelInfoSchema = z.object({
  /** Absolute path of the file. */
  path: z.string(),
  /** File name, e.g. `stories260K.gguf`. */
  fileName: z.string(),
  /**
   * Display name: `general.name` from the header, unless it is missing or just the architecture
   * ("llama"): then the file name without extension.
   */
  name: z.string(),
  /** File size in bytes. */
  sizeBytes: z.number().int().nonnegative(),
  usable: z.boolean(),
  /** Why the file cannot be used (only when `usable` is false). */
  problem: z.string().nullable(),
  /** `general.architecture`, e.g. `llama`. */
  architecture: z.string().nullable(),
  /** Number of weights, summed over the tensors of the file. */
  parameterCount: z.number().int().nonnegative().nullable(),
  /** Quantization type, e.g. `Q8_0`, `Q4_K_M`, `F32` (from `general.file_type` or the tensor types). */
  quantization: z.string().nullable(),
  /** Context length the model was trained with (`<arch>.context_length`), in tokens. */
  trainContextSize: z.number().int().nonnegative().nullable(),
  /** Whether the GGUF carries its own chat template (`tokenizer.chat_template`). */
  hasChatTemplate: z.boolean(),
  /**
   * Model family: the same base model in other sizes or quantizations share it (the power governor
   * chooses among a family's variants). From `general.basename` + `general.finetune` when present,
   * else the file name without size and quantization tokens, lower-cased; null when unreadable.
   */
  family: z.string().nullable(),
  /** `general.size_label` (e.g. "1.5B", "8x7B") when present. */
  sizeLabel: z.string().nullable(),
  /** `general.basename` (e.g. "Qwen2.5", "Meta-Llama-3.1") when present: matches published quality scores. */
  basename: z.string().nullable(),
  /** Where it was found. Only files in Wattwise's own models folder can be deleted from the app. */
  source: modelSourceSchema,
  /** What the other app calls it (Ollama `llama3.2:3b`, Hugging Face `org/repo`, LM Studio `publisher/repo`); null otherwise. */
  appName: z.string().nullable(),
  /**
   * Bytes of KV cache one context token takes at llama.cpp's default F16 cache: 2 (K and V) × layers ×
   * KV heads × head size × 2 bytes; null when the header lacks the shape.
   */
  kvCacheBytesPerToken: z.number().nonnegative().nullable(),
});
/** One `.gguf` file in the models folder. */
export type ModelInfo = z.infer<typeof modelInfoSchema>;

/** The lifecycle of one message. */
export const messageStatusSchema = z.enum([
  /** The reply is being generated right now. */
  'streaming',
  /** The message is whole. */
  'complete',
  /** The user pressed Stop; the partial reply is kept. */
  'stopped',
  /** The process died while this reply was being written; the partial reply is kept. */
  'interrupted',
  /** Generation failed; `error` says why. */
  'error',
]);
/** The lifecycle of one message. */
export type MessageStatus = z.infer<typeof messageStatusSchema>;

/**
 * Per-reply engine statistics. `startedAt`..`endedAt` is the reply's window (prefill + decode); the
 * energy telemetry integrates power over it.
 */
export const replyStatsSchema = z.object({
  modelPath: z.string(),
  modelName: z.string(),
  /** Quantization of the model that answered, e.g. `Q8_0`. */
  quantization: z.string().nullable(),
  /** Tokens in the whole prompt (system prompt + history + new message, chat template included). */
  promptTokens: z.number().int().nonnegative(),
  /** Prompt tokens actually evaluated (prefill) after reusing the KV cache of the previous turn. */
  prefillTokens: z.number().int().nonnegative(),
  /** Tokens generated in the reply. */
  completionTokens: z.number().int().nonnegative(),
  /** Time to first token: from the request to the first generated token, in ms. */
  ttftMs: z.number().nonnegative(),
  /** Prefill speed: `prefillTokens` ÷ prefill time, in tokens/s. */
  prefillTokensPerSecond: z.number().nonnegative(),
  /** Decode speed: (completionTokens − 1) ÷ time from first to last token, in tokens/s. */
  decodeTokensPerSecond: z.number().nonnegative(),
  /** CPU threads llama.cpp used. */
  threads: z.number().int().positive(),
  /** Context size of the llama.cpp context, in tokens. */
  contextSize: z.number().int().positive(),
  /**
   * When the conversation no longer fitted and the context window moved in this turn (see the setting
   * `contextOverflow`): the prompt tokens evaluated to rebuild it, the new message included; 0 when the KV
   * cache of the previous turn was reused. Absent in replies stored before it was measured.
   */
  reEvaluatedTokens: z.number().int().nonnegative().optional(),
  startedAt: epochMs,
  endedAt: epochMs,
});
/** Per-reply engine statistics. */
export type ReplyStats = z.infer<typeof replyStatsSchema>;

export const roleSchema = z.enum(['system', 'user', 'assistant']);
/** Who wrote a message. */
export type Role = z.infer<typeof roleSchema>;


// ---------------------------------------------------------------------------------------------
// Energy
// ---------------------------------------------------------------------------------------------

/** Kinds of power source (see electron/telemetry/types.ts). */
export const powerSourceKindSchema = z.enum(['linux-battery', 'rapl', 'nvidia', 'macos-battery', 'windows-battery', 'estimate']);
/** What a source's readings cover: the whole machine, the CPU package, one GPU, or a model of this process. */
export const powerScopeSchema = z.enum(['system', 'cpu-package', 'gpu', 'process-estimate']);
/** ok / no permission / not present / unavailable now (e.g. battery charging) / error. */
export const powerSourceStateSchema = z.enum(['ok', 'no-permission', 'not-present', 'unavailable', 'error']);

/** One power source as the app found it. */
export const powerSourceInfoSchema = z.object({
  id: z.string(),
  kind: powerSourceKindSchema,
  /** "battery sensor", "RAPL package", "GPU (NVML)", "estimated". */
  label: z.string(),
  scope: powerScopeSchema,
  state: powerSourceStateSchema,
  /** Why it is not ok, in one line. */
  detail: z.string().nullable(),
  /** For `no-permission`: a one-line fix the user can apply. */
  fix: z.string().nullable(),
  /** Last reading in W, if any. */
  powerW: z.number().nonnegative().nullable(),
});
/** One power source as the app found it. */
export type PowerSourceInfo = z.infer<typeof powerSourceInfoSchema>;

/** Battery facts. */
export const batteryStateSchema = z.object({
  /** Charge 0..100. */
  percent: z.number().min(0).max(100),
  onAc: z.boolean(),
  /** Energy left in Wh. */
  energyWh: z.number().nonnegative().nullable(),
  /** Energy when full in Wh. */
  capacityWh: z.number().nonnegative().nullable(),
  status: z.enum(['charging', 'discharging', 'full', 'not-charging', 'unknown']),
});
/** Battery facts. */
export type BatteryStateInfo = z.infer<typeof batteryStateSchema>;

/**
 * How a reply's energy was attributed:
 * - `system-minus-baseline`: ∫ (P_system − P_idle) dt, P_idle measured just before the reply (battery sensors),
 * - `package-cpu-share`: package energy × this process's share of CPU time (RAPL),
 * - `gpu-whole`: GPU energy counted whole (the reply was the only GPU work),
 * - `estimate`: the CPU model (idle W + active W per busy core × CPU-time share); never a measurement.
 */
export const energyMethodSchema = z.enum(['system-minus-baseline', 'package-cpu-share', 'gpu-whole', 'estimate']);

/** The energy of one reply, over its window (prefill + decode). */
export const replyEnergySchema = z.object({
  /** Energy attributed to the reply, in J. */
  energyJ: z.number().nonnegative(),
  /** `energyJ` ÷ completion tokens (0 when no token), in J/token. */
  energyJPerToken: z.number().nonnegative(),
  /** Average attributed power over the window, in W. */
  avgPowerW: z.number().nonnegative(),
  /** Highest attributed power sample in the window, in W. */
  peakPowerW: z.number().nonnegative(),
  /** Idle baseline subtracted (system sources) or used by the estimate, in W. */
  baselinePowerW: z.number().nonnegative(),
  sourceId: z.string(),
  /** What the user sees: "battery sensor", "RAPL package", "GPU (NVML)", "estimated". */
  sourceLabel: z.string(),
  /** False when the figure is an estimate. */
  measured: z.boolean(),
  method: energyMethodSchema,
  /** Why a measured source was not used (e.g. "battery sensor vanished mid-reply"), or null. */
  fallbackReason: z.string().nullable(),
  /** Power samples that fell inside the window. */
  sampleCount: z.number().int().nonnegative(),
});
/** The energy of one reply. */
export type ReplyEnergy = z.infer<typeof replyEnergySchema>;

/** One power sample, pushed live (≈1 Hz while generating, ≤ 0.2 Hz when idle) and stored downsampled. */
export const powerSampleSchema = z.object({
  at: epochMs,
  /** Power in W: whole-system, package or GPU reading, or the estimate (see `measured`). */
  powerW: z.number().nonnegative(),
  sourceId: z.string(),
  sourceLabel: z.string(),
  measured: z.boolean(),
});
/** One power sample. */
export type PowerSample = z.infer<typeof powerSampleSchema>;

/** The reply in progress, as the live gauges show it. */
export const liveReplyEnergySchema = z.object({
  requestId: z.string(),
  conversationId: z.string(),
  /** Energy attributed so far, in J. */
  energyJ: z.number().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
  /** Energy so far ÷ tokens so far; null before the first token. */
  energyJPerToken: z.number().nonnegative().nullable(),
  measured: z.boolean(),
});

/** What the gauges need at once: sources, the active one, the battery and the recent trace. */
export const energyStatusSchema = z.object({
  sources: z.array(powerSourceInfoSchema),
  /** The source the sampler uses now. */
  activeSourceId: z.string(),
  activeSourceLabel: z.string(),
  measured: z.boolean(),
  battery: batteryStateSchema.nullable(),
  /** Minutes to empty at the current draw (null on AC or unknown). */
  timeToEmptyMinutes: z.number().nonnegative().nullable(),
  /**
   * The idle draw a reply's energy is measured above, W: the estimate's idle power, or the median of a
   * whole-system sensor's recent idle readings; null for a package counter (shared by CPU time instead)
   * or before there are idle readings. "Power now" minus this is what generating adds.
   */
  idleBaselinePowerW: z.number().nonnegative().nullable(),
  /** Current sampling interval, in ms. */
  sampleIntervalMs: z.number().int().positive(),
  /** The last ≈2 minutes of samples, oldest first (sparkline). */
  recent: z.array(powerSampleSchema),
  /** The reply being generated, if any. */
  reply: liveReplyEnergySchema.nullable(),
});
/** What the gauges need. */
export type EnergyStatus = z.infer<typeof energyStatusSchema>;

/**
 * Where a conversation came from: `app` = chat in Wattwise (window, browser mode, CLI); `api` = requests
 * from other programs through the local OpenAI-compatible API (one conversation per local day, titled
 * "API requests · YYYY-MM-DD"; listed in the Energy view, never in the chat sidebar).
 */
export const conversationSourceSchema = z.enum(['app', 'api']);
/** Where a conversation came from. */
export type ConversationSource = z.infer<typeof conversationSourceSchema>;

/** Energy totals of one conversation (Energy view). */
export const conversationEnergySchema = z.object({
  conversationId: id,
  title: z.string(),
  /** Chat in the app, or requests through the local API. */
  source: conversationSourceSchema,
  updatedAt: epochMs,
  energyJ: z.number().nonnegative(),
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
  /** energyJ ÷ completionTokens (0 without tokens). */
  energyJPerToken: z.number().nonnegative(),
  /** Model names that answered, most used first. */
  models: z.array(z.string()),
  /** True only when every reply's energy was measured. */
  measured: z.boolean(),
  replies: z.number().int().nonnegative(),
});
/** Energy totals of one conversation. */
export type ConversationEnergy = z.infer<typeof conversationEnergySchema>;

/** Energy per day and model (local calendar days). */
export const dailyEnergySchema = z.object({
  /** `YYYY-MM-DD` in local time. */
  day: z.string(),
  models: z.array(z.object({ modelName: z.string(), energyJ: z.number().nonnegative(), completionTokens: z.number().int().nonnegative() })),
});
/** Energy per day and model. */
export type DailyEnergy = z.infer<typeof dailyEnergySchema>;

/** A conversation's power trace and its replies' windows (Energy view chart). */
export const energyTraceSchema = z.object({
  conversationId: id,
  samples: z.array(powerSampleSchema),
  replies: z.array(
    z.object({
      messageId: id,
      startedAt: epochMs,
      endedAt: epochMs,
      energyJ: z.number().nonnegative(),
      modelName: z.string(),
    }),
  ),
});
/** A conversation's power trace. */
export type EnergyTrace = z.infer<typeof energyTraceSchema>;

// ---------------------------------------------------------------------------------------------
// Power governor
// ---------------------------------------------------------------------------------------------

/** Governor profiles: Performance, Balanced, Saver, and Custom (the user's own limits). */
export const profileIdSchema = z.enum(['performance', 'balanced', 'saver', 'custom']);
/** A governor profile. */
export type ProfileId = z.infer<typeof profileIdSchema>;

/** The governor's settings: a profile for AC and one for battery, and the Custom limits. */
export const governorSettingsSchema = z.object({
  /** Profile while on mains power. Defaults to `performance`. */
  acProfile: profileIdSchema,
  /** Profile while on battery (switches automatically). Defaults to `balanced`. */
  batteryProfile: profileIdSchema,
  custom: z.object({
    /** Cap on average power above idle during generation, W; null = none. */
    wattCapW: z.number().positive().max(1000).nullable(),
    /** "My battery must last until HH:MM" (local time, 24 h); null = none. */
    batteryUntil: z
      .string()
      .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'use HH:MM, 24-hour')
      .nullable(),
    /** Or "for N hours" from now; null = none. Ignored when `batteryUntil` is set. */
    batteryHours: z.number().positive().max(72).nullable(),
    /** Battery to keep in reserve, percent. */
    reservePercent: z.number().min(0).max(90),
    /** Minimum decode speed, tokens/s (≈ 5 is reading speed). */
    minDecodeTokensPerSecond: z.number().min(0).max(10000),
    /** Minimum quality 0..1 on the absolute scale (shared/qualityScale.ts; ≈ 0.34 is a 1B model at Q4_K_M). */
    minQuality: z.number().min(0).max(1),
  }),
  /** Never switch models more often than this, minutes. */
  minSwitchIntervalMinutes: z.number().min(0).max(1440),
});
/** The governor's settings. */
export type GovernorSettings = z.infer<typeof governorSettingsSchema>;

/** A cost prediction for one variant; `source` says whether it was measured here or predicted by the roofline model. */
export const costPredictionSchema = z.object({
  decodeTokensPerSecond: z.number().nonnegative(),
  prefillTokensPerSecond: z.number().nonnegative(),
  /** Average power above idle while decoding, W. */
  powerW: z.number().nonnegative(),
  energyJPerToken: z.number().nonnegative(),
  source: z.enum(['measured', 'roofline']),
});

/** Governor constraints. */
export const governorConstraintSchema = z.enum(['memory', 'min-speed', 'min-quality', 'watt-cap', 'battery-target']);

/** One row of the governor's candidate table. */
export const governorCandidateSchema = z.object({
  modelPath: z.string(),
  name: z.string(),
  fileName: z.string(),
  family: z.string(),
  quantization: z.string().nullable(),
  parameterCount: z.number().nonnegative().nullable(),
  sizeBytes: z.number().int().nonnegative(),
  settings: z.object({ threads: z.number().int().positive(), gpuLayers: z.number().int().nonnegative(), contextSize: z.number().int().positive() }),
  predicted: costPredictionSchema,
  /** Quality 0..1 on the absolute scale (shared/qualityScale.ts), comparable across families. */
  quality: z.number().min(0).max(1),
  /** Where `quality` comes from: measured on this machine (bits per byte), a published score, or the size/quantization prior. */
  qualitySource: z.enum(['measured', 'published', 'prior']),
  /** What `quality` rests on, in one line. */
  qualityBasis: z.string(),
  /** Bits per byte measured by the calibration bench on this machine, if calibrated. */
  bitsPerByte: z.number().positive().nullable(),
  fits: z.boolean(),
  memoryReason: z.string().nullable(),
  feasible: z.boolean(),
  chosen: z.boolean(),
  rank: z.number().int().positive(),
  violates: z.array(governorConstraintSchema),
  /** Why it was not chosen (null for the chosen one). */
  whyNot: z.string().nullable(),
});
/** One row of the governor's candidate table. */
export type GovernorCandidate = z.infer<typeof governorCandidateSchema>;

/** The governor's decision and the table behind it. */
export const governorDecisionSchema = z.object({
  /** The profile in effect (from the power source, or the one asked for). */
  profile: profileIdSchema,
  onAc: z.boolean(),
  batteryPercent: z.number().min(0).max(100).nullable(),
  /** The chosen variant (null only when no usable model is installed). */
  chosen: governorCandidateSchema.nullable(),
  bindingConstraint: z.union([governorConstraintSchema, z.enum(['none', 'no-candidates'])]),
  /** Constraints the chosen variant violates (when nothing satisfies the target). */
  violated: z.array(governorConstraintSchema),
  /** Power budget above idle that applied, W. */
  budgetW: z.number().nullable(),
  /** One sentence, e.g. "On battery, 41% left, target 18:00 → 6.2 W budget → Qwen2.5-1.5B Q4_K_M at 0.19 J/token". */
  reason: z.string(),
  /** Ranked candidates, best first. */
  candidates: z.array(governorCandidateSchema),
  /** When the conversation has a pinned model, it answers instead (the UI says so). */
  pinnedModelPath: z.string().nullable(),
  /**
   * The machine model behind roofline predictions: memory bandwidth `measured` (memcpy), `inferred` from
   * the measured speed of memory-bound variants (≥ 128 MiB), or the `default`.
   */
  machine: z.object({ bandwidthBytesPerSecond: z.number().positive(), bandwidthSource: z.enum(['measured', 'inferred', 'default']), activePowerWPerCore: z.number().nonnegative() }),
  decidedAt: epochMs,
});
/** The governor's decision. */
export type GovernorDecision = z.infer<typeof governorDecisionSchema>;

// ---------------------------------------------------------------------------------------------
// Calibration bench (measured quality, speed, energy and memory per variant on this machine)
// ---------------------------------------------------------------------------------------------

/** The steps of calibrating one variant, in order. */
export const calibrationPhaseSchema = z.enum(['load', 'threads', 'bits-per-byte', 'prefill', 'decode']);
/** One step of calibrating a variant. */
export type CalibrationPhase = z.infer<typeof calibrationPhaseSchema>;

/**
 * What the calibration bench measured for one model file on this machine (MELT-style: quality, speed,
 * energy, memory). Stored per file (recognized after a rename or copy by its size and a hash of its first
 * and last MiB) and per machine.
 */
export const calibrationResultSchema = z.object({
  /** Where the file was when measured (the latest path it was seen at). */
  modelPath: z.string(),
  /** `<size>:<sha256 of the first and last MiB>`: the file's identity across renames and copies. */
  fileKey: z.string(),
  fileName: z.string(),
  modelName: z.string(),
  quantization: z.string().nullable(),
  sizeBytes: z.number().int().nonnegative(),
  parameterCount: z.number().nonnegative().nullable(),
  /** Bits per byte on the app's held-out text (lower is better); null when it could not be measured. */
  bitsPerByte: z.number().positive().nullable(),
  /** Which held-out text (sha256 prefix): BPB on different texts do not compare. */
  textId: z.string(),
  /** Tokens and UTF-8 bytes of the text that were scored. */
  scoredTokens: z.number().int().nonnegative(),
  scoredBytes: z.number().int().nonnegative(),
  /** Scoring speed (prefill with per-token probabilities), tokens/s. */
  bitsPerByteTokensPerSecond: z.number().nonnegative(),
  /** Model load wall time, ms. */
  loadMs: z.number().nonnegative(),
  /** Threads used (the calibrated best for this model, unless set in Settings). */
  threads: z.number().int().positive(),
  /** Prefill of a ≈512-token prompt: tokens and tokens/s. */
  prefillTokens: z.number().int().nonnegative(),
  prefillTokensPerSecond: z.number().nonnegative(),
  /** Greedy decode over the sustained run: tokens and overall tokens/s. */
  decodeTokens: z.number().int().nonnegative(),
  decodeTokensPerSecond: z.number().nonnegative(),
  /** Length of the sustained decode run, ms, and tokens/s in its first and last quarter (thermal slowdown). */
  sustainedDurationMs: z.number().nonnegative(),
  sustainedFirstQuarterTokensPerSecond: z.number().nonnegative(),
  sustainedLastQuarterTokensPerSecond: z.number().nonnegative(),
  /** 1 − last quarter ÷ first quarter: 0 = no slowdown, 0.2 = 20% slower at the end (negative: faster). */
  sustainedSlowdown: z.number(),
  /** Energy above idle per decoded token over the decode run, J/token; null without telemetry. */
  energyJPerToken: z.number().nonnegative().nullable(),
  /** Average power above idle over the decode run, W; null without telemetry. */
  avgPowerW: z.number().nonnegative().nullable(),
  /** The telemetry source in effect ("battery sensor", "RAPL package", "estimated"...); null without telemetry. */
  energySource: z.string().nullable(),
  /** False when the energy is an estimate; null without telemetry. */
  energyMeasured: z.boolean().nullable(),
  /** Peak resident memory of the process during the run, and before the model was loaded, bytes. */
  peakRssBytes: z.number().int().nonnegative(),
  baselineRssBytes: z.number().int().nonnegative(),
  /** A quick run (short decode, for tests and a first look) rather than a full one. */
  quick: z.boolean(),
  measuredAt: epochMs,
});
/** What the calibration bench measured for one model file. */
export type CalibrationResult = z.infer<typeof calibrationResultSchema>;

/** One variant in a calibration run. */
export const calibrationVariantSchema = z.object({
  modelPath: z.string(),
  name: z.string(),
  quantization: z.string().nullable(),
  state: z.enum(['pending', 'running', 'done', 'failed', 'cancelled']),
  /** The step running now (state `running`). */
  phase: calibrationPhaseSchema.nullable(),
  /** Progress of this variant, 0..1. */
  fraction: z.number().min(0).max(1),
  /** Estimated duration before starting, ms. */
  estimatedMs: z.number().nonnegative(),
  /** Why it failed (state `failed`). */
  error: z.string().nullable(),
});

/** A calibration run: its variants, progress, and how it ended. */
export const calibrationStatusSchema = z.object({
  runId: id,
  state: z.enum(['running', 'done', 'cancelled', 'failed']),
  quick: z.boolean(),
  variants: z.array(calibrationVariantSchema),
  /** Progress over all variants, 0..1 (weighted by their estimated durations). */
  fraction: z.number().min(0).max(1),
  /** Estimated total before starting, ms. */
  estimatedMs: z.number().nonnegative(),
  startedAt: epochMs,
  /** When it ended (null while running). */
  endedAt: epochMs.nullable(),
  /** Why it is waiting, e.g. "waiting for the reply to finish"; null when not waiting. */
  waiting: z.string().nullable(),
});
/** A calibration run. */
export type CalibrationStatus = z.infer<typeof calibrationStatusSchema>;

/** The estimate shown before a run starts. */
export const calibrationEstimateSchema = z.object({
  variants: z.array(z.object({ modelPath: z.string(), name: z.string(), quantization: z.string().nullable(), estimatedMs: z.number().nonnegative() })),
  totalMs: z.number().nonnegative(),
  quick: z.boolean(),
});
/** The estimate shown before a run starts. */
export type CalibrationEstimate = z.infer<typeof calibrationEstimateSchema>;

// ---------------------------------------------------------------------------------------------
// Model library: the catalog, the recommended ladder, downloads
// ---------------------------------------------------------------------------------------------

/** A catalog entry as offered on this machine: what it would cost here, before downloading it. */
export const catalogOfferSchema = z.object({
  entry: catalogEntrySchema,
  /** The `hf:` URI that downloads it. */
  uri: z.string(),
  /** Predicted with the governor's cost model for this machine (roofline, calibrated by what was measured here). */
  predicted: costPredictionSchema,
  /** Quality on the absolute scale, its source and basis (as for an installed file). */
  quality: z.number().min(0).max(1),
  qualitySource: z.enum(['measured', 'published', 'prior']),
  qualityBasis: z.string(),
  /** Estimated memory for the model and a context of the configured size, bytes, and whether that fits this machine. */
  memoryBytes: z.number().nonnegative(),
  fitsMemory: z.boolean(),
  /** The installed copy (same file name and size), if any. */
  installedPath: z.string().nullable(),
});
/** A catalog entry as offered on this machine. */
export type CatalogOffer = z.infer<typeof catalogOfferSchema>;

/** One rung of the recommended ladder. */
export const recommendationSchema = z.object({
  /** The profile it serves. */
  profile: z.enum(['saver', 'balanced', 'performance']),
  offer: catalogOfferSchema,
  /** Why this one, in one sentence. */
  reason: z.string(),
});
/** One rung of the recommended ladder. */
export type Recommendation = z.infer<typeof recommendationSchema>;

/** The recommended ladder for this computer. */
export const recommendedLadderSchema = z.object({
  /** Saver, Balanced, Performance (fewer when the catalog has fewer distinct fits). */
  rungs: z.array(recommendationSchema),
  /** Bytes still to download for the rungs not installed yet. */
  downloadBytes: z.number().int().nonnegative(),
  /** Free space where downloads go, bytes; null when unknown. */
  freeDiskBytes: z.number().nonnegative().nullable(),
  /** What limited the choice (memory, disk), in one line; null when nothing did. */
  note: z.string().nullable(),
});
/** The recommended ladder for this computer. */
export type RecommendedLadder = z.infer<typeof recommendedLadderSchema>;

/** The library's situation: folders, disk, and the other apps' folders. */
export const libraryStatusSchema = z.object({
  /** Wattwise's own models folder (downloads go there). */
  modelsDir: z.string(),
  /** Bytes of `.gguf` files in it, and free bytes on its disk (null when unknown). */
  modelsDirBytes: z.number().nonnegative(),
  freeDiskBytes: z.number().nonnegative().nullable(),
  /** This machine's RAM, bytes. */
  totalMemoryBytes: z.number().nonnegative(),
  /** Each other app: whether it is read, the folders looked in, and how many files were found there. */
  sources: z.array(z.object({ source: externalModelSourceSchema, enabled: z.boolean(), folders: z.array(z.string()), found: z.number().int().nonnegative() })),
});
/** The library's situation. */
export type LibraryStatus = z.infer<typeof libraryStatusSchema>;

/** A download's progress. */
export const downloadProgressSchema = z.object({
  downloadedBytes: z.number().nonnegative(),
  totalBytes: z.number().nonnegative().nullable(),
  bytesPerSecond: z.number().nonnegative(),
  etaMs: z.number().nonnegative().nullable(),
  resumedFromBytes: z.number().nonnegative(),
});

/** One download (queued, running, paused, finished or not). */
export const downloadJobSchema = z.object({
  id: z.string(),
  /** What was asked: an `hf:` URI or a URL. */
  input: z.string(),
  state: z.enum(['queued', 'active', 'paused', 'done', 'failed', 'cancelled']),
  /** Where the file goes, once known. */
  destPath: z.string().nullable(),
  /** Canonical source, once resolved. */
  source: z.string().nullable(),
  progress: downloadProgressSchema.nullable(),
  /** When done: the file, its size and SHA-256, whether it matched the Hub's, and bytes resumed from a partial download. */
  result: z
    .object({ path: z.string(), sizeBytes: z.number().nonnegative(), sha256: z.string(), verified: z.boolean(), resumedFromBytes: z.number().nonnegative() })
    .nullable(),
  /** When failed: the downloader's code (NOT_FOUND, NETWORK, DISK_FULL, CORRUPT, AUTH, EXISTS...) and a one-line message. */
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
});
/** One download. */
export type DownloadJob = z.infer<typeof downloadJobSchema>;

/** One message of a conversation, without its alternatives (see {@link messageSchema}). */
export const messageBaseSchema = z.object({
  id,
  conversationId: id,
  role: roleSchema,
  content: z.string(),
  status: messageStatusSchema,
  createdAt: epochMs,
  /** Engine statistics; only on assistant messages that produced at least the prefill. */
  stats: replyStatsSchema.nullable(),
  /** Why generation failed (status `error`). */
  error: z.string().nullable(),
  /** Energy of the reply (assistant messages with stats). */
  energy: replyEnergySchema.nullable(),
  /** When the power governor chose the model that answered: the profile in effect and its reason. */
  governor: z.object({ profile: profileIdSchema, reason: z.string() }).nullable(),
});

/**
 * Most alternatives one reply keeps (Regenerate and "Try with…"): 10. Past it, the oldest one not shown
 * is deleted, so a conversation cannot grow without bound by regenerating.
 */
export const MAX_ALTERNATIVES = 10;

/** One message of a conversation. */
export const messageSchema = messageBaseSchema.extend({
  /**
   * For a reply that was regenerated or tried with another model: every version, oldest first, this one
   * included (the one whose `id` equals the message's is shown and sent to the model as history). Absent
   * or empty when the reply has only ever had one version.
   */
  alternatives: z.array(messageBaseSchema).max(MAX_ALTERNATIVES).optional(),
});
/** One message of a conversation. */
export type Message = z.infer<typeof messageSchema>;
/** One version of a reply (an entry of `Message.alternatives`). */
export type MessageVersion = z.infer<typeof messageBaseSchema>;

/** A conversation as listed in the sidebar. */
export const conversationSummarySchema = z.object({
  id,
  title: z.string(),
  createdAt: epochMs,
  updatedAt: epochMs,
  /** The system prompt the conversation started with. */
  systemPrompt: z.string(),
  /** The model the conversation last used (or was started with). */
  modelPath: z.string().nullable(),
  /** The model pinned for this conversation (overrides the power governor); null = the governor chooses. */
  pinnedModelPath: z.string().nullable(),
  /** The conversation's preset (shared/presets.ts: a built-in id or a user preset's); null = Default. */
  presetId: z.string().min(1).max(64).nullable(),
  /** The conversation's own values over its preset (`presetOverridesSchema`); null = none. */
  overrides: presetOverridesSchema.nullable(),
  messageCount: z.number().int().nonnegative(),
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
  /** Energy of all replies, in J. */
  energyJ: z.number().nonnegative(),
  /** When listed by a search: a short excerpt around the match, with the match in `[` `]`. */
  snippet: z.string().nullable(),
});
/** A conversation as listed in the sidebar. */
export type ConversationSummary = z.infer<typeof conversationSummarySchema>;

/** A conversation with its messages, oldest first. */
export const conversationDetailSchema = z.object({
  conversation: conversationSummarySchema,
  messages: z.array(messageSchema),
});
/** A conversation with its messages, oldest first. */
export type ConversationDetail = z.infer<typeof conversationDetailSchema>;

export const themeSchema = z.enum(['light', 'dark', 'system']);

/** The local OpenAI-compatible API's settings (Settings → Local API; see `electron/server/openai/`). */
export const apiServerSettingsSchema = z.object({
  /** Serve the API while the app runs. Defaults to false. */
  enabled: z.boolean(),
  /** TCP port on 127.0.0.1. Defaults to {@link defaultApiPort}. */
  port: z.number().int().min(1024).max(65535),
  /** The key clients send as `Authorization: Bearer <key>`; null until the API is first turned on (then generated). */
  apiKey: z.string().min(16).max(256).regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces').nullable(),
  /** Keep the text of API requests and replies in the history; when false only their tokens and energy are kept. Defaults to true. */
  keepText: z.boolean(),
  /** Web origins (e.g. `http://localhost:3000`) whose pages may call the API (CORS); empty = none, the default. */
  allowedOrigins: z.array(z.string().regex(/^https?:\/\/[^\s/]+$/, 'an origin: scheme://host[:port], no path').max(200)).max(20),
});
/** The local API's settings. */
export type ApiServerSettings = z.infer<typeof apiServerSettingsSchema>;
/** The local API's default port (a free one among the usual local-LLM ports: LM Studio 1234, Jan 1337, Ollama 11434, llama.cpp 8080). */
export const defaultApiPort = 8484;

/** What the local API server is doing. */
export const apiServerStatusSchema = z.object({
  /** `off`: not enabled; `running`: serving; `error`: enabled but could not start (see `error`). */
  state: z.enum(['off', 'running', 'error']),
  /** `http://127.0.0.1:<port>/v1` while running, else null. */
  baseUrl: z.string().nullable(),
  /** The port in use, or the port asked for. */
  port: z.number().int().nullable(),
  /** Why it is not running (e.g. "port 8484 is in use by another program"), else null. */
  error: z.string().nullable(),
  /** Requests being answered or waiting their turn now. */
  activeRequests: z.number().int().nonnegative(),
  /** Requests answered since it started. */
  servedRequests: z.number().int().nonnegative(),
});
/** What the local API server is doing. */
export type ApiServerStatus = z.infer<typeof apiServerStatusSchema>;
/** Colour theme. */
export type Theme = z.infer<typeof themeSchema>;

/** What happens when a conversation no longer fits the context window (LM Studio's choices). */
export const contextOverflowSchema = z.enum([
  /** Drop the oldest turns (the system prompt stays), in large steps so that re-reading the window is rare. Default. */
  'rolling-window',
  /** Keep the system prompt and the first user message, drop turns from the middle. */
  'truncate-middle',
  /** Refuse to go on: the reply stops at the limit and says so (start a new chat or shorten). */
  'stop',
]);
/** What happens when a conversation no longer fits the context window. */
export type ContextOverflow = z.infer<typeof contextOverflowSchema>;

/** How full the context window is (method `chat.context`). All counts in tokens. */
export const contextUsageSchema = z.object({
  /** The context size the next reply will use. */
  contextSize: z.number().int().positive(),
  /** Tokens of the history as it would be sent (system prompt and chat template included). */
  historyTokens: z.number().int().nonnegative(),
  /** Tokens of the draft message. */
  draftTokens: z.number().int().nonnegative(),
  /** Tokens kept free for the reply (the reply cap, bounded by the context). */
  replyReserveTokens: z.number().int().nonnegative(),
  /** True when counted with the answering model's tokenizer; false when estimated (no model loaded). */
  exact: z.boolean(),
  /** The setting in effect when history + draft + reserve exceed the context. */
  overflow: contextOverflowSchema,
});
/** How full the context window is. */
export type ContextUsage = z.infer<typeof contextUsageSchema>;

/** User settings, stored in SQLite. */
export const settingsSchema = z.object({
  /** Models folder; `null` means the default (`<data dir>/models`, or `WATTWISE_MODELS_DIR`). */
  modelsDir: z.string().min(1).max(4096).nullable(),
  /** Context size in tokens. Defaults to 2048. */
  contextSize: z.number().int().min(128).max(131072),
  /** CPU threads; `null` means the fastest measured for the model on this machine. */
  threads: z.number().int().min(1).max(256).nullable(),
  /** Reply length cap in tokens. Defaults to 512. */
  maxReplyTokens: z.number().int().min(1).max(32768),
  theme: themeSchema,
  /** System prompt of new chats. */
  defaultSystemPrompt: z.string().max(20000),
  /** The model chosen last; new chats use it. */
  lastModelPath: z.string().nullable(),
  /** The power governor's profiles and limits. */
  governor: governorSettingsSchema,
  /** Which other apps' model folders are read (in place). Each defaults to true. */
  modelSources: z.object({
    lmstudio: z.boolean(),
    ollama: z.boolean(),
    'huggingface-cache': z.boolean(),
    gpt4all: z.boolean(),
    jan: z.boolean(),
  }),
  /** The calibration bench. */
  calibration: z.object({
    /** Calibrate uncalibrated models by itself when on AC and idle for a while. Defaults to false. */
    autoWhenIdleOnAc: z.boolean(),
  }),
  /** The local OpenAI-compatible API. */
  api: apiServerSettingsSchema,
  /**
   * Unload the model after this many minutes without a reply, freeing its memory (the next message loads
   * it again); null = never. Defaults: 10 on battery, 60 on AC.
   */
  idleUnload: z.object({
    onBatteryMinutes: z.number().int().min(1).max(1440).nullable(),
    onAcMinutes: z.number().int().min(1).max(1440).nullable(),
  }),
  /** What happens when a conversation no longer fits the context window. Defaults to `rolling-window`. */
  contextOverflow: contextOverflowSchema,
});
/** User settings. */
export type Settings = z.infer<typeof settingsSchema>;

/** Result of timing a short decode at one thread count. */
export const threadTrialSchema = z.object({
  threads: z.number().int().positive(),
  decodeTokensPerSecond: z.number().nonnegative(),
});

/** The thread count measured fastest for one model file on this machine. */
export const threadCalibrationSchema = z.object({
  modelPath: z.string(),
  /** Size of the file when measured (a changed file is measured again). */
  modelSizeBytes: z.number().int().nonnegative(),
  bestThreads: z.number().int().positive(),
  trials: z.array(threadTrialSchema),
  measuredAt: epochMs,
});
/** The thread count measured fastest for one model file on this machine. */
export type ThreadCalibration = z.infer<typeof threadCalibrationSchema>;

/** What the engine is doing. */
export const engineStateSchema = z.enum(['idle', 'loading', 'calibrating', 'ready', 'generating', 'error']);

/** Engine status, pushed as an event whenever it changes. */
export const engineStatusSchema = z.object({
  state: engineStateSchema,
  /** The loaded (or loading) model. */
  modelPath: z.string().nullable(),
  /** Load progress 0..1 while `loading`. */
  loadProgress: z.number().min(0).max(1).nullable(),
  /** Threads in use for the loaded model. */
  threads: z.number().int().positive().nullable(),
  /** Why the last load failed (state `error`). */
  error: apiErrorSchema.nullable(),
  /**
   * True while no model is loaded because it was unloaded after the idle time in Settings (to save
   * memory); the next message loads it again. Absent or false otherwise.
   */
  idleUnloaded: z.boolean().optional(),
});
/** Engine status. */
export type EngineStatus = z.infer<typeof engineStatusSchema>;

/** Facts about the running app. */
export const appInfoSchema = z.object({
  version: z.string(),
  dataDir: z.string(),
  /** The models folder in effect (setting, env var or default). */
  modelsDir: z.string(),
  transport: z.enum(['ipc', 'http']),
  platform: z.string(),
  /** Physical CPU cores (systeminformation). */
  physicalCores: z.number().int().positive(),
});
/** Facts about the running app. */
export type AppInfo = z.infer<typeof appInfoSchema>;

/** What a chat call starts: events for it carry `requestId`. */
export const chatStartedSchema = z.object({
  requestId: id,
  conversationId: id,
  /** The user message (new or edited); `null` for regenerate. */
  userMessageId: id.nullable(),
  assistantMessageId: id,
});
/** What a chat call starts. */
export type ChatStarted = z.infer<typeof chatStartedSchema>;

// ---------------------------------------------------------------------------------------------
// Calls
// ---------------------------------------------------------------------------------------------

const empty = z.object({}).strict();
const modelPath = z.string().min(1).max(4096);
const text = z.string().max(200_000);
/** A message the user sends: not empty and not only whitespace. */
const messageText = text.min(1).refine((t) => t.trim().length > 0, { message: 'the message is empty (only whitespace)' });

/**
 * Every call: method name → input and output schemas. Inputs are strict objects: unknown keys are
 * rejected with `BAD_INPUT`.
 */
export const apiContract = {
  'app.info': { input: empty, output: appInfoSchema },
  'models.list': { input: empty, output: z.array(modelInfoSchema) },
  'engine.status': { input: empty, output: engineStatusSchema },
  /** Loads a model ahead of the first message (optional: chat loads on demand). */
  'engine.load': { input: z.object({ modelPath }).strict(), output: engineStatusSchema },
  /** Unloads the model and frees its memory (the next reply loads it again). */
  'engine.unload': { input: empty, output: engineStatusSchema },
  'conversations.list': {
    input: z.object({ query: z.string().max(500).optional() }).strict(),
    output: z.array(conversationSummarySchema),
  },
  'conversations.get': { input: z.object({ id }).strict(), output: conversationDetailSchema },
  /**
   * Creates a conversation; a `modelPath` pins that model for it (else the power governor chooses).
   * `presetId` (default null = Default; NOT_FOUND for an unknown one) and `overrides` set its preset; a
   * `systemPrompt` that differs from what the preset gives becomes a system-prompt override.
   */
  'conversations.create': {
    input: z
      .object({
        systemPrompt: z.string().max(20000).optional(),
        modelPath: modelPath.optional(),
        presetId: id.nullable().optional(),
        overrides: presetOverridesSchema.nullable().optional(),
      })
      .strict(),
    output: conversationSummarySchema,
  },
  'conversations.rename': {
    input: z.object({ id, title: z.string().trim().min(1).max(200) }).strict(),
    output: conversationSummarySchema,
  },
  'conversations.delete': { input: z.object({ id }).strict(), output: z.object({ deleted: z.boolean() }) },
  /**
   * Sets the conversation's preset (null = Default) and its overrides (null = none; they replace the
   * previous ones whole). NOT_FOUND for an unknown conversation or preset. Its next reply uses them.
   */
  'conversations.setPreset': {
    input: z.object({ id, presetId: id.nullable(), overrides: presetOverridesSchema.nullable() }).strict(),
    output: conversationSummarySchema,
  },
  /** The built-in presets ("Default", "Precise", "Creative"), then the user's own, oldest first. */
  'presets.list': { input: empty, output: z.array(presetSchema) },
  /** Stores a new user preset. BAD_INPUT when its name is taken (built-in names included, case ignored). */
  'presets.create': { input: presetFieldsSchema.strict(), output: presetSchema },
  /**
   * Replaces every field of a user preset. BAD_INPUT for a built-in (they cannot be edited: duplicate one)
   * or a name that is taken; NOT_FOUND for an unknown id.
   */
  'presets.update': { input: presetFieldsSchema.extend({ id }).strict(), output: presetSchema },
  /**
   * Deletes a user preset; the conversations that used it go back to Default (keeping their overrides).
   * BAD_INPUT for a built-in; `deleted` false for an unknown id.
   */
  'presets.delete': {
    input: z.object({ id }).strict(),
    output: z.object({ deleted: z.boolean(), movedConversations: z.number().int().nonnegative() }),
  },
  /** Pins a model for the conversation (overriding the power governor), or unpins it with null. */
  'conversations.pin': {
    input: z.object({ id, modelPath: modelPath.nullable() }).strict(),
    output: conversationSummarySchema,
  },
  /**
   * Appends a user message and streams the assistant's reply (events tagged with `requestId`). A
   * `modelPath` pins that model for the conversation; without one the pinned model (or the governor) answers.
   */
  'chat.send': {
    input: z.object({ conversationId: id, content: messageText, modelPath: modelPath.optional() }).strict(),
    output: chatStartedSchema,
  },
  /** Answers the last question again; the current reply is kept as an alternative (see `Message.alternatives`). */
  'chat.regenerate': {
    input: z.object({ conversationId: id, modelPath: modelPath.optional() }).strict(),
    output: chatStartedSchema,
  },
  /**
   * "Try with…": answers the last question again with another model — one installed model (`modelPath`) or
   * the power governor's choice for a profile (`profile`) — for this reply only (the conversation's pinned
   * model is unchanged). The current reply is kept as an alternative (see `Message.alternatives`).
   */
  'chat.tryWith': {
    input: z
      .object({ conversationId: id, modelPath: modelPath.optional(), profile: profileIdSchema.exclude(['custom']).optional() })
      .strict()
      .refine((v) => (v.modelPath === undefined) !== (v.profile === undefined), { message: 'give either modelPath or profile' }),
    output: chatStartedSchema,
  },
  /** Shows another version of a reply (one of its `alternatives`); later replies see that version as history. */
  'messages.selectAlternative': {
    input: z.object({ messageId: id }).strict(),
    output: conversationDetailSchema,
  },
  /** Changes a user message, drops everything after it and asks again from there. */
  'chat.edit': {
    input: z.object({ messageId: id, content: messageText, modelPath: modelPath.optional() }).strict(),
    output: chatStartedSchema,
  },
  /**
   * How full the context window is for the next message: the conversation's history (chat template
   * included, as it would be sent) plus `draft`, against the context size the next reply will use. Tokens
   * are counted with the model that would answer when it is loaded (`exact`), else estimated from bytes.
   */
  'chat.context': {
    input: z.object({ conversationId: id.nullable(), draft: text, modelPath: modelPath.optional() }).strict(),
    output: contextUsageSchema,
  },
  /** Stops a reply at once; the partial reply is kept with status `stopped`. */
  'chat.abort': { input: z.object({ requestId: id }).strict(), output: z.object({ aborted: z.boolean() }) },
  'settings.get': { input: empty, output: settingsSchema },
  'settings.update': { input: settingsSchema.partial().strict(), output: settingsSchema },
  /**
   * The governor's current decision and candidate table for the power state now: for a conversation
   * (honouring its pinned model) or for a new chat; `profile` asks "what would this profile choose?".
   */
  'governor.decide': {
    input: z.object({ conversationId: id.optional(), profile: profileIdSchema.optional() }).strict(),
    output: governorDecisionSchema,
  },
  'threads.calibrations': { input: empty, output: z.array(threadCalibrationSchema) },
  /** Calibration results of the installed models on this machine, and the run in progress (if any). */
  'calibration.list': {
    input: empty,
    output: z.object({ results: z.array(calibrationResultSchema), run: calibrationStatusSchema.nullable() }),
  },
  /** How long calibrating would take (all usable installed models, or `modelPaths`). */
  'calibration.estimate': {
    input: z.object({ modelPaths: z.array(modelPath).max(200).optional(), quick: z.boolean().optional() }).strict(),
    output: calibrationEstimateSchema,
  },
  /**
   * Starts calibrating (all usable installed models, or `modelPaths`) in the background; progress comes
   * as `calibration.progress` events. `BUSY` when a run is already going. It waits while a reply is
   * being written, and a reply that starts during a run pauses it (the variant is measured again after).
   */
  'calibration.start': {
    input: z.object({ modelPaths: z.array(modelPath).min(1).max(200).optional(), quick: z.boolean().optional() }).strict(),
    output: calibrationStatusSchema,
  },
  /** Cancels the run in progress (results already measured are kept). */
  'calibration.cancel': { input: empty, output: z.object({ cancelled: z.boolean() }) },
  /** The models folder, disk space, memory, and the other apps' folders (what is read, what was found). */
  'library.status': { input: empty, output: libraryStatusSchema },
  /** The catalog of downloadable models, each with its predicted cost and quality on this machine. */
  'library.catalog': { input: empty, output: z.object({ offers: z.array(catalogOfferSchema) }) },
  /** About three catalog variants for this computer (Saver, Balanced, Performance), chosen with the governor's cost model. */
  'library.recommend': { input: empty, output: recommendedLadderSchema },
  /** Every download of this session, and partial downloads found on disk (paused). */
  'downloads.list': { input: empty, output: z.array(downloadJobSchema) },
  /**
   * Downloads a model into the models folder: an `hf:<org>/<repo>/<file.gguf>` URI, `hf:<org>/<repo>:<QUANT>`,
   * a Hub `https://…/resolve/…` URL or a plain https URL; `sha256` when known (catalog entries) is checked
   * too. Progress comes as `downloads.changed` events. BAD_INPUT for a source that cannot be parsed.
   */
  'downloads.start': {
    input: z.object({ source: z.string().trim().min(1).max(2048), sha256: z.string().regex(/^[0-9a-f]{64}$/).optional() }).strict(),
    output: downloadJobSchema,
  },
  /** Pauses a download (keeps the partial file to resume, also after a restart). */
  'downloads.pause': { input: z.object({ id: z.string().min(1).max(64) }).strict(), output: downloadJobSchema },
  /** Resumes a paused or failed download. */
  'downloads.resume': { input: z.object({ id: z.string().min(1).max(64) }).strict(), output: downloadJobSchema },
  /** Cancels a download and deletes its partial file. */
  'downloads.cancel': { input: z.object({ id: z.string().min(1).max(64) }).strict(), output: downloadJobSchema },
  /**
   * Deletes a model file from Wattwise's own models folder (never another app's). BAD_INPUT for a file
   * elsewhere, NOT_FOUND for a missing one; the loaded model is unloaded first.
   */
  'models.delete': { input: z.object({ modelPath }).strict(), output: z.object({ deleted: z.boolean(), freedBytes: z.number().nonnegative() }) },
  /** The calibration results as CSV (MELT-style table: one row per model file). */
  'calibration.exportCsv': { input: empty, output: z.object({ fileName: z.string(), csv: z.string() }) },
  /** The local OpenAI-compatible API server's state (turned on and off with `settings.update({ api })`). */
  'api.status': { input: empty, output: apiServerStatusSchema },
  /** Replaces the local API's key with a new random one (clients using the old one get 401); returns the settings. */
  'api.regenerateKey': { input: empty, output: settingsSchema },
  /** Power sources, battery, the recent power trace and the reply in progress (live gauges). */
  'energy.status': { input: empty, output: energyStatusSchema },
  /** Energy view: per-conversation totals (newest first) and per-day energy by model for the last `days`. */
  'energy.summary': {
    input: z.object({ days: z.number().int().min(1).max(366).optional() }).strict(),
    output: z.object({ conversations: z.array(conversationEnergySchema), days: z.array(dailyEnergySchema) }),
  },
  /** Energy view: the stored (downsampled) power trace of one conversation. */
  'energy.trace': { input: z.object({ conversationId: id }).strict(), output: energyTraceSchema },
  /** CSV export of messages (with stats and energy) or power samples, of one conversation or of all. */
  'energy.exportCsv': {
    input: z.object({ kind: z.enum(['messages', 'samples']), conversationId: id.optional() }).strict(),
    output: z.object({ fileName: z.string(), csv: z.string() }),
  },
  /**
   * One conversation (or, without `conversationId`, every chat conversation) as Markdown (readable: each reply with
   * its model and energy) or JSON (an archive, `shared/archive.ts`: everything, for `history.import`). NOT_FOUND for
   * an unknown conversation.
   */
  'history.export': { input: z.object({ conversationId: id.optional(), format: z.enum(['md', 'json']) }).strict(), output: exportFileSchema },
  /**
   * Imports an archive's JSON text (at most 32 Mi characters): checked whole first, so a bad file is refused with
   * BAD_INPUT saying what is wrong and nothing is written; ids are kept unless taken here (then new ones).
   */
  'history.import': { input: z.object({ text: z.string().max(maxArchiveTextChars) }).strict(), output: importResultSchema },
  /** Backs the database up now (SQLite's online backup) into `<data folder>/backups`; BUSY while one is being made. */
  'backup.create': { input: empty, output: backupInfoSchema },
  /** The backups, newest first, the restore waiting for the next start, and how the last one ended. */
  'backup.list': { input: empty, output: backupListSchema },
  /**
   * Checks a backup and stages it to replace the database at the next start (the current one is kept beside it).
   * NOT_FOUND for no such backup; BAD_INPUT for one that fails the check (damaged, not Wattwise's, newer).
   */
  'backup.restore': {
    input: z.object({ name: backupNameSchema }).strict(),
    output: z.object({ stagedFor: z.literal('next-start'), backup: z.string() }),
  },
  /** Forgets the restore staged for the next start. */
  'backup.cancelRestore': { input: empty, output: z.object({ cancelled: z.boolean() }) },
} as const;

/** Every method name. */
export type ApiMethod = keyof typeof apiContract;
/** The method names, for transports that must allow-list them (the preload, the HTTP router). */
export const apiMethods = Object.keys(apiContract) as ApiMethod[];
/** Input type of a call. */
export type ApiInput<M extends ApiMethod> = z.input<(typeof apiContract)[M]['input']>;
/** Output type of a call. */
export type ApiOutput<M extends ApiMethod> = z.output<(typeof apiContract)[M]['output']>;

/** True if `name` is one of the contract's methods. */
export function isApiMethod(name: unknown): name is ApiMethod {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(apiContract, name);
}

// ---------------------------------------------------------------------------------------------
// Events (backend → renderer)
// ---------------------------------------------------------------------------------------------

/** Streaming and status events, all tagged by `type`; chat events also by `requestId`. */
export const apiEventSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('chat.token'),
    requestId: id,
    conversationId: id,
    messageId: id,
    /** Text appended to the reply (one or more tokens' worth). */
    text: z.string(),
  }),
  z.object({
    type: z.literal('chat.done'),
    requestId: id,
    conversationId: id,
    /** The final assistant message (status complete, stopped or error). */
    message: messageSchema,
    /** Why the reply failed (message status `error`), with its code; null otherwise. */
    error: apiErrorSchema.nullable(),
  }),
  z.object({
    type: z.literal('engine.status'),
    status: engineStatusSchema,
  }),
  z.object({
    /**
     * The governor's decision changed (power source, battery level, throttling, settings). It is the
     * decision for an unpinned chat (`pinnedModelPath` null): a pinned conversation keeps its model.
     */
    type: z.literal('governor.decision'),
    decision: governorDecisionSchema,
  }),
  z.object({
    /** A download was queued, progressed, paused, finished, failed or was cancelled. */
    type: z.literal('downloads.changed'),
    job: downloadJobSchema,
  }),
  z.object({
    /** The installed models changed (a download finished, a model was deleted, a source was turned on or off). */
    type: z.literal('models.changed'),
  }),
  z.object({
    /** A calibration run progressed, finished, failed or was cancelled. */
    type: z.literal('calibration.progress'),
    status: calibrationStatusSchema,
  }),
  z.object({
    /** The local API server started, stopped, failed to start, or began or finished a request. */
    type: z.literal('api.status'),
    status: apiServerStatusSchema,
  }),
  z.object({
    type: z.literal('power.sample'),
    sample: powerSampleSchema,
    battery: batteryStateSchema.nullable(),
    /** Minutes to empty at the current draw (null on AC or unknown). */
    timeToEmptyMinutes: z.number().nonnegative().nullable(),
    /** The reply in progress, if any. */
    reply: liveReplyEnergySchema.nullable(),
  }),
  z.object({
    type: z.literal('conversations.changed'),
    /**
     * The conversation that changed; `null` means "anything may have changed: reload the list, the open
     * conversation and the engine status" (the HTTP bridge emits it after its event stream reconnects).
     */
    conversationId: id.nullable(),
  }),
]);
/** One backend → renderer event. */
export type ApiEvent = z.infer<typeof apiEventSchema>;
/** The `type` tags of the events. */
export type ApiEventType = ApiEvent['type'];

export { ipcChannels } from './ipc.js';

/**
 * What the preload exposes on `window.wattwise` (Electron) and what the HTTP client implements
 * (browser mode): the renderer only ever sees this interface.
 */
export interface WattwiseBridge {
  /** Calls `method`; never rejects for API errors (they come back as `{ ok: false }`). */
  call<M extends ApiMethod>(method: M, input: ApiInput<M>): Promise<ApiResult<ApiOutput<M>>>;
  /** Subscribes to every backend event; returns the unsubscribe function. */
  onEvent(listener: (event: ApiEvent) => void): () => void;
}
