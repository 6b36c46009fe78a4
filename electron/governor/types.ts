/**
 * The power governor's types: what the caller knows about each installed GGUF variant, the user's target,
 * the power state, and the decision the governor hands back.
 *
 * The governor is pure (no I/O, no clock): the engine, the store and the telemetry supply every input,
 * time included. Units are in the names: `...W` watts, `...Wh` watt-hours, `...J` joules, `...Bytes`,
 * `...TokensPerSecond`, `...Ms` milliseconds, `...At` ms since the Unix epoch.
 *
 * Background: single-user decoding is memory-bandwidth bound, so decode tokens/s ≈ effective memory
 * bandwidth ÷ bytes read per token (weights + KV cache) and energy per token grows with model bytes;
 * quantization cuts the bytes at a measurable quality cost (see `quality.ts`, `costModel.ts`).
 */

/** The built-in profiles, and `custom` (the user's own limits). See `profiles.ts` for their numbers. */
export type ProfileId = 'performance' | 'balanced' | 'saver' | 'custom';

/** What the user asks of the governor. Built-in profiles are turned into one by `profileTarget`. */
export interface GovernorTarget {
  profile: ProfileId;
  /** Custom: cap on average power ABOVE IDLE during generation, W. null = none. */
  wattCapW: number | null;
  /**
   * Custom: keep the battery going: hours left until the deadline ("until 18:00" → the caller converts
   * to hours) and the reserve to keep, percent (0..100). null = none. Applies only while on battery.
   */
  battery: { hoursLeft: number; reservePercent: number } | null;
  /**
   * Minimum decode speed, tokens/s. Default {@link import('./profiles.js').DEFAULT_MIN_DECODE_TOKENS_PER_SECOND}
   * (5 tok/s ≈ silent reading speed; the derivation is documented there).
   */
  minDecodeTokensPerSecond: number;
  /** Minimum quality score 0..1 on the absolute scale (see `quality.ts`; e.g. 0.34 ≈ a 1B model at Q4_K_M). */
  minQuality: number;
}

/** The machine's power situation, from the telemetry. */
export interface PowerState {
  /** True when on mains power. */
  onAc: boolean;
  /** Battery charge 0..100, null without a battery or when unknown. */
  batteryPercent: number | null;
  /** Battery energy when full, Wh. */
  batteryCapacityWh: number | null;
  /** Energy left, Wh; if absent or null: `batteryPercent` × `batteryCapacityWh` ÷ 100. */
  batteryEnergyWh?: number | null;
  /** The system's own draw without inference (idle), W; null when unknown (counted as 0 W). */
  baselinePowerW: number | null;
  /** The OS or the telemetry reports thermal throttling (see `decide`: speeds are derated). */
  thermalThrottled: boolean;
}

/**
 * How much the user generates. `tokensPerHour` null (or not a positive number) → the default
 * {@link import('./profiles.js').DEFAULT_TOKENS_PER_HOUR} (2,000 tokens per hour of active chat).
 */
export interface RecentUsage {
  tokensPerHour: number | null;
}

/** What one variant is predicted to cost on this machine. */
export interface CostPrediction {
  /** Decode speed, tokens/s. */
  decodeTokensPerSecond: number;
  /** Prompt processing speed, tokens/s. */
  prefillTokensPerSecond: number;
  /** Average power ABOVE IDLE while decoding, W. */
  powerW: number;
  /**
   * Energy per generated token above idle, J/token = `powerW` ÷ `decodeTokensPerSecond` (W = J/s, so
   * J/s ÷ tokens/s = J/token); a measured J/token is used as is.
   */
  energyJPerToken: number;
  /** `measured`: from this file's recent replies on this machine; `roofline`: from the bandwidth model. */
  source: 'measured' | 'roofline';
}

/** One installed variant, with what the caller knows about it. */
export interface CandidateInput {
  /** Absolute path of the GGUF file (the identity of a variant). */
  modelPath: string;
  fileName: string;
  /** Display name (catalog rule), e.g. `Qwen2.5 1.5B Instruct`. */
  name: string;
  /** Family key (`ModelInfo.family`): variants of one base model share it. */
  family: string;
  /** `general.basename` (e.g. `Qwen2.5`), to match published scores; null/absent when the header has none. */
  basename?: string | null;
  /** `general.size_label` (e.g. `7B`), to match published scores; null/absent when the header has none. */
  sizeLabel?: string | null;
  architecture: string | null;
  /** Number of weights; null when unknown (then estimated from `sizeBytes` and the quantization). */
  parameterCount: number | null;
  /** File size, bytes (≈ the weights read per token). */
  sizeBytes: number;
  /** Quantization, e.g. `Q4_K_M`, `Q8_0`, `F16` (`ModelInfo.quantization`). */
  quantization: string | null;
  /** Memory: fits in free RAM/VRAM per node-llama-cpp's estimate (computed by the caller), with the reason if not. */
  fits: boolean;
  memoryReason: string | null;
  /** The run settings the caller will use for this variant. */
  settings: { threads: number; gpuLayers: number; contextSize: number };
  /** Measurements of this file on this machine, if any (median over recent replies). */
  measured: {
    decodeTokensPerSecond: number;
    prefillTokensPerSecond: number;
    /** Average power above idle while decoding, W; null when no sensor covered the replies. */
    powerW: number | null;
    /** Energy above idle per generated token, J/token; null when unknown. */
    energyJPerToken: number | null;
    /** How many replies the medians cover (0 when the figures come from the calibration bench). */
    replies: number;
    /** The figures come from the calibration bench's run rather than from replies. */
    calibrated?: boolean;
  } | null;
  /** KV cache bytes read per generated token at the typical context fill (caller computes from metadata; may be 0). */
  kvCacheBytesPerToken: number;
  /**
   * Quality measured on this machine: bits per byte on the app's held-out text (calibration bench). Only
   * measurements on the text the app ships now are passed (BPB on different texts do not compare).
   */
  measuredQuality?: { bitsPerByte: number } | null;
}

/** What the cost model knows about the machine (see `costModel.ts` for the defaults and their sources). */
export interface MachineModel {
  /** Effective memory bandwidth, bytes/s (measured once and stored by the caller; a default if unknown). */
  bandwidthBytesPerSecond: number;
  /** Active power above idle while the CPU/GPU streams weights, W (from the telemetry's energy model). */
  activePowerW: number;
  /** Prefill speedup over decode (compute-bound vs bandwidth-bound). Defaults to 10. */
  prefillSpeedup?: number;
  /**
   * Per-core model (optional). When set, the roofline uses the candidate's thread count: power =
   * threads × this + DRAM power, instead of the flat `activePowerW`. W per busy core above idle.
   */
  activePowerWPerCore?: number;
  /**
   * Sustained FLOP/s of one core on llama.cpp's matrix-vector kernels (the compute roof). When set with
   * a known parameter count, decode ≤ threads × this ÷ (2 FLOPs × parameters).
   */
  flopsPerCore?: number;
  /** DRAM energy per byte read, J/byte (only with `activePowerWPerCore`). Defaults to {@link import('./costModel.js').DEFAULT_DRAM_ENERGY_J_PER_BYTE}. */
  dramEnergyJPerByte?: number;
}

/** A variant with its predicted cost and quality (built by `buildCandidates`). */
export interface Candidate extends CandidateInput {
  cost: CostPrediction;
  /** Quality 0..1 on the absolute scale (see `quality.ts` and shared/qualityScale.ts). */
  quality: number;
  /** Where `quality` comes from: measured here, a published score, or the size/quantization prior. */
  qualitySource: 'measured' | 'published' | 'prior';
  /** One line on what `quality` rests on, e.g. `1.5B parameters: −0.30 nats; Q4_K_M: ΔPPL +0.175 on Llama-3-8B (llama.cpp)`. */
  qualityBasis: string;
}

/**
 * A constraint a variant may violate:
 * - `memory`: does not fit in free memory,
 * - `min-speed`: decodes slower than the target's floor,
 * - `min-quality`: quality prior under the target's floor,
 * - `watt-cap`: draws more than the watt cap while generating,
 * - `battery-target`: its J/token at the expected usage would drain the battery before the deadline.
 */
export type Constraint = 'memory' | 'min-speed' | 'min-quality' | 'watt-cap' | 'battery-target';

/** Every constraint, in the order `violates` lists them. */
export const ALL_CONSTRAINTS: readonly Constraint[] = ['memory', 'min-speed', 'min-quality', 'watt-cap', 'battery-target'];

/** One candidate in the decision's ranking. */
export interface RankedCandidate {
  candidate: Candidate;
  /** 1 = the chosen one; then the other feasible ones by the profile's order, then the infeasible ones. */
  rank: number;
  /** Satisfies every constraint of the target. */
  feasible: boolean;
  chosen: boolean;
  /** Constraints it violates (in {@link ALL_CONSTRAINTS} order). */
  violates: Constraint[];
  /** Why it was not chosen, one line; null for the chosen one. */
  whyNot: string | null;
}

/** The governor's decision. */
export interface Decision {
  /** null only when there are no candidates at all. */
  chosen: Candidate | null;
  settings: { threads: number; gpuLayers: number; contextSize: number } | null;
  /**
   * The chosen variant's cost under the current power state (the candidate's `cost`, with speeds derated
   * while thermally throttled; see `decide`).
   */
  predicted: CostPrediction | null;
  /** The constraint that limited the choice most (the one that excluded the next-better candidate), or 'none'. */
  bindingConstraint: Constraint | 'none' | 'no-candidates';
  /** Constraints the chosen variant violates (non-empty only when nothing satisfies the target). */
  violated: Constraint[];
  /** Power budget in W above idle that applied (the battery budget when one applies, else the watt cap), null if none. */
  budgetW: number | null;
  /**
   * One sentence, e.g. "On battery, 41% left, target 18:00 → 6.2 W budget → Qwen2.5-1.5B Q4_K_M at
   * 0.19 J/token". The caller passes a label for the target time if any.
   */
  reason: string;
  /** All candidates, best first, with why each lost. */
  ranked: RankedCandidate[];
}
