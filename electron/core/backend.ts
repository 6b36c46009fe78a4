/**
 * The backend behind the API contract: one object that validates every call, runs it against the store
 * and the engine, and pushes events. Both transports (Electron IPC in `electron/shell`, HTTP/SSE in
 * `electron/server`) and the CLI go through {@link Backend.call} and {@link Backend.onEvent} only.
 *
 * No Electron imports: this runs under plain Node for tests, the CLI and the browser mode.
 */
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import {
  apiContract,
  isApiMethod,
  type ApiError,
  type ApiEvent,
  type ApiInput,
  type ApiMethod,
  type ApiOutput,
  type ApiResult,
  type ChatStarted,
  modelInfoSchema,
  type GovernorSettings,
  type ProfileId,
  type Message,
  type ModelInfo,
  type Settings,
  type EngineStatus,
  type ContextOverflow,
  defaultApiPort,
} from '../../shared/contract.js';
import { EngineError, type ChatEngine, type ChatTurn, type SamplingOptions, type StopReason } from '../engine/types.js';
import { ReplySlot, type SlotTurn } from './replySlot.js';
import { ApiReplies } from './apiReplies.js';
import { IdleUnloader } from './idleUnload.js';
import { ArchiveService, ArchiveServiceError } from './archiveService.js';
import { PresetError, PresetService } from './presets.js';
import { contextUsage } from './contextUsage.js';
import { CATALOG_READER_VERSION, readModelInfo } from '../models/catalog.js';
import type { FactCache } from '../models/fileIdentity.js';
import type { Store } from '../store/store.js';
import { StoreError } from '../store/storeError.js';
import { resolveModelsDir } from './paths.js';
import { physicalCoreCount } from './system.js';
import { defaultGovernorSettings } from './governorSettings.js';
import { GovernorService, NoUsableModelError, type GovernorPowerInput } from './governorService.js';
import { CalibrationBusyError, CalibrationInputError, CalibrationService, CalibrationUnsupportedError } from './calibrationService.js';
import { CalibrationTable } from '../store/calibrationTable.js';
import { LibraryError, LibraryService } from './libraryService.js';
import type { DiscoveryOptions } from '../models/discovery.js';
import { apiServerOff, newApiKey, type ApiServerHost } from './apiServerHost.js';
import type { PowerSampler, ReplyMeter } from '../telemetry/sampler.js';
import { DEFAULT_IDLE_W } from '../telemetry/sources/estimate.js';

/** The turns of a conversation sent to the model: user and assistant messages with text, failed replies left out. */
export function conversationTurns(messages: readonly Message[]): ChatTurn[] {
  return messages
    .filter((m) => (m.role === 'user' || m.role === 'assistant') && m.status !== 'error' && m.content.length > 0)
    .map((m) => ({ role: m.role as 'user' | 'assistant', content: m.content }));
}

/**
 * The newest (at most 8) replies of a conversation written by `modelPath`, each with its measured prompt
 * tokens and the turns it answered (for scaling the context meter's estimate; see ./contextUsage.ts).
 */
function measuredPrompts(messages: readonly Message[], modelPath: string | null): { promptTokens: number; turns: ChatTurn[] }[] {
  if (!modelPath) return [];
  const out: { promptTokens: number; turns: ChatTurn[] }[] = [];
  // The newest few are enough (and keep this linear in the conversation's length).
  for (let i = messages.length - 1; i >= 0 && out.length < 8; i--) {
    const m = messages[i]!;
    if (m.role === 'assistant' && m.stats && m.stats.modelPath === modelPath && m.stats.promptTokens > 0) {
      out.push({ promptTokens: m.stats.promptTokens, turns: conversationTurns(messages.slice(0, i)) });
    }
  }
  return out;
}

/** Settings a fresh install starts with. */
export const defaultSettings: Settings = {
  modelsDir: null,
  contextSize: 2048,
  threads: null,
  maxReplyTokens: 512,
  theme: 'system',
  defaultSystemPrompt: 'You are Wattwise, a helpful and concise assistant running offline on this computer.',
  lastModelPath: null,
  governor: defaultGovernorSettings,
  modelSources: { lmstudio: true, ollama: true, 'huggingface-cache': true, gpt4all: true, jan: true },
  calibration: { autoWhenIdleOnAc: false },
  api: { enabled: false, port: defaultApiPort, apiKey: null, keepText: true, allowedOrigins: [] },
  idleUnload: { onBatteryMinutes: 10, onAcMinutes: 60 },
  contextOverflow: 'rolling-window',
};

/** How often a streaming reply's partial text is written to SQLite (ms), so a crash loses at most this much. */
export const partialFlushIntervalMs = 250;

/**
 * How often a streaming reply tells the store its writer is alive, ms (also when no text came, e.g. during
 * a long prefill): 5 s, far below the store's `WRITER_STALE_MS` (10 min).
 */
export const heartbeatIntervalMs = 5000;

/** Options of {@link Backend}. */
export interface BackendOptions {
  store: Store;
  engine: ChatEngine;
  /** The data folder (shown in `app.info`). */
  dataDir: string;
  /** `--models-dir` given on the command line; the in-app setting still wins (see `resolveModelsDir`). */
  modelsDirOverride?: string | null;
  transport: 'ipc' | 'http';
  /** App version (package.json). */
  version: string;
  /** Per-process overrides that are not saved as settings (CLI `--threads`, `--max-tokens`). */
  overrides?: { threads?: number; maxReplyTokens?: number; contextSize?: number; governor?: GovernorSettings };
  /** The power sampler (energy telemetry); without one, replies carry no energy and energy.* calls fail. */
  sampler?: PowerSampler | null;
  /** A fixed power state for the governor instead of the telemetry's (CLI `--power-state-json`). */
  powerStateOverride?: GovernorPowerInput | null;
  /** Memory bandwidth measurement for the governor's roofline (tests inject a fixed figure). */
  measureBandwidth?: () => number;
  /**
   * Automatic calibration's timing (setting `calibration.autoWhenIdleOnAc`): idle time before it starts
   * and how often it checks, ms. Defaults: 10 min and 60 s (tests shorten them).
   */
  autoCalibration?: { idleMs?: number; checkEveryMs?: number };
  /** How other apps' model folders are read (tests pass a fixture home or `false`); default: the user's home. */
  discovery?: DiscoveryOptions | false;
  /** Environment for downloads (`HF_ENDPOINT`, `HF_TOKEN`); default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Idle unload's clock and whether its periodic check runs (tests drive `backend.idleUnloader.check()` with a fake clock). */
  idleUnload?: { now?: () => number; start?: boolean };
  /**
   * Model files may be anywhere (the CLI: the user named the file on the command line). Otherwise (the
   * app, the browser mode) a `modelPath` must be an installed model (the models folder or another app's
   * folder read in place), and every other path gets the same answer, so a caller cannot probe the disk.
   */
  modelPathsAnywhere?: boolean;
}

/** An error thrown inside a handler that must reach the caller with a specific code. */
export class ApiFailure extends Error {
  override readonly name = 'ApiFailure';
  constructor(readonly error: ApiError) {
    super(error.message);
  }
}

interface InFlight {
  requestId: string;
  /** Who asked: the app's chat (one at a time, else BUSY) or the local API (queued). */
  origin: 'app' | 'api';
  conversationId: string;
  assistantMessageId: string;
  controller: AbortController;
  done: Promise<void>;
  /** Characters of the reply written to the store so far (by the partial flushes). */
  savedChars: number;
}

/** What one reply needs (see {@link Backend.startReply}). */
export interface ReplySpec {
  origin: 'app' | 'api';
  conversationId: string;
  model: ModelInfo;
  /** The user message it answers (for `ChatStarted`); null for regenerate. */
  userMessageId: string | null;
  systemPrompt: string;
  /** The turns sent to the model, oldest first, ending with the user turn to answer. */
  history: ChatTurn[];
  /** Set for a plain text completion (the API's `/v1/completions`): `systemPrompt` and `history` are then ignored. */
  prompt?: string;
  /** Reply length cap, tokens. */
  maxTokens: number;
  /** Context size, tokens (the conversation's preset); default: Settings'. */
  contextSize?: number;
  /** When the conversation no longer fits the context (the app's setting; the API keeps the default, rolling). */
  contextOverflow?: ContextOverflow;
  /** The alternatives group the reply joins (Regenerate, "Try with…"); none by default. */
  alternativeGroup?: string | null;
  sampling?: SamplingOptions;
  stop?: readonly string[];
  /** When the power governor chose the model: its profile and reason (stored with the reply). */
  governor: { profile: ProfileId; reason: string } | null;
  /** The reply slot, when the caller already holds its turn (the API waits for it before storing anything). */
  turn: SlotTurn | null;
  /** Aborts the reply (the API: the client went away). */
  signal?: AbortSignal;
  /** Store the reply's text (default true); false keeps only its stats and energy (the API's `keepText` setting). */
  keepText?: boolean;
  /** Each piece of text as it is generated (besides the `chat.token` events). */
  onText?: (piece: string) => void;
  /** Called once when the reply is over (releases the calibration hold). */
  onDone: () => void;
}

/** How a reply ended: the stored message, the error (status `error`), and why generation stopped (null when it failed). */
export interface ReplyOutcome {
  message: Message;
  error: ApiError | null;
  stopReason: StopReason | null;
}

type Handlers = { [M in ApiMethod]: (input: z.output<(typeof apiContract)[M]['input']>) => Promise<ApiOutput<M>> | ApiOutput<M> };

/**
 * The backend. Create one per process; call {@link dispose} on shutdown (it aborts replies in flight,
 * waits until their partial text is stored, then frees the engine and closes the store).
 */
export class Backend {
  private readonly listeners = new Set<(event: ApiEvent) => void>();
  private readonly inFlight = new Map<string, InFlight>();
  private readonly unsubscribeEngine: () => void;
  private readonly unsubscribeSampler: () => void;
  private readonly stopAutoCalibration: () => void;
  private disposed = false;
  private thermalThrottled = false;
  private lastOnAc: boolean | null = null;
  private loadMeter: { modelPath: string; startedAt: number; meter: ReplyMeter | null } | null = null;
  /** Background writes (model load records) that dispose() waits for before closing the store. */
  private readonly pendingWrites = new Set<Promise<void>>();
  /** The governor (decisions, hysteresis, throttling). */
  readonly governor: GovernorService;
  /** The calibration bench (measured quality, speed, energy and memory per model file). */
  readonly calibration: CalibrationService;
  /** The model library: catalog, recommended ladder, downloads, deleting. */
  readonly library: LibraryService;
  /** The store's persistent cache of model headers (see `listModels`). */
  readonly modelInfoCache: FactCache<ModelInfo>;
  /** One reply at a time: the app's chat and the local API take turns (see ./replySlot.ts). */
  readonly replySlot = new ReplySlot();
  /** Replies for the local OpenAI-compatible API (see ./apiReplies.ts). */
  readonly apiReplies: ApiReplies;
  /** Unloads the model after the idle time in Settings (see ./idleUnload.ts). */
  readonly idleUnloader: IdleUnloader;
  /** Export, import and backups (see ./archiveService.ts). */
  readonly archive: ArchiveService;
  /** Presets and what each conversation's replies are generated with (see ./presets.ts). */
  readonly presets: PresetService;

  constructor(private readonly options: BackendOptions) {
    this.modelInfoCache = options.store.modelFacts.cache('model-info', CATALOG_READER_VERSION, modelInfoSchema);
    this.presets = new PresetService({ store: options.store, settings: () => this.effectiveSettings() });
    this.governor = new GovernorService({
      store: options.store,
      engine: options.engine,
      modelsDir: () => this.modelsDir(),
      modelInfoCache: () => this.modelInfoCache,
      discovery: options.discovery ?? {},
      settings: () => this.effectiveSettings(),
      powerState: () => this.powerState(),
      physicalCores: physicalCoreCount,
      measureBandwidth: options.measureBandwidth,
    });
    this.library = new LibraryService({
      governor: this.governor,
      engine: options.engine,
      modelsDir: () => this.modelsDir(),
      settings: () => this.effectiveSettings(),
      emitJob: (job) => this.emit({ type: 'downloads.changed', job }),
      emitModelsChanged: () => {
        this.emit({ type: 'models.changed' });
        void this.announceDecision();
      },
      discovery: options.discovery ?? {},
      env: options.env,
    });
    this.calibration = new CalibrationService({
      store: options.store,
      engine: options.engine,
      sampler: options.sampler ?? null,
      models: async () => {
        const { decision, models } = await this.governor.decide();
        return { models, candidates: decision.candidates };
      },
      threads: () => this.effectiveSettings().threads,
      replyInFlight: () => this.inFlight.size > 0,
      repliesIdle: () => this.idle(),
      emit: (status) => this.emit({ type: 'calibration.progress', status }),
      onResults: () => void this.announceDecision(),
    });
    this.idleUnloader = new IdleUnloader({
      engine: options.engine,
      settings: () => this.settings().idleUnload,
      onAc: () => this.powerState().onAc,
      busy: () => this.inFlight.size > 0 || this.calibration.status()?.state === 'running',
      onUnloaded: () => this.emit({ type: 'engine.status', status: this.engineStatus() }),
      now: options.idleUnload?.now,
    });
    if (options.idleUnload?.start !== false) this.idleUnloader.start();
    this.archive = new ArchiveService({
      store: options.store,
      dataDir: options.dataDir,
      version: options.version,
      onImported: (ids) => ids.forEach((conversationId) => this.emit({ type: 'conversations.changed', conversationId })),
    });
    this.apiReplies = new ApiReplies({
      store: options.store,
      slot: this.replySlot,
      settings: () => this.effectiveSettings(),
      installedModels: () => this.governor.installedModels(this.effectiveSettings()),
      chooseForReply: () => this.governor.chooseForReply(),
      holdCalibration: () => this.calibration.hold(),
      startReply: (spec) => this.startReply(spec),
      disposed: () => this.disposed,
    });
    this.stopAutoCalibration = this.calibration.startAuto({
      enabled: () => this.settings().calibration.autoWhenIdleOnAc,
      onAc: () => this.powerState().onAc,
      ...options.autoCalibration,
    });
    this.unsubscribeEngine = options.engine.onStatus((status) => {
      this.emit({ type: 'engine.status', status: { ...status, idleUnloaded: this.idleUnloader.idleUnloaded } });
      this.trackModelLoad(status);
    });
    this.unsubscribeSampler =
      options.sampler?.onTick((tick) => {
        this.emit({ type: 'power.sample', sample: tick.sample, battery: tick.battery, timeToEmptyMinutes: tick.timeToEmptyMinutes, reply: tick.reply });
        const onAc = tick.battery ? tick.battery.onAc : true;
        if (this.lastOnAc !== null && onAc !== this.lastOnAc) void this.announceDecision();
        this.lastOnAc = onAc;
      }) ?? (() => undefined);
  }

  /**
   * The power state the governor sees: the override if any, else the telemetry's battery (no battery =
   * on AC) and the system's idle draw (the sampler's idle baseline: a whole-system sensor's recent idle
   * median, or the CPU model's idle power; that idle power when unknown).
   */
  powerState(): GovernorPowerInput {
    if (this.options.powerStateOverride) return { ...this.options.powerStateOverride, thermalThrottled: this.options.powerStateOverride.thermalThrottled ?? this.thermalThrottled };
    const status = this.options.sampler?.status() ?? null;
    const battery = status?.battery ?? null;
    const baseline = status?.idleBaselinePowerW ?? DEFAULT_IDLE_W;
    return {
      onAc: battery ? battery.onAc : true,
      batteryPercent: battery?.percent ?? null,
      batteryCapacityWh: battery?.capacityWh ?? null,
      batteryEnergyWh: battery?.energyWh ?? null,
      baselinePowerW: baseline,
      thermalThrottled: this.thermalThrottled,
    };
  }

  /** The OS reported AC plugged/unplugged or a resume (Electron powerMonitor): re-read the sensors now. */
  notifyPowerChange(): void {
    this.options.sampler?.notifyPowerChange();
  }

  /** The OS reports thermal pressure (Electron powerMonitor 'thermal-state-change'): the governor derates speeds. */
  setThermalThrottled(throttled: boolean): void {
    if (throttled === this.thermalThrottled) return;
    this.thermalThrottled = throttled;
    void this.announceDecision();
  }

  /** Pushes the governor's current decision to the renderer (power source or settings changed). */
  private async announceDecision(): Promise<void> {
    try {
      const { decision } = await this.governor.decide();
      this.emit({ type: 'governor.decision', decision });
    } catch {
      // No models or an unreadable folder: the next explicit call reports it.
    }
  }

  /** Times each model load (status loading → ready) and meters its energy, for the governor's switch cost. */
  private trackModelLoad(status: import('../../shared/contract.js').EngineStatus): void {
    if (status.state === 'loading' && status.modelPath && this.loadMeter?.modelPath !== status.modelPath) {
      this.loadMeter?.meter?.cancel();
      const meter = this.options.sampler?.beginReply({ requestId: `load:${status.modelPath}`, conversationId: 'model-load' }) ?? null;
      this.loadMeter = { modelPath: status.modelPath, startedAt: Date.now(), meter };
      return;
    }
    const pending = this.loadMeter;
    if (!pending || status.state === 'loading') return;
    this.loadMeter = null;
    if (status.state === 'calibrating') {
      // Calibration is part of the first load's cost.
      this.loadMeter = pending;
      return;
    }
    if ((status.state === 'ready' || status.state === 'generating') && status.modelPath === pending.modelPath) {
      const endedAt = Date.now();
      const write = (async () => {
        const energy = pending.meter ? await pending.meter.finish({ startedAt: pending.startedAt, endedAt, completionTokens: 0 }) : null;
        try {
          const { size } = await stat(pending.modelPath);
          this.options.store.recordModelLoad({ modelPath: pending.modelPath, modelSizeBytes: size, loadMs: endedAt - pending.startedAt, loadEnergyJ: energy ? energy.energyJ : null });
        } catch {
          // A load we cannot record only costs the governor a measurement.
        }
      })();
      this.pendingWrites.add(write);
      void write.finally(() => this.pendingWrites.delete(write));
    } else {
      pending.meter?.cancel();
    }
  }

  /**
   * Runs one API call. Never throws: unknown methods and invalid inputs come back as `BAD_INPUT`, store
   * and engine failures with their codes, anything else as `INTERNAL`.
   *
   * @param method A contract method name (checked at run time: this is the transports' entry point).
   * @param rawInput Untrusted input, validated with the method's zod schema.
   */
  async call(method: unknown, rawInput: unknown): Promise<ApiResult<unknown>> {
    if (!isApiMethod(method)) {
      return fail('BAD_INPUT', `Unknown method ${JSON.stringify(String(method)).slice(0, 80)}`);
    }
    if (this.disposed) return fail('INTERNAL', 'Wattwise is shutting down');
    const spec = apiContract[method];
    const parsed = spec.input.safeParse(rawInput ?? {});
    if (!parsed.success) return fail('BAD_INPUT', `Invalid input for ${method}: ${z.prettifyError(parsed.error)}`);
    try {
      const handler = this.handlers[method] as (input: unknown) => Promise<unknown> | unknown;
      const value = await handler(parsed.data);
      const output = spec.output.safeParse(value);
      // The contract binds the backend too: an output that breaks it is a bug here, not bad input.
      if (!output.success) return fail('INTERNAL', `${method} returned data that breaks the contract: ${z.prettifyError(output.error)}`);
      return { ok: true, value: output.data };
    } catch (error) {
      return { ok: false, error: toApiError(error) };
    }
  }

  /** Typed convenience over {@link call} for in-process callers (CLI, tests). */
  async request<M extends ApiMethod>(method: M, input: ApiInput<M>): Promise<ApiResult<ApiOutput<M>>> {
    return (await this.call(method, input)) as ApiResult<ApiOutput<M>>;
  }

  /** Subscribes to every event; returns the unsubscribe function. Listeners must not throw. */
  onEvent(listener: (event: ApiEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves when every reply in flight has ended and been stored. */
  async idle(): Promise<void> {
    await Promise.all([...this.inFlight.values()].map((f) => f.done));
  }

  /** Aborts replies in flight, waits for them to be stored, disposes the engine and closes the store. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.stopAutoCalibration();
    this.idleUnloader.stop();
    this.unsubscribeApiServer();
    await this.apiServer?.close();
    await this.calibration.dispose();
    await this.library.dispose();
    for (const f of this.inFlight.values()) f.controller.abort();
    await this.idle();
    this.unsubscribeEngine();
    this.unsubscribeSampler();
    this.loadMeter?.meter?.cancel();
    await Promise.all([...this.pendingWrites]);
    await this.options.sampler?.stop();
    await this.options.engine.dispose();
    this.options.store.close();
    this.listeners.clear();
  }

  /** The engine's status, saying whether the model was unloaded for idleness. */
  engineStatus(): EngineStatus {
    return { ...this.options.engine.status(), idleUnloaded: this.idleUnloader.idleUnloaded };
  }

  /** The models folder in effect now. */
  modelsDir(): string {
    return resolveModelsDir({
      dataDir: this.options.dataDir,
      setting: this.settings().modelsDir,
      override: this.options.modelsDirOverride ?? null,
    });
  }

  private settings(): Settings {
    return this.options.store.getSettings(defaultSettings);
  }

  private emit(event: ApiEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A broken listener (a closed SSE socket, a destroyed window) must not break the others.
      }
    }
  }

  private readonly handlers: Handlers = {
    'app.info': async () => ({
      version: this.options.version,
      dataDir: this.options.dataDir,
      modelsDir: this.modelsDir(),
      transport: this.options.transport,
      platform: process.platform,
      physicalCores: await physicalCoreCount(),
    }),
    'models.list': () => this.governor.installedModels(this.effectiveSettings()),
    'models.delete': ({ modelPath }) => this.library.delete(modelPath),
    'library.status': () => this.library.status(),
    'library.catalog': async () => ({ offers: await this.library.offers() }),
    'library.recommend': () => this.library.recommend(),
    'downloads.list': () => this.library.list(),
    'downloads.start': ({ source, sha256 }) => this.library.start(source, sha256),
    'downloads.pause': ({ id }) => this.library.pause(id),
    'downloads.resume': ({ id }) => this.library.resume(id),
    'downloads.cancel': ({ id }) => this.library.cancel(id),
    'engine.status': () => this.engineStatus(),
    'engine.load': async ({ modelPath }) => {
      await this.checkModel(modelPath);
      const s = this.effectiveSettings();
      await this.options.engine.load(modelPath, { contextSize: s.contextSize, threads: s.threads });
      return this.options.engine.status();
    },
    'engine.unload': async () => {
      for (const f of this.inFlight.values()) f.controller.abort();
      await this.idle();
      await this.options.engine.unload();
      return this.options.engine.status();
    },
    'conversations.list': ({ query }) =>
      query && query.trim() ? this.options.store.searchConversations(query) : this.options.store.listConversations(),
    'conversations.get': ({ id }) => {
      const detail = this.options.store.getConversation(id);
      if (!detail) throw notFound('conversation', id);
      return detail;
    },
    'conversations.create': async ({ systemPrompt, modelPath, presetId, overrides }) => {
      if (modelPath !== undefined) await this.checkModel(modelPath);
      const preset = this.presets.checkPresetId(presetId ?? null);
      const own = this.presets.overridesForNew(preset, overrides ?? null, systemPrompt);
      const conversation = this.options.store.createConversation({
        // The prompt it starts with (the column is informative: replies resolve it from the preset and overrides).
        systemPrompt: this.presets.resolveFor({ presetId: preset, overrides: own }).systemPrompt,
        modelPath: modelPath ?? null,
        pinnedModelPath: modelPath ?? null,
        presetId: preset,
        overrides: own,
      });
      this.emit({ type: 'conversations.changed', conversationId: conversation.id });
      return conversation;
    },
    'conversations.rename': ({ id, title }) => {
      const conversation = this.options.store.renameConversation(id, title);
      if (!conversation) throw notFound('conversation', id);
      this.emit({ type: 'conversations.changed', conversationId: id });
      return conversation;
    },
    'conversations.setPreset': ({ id, presetId, overrides }) => {
      this.requireConversation(id);
      const preset = this.presets.checkPresetId(presetId);
      this.options.store.presets.assign(id, preset, overrides);
      this.emit({ type: 'conversations.changed', conversationId: id });
      return this.requireConversation(id);
    },
    'presets.list': () => this.presets.list(),
    'presets.create': (fields) => this.presets.create(fields),
    'presets.update': ({ id, ...fields }) => this.presets.update(id, fields),
    'presets.delete': ({ id }) => {
      const { deleted, movedConversationIds } = this.presets.delete(id);
      for (const conversationId of movedConversationIds) this.emit({ type: 'conversations.changed', conversationId });
      return { deleted, movedConversations: movedConversationIds.length };
    },
    'conversations.pin': async ({ id, modelPath }) => {
      if (modelPath !== null) await this.checkModel(modelPath);
      this.requireConversation(id);
      this.options.store.pinConversationModel(id, modelPath);
      this.emit({ type: 'conversations.changed', conversationId: id });
      return this.requireConversation(id);
    },
    'conversations.delete': async ({ id }) => {
      for (const f of this.inFlight.values()) {
        if (f.conversationId === id) {
          f.controller.abort();
          await f.done;
        }
      }
      const deleted = this.options.store.deleteConversation(id);
      if (deleted) this.emit({ type: 'conversations.changed', conversationId: id });
      return { deleted };
    },
    'chat.send': async ({ conversationId, content, modelPath }) => {
      const conversation = this.requireConversation(conversationId);
      this.assertNotBusy();
      return this.holdingCalibration(async (release) => {
        const model = await this.chooseModel(conversationId, modelPath ?? null, conversation.pinnedModelPath);
        const user = this.options.store.addMessage({ conversationId, role: 'user', content, status: 'complete' });
        return this.startAppReply(conversationId, model, user.id, release);
      });
    },
    'chat.regenerate': async ({ conversationId, modelPath }) => {
      const detail = this.requireConversationDetail(conversationId);
      this.assertNotBusy();
      const last = detail.messages.at(-1);
      if (!last || (last.role === 'assistant' && !detail.messages.some((m) => m.role === 'user'))) {
        throw new ApiFailure({ code: 'BAD_INPUT', message: 'There is no reply to regenerate in this conversation' });
      }
      return this.holdingCalibration(async (release) => {
        const model = await this.chooseModel(conversationId, modelPath ?? null, detail.conversation.pinnedModelPath);
        return this.startAppReply(conversationId, model, null, release, this.retire(last));
      });
    },
    'chat.tryWith': async ({ conversationId, modelPath, profile }) => {
      const detail = this.requireConversationDetail(conversationId);
      this.assertNotBusy();
      const last = detail.messages.at(-1);
      if (!last || !detail.messages.some((m) => m.role === 'user')) {
        throw new ApiFailure({ code: 'BAD_INPUT', message: 'There is no question to answer again in this conversation' });
      }
      return this.holdingCalibration(async (release) => {
        const model = modelPath !== undefined ? await this.checkModel(modelPath) : await this.profileChoice(conversationId, profile ?? 'saver');
        return this.startAppReply(conversationId, model, null, release, this.retire(last));
      });
    },
    'messages.selectAlternative': ({ messageId }) => {
      if ([...this.inFlight.values()].some((f) => f.assistantMessageId === messageId)) {
        throw new ApiFailure({ code: 'BUSY', message: 'This reply is still being written.' });
      }
      const conversationId = this.options.store.alternatives.select(messageId);
      this.emit({ type: 'conversations.changed', conversationId });
      return this.requireConversationDetail(conversationId);
    },
    'chat.edit': async ({ messageId, content, modelPath }) => {
      const message = this.options.store.getMessage(messageId);
      if (!message) throw notFound('message', messageId);
      if (message.role !== 'user') throw new ApiFailure({ code: 'BAD_INPUT', message: 'Only your own messages can be edited' });
      const conversation = this.requireConversation(message.conversationId);
      this.assertNotBusy();
      return this.holdingCalibration(async (release) => {
        const model = await this.chooseModel(message.conversationId, modelPath ?? null, conversation.pinnedModelPath);
        this.options.store.updateUserMessage(messageId, content);
        this.options.store.deleteMessagesAfter(messageId, { inclusive: false });
        return this.startAppReply(message.conversationId, model, messageId, release);
      });
    },
    'chat.context': ({ conversationId, draft, modelPath }) => {
      const detail = conversationId ? this.requireConversationDetail(conversationId) : null;
      const s = this.effectiveSettings();
      // What the next reply will use: the conversation's preset and overrides (a new chat: Default).
      const resolved = this.presets.resolveFor(detail?.conversation ?? { presetId: null, overrides: null });
      return contextUsage({
        engine: this.options.engine,
        modelPath: modelPath ?? detail?.conversation.pinnedModelPath ?? this.options.engine.status().modelPath ?? s.lastModelPath,
        systemPrompt: resolved.systemPrompt,
        history: detail ? conversationTurns(detail.messages) : [],
        draft,
        contextSize: resolved.contextSize,
        maxReplyTokens: resolved.maxReplyTokens,
        overflow: s.contextOverflow,
        measured: detail ? measuredPrompts(detail.messages, modelPath ?? detail.conversation.pinnedModelPath ?? this.options.engine.status().modelPath ?? s.lastModelPath) : [],
      });
    },
    'chat.abort': async ({ requestId }) => {
      const f = this.inFlight.get(requestId);
      if (!f) return { aborted: false };
      f.controller.abort();
      await f.done;
      return { aborted: true };
    },
    'settings.get': () => this.settings(),
    'settings.update': async (patch) => {
      // Turning the API on for the first time makes its key.
      const api = patch.api && patch.api.enabled && patch.api.apiKey === null ? { ...patch.api, apiKey: this.settings().api.apiKey ?? newApiKey() } : patch.api;
      let updated = this.options.store.updateSettings(api ? { ...patch, api } : patch, defaultSettings);
      if (patch.api !== undefined) {
        await this.applyApiSettings();
        updated = this.settings();
      }
      if (patch.governor !== undefined) this.governor.resetHysteresis();
      if (patch.modelsDir !== undefined || patch.modelSources !== undefined) this.emit({ type: 'models.changed' });
      if (patch.governor !== undefined || patch.modelsDir !== undefined || patch.threads !== undefined || patch.contextSize !== undefined || patch.modelSources !== undefined) {
        void this.announceDecision();
      }
      return updated;
    },
    'threads.calibrations': () => this.options.store.listThreadCalibrations(),
    'calibration.list': async () => ({ results: await this.calibration.results(), run: this.calibration.status() }),
    'calibration.estimate': ({ modelPaths, quick }) => this.calibration.estimate({ modelPaths, quick }),
    'calibration.start': ({ modelPaths, quick }) => this.calibration.start({ modelPaths, quick }),
    'calibration.cancel': () => ({ cancelled: this.calibration.cancel() }),
    'calibration.exportCsv': async () => ({
      fileName: `wattwise-calibration-${new Date().toISOString().slice(0, 10)}.csv`,
      csv: CalibrationTable.toCsv(await this.calibration.results()),
    }),
    'governor.decide': async ({ conversationId, profile }) => {
      const pinned = conversationId ? this.requireConversation(conversationId).pinnedModelPath : null;
      return (await this.governor.decide({ profile, pinnedModelPath: pinned })).decision;
    },
    'api.status': () => this.apiServer?.status() ?? apiServerOff(this.settings().api.port),
    'api.regenerateKey': async () => {
      const api = { ...this.settings().api, apiKey: newApiKey() };
      const updated = this.options.store.updateSettings({ api }, defaultSettings);
      await this.applyApiSettings();
      return updated;
    },
    'energy.status': () => this.requireSampler().status(),
    'energy.summary': ({ days }) => this.options.store.energySummary({ days: days ?? 30 }),
    'energy.trace': ({ conversationId }) => {
      const trace = this.options.store.energyTrace(conversationId);
      if (!trace) throw notFound('conversation', conversationId);
      return trace;
    },
    'energy.exportCsv': ({ kind, conversationId }) =>
      kind === 'messages' ? this.options.store.exportMessagesCsv(conversationId) : this.options.store.exportSamplesCsv(conversationId),
    'history.export': (input) => this.archive.exportHistory(input),
    'history.import': ({ text }) => this.archive.importHistory(text),
    'backup.create': () => this.archive.createBackup(),
    'backup.list': () => this.archive.listBackups(),
    'backup.restore': ({ name }) => this.archive.restoreBackup(name),
    'backup.cancelRestore': () => this.archive.cancelRestore(),
  };

  /**
   * Attaches the local API server (built after the backend: it serves through it) and starts it when the
   * settings say so. Its status changes reach the renderer as `api.status` events; {@link dispose} closes it.
   */
  async attachApiServer(host: ApiServerHost): Promise<void> {
    this.apiServer = host;
    this.unsubscribeApiServer = host.onStatus((status) => this.emit({ type: 'api.status', status }));
    await this.applyApiSettings();
  }

  private apiServer: ApiServerHost | null = null;
  private unsubscribeApiServer: () => void = () => undefined;

  /** Makes the attached API server match the settings (a missing key is made and saved first). */
  private async applyApiSettings(): Promise<void> {
    if (!this.apiServer) return;
    let api = this.settings().api;
    if (api.enabled && api.apiKey === null) {
      api = this.options.store.updateSettings({ api: { ...api, apiKey: newApiKey() } }, defaultSettings).api;
    }
    await this.apiServer.apply(api);
  }

  /** Settings with this process's overrides applied. */
  private effectiveSettings(): Settings {
    const s = this.settings();
    const o = this.options.overrides ?? {};
    return {
      ...s,
      threads: o.threads ?? s.threads,
      maxReplyTokens: o.maxReplyTokens ?? s.maxReplyTokens,
      contextSize: o.contextSize ?? s.contextSize,
      governor: o.governor ?? s.governor,
    };
  }

  private requireSampler(): PowerSampler {
    if (!this.options.sampler) throw new ApiFailure({ code: 'INTERNAL', message: 'Energy telemetry is not running in this process' });
    return this.options.sampler;
  }

  private requireConversation(id: string) {
    return this.requireConversationDetail(id).conversation;
  }

  private requireConversationDetail(id: string) {
    const detail = this.options.store.getConversation(id);
    if (!detail) throw notFound('conversation', id);
    return detail;
  }

  private assertNotBusy(): void {
    if ([...this.inFlight.values()].some((f) => f.origin === 'app')) {
      throw new ApiFailure({ code: 'BUSY', message: 'A reply is still being written. Stop it or wait for it to finish.' });
    }
  }

  /**
   * Fails with NOT_FOUND / MODEL_INVALID before anything is stored. Unless `modelPathsAnywhere`, the path
   * must be an installed model: anything else is one NOT_FOUND answer, whether or not a file is there.
   */
  private async checkModel(modelPath: string): Promise<ModelInfo> {
    if (!this.options.modelPathsAnywhere) {
      const installed = (await this.governor.installedModels(this.effectiveSettings())).find((m) => m.path === modelPath);
      if (!installed) throw new ApiFailure({ code: 'NOT_FOUND', message: `Not an installed model: ${modelPath}` });
      if (!installed.usable) {
        throw new ApiFailure({ code: 'MODEL_INVALID', message: `${installed.fileName} cannot be used: ${installed.problem ?? 'unknown problem'}` });
      }
      return installed;
    }
    if (!existsSync(modelPath)) throw new ApiFailure({ code: 'NOT_FOUND', message: `Model file not found: ${modelPath}` });
    const info = await readModelInfo(modelPath);
    if (!info.usable) {
      throw new ApiFailure({ code: 'MODEL_INVALID', message: `${info.fileName} cannot be used: ${info.problem ?? 'unknown problem'}` });
    }
    return info;
  }

  /**
   * The model for a reply: the one asked for (which pins it to the conversation), else the conversation's
   * pinned model, else the last chosen, else the only usable model in the folder. Fails with NOT_FOUND /
   * MODEL_INVALID for a bad explicit or pinned file and with NO_MODEL when none applies.
   */
  private async chooseModel(conversationId: string, requested: string | null, pinned: string | null): Promise<ModelInfo> {
    if (requested) {
      const info = await this.checkModel(requested);
      if (requested !== pinned) this.options.store.pinConversationModel(conversationId, requested);
      return info;
    }
    if (pinned) return this.checkModel(pinned);
    let choice;
    try {
      choice = await this.governor.chooseForReply();
    } catch (error) {
      if (error instanceof NoUsableModelError) {
        throw new ApiFailure({ code: 'NO_MODEL', message: `No usable model: download one in Models, or put a .gguf file in ${this.modelsDir()}` });
      }
      throw error;
    }
    this.pendingGovernor.set(conversationId, {
      profile: choice.decision.profile,
      reason: choice.keptReason ? `${choice.decision.reason} (kept ${choice.model.name}: ${choice.keptReason})` : choice.decision.reason,
    });
    return choice.model;
  }

  /**
   * Before answering the last question again: keeps the last reply as an alternative (a failed or empty
   * one is deleted instead) and returns the alternatives group the new reply joins (null: none, or the
   * conversation ends with the question).
   */
  private retire(last: Message): string | null {
    if (last.role !== 'assistant') return null;
    const discard = last.status === 'error' || last.content.trim() === '';
    return this.options.store.alternatives.keepAsAlternative(last.id, { discard });
  }

  /** "Try with the Saver choice": the governor's model for `profile` now (no hysteresis, no pin), its reason kept with the reply. */
  private async profileChoice(conversationId: string, profile: ProfileId): Promise<ModelInfo> {
    const { decision, models, raw } = await this.governor.decide({ profile });
    const model = raw.chosen ? models.find((m) => m.path === raw.chosen?.modelPath) : undefined;
    if (!model) {
      throw new ApiFailure({ code: 'NO_MODEL', message: `No installed model meets the ${profile} profile's limits on this computer` });
    }
    this.pendingGovernor.set(conversationId, { profile: decision.profile, reason: decision.reason });
    return model;
  }

  /** The governor's profile and reason for the next reply of a conversation, set by chooseModel. */
  private readonly pendingGovernor = new Map<string, { profile: ProfileId; reason: string }>();

  /**
   * Runs `start` (which starts a reply) with the calibration bench held off: a variant being measured is
   * cancelled and measured again once the reply ends. `start` passes `release` on to the reply, which
   * calls it when done; if `start` throws, the hold ends at once.
   */
  private async holdingCalibration(start: (release: () => void) => Promise<ChatStarted>): Promise<ChatStarted> {
    const release = this.calibration.hold();
    try {
      return await start(release);
    } catch (error) {
      release();
      throw error;
    }
  }

  /**
   * Starts the app's reply in a conversation: its stored history, and the system prompt, sampling, reply
   * cap and context size of its preset and overrides (./presets.ts: override > preset > settings).
   */
  private startAppReply(conversationId: string, model: ModelInfo, userMessageId: string | null, onDone: () => void, alternativeGroup: string | null = null): ChatStarted {
    const detail = this.requireConversationDetail(conversationId);
    const history = conversationTurns(detail.messages);
    const resolved = this.presets.resolveFor(detail.conversation);
    const governor = this.pendingGovernor.get(conversationId) ?? null;
    this.pendingGovernor.delete(conversationId);
    if (this.settings().lastModelPath !== model.path) this.options.store.updateSettings({ lastModelPath: model.path }, defaultSettings);
    return this.startReply({
      origin: 'app',
      conversationId,
      model,
      userMessageId,
      systemPrompt: resolved.systemPrompt,
      history,
      maxTokens: resolved.maxReplyTokens,
      contextSize: resolved.contextSize,
      sampling: PresetService.sampling(resolved),
      contextOverflow: this.settings().contextOverflow,
      alternativeGroup,
      governor,
      turn: null,
      onDone,
    }).started;
  }

  /**
   * Stores an empty streaming assistant message and generates into it in the background, when the reply
   * slot is free (it waits for its turn unless `spec.turn` is already held). Returns what started and the
   * reply's outcome (resolved once it is stored and no longer in flight; never rejects).
   */
  startReply(spec: ReplySpec): { started: ChatStarted; outcome: Promise<ReplyOutcome> } {
    const store = this.options.store;
    store.setConversationModel(spec.conversationId, spec.model.path);
    const assistant = store.addMessage({
      conversationId: spec.conversationId,
      role: 'assistant',
      content: '',
      status: 'streaming',
      alternativeGroup: spec.alternativeGroup ?? null,
    });
    const requestId = randomUUID();
    const controller = new AbortController();
    if (spec.signal) {
      if (spec.signal.aborted) controller.abort();
      else spec.signal.addEventListener('abort', () => controller.abort(), { once: true });
    }
    const entry: InFlight = {
      requestId,
      origin: spec.origin,
      conversationId: spec.conversationId,
      assistantMessageId: assistant.id,
      controller,
      done: Promise.resolve(),
      savedChars: 0,
    };
    this.inFlight.set(requestId, entry);
    let resolveOutcome!: (outcome: ReplyOutcome) => void;
    const outcome = new Promise<ReplyOutcome>((r) => (resolveOutcome = r));
    entry.done = (async () => {
      let result: { event: Extract<ApiEvent, { type: 'chat.done' }>; stopReason: StopReason | null } | null = null;
      const turn = spec.turn ?? (await this.replySlot.acquire({ signal: controller.signal }));
      try {
        result = await this.generate(entry, spec);
      } finally {
        turn.release();
        // The reply is over before anyone hears so: a client that sends again on chat.done is never BUSY.
        this.inFlight.delete(requestId);
        spec.onDone();
      }
      this.emit(result.event);
      this.emit({ type: 'conversations.changed', conversationId: spec.conversationId });
      resolveOutcome({ message: result.event.message, error: result.event.error, stopReason: result.stopReason });
    })();
    this.emit({ type: 'conversations.changed', conversationId: spec.conversationId });
    return { started: { requestId, conversationId: spec.conversationId, userMessageId: spec.userMessageId, assistantMessageId: assistant.id }, outcome };
  }

  /**
   * Generates and stores the reply; returns its `chat.done` event, which the caller emits once the reply
   * is no longer in flight, and why generation stopped (null when it failed).
   */
  private async generate(entry: InFlight, spec: ReplySpec): Promise<{ event: Extract<ApiEvent, { type: 'chat.done' }>; stopReason: StopReason | null }> {
    const store = this.options.store;
    const settings = this.effectiveSettings();
    const model = spec.model;
    let stopReason: StopReason | null = null;
    let text = '';
    let dirty = false;
    const keepText = spec.keepText !== false;
    const flush = () => {
      if (!dirty || !keepText) return;
      dirty = false;
      try {
        store.updateMessageContent(entry.assistantMessageId, text);
        entry.savedChars = text.length;
      } catch {
        // A failed partial write (disk full) is retried by the next flush and by finishMessage.
        dirty = true;
      }
    };
    let lastBeat = Date.now();
    const timer = setInterval(() => {
      flush();
      if (Date.now() - lastBeat >= heartbeatIntervalMs) {
        lastBeat = Date.now();
        try {
          store.heartbeat(entry.assistantMessageId);
        } catch {
          // A missed heartbeat only matters after 10 minutes of them.
        }
      }
    }, partialFlushIntervalMs);
    let final: Message;
    let apiError: ApiError | null = null;
    const governor = spec.governor;
    const meter = this.options.sampler?.beginReply({ requestId: entry.requestId, conversationId: entry.conversationId }) ?? null;
    let pieces = 0;
    try {
      const result = await this.options.engine.generate({
        modelPath: model.path,
        systemPrompt: spec.systemPrompt,
        history: spec.history,
        maxTokens: spec.maxTokens,
        contextSize: spec.contextSize ?? settings.contextSize,
        threads: settings.threads,
        signal: entry.controller.signal,
        ...(spec.prompt !== undefined ? { prompt: spec.prompt } : {}),
        ...(spec.sampling ? { sampling: spec.sampling } : {}),
        ...(spec.contextOverflow ? { contextOverflow: spec.contextOverflow } : {}),
        ...(spec.stop && spec.stop.length > 0 ? { stop: spec.stop } : {}),
        onText: (piece) => {
          text += piece;
          dirty = true;
          meter?.setCompletionTokens(++pieces);
          spec.onText?.(piece);
          // The API's replies are not shown while they stream (their conversation is not in the chat list).
          if (spec.origin === 'app') this.emit({
            type: 'chat.token',
            requestId: entry.requestId,
            conversationId: entry.conversationId,
            messageId: entry.assistantMessageId,
            text: piece,
          });
        },
      });
      clearInterval(timer);
      stopReason = result.stopReason;
      const energy = meter
        ? await meter.finish({ startedAt: result.stats.startedAt, endedAt: result.stats.endedAt, completionTokens: result.stats.completionTokens })
        : null;
      const finished = this.finish(entry, {
        content: keepText ? result.text : '',
        status: result.stopReason === 'abort' ? 'stopped' : 'complete',
        stats: result.stats,
        error: null,
        energy,
        governor,
      });
      final = finished.message;
      apiError = finished.storeError;
      this.governor.noteReply(result.stats.modelPath, result.stats.threads, result.stats.decodeTokensPerSecond);
    } catch (error) {
      clearInterval(timer);
      meter?.cancel();
      apiError = toApiError(error);
      const finished = this.finish(entry, { content: keepText ? text : '', status: 'error', stats: null, error: apiError.message });
      final = finished.message;
      apiError = finished.storeError ?? apiError;
    }
    if (meter) {
      try {
        // One batched write per reply, after decoding: storing samples never slows generation.
        store.addPowerSamples(entry.conversationId, entry.assistantMessageId, meter.samples());
      } catch {
        // The trace is a nice-to-have; the reply itself is stored.
      }
    }
    return { event: { type: 'chat.done', requestId: entry.requestId, conversationId: entry.conversationId, message: final, error: apiError }, stopReason };
  }

  /**
   * Stores the final message. When that write fails (a full disk), the reply still ends: the smallest
   * possible write marks the row `error` (its content as last flushed), the returned message says what was
   * and was not saved, and `storeError` carries the store's code so `chat.done` reports it (the CLI exits
   * non-zero, the UI shows it on the message). Should even that write fail, the row stays `streaming` and
   * the next start marks it interrupted, keeping the text last flushed.
   */
  private finish(entry: InFlight, input: Parameters<Store['finishMessage']>[1]): { message: Message; storeError: ApiError | null } {
    try {
      return { message: this.options.store.finishMessage(entry.assistantMessageId, input), storeError: null };
    } catch (error) {
      const storeError = toApiError(error);
      const total = input.content.length;
      const saved = Math.min(entry.savedChars, total);
      const what =
        saved >= total && total > 0
          ? `the text was saved; its final status, stats and energy were not`
          : saved > 0
            ? `the first ${saved} of ${total} characters were saved; the rest, the stats and the energy were not`
            : `nothing of it was saved`;
      const text = `The reply could not be saved (${storeError.message}): ${what}.`;
      try {
        this.options.store.failStreamingMessage(entry.assistantMessageId, text);
      } catch {
        // Not even the status could be written: the next start marks the row interrupted.
      }
      return {
        message: {
          id: entry.assistantMessageId,
          conversationId: entry.conversationId,
          role: 'assistant',
          content: input.content,
          status: 'error',
          createdAt: Date.now(),
          stats: input.stats,
          error: text,
          energy: input.energy ?? null,
          governor: null,
        },
        storeError: { code: storeError.code, message: text },
      };
    }
  }
}

function fail(code: ApiError['code'], message: string): ApiResult<never> {
  return { ok: false, error: { code, message } };
}

function notFound(kind: string, id: string): ApiFailure {
  return new ApiFailure({ code: 'NOT_FOUND', message: `No ${kind} with id ${id}` });
}

/** Maps anything thrown inside the backend to an {@link ApiError} with a code from the closed set. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiFailure) return error.error;
  if (error instanceof EngineError) return { code: error.code, message: error.message };
  if (error instanceof StoreError) return { code: error.code, message: error.message };
  if (error instanceof z.ZodError) return { code: 'BAD_INPUT', message: z.prettifyError(error) };
  if (error instanceof CalibrationBusyError) return { code: 'BUSY', message: error.message };
  if (error instanceof LibraryError) return { code: error.code, message: error.message };
  if (error instanceof PresetError) return { code: error.code, message: error.message };
  if (error instanceof CalibrationInputError) return { code: error.code, message: error.message };
  if (error instanceof CalibrationUnsupportedError) return { code: 'INTERNAL', message: error.message };
  if (error instanceof ArchiveServiceError) return error.error;
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'INTERNAL', message };
}
