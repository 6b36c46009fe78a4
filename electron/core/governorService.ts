/**
 * The governor's I/O around its pure core (electron/governor): gathers the installed variants, their
 * memory fit (the engine's estimate), measurements (the store), the machine model (measured bandwidth,
 * the telemetry's per-core power) and the power state, calls `decide`, applies hysteresis between turns,
 * and turns the result into the contract's {@link GovernorDecision}.
 *
 * No Electron imports: the CLI and the browser mode run it too.
 */
import type { GovernorCandidate, GovernorDecision, GovernorSettings, ModelInfo, ProfileId, Settings } from '../../shared/contract.js';
import {
  buildCandidates,
  decide,
  predictCost,
  profileTarget,
  shouldSwitch,
  detectThrottling,
  DEFAULT_MIN_DECODE_TOKENS_PER_SECOND,
  type Candidate,
  type CandidateInput,
  type Decision,
  type GovernorTarget,
  type MachineModel,
  type PowerState,
  type RecentUsage,
  type CostPrediction,
} from '../governor/index.js';
import type { ChatEngine, MemoryFit } from '../engine/types.js';
import { listInstalledModels } from '../models/library.js';
import type { DiscoveryOptions } from '../models/discovery.js';
import { catalogEntryUri, catalogKvBytesPerToken, type CatalogEntry } from '../../shared/modelCatalog.js';
import { formatGiB } from '../../shared/format.js';
import type { Store } from '../store/store.js';
import { DEFAULT_ACTIVE_W_PER_CORE } from '../telemetry/sources/estimate.js';
import { memoryBandwidth } from './machineFacts.js';
import { fileFingerprint, type FactCache } from '../models/fileIdentity.js';
import { heldOutText } from './resources.js';
import type { CalibrationResult } from '../../shared/contract.js';

/**
 * Sustained FLOP/s of one CPU core on llama.cpp's decode kernels: 20 GFLOP/s. AVX2 peaks at 2 FMA units ×
 * 8 FP32 lanes × 2 FLOPs × ~3 GHz ≈ 96 GFLOP/s per core; matrix-vector decode with on-the-fly
 * dequantization reaches roughly a fifth of that (llama-bench tg numbers on compute-bound small models).
 * Only decides whether a small model is compute- or bandwidth-bound in the roofline.
 */
export const DEFAULT_FLOPS_PER_CORE = 20e9;

/**
 * Context tokens whose KV cache one generated token reads, on average: 512 (half of a 1,024-token chat;
 * the KV read grows with the conversation, so the middle is a fair average). Capped at the context size.
 */
export const typicalKvFillTokens = 512;

/**
 * Replies of a model after which their medians replace the calibration bench's speed and energy: 3.
 * The bench is one controlled run; a few real replies (the user's prompts, context lengths and threads)
 * describe what the user gets better, but one or two short replies are noisier than the bench.
 */
export const MIN_REPLIES_OVER_CALIBRATION = 3;

/**
 * Memory a catalog model needs beyond its file and KV cache for the estimate before download: 512 MiB
 * (llama.cpp's CPU compute buffers for a 2–4k context are 0.1–0.5 GiB for 1–8B models, plus the process).
 * The installed files are estimated by node-llama-cpp instead.
 */
export const CATALOG_COMPUTE_OVERHEAD_BYTES = 512 * 1024 * 1024;

/**
 * Share of the machine's total RAM a recommended model may take: 0.7 (a product choice: the OS, the app and
 * a browser keep working beside it). Total rather than free memory: what is free now says little about a
 * download used later.
 */
export const CATALOG_MEMORY_SHARE = 0.7;

/**
 * Smallest model whose measured speed may say what the memory bandwidth is: 128 MiB. Below it a model can
 * sit in a CPU's last-level cache (up to 96 MB on current desktop parts) and per-token overhead (≈0.1–
 * 0.3 ms of graph setup in llama.cpp) is a large share of its time, so its speed says little about DRAM:
 * on this project's 2-core VM a 1 MB model decoding at 4,000 tok/s implied 2.4 GB/s against a measured
 * 20 GB/s. At 128 MiB, 20–50 GB/s streams it in 2.7–6.7 ms, where that overhead is ≤ 10%.
 */
export const MIN_BANDWIDTH_INFERENCE_BYTES = 128 * 1024 * 1024;

/** The held-out text's id, or null when the resource is missing (then no BPB counts as current). */
function currentTextId(): string | null {
  try {
    return heldOutText().id;
  } catch {
    return null;
  }
}

/** Replies kept per (model, threads) to detect a sustained slowdown (thermal throttling). */
const throttleWindow = 5;

/** What the governor needs to know about power, from the telemetry or `--power-state-json`. */
export interface GovernorPowerInput {
  onAc: boolean;
  batteryPercent: number | null;
  batteryCapacityWh: number | null;
  batteryEnergyWh: number | null;
  /** The system's own draw without inference, W. */
  baselinePowerW: number | null;
  /** The OS reports thermal pressure (Electron powerMonitor). */
  thermalThrottled?: boolean;
}

/** Options of {@link GovernorService}. */
export interface GovernorServiceOptions {
  store: Store;
  engine: ChatEngine;
  /** The models folder in effect. */
  modelsDir: () => string;
  /** The persistent cache of model headers (the store's), if any. */
  modelInfoCache?: () => FactCache<ModelInfo> | null;
  /** How other apps' model folders are read (tests pass a fixture home); `false` reads none. Default: the user's home. */
  discovery?: DiscoveryOptions | false;
  /** Settings with per-process overrides applied. */
  settings: () => Settings;
  /** The power state now. */
  powerState: () => GovernorPowerInput;
  physicalCores: () => Promise<number>;
  now?: () => number;
  /** Memory bandwidth measurement (tests inject a fixed figure). */
  measureBandwidth?: () => number;
}

/** No usable model is installed: the backend reports NO_MODEL (every other failure keeps its own code). */
export class NoUsableModelError extends Error {
  override readonly name = 'NoUsableModelError';
  constructor() {
    super('no usable model is installed');
  }
}

/** What the backend needs for one reply. */
export interface GovernedChoice {
  model: ModelInfo;
  decision: GovernorDecision;
  /** Why the loaded model was kept instead of the decision's choice (hysteresis), or null. */
  keptReason: string | null;
}

/** The governor as a service: decisions on demand, hysteresis between turns, throttling detection. */
export class GovernorService {
  private lastSwitchAt: number | null = null;
  private readonly recentSpeeds = new Map<string, number[]>();
  private fitCache = new Map<string, { fit: MemoryFit; at: number }>();

  constructor(private readonly options: GovernorServiceOptions) {}

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /**
   * The decision for the power state now (for `conversationId`'s pinned model if any is pinned).
   * @param profile "What would this profile choose?" instead of the one the power source selects.
   */
  async decide(input: { profile?: ProfileId; pinnedModelPath?: string | null } = {}): Promise<{ decision: GovernorDecision; models: ModelInfo[]; raw: Decision }> {
    const settings = this.options.settings();
    const power = this.powerState();
    const profile = input.profile ?? (power.onAc ? settings.governor.acProfile : settings.governor.batteryProfile);
    const { models, inputs, calibrations, machine, machineFor, bandwidthSource } = await this.installedContext(settings);
    const candidates = buildCandidates(inputs, machineFor);
    const { target, label } = targetFor(profile, settings.governor, power, this.now());
    const raw = decide({ candidates, target, power, usage: this.usage(), targetLabel: label });
    return {
      decision: toDecisionDto(raw, {
        calibrations,
        profile,
        power,
        pinnedModelPath: input.pinnedModelPath ?? null,
        machine: { bandwidthBytesPerSecond: machine.bandwidthBytesPerSecond, bandwidthSource, activePowerWPerCore: machine.activePowerWPerCore ?? 0 },
        decidedAt: this.now(),
      }),
      models,
      raw,
    };
  }

  /**
   * Every installed model (the models folder and, per Settings `modelSources`, other apps' folders), usable
   * or not, as `models.list` shows them.
   */
  installedModels(settings: Settings = this.options.settings()): Promise<ModelInfo[]> {
    return listInstalledModels({
      modelsDir: this.options.modelsDir(),
      sources: settings.modelSources,
      discovery: this.options.discovery ?? {},
      cache: this.options.modelInfoCache?.() ?? null,
    });
  }

  /**
   * Catalog entries as candidates predicted for this machine, on the same footing as the installed ones:
   * the roofline calibrated by what was measured here, the quality on the absolute scale (published or
   * prior), threads as the installed models use (the most common calibrated count, else Settings, else
   * the physical cores), and memory fit from a size estimate: file + F16 KV cache of the configured
   * context + {@link CATALOG_COMPUTE_OVERHEAD_BYTES}, within {@link CATALOG_MEMORY_SHARE} of `totalMemoryBytes`.
   * @returns the candidates (in `entries` order, `modelPath` = the entry's `hf:` URI), the power state and the usage.
   */
  async catalogCandidates(entries: readonly CatalogEntry[], totalMemoryBytes: number): Promise<{ candidates: Candidate[]; memoryBytes: number[]; power: PowerState; usage: RecentUsage }> {
    const settings = this.options.settings();
    const { inputs, machineFor } = await this.installedContext(settings);
    const counts = new Map<number, number>();
    for (const i of inputs) counts.set(i.settings.threads, (counts.get(i.settings.threads) ?? 0) + 1);
    const common = [...counts.entries()].sort((a, b) => b[1] - a[1] || b[0] - a[0])[0]?.[0];
    const threads = settings.threads ?? common ?? (await this.options.physicalCores());
    const memoryBytes: number[] = [];
    const catalogInputs: CandidateInput[] = entries.map((e) => {
      const contextSize = Math.min(settings.contextSize, e.contextLength);
      const kv = catalogKvBytesPerToken(e);
      const memory = e.sizeBytes + kv * contextSize + CATALOG_COMPUTE_OVERHEAD_BYTES;
      memoryBytes.push(memory);
      const fits = memory <= totalMemoryBytes * CATALOG_MEMORY_SHARE;
      return {
        modelPath: catalogEntryUri(e),
        fileName: e.file,
        name: e.name,
        family: `${e.basename}`.toLowerCase(),
        basename: e.basename,
        sizeLabel: e.sizeLabel,
        architecture: e.architecture,
        parameterCount: e.parameterCount,
        sizeBytes: e.sizeBytes,
        quantization: e.quantization,
        fits,
        memoryReason: fits ? null : `needs about ${formatGiB(memory)}, more than ${Math.round(CATALOG_MEMORY_SHARE * 100)}% of this computer's ${formatGiB(totalMemoryBytes)}`,
        settings: { threads, gpuLayers: 0, contextSize },
        measured: null,
        kvCacheBytesPerToken: kv * Math.min(typicalKvFillTokens, contextSize),
        measuredQuality: null,
      };
    });
    return { candidates: buildCandidates(catalogInputs, machineFor), memoryBytes, power: this.powerState(), usage: this.usage() };
  }

  /**
   * The installed usable models, what the governor knows about each, and the machine model calibrated by
   * them (`machineFor` gives small models their own, see {@link machineModel}).
   */
  private async installedContext(settings: Settings) {
    const models = (await this.installedModels(settings)).filter((m) => m.usable);
    const { inputs, calibrations } = await this.candidateInputs(models, settings);
    const { machine, small, bandwidthSource } = this.machineModel(inputs);
    const machineFor = (input: CandidateInput): MachineModel => (input.sizeBytes < MIN_BANDWIDTH_INFERENCE_BYTES ? small : machine);
    return { models, inputs, calibrations, machine, machineFor, bandwidthSource };
  }

  /** Generated tokens per hour over the last week, once there are at least 3 replies (else the default). */
  private usage(): RecentUsage {
    const usage = this.options.store.recentUsage({ sinceMs: 7 * 24 * 3_600_000, now: this.now() });
    return { tokensPerHour: usage.replies >= 3 ? usage.tokensPerHour : null };
  }

  /**
   * The model for the next reply of an unpinned conversation: the decision's choice, unless hysteresis
   * keeps the loaded model (switch only when the gain beats the load cost, at most once per interval).
   * @throws NoUsableModelError when no usable model is installed (the caller turns it into NO_MODEL); the
   *   store's and the engine's errors as they are.
   */
  async chooseForReply(): Promise<GovernedChoice> {
    const { decision, models, raw } = await this.decide();
    if (!raw.chosen) throw new NoUsableModelError();
    const loadedPath = this.options.engine.status().modelPath;
    const current = loadedPath ? (raw.ranked.find((r) => r.candidate.modelPath === loadedPath)?.candidate ?? null) : null;
    const settings = this.options.settings();
    const load = this.options.store.modelLoadCosts(raw.chosen.modelPath);
    const usage = this.options.store.recentUsage({ sinceMs: 7 * 24 * 3_600_000, now: this.now() });
    const intervalMs = settings.governor.minSwitchIntervalMinutes * 60_000;
    const advice = shouldSwitch(raw, current, {
      currentModelPath: loadedPath,
      lastSwitchAt: this.lastSwitchAt,
      now: this.now(),
      minSwitchIntervalMs: intervalMs,
      loadCost: load ? { loadMs: load.medianLoadMs, loadEnergyJ: load.medianLoadEnergyJ } : null,
      expectedTokensUntilNextDecision: ((usage.replies >= 3 ? usage.tokensPerHour : 2000) * Math.max(intervalMs, 60_000)) / 3_600_000,
    });
    const path = advice.keep && current ? current.modelPath : (advice.switchTo ?? raw.chosen).modelPath;
    if (!advice.keep && loadedPath !== path) this.lastSwitchAt = this.now();
    const model = models.find((m) => m.path === path);
    if (!model) throw new NoUsableModelError();
    return { model, decision, keptReason: advice.keep && current && current.modelPath !== raw.chosen.modelPath ? advice.reason : null };
  }

  /** The user changed the target on purpose: the next reply follows it at once (no minimum interval). */
  resetHysteresis(): void {
    this.lastSwitchAt = null;
  }

  /**
   * Records a finished reply's decode speed; a sustained drop under the same settings (thermal
   * throttling) then counts as a change in power state.
   */
  noteReply(modelPath: string, threads: number, decodeTokensPerSecond: number): void {
    if (!(decodeTokensPerSecond > 0)) return;
    const key = `${modelPath}\u0000${threads}`;
    const list = this.recentSpeeds.get(key) ?? [];
    list.push(decodeTokensPerSecond);
    if (list.length > throttleWindow) list.shift();
    this.recentSpeeds.set(key, list);
  }

  /** True when the loaded model's recent replies decode well below its long-run median (throttling). */
  throttled(): boolean {
    const status = this.options.engine.status();
    if (!status.modelPath || !status.threads) return false;
    const recent = this.recentSpeeds.get(`${status.modelPath}\u0000${status.threads}`) ?? [];
    const baseline = this.options.store.modelPerformance().find((p) => p.modelPath === status.modelPath)?.medianDecodeTokensPerSecond;
    return baseline !== undefined && detectThrottling(recent, baseline);
  }

  private powerState(): PowerState {
    const p = this.options.powerState();
    return {
      onAc: p.onAc,
      batteryPercent: p.batteryPercent,
      batteryCapacityWh: p.batteryCapacityWh,
      batteryEnergyWh: p.batteryEnergyWh,
      baselinePowerW: p.baselinePowerW,
      thermalThrottled: (p.thermalThrottled ?? false) || this.throttled(),
    };
  }

  /**
   * The roofline's machine: memory bandwidth measured once (memcpy) and stored, per-core power from the
   * telemetry's CPU model, {@link DEFAULT_FLOPS_PER_CORE}; then calibrated to this machine's own
   * measurements (replies or the calibration bench), each roof by the variants it bounds:
   * - the bandwidth by the median measured ÷ predicted speed of the memory-bound variants of at least
   *   {@link MIN_BANDWIDTH_INFERENCE_BYTES} (reported as `inferred`);
   * - the FLOP/s by that ratio over the compute-bound ones of that size;
   * - models under that size (cache-resident, overhead-bound: their speed says nothing about DRAM) are
   *   calibrated among themselves only: the median ratio of the measured small ones scales both roofs
   *   for the small ones (`small`), never the machine's bandwidth. So one measured small model moves
   *   every small prediction by one common factor (otherwise Saver chases whichever has not replied yet).
   * The large models' factors are clamped to [0.02, 5], the small models' to [0.001, 5].
   */
  private machineModel(inputs: CandidateInput[]): { machine: MachineModel; small: MachineModel; bandwidthSource: 'measured' | 'inferred' | 'default' } {
    let bandwidth: number | null = null;
    try {
      bandwidth = memoryBandwidth(this.options.store, this.options.measureBandwidth).bytesPerSecond;
    } catch {
      bandwidth = null;
    }
    const base: MachineModel = {
      bandwidthBytesPerSecond: bandwidth ?? 20e9,
      activePowerW: DEFAULT_ACTIVE_W_PER_CORE,
      activePowerWPerCore: DEFAULT_ACTIVE_W_PER_CORE,
      flopsPerCore: DEFAULT_FLOPS_PER_CORE,
    };
    const memoryRatios: number[] = [];
    const computeRatios: number[] = [];
    const smallRatios: number[] = [];
    for (const i of inputs) {
      if (!i.measured || !(i.measured.decodeTokensPerSecond > 0)) continue;
      const unmeasured = { ...i, measured: null };
      const predicted = predictCost(unmeasured, base).decodeTokensPerSecond;
      const ratio = i.measured.decodeTokensPerSecond / predicted;
      if (!Number.isFinite(ratio) || ratio <= 0) continue;
      if (i.sizeBytes < MIN_BANDWIDTH_INFERENCE_BYTES) {
        smallRatios.push(ratio);
        continue;
      }
      const memoryRoof = predictCost(unmeasured, { ...base, flopsPerCore: undefined }).decodeTokensPerSecond;
      if (memoryRoof <= predicted * (1 + 1e-9)) memoryRatios.push(ratio);
      else computeRatios.push(ratio);
    }
    const clamp = (x: number) => Math.min(5, Math.max(0.02, x));
    const bandwidthFactor = memoryRatios.length > 0 ? clamp(median(memoryRatios)) : null;
    const flopsFactor = computeRatios.length > 0 ? clamp(median(computeRatios)) : null;
    const machine: MachineModel = {
      ...base,
      bandwidthBytesPerSecond: base.bandwidthBytesPerSecond * (bandwidthFactor ?? 1),
      flopsPerCore: (base.flopsPerCore ?? DEFAULT_FLOPS_PER_CORE) * (flopsFactor ?? 1),
    };
    // Small models are overhead-bound: the roofline can be 50–100× too fast for a 1 MB model (32,000 predicted
    // vs 300–600 tok/s measured on 2 cores), so their factor may go lower than the large models'.
    const smallFactor = smallRatios.length > 0 ? Math.min(5, Math.max(0.001, median(smallRatios))) : null;
    const small: MachineModel =
      smallFactor === null
        ? machine
        : { ...base, bandwidthBytesPerSecond: base.bandwidthBytesPerSecond * smallFactor, flopsPerCore: (base.flopsPerCore ?? DEFAULT_FLOPS_PER_CORE) * smallFactor };
    const bandwidthSource = bandwidthFactor !== null ? 'inferred' : bandwidth !== null ? 'measured' : 'default';
    return { machine, small, bandwidthSource };
  }

  /**
   * What the governor knows about each model: header facts, memory fit, run settings, and measurements
   * of this file on this machine, best first:
   * - speed and energy from the replies (medians) when there are at least {@link MIN_REPLIES_OVER_CALIBRATION},
   *   else from the calibration bench's run, else from the replies there are (else the roofline);
   * - quality from the calibration's bits per byte when it was measured on the text the app ships now.
   * Calibrations are found by file identity (a renamed or copied file keeps its results).
   */
  private async candidateInputs(models: ModelInfo[], settings: Settings): Promise<{ inputs: CandidateInput[]; calibrations: Map<string, CalibrationResult> }> {
    const perf = new Map(this.options.store.modelPerformance().map((p) => [p.modelPath, p]));
    const cores = await this.options.physicalCores();
    const textId = currentTextId();
    const calibrations = new Map<string, CalibrationResult>();
    const out: CandidateInput[] = [];
    for (const m of models) {
      const fit = await this.fit(m, settings.contextSize);
      const threadCalibration = this.options.store.getThreadCalibration(m.path, m.sizeBytes);
      const p = perf.get(m.path);
      const calib = await this.calibrationOf(m.path);
      if (calib) calibrations.set(m.path, calib);
      const threads = settings.threads ?? threadCalibration?.bestThreads ?? calib?.threads ?? p?.threads ?? cores;
      const fromReplies =
        p && (p.replies >= MIN_REPLIES_OVER_CALIBRATION || !calib)
          ? {
              decodeTokensPerSecond: p.medianDecodeTokensPerSecond,
              prefillTokensPerSecond: p.medianPrefillTokensPerSecond ?? 0,
              powerW: p.medianAvgPowerW,
              energyJPerToken: p.medianEnergyJPerToken,
              replies: p.replies,
            }
          : null;
      const fromCalibration =
        !fromReplies && calib && calib.decodeTokensPerSecond > 0
          ? {
              decodeTokensPerSecond: calib.decodeTokensPerSecond,
              prefillTokensPerSecond: calib.prefillTokensPerSecond,
              powerW: calib.avgPowerW,
              energyJPerToken: calib.energyJPerToken,
              replies: 0,
              calibrated: true,
            }
          : null;
      out.push({
        modelPath: m.path,
        fileName: m.fileName,
        name: m.name,
        family: m.family ?? m.name.toLowerCase(),
        basename: m.basename,
        sizeLabel: m.sizeLabel,
        architecture: m.architecture,
        parameterCount: m.parameterCount,
        sizeBytes: m.sizeBytes,
        quantization: m.quantization,
        fits: fit.fits,
        memoryReason: fit.reason,
        settings: { threads, gpuLayers: fit.gpuLayers, contextSize: Math.min(settings.contextSize, m.trainContextSize ?? settings.contextSize) },
        measured: fromReplies ?? fromCalibration,
        kvCacheBytesPerToken: (m.kvCacheBytesPerToken ?? 0) * Math.min(typicalKvFillTokens, settings.contextSize),
        measuredQuality: calib && calib.bitsPerByte !== null && calib.textId === textId ? { bitsPerByte: calib.bitsPerByte } : null,
      });
    }
    return { inputs: out, calibrations };
  }

  /** The calibration bench's result for the file at `path` (by its identity); null when none or unreadable. */
  private async calibrationOf(path: string): Promise<CalibrationResult | null> {
    try {
      return this.options.store.calibrations.get(await fileFingerprint(path));
    } catch {
      return null;
    }
  }

  /** The engine's memory estimate, cached for 30 s per file, size and context size. */
  private async fit(m: ModelInfo, contextSize: number): Promise<MemoryFit> {
    const key = `${m.path}\u0000${m.sizeBytes}\u0000${contextSize}`;
    const cached = this.fitCache.get(key);
    if (cached && this.now() - cached.at < 30_000) return cached.fit;
    const fit = await this.options.engine.checkFit(m.path, contextSize);
    this.fitCache.set(key, { fit, at: this.now() });
    return fit;
  }
}

/**
 * The target for a profile: built-in profiles from `profileTarget`; Custom from the user's limits, with
 * "until HH:MM" turned into hours left (the next such time today, or tomorrow when it has passed).
 * @returns the target and a label for the reason sentence ("target 18:00", "for 3 h").
 */
export function targetFor(profile: ProfileId, settings: GovernorSettings, power: PowerState, now: number): { target: GovernorTarget; label: string | undefined } {
  if (profile !== 'custom') return { target: profileTarget(profile, power), label: undefined };
  const c = settings.custom;
  let battery: GovernorTarget['battery'] = null;
  let label: string | undefined;
  if (c.batteryUntil) {
    const [h, m] = c.batteryUntil.split(':').map(Number) as [number, number];
    const until = new Date(now);
    until.setHours(h, m, 0, 0);
    if (until.getTime() <= now) until.setDate(until.getDate() + 1);
    battery = { hoursLeft: (until.getTime() - now) / 3_600_000, reservePercent: c.reservePercent };
    label = `target ${c.batteryUntil}`;
  } else if (c.batteryHours) {
    battery = { hoursLeft: c.batteryHours, reservePercent: c.reservePercent };
    label = `for ${c.batteryHours} h`;
  }
  return {
    target: {
      profile: 'custom',
      wattCapW: c.wattCapW,
      battery,
      minDecodeTokensPerSecond: c.minDecodeTokensPerSecond ?? DEFAULT_MIN_DECODE_TOKENS_PER_SECOND,
      minQuality: c.minQuality,
    },
    label,
  };
}

/** A cost prediction as the contract carries it: non-finite or negative figures become 0. */
export function costPredictionDto(cost: CostPrediction): GovernorCandidate['predicted'] {
  return {
    decodeTokensPerSecond: finite(cost.decodeTokensPerSecond),
    prefillTokensPerSecond: finite(cost.prefillTokensPerSecond),
    powerW: finite(cost.powerW),
    energyJPerToken: finite(cost.energyJPerToken),
    source: cost.source,
  };
}

function toCandidateDto(c: Candidate, r: Decision['ranked'][number], calibration: CalibrationResult | undefined): GovernorCandidate {
  return {
    modelPath: c.modelPath,
    name: c.name,
    fileName: c.fileName,
    family: c.family,
    quantization: c.quantization,
    parameterCount: c.parameterCount,
    sizeBytes: c.sizeBytes,
    settings: c.settings,
    predicted: costPredictionDto(c.cost),
    quality: Math.min(1, Math.max(0, c.quality)),
    qualitySource: c.qualitySource,
    qualityBasis: c.qualityBasis,
    bitsPerByte: c.measuredQuality?.bitsPerByte ?? calibration?.bitsPerByte ?? null,
    fits: c.fits,
    memoryReason: c.memoryReason,
    feasible: r.feasible,
    chosen: r.chosen,
    rank: r.rank,
    violates: r.violates,
    whyNot: r.whyNot,
  };
}

/** The pure decision as the contract's DTO. */
export function toDecisionDto(
  d: Decision,
  extra: {
    /** Calibration results by model path (for the candidates' measured bits per byte). */
    calibrations?: Map<string, CalibrationResult>;
    profile: ProfileId;
    power: PowerState;
    pinnedModelPath: string | null;
    machine: GovernorDecision['machine'];
    decidedAt: number;
  },
): GovernorDecision {
  const candidates = d.ranked.map((r) => toCandidateDto(r.candidate, r, extra.calibrations?.get(r.candidate.modelPath)));
  // The chosen row carries the decision's prediction (derated when throttled).
  const chosen = candidates.find((c) => c.chosen) ?? null;
  if (chosen && d.predicted) {
    chosen.predicted = costPredictionDto(d.predicted);
  }
  return {
    profile: extra.profile,
    onAc: extra.power.onAc,
    batteryPercent: extra.power.batteryPercent,
    chosen,
    bindingConstraint: d.bindingConstraint,
    violated: d.violated,
    budgetW: d.budgetW,
    reason: d.reason,
    candidates,
    pinnedModelPath: extra.pinnedModelPath,
    machine: extra.machine,
    decidedAt: extra.decidedAt,
  };
}

function finite(x: number): number {
  return Number.isFinite(x) && x >= 0 ? x : 0;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}
