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
} from '../governor/index.js';
import type { ChatEngine, MemoryFit } from '../engine/types.js';
import { listModels } from '../models/catalog.js';
import type { Store } from '../store/store.js';
import { DEFAULT_ACTIVE_W_PER_CORE } from '../telemetry/sources/estimate.js';
import { memoryBandwidth } from './machineFacts.js';

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
  /** Settings with per-process overrides applied. */
  settings: () => Settings;
  /** The power state now. */
  powerState: () => GovernorPowerInput;
  physicalCores: () => Promise<number>;
  now?: () => number;
  /** Memory bandwidth measurement (tests inject a fixed figure). */
  measureBandwidth?: () => number;
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
    const models = (await listModels(this.options.modelsDir())).filter((m) => m.usable);
    const inputs = await this.candidateInputs(models, settings);
    const { machine, bandwidthSource } = this.machineModel(inputs);
    const candidates = buildCandidates(inputs, machine);
    const { target, label } = targetFor(profile, settings.governor, power, this.now());
    const usage = this.options.store.recentUsage({ sinceMs: 7 * 24 * 3_600_000, now: this.now() });
    const raw = decide({
      candidates,
      target,
      power,
      usage: { tokensPerHour: usage.replies >= 3 ? usage.tokensPerHour : null },
      targetLabel: label,
    });
    return {
      decision: toDecisionDto(raw, {
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
   * The model for the next reply of an unpinned conversation: the decision's choice, unless hysteresis
   * keeps the loaded model (switch only when the gain beats the load cost, at most once per interval).
   * @throws Error when no usable model is installed (the caller turns it into NO_MODEL).
   */
  async chooseForReply(): Promise<GovernedChoice> {
    const { decision, models, raw } = await this.decide();
    if (!raw.chosen) throw new Error('no usable model is installed');
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
    if (!model) throw new Error('no usable model is installed');
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
   * telemetry's CPU model, {@link DEFAULT_FLOPS_PER_CORE}; then calibrated to this machine's own replies:
   * when some variants have measured decode speeds, both roofs (bandwidth and FLOP/s) are scaled by the
   * median of measured ÷ predicted over them, so unmeasured variants are predicted on the same footing as
   * the measured ones (otherwise an optimistic roofline makes Saver chase whichever variant has not
   * replied yet). The factor is clamped to [0.02, 5].
   */
  private machineModel(inputs: CandidateInput[]): { machine: MachineModel; bandwidthSource: 'measured' | 'default'; calibration: number | null } {
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
    const ratios = inputs
      .filter((i) => i.measured && i.measured.decodeTokensPerSecond > 0)
      .map((i) => i.measured!.decodeTokensPerSecond / predictCost({ ...i, measured: null }, base).decodeTokensPerSecond)
      .filter((r) => Number.isFinite(r) && r > 0);
    const factor = ratios.length > 0 ? Math.min(5, Math.max(0.02, median(ratios))) : null;
    const machine =
      factor === null
        ? base
        : { ...base, bandwidthBytesPerSecond: base.bandwidthBytesPerSecond * factor, flopsPerCore: (base.flopsPerCore ?? DEFAULT_FLOPS_PER_CORE) * factor };
    return { machine, bandwidthSource: bandwidth === null && factor === null ? 'default' : 'measured', calibration: factor };
  }

  private async candidateInputs(models: ModelInfo[], settings: Settings): Promise<CandidateInput[]> {
    const perf = new Map(this.options.store.modelPerformance().map((p) => [p.modelPath, p]));
    const cores = await this.options.physicalCores();
    const out: CandidateInput[] = [];
    for (const m of models) {
      const fit = await this.fit(m, settings.contextSize);
      const calibration = this.options.store.getThreadCalibration(m.path, m.sizeBytes);
      const p = perf.get(m.path);
      const threads = settings.threads ?? calibration?.bestThreads ?? p?.threads ?? cores;
      out.push({
        modelPath: m.path,
        fileName: m.fileName,
        name: m.name,
        family: m.family ?? m.name.toLowerCase(),
        architecture: m.architecture,
        parameterCount: m.parameterCount,
        sizeBytes: m.sizeBytes,
        quantization: m.quantization,
        fits: fit.fits,
        memoryReason: fit.reason,
        settings: { threads, gpuLayers: fit.gpuLayers, contextSize: Math.min(settings.contextSize, m.trainContextSize ?? settings.contextSize) },
        measured: p
          ? {
              decodeTokensPerSecond: p.medianDecodeTokensPerSecond,
              prefillTokensPerSecond: p.medianPrefillTokensPerSecond ?? 0,
              powerW: p.medianAvgPowerW,
              energyJPerToken: p.medianEnergyJPerToken,
              replies: p.replies,
            }
          : null,
        kvCacheBytesPerToken: (m.kvCacheBytesPerToken ?? 0) * Math.min(typicalKvFillTokens, settings.contextSize),
      });
    }
    return out;
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

function toCandidateDto(c: Candidate, r: Decision['ranked'][number]): GovernorCandidate {
  return {
    modelPath: c.modelPath,
    name: c.name,
    fileName: c.fileName,
    family: c.family,
    quantization: c.quantization,
    parameterCount: c.parameterCount,
    sizeBytes: c.sizeBytes,
    settings: c.settings,
    predicted: {
      decodeTokensPerSecond: finite(c.cost.decodeTokensPerSecond),
      prefillTokensPerSecond: finite(c.cost.prefillTokensPerSecond),
      powerW: finite(c.cost.powerW),
      energyJPerToken: finite(c.cost.energyJPerToken),
      source: c.cost.source,
    },
    quality: Math.min(1, Math.max(0, c.quality)),
    qualityBasis: c.qualityBasis,
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
    profile: ProfileId;
    power: PowerState;
    pinnedModelPath: string | null;
    machine: GovernorDecision['machine'];
    decidedAt: number;
  },
): GovernorDecision {
  const candidates = d.ranked.map((r) => toCandidateDto(r.candidate, r));
  // The chosen row carries the decision's prediction (derated when throttled).
  const chosen = candidates.find((c) => c.chosen) ?? null;
  if (chosen && d.predicted) {
    chosen.predicted = {
      decodeTokensPerSecond: finite(d.predicted.decodeTokensPerSecond),
      prefillTokensPerSecond: finite(d.predicted.prefillTokensPerSecond),
      powerW: finite(d.predicted.powerW),
      energyJPerToken: finite(d.predicted.energyJPerToken),
      source: d.predicted.source,
    };
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
