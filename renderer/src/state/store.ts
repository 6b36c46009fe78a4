/**
 * The renderer's state: a small external store (read with `useSyncExternalStore`) whose actions call
 * the bridge. The backend owns the data; this store mirrors what the UI shows and merges the event
 * stream into it. Streaming tokens are buffered and applied once per animation frame.
 */
import type {
  ApiError,
  ApiEvent,
  ApiInput,
  ApiMethod,
  ApiOutput,
  ApiResult,
  ApiServerSettings,
  ApiServerStatus,
  AppInfo,
  BatteryStateInfo,
  CalibrationEstimate,
  CalibrationResult,
  CalibrationStatus,
  CatalogOffer,
  ChatStarted,
  ConversationDetail,
  ConversationSummary,
  DownloadJob,
  EnergyStatus,
  EngineStatus,
  GovernorCandidate,
  GovernorDecision,
  GovernorSettings,
  LibraryStatus,
  Message,
  PowerSample,
  ModelInfo,
  ProfileId,
  RecommendedLadder,
  Settings,
  ThreadCalibration,
  WattwiseBridge,
} from '@shared/contract';
import { describeError } from '../api/errors';
import { presetsStore } from './presets';

/** A reply being generated, by conversation. */
export interface ActiveRequest {
  requestId: string | null;
  conversationId: string;
  assistantMessageId: string;
}

/** The reply being generated, as the live gauges show it (energy so far, tokens so far). */
export type LiveReplyEnergy = NonNullable<EnergyStatus['reply']>;

/** How long the live power trace (sparkline) reaches back, in ms ("the last ≈2 minutes"). */
export const RECENT_WINDOW_MS = 120_000;

/** The live energy picture: what `energy.status` answered, kept current by `power.sample` events. */
export interface EnergyLiveState {
  /** The last `energy.status` answer (sources, active source); null until one succeeded. */
  status: EnergyStatus | null;
  /** Why the last `energy.status` failed (e.g. telemetry not available yet); null after a success. */
  statusError: ApiError | null;
  /** Power samples of the last {@link RECENT_WINDOW_MS} before the newest one, oldest first. */
  samples: PowerSample[];
  battery: BatteryStateInfo | null;
  /** Minutes to empty at the current draw (null on AC or unknown). */
  timeToEmptyMinutes: number | null;
  /** The reply being generated, if any. */
  reply: LiveReplyEnergy | null;
  /**
   * Energy of replies that finished after the conversation list was last fetched, in J by conversation
   * id: the gauges add it to the stored total until a fresh list includes it (no dip between the end of
   * a reply and the list refresh).
   */
  settling: Record<string, { energyJ: number; doneAt: number }>;
  /** The last finished reply with energy, in any conversation (the J/token gauge when idle). */
  lastReply: { conversationId: string; messageId: string; energyJPerToken: number; measured: boolean; completionTokens: number } | null;
}

/**
 * The calibration bench as the Governor view shows it: the results of the installed models, the run in
 * progress (or the last one of this session), fed by `calibration.list` and `calibration.progress` events.
 */
export interface CalibrationState {
  /** Results of the installed models on this machine; null until `calibration.list` answered once. */
  results: CalibrationResult[] | null;
  /** The run in progress, or the last one of this session; null when none ran. */
  run: CalibrationStatus | null;
  /** Why the last `calibration.list` failed; null after a success. */
  error: ApiError | null;
  /** Why the last start or cancel failed (shown in the calibration panel); null otherwise. */
  actionError: ApiError | null;
  /** "Quick" runs (short decode: a first look) rather than full ones; shared by every Calibrate button. */
  quick: boolean;
  /** A `calibration.start` is waiting for its answer (the buttons show it at once). */
  starting: boolean;
  /** How long calibrating every usable model would take in the mode chosen (`quick`); null until answered. */
  estimate: CalibrationEstimate | null;
  /** Why the last `calibration.estimate` failed; null after a success. */
  estimateError: ApiError | null;
}

/**
 * The model library as the Models view shows it: the folders and disk, the catalog with its predicted
 * costs, the recommended ladder (asked when the view opens and after `models.changed`), and every download
 * (asked at start, kept current by `downloads.changed` events: downloads go on while other views show).
 */
export interface LibraryState {
  /** `library.status`: the models folder, disk, memory, the other apps' folders; null until answered. */
  status: LibraryStatus | null;
  statusError: ApiError | null;
  /** `library.catalog`'s offers; null until answered. */
  offers: CatalogOffer[] | null;
  catalogError: ApiError | null;
  /** `library.recommend`; null until answered. */
  ladder: RecommendedLadder | null;
  ladderError: ApiError | null;
  /** A refresh of the three is waiting for its answers. */
  loading: boolean;
  /** Every download of this session (and partial ones found on disk), in the order first seen. */
  downloads: DownloadJob[];
  downloadsError: ApiError | null;
  /** Finished jobs the user cleared from the list (ids; only this page forgets them). */
  cleared: string[];
}

/** Which main view is shown beside the sidebar. */
export type MainView = 'chat' | 'energy' | 'governor' | 'models';

const PANEL_KEY = 'wattwise.energyPanel';

function readPanelPreference(): boolean {
  try {
    return window.localStorage.getItem(PANEL_KEY) !== 'closed';
  } catch {
    return true;
  }
}

export interface AppState {
  phase: 'loading' | 'ready' | 'failed';
  /** Why the first load failed (phase `failed`). */
  loadError: ApiError | null;
  info: AppInfo | null;
  settings: Settings | null;
  models: ModelInfo[] | null;
  modelsError: ApiError | null;
  modelsLoading: boolean;
  engine: EngineStatus | null;
  /** An `engine.load` started by choosing a model failed. */
  engineLoadError: ApiError | null;
  conversations: ConversationSummary[];
  conversationsError: ApiError | null;
  searchQuery: string;
  /** Results of `searchQuery` (null while no search is active or while the first one runs). */
  searchResults: ConversationSummary[] | null;
  searchError: ApiError | null;
  /** The open conversation; null for a new chat that is not created yet. */
  selectedId: string | null;
  detail: ConversationDetail | null;
  detailLoading: boolean;
  detailError: ApiError | null;
  /** Text of streaming assistant messages, by message id (applied once per frame). */
  live: Record<string, string>;
  active: Record<string, ActiveRequest>;
  /** The last chat call failed (shown above the composer). */
  chatError: string | null;
  /** System prompt for the not-yet-created new chat. */
  draftSystemPrompt: string;
  calibrations: ThreadCalibration[] | null;
  /** The main view: the chat or the Energy view. */
  view: MainView;
  energy: EnergyLiveState;
  /** The energy column beside the chat in wide windows (remembered in localStorage). */
  energyPanelOpen: boolean;
  /** The energy column shown over the chat in narrow windows (not remembered). */
  energyPanelOverlay: boolean;
  /**
   * The power governor's latest decision for the power state now (from `governor.decide` or the
   * `governor.decision` event); null until the first answer. Whether the open conversation is pinned is
   * read from the conversation ({@link pinnedModelPath}), not from here.
   */
  governor: GovernorDecision | null;
  /** Why the last `governor.decide` failed; null after a success. */
  governorError: ApiError | null;
  /** A profile change is being saved (the switcher shows it at once; the decision follows). */
  governorSaving: boolean;
  /**
   * The model picked for the new chat that is not created yet: it is created pinned to it. Null = Auto
   * (the governor chooses each reply's model). Every new chat starts in Auto.
   */
  draftModelPath: string | null;
  calibration: CalibrationState;
  library: LibraryState;
  /**
   * The local OpenAI-compatible API server (Settings → Local API): the last `api.status` answer, kept
   * current by `api.status` events; null until one answered.
   */
  apiStatus: ApiServerStatus | null;
  /** Why the last `api.status` failed; null after a success. */
  apiStatusError: ApiError | null;
}

const initialEnergy: EnergyLiveState = {
  status: null,
  statusError: null,
  samples: [],
  battery: null,
  timeToEmptyMinutes: null,
  reply: null,
  settling: {},
  lastReply: null,
};

const initialState: AppState = {
  phase: 'loading',
  loadError: null,
  info: null,
  settings: null,
  models: null,
  modelsError: null,
  modelsLoading: false,
  engine: null,
  engineLoadError: null,
  conversations: [],
  conversationsError: null,
  searchQuery: '',
  searchResults: null,
  searchError: null,
  selectedId: null,
  detail: null,
  detailLoading: false,
  detailError: null,
  live: {},
  active: {},
  chatError: null,
  draftSystemPrompt: '',
  calibrations: null,
  view: 'chat',
  energy: initialEnergy,
  energyPanelOpen: true,
  energyPanelOverlay: false,
  governor: null,
  governorError: null,
  governorSaving: false,
  draftModelPath: null,
  calibration: { results: null, run: null, error: null, actionError: null, quick: false, starting: false, estimate: null, estimateError: null },
  library: {
    status: null,
    statusError: null,
    offers: null,
    catalogError: null,
    ladder: null,
    ladderError: null,
    loading: false,
    downloads: [],
    downloadsError: null,
    cleared: [],
  },
  apiStatus: null,
  apiStatusError: null,
};

/**
 * Adds `incoming` samples to `samples` (both oldest first), drops duplicates by time and keeps the
 * {@link RECENT_WINDOW_MS} before the newest one. The window follows the newest sample, not the clock, so
 * the sparkline keeps its shape while no sample arrives.
 */
export function mergeRecentSamples(samples: PowerSample[], incoming: PowerSample[]): PowerSample[] {
  let merged = samples;
  for (const sample of incoming) {
    const last = merged[merged.length - 1];
    if (last && sample.at <= last.at) {
      if (sample.at === last.at) merged = [...merged.slice(0, -1), sample];
      continue; // late: the trace only moves forward
    }
    merged = [...merged, sample];
  }
  const newest = merged[merged.length - 1];
  if (!newest) return merged;
  const from = newest.at - RECENT_WINDOW_MS;
  const first = merged.findIndex((s) => s.at >= from);
  return first > 0 ? merged.slice(first) : merged;
}

/**
 * Energy used so far by a conversation, in J: its stored total, plus replies that finished since the list
 * was fetched, plus the reply in progress when it belongs to this conversation.
 */
export function conversationEnergyJ(state: Pick<AppState, 'conversations' | 'detail' | 'energy'>, conversationId: string | null): number | null {
  if (!conversationId) return null;
  const summary =
    state.conversations.find((c) => c.id === conversationId) ??
    (state.detail?.conversation.id === conversationId ? state.detail.conversation : undefined);
  if (!summary) return null;
  const settling = state.energy.settling[conversationId]?.energyJ ?? 0;
  const live = state.energy.reply?.conversationId === conversationId ? state.energy.reply.energyJ : 0;
  return summary.energyJ + settling + live;
}

/**
 * The model pinned for the next reply: the open conversation's pinned model, or for a new chat (not
 * created yet) the model picked in the picker; null = Auto (the power governor chooses).
 */
export function pinnedModelPath(state: Pick<AppState, 'selectedId' | 'detail' | 'conversations' | 'draftModelPath'>): string | null {
  const id = state.selectedId;
  if (id === null) return state.draftModelPath;
  if (state.detail?.conversation.id === id) return state.detail.conversation.pinnedModelPath;
  return state.conversations.find((c) => c.id === id)?.pinnedModelPath ?? null;
}

/**
 * The model the next reply will use, as far as the renderer knows: the pinned one (see
 * {@link pinnedModelPath}), else the governor's current choice; null when neither is known (no decision
 * yet, or the pinned file is not in the list). Returns an element of `state.models` (a stable reference).
 */
export function effectiveModel(
  state: Pick<AppState, 'models' | 'selectedId' | 'detail' | 'conversations' | 'draftModelPath' | 'governor'>,
): ModelInfo | null {
  const path = pinnedModelPath(state) ?? state.governor?.chosen?.modelPath ?? null;
  if (!path) return null;
  return state.models?.find((m) => m.path === path) ?? null;
}

/** True once the models are listed and none of them can be used (nothing to chat with). */
export function noUsableModel(state: Pick<AppState, 'models'>): boolean {
  return state.models !== null && !state.models.some((m) => m.usable);
}

/**
 * The governor's profile in effect for a power source: the AC profile on mains power, else the battery
 * profile. `onAc` comes from the latest decision (null before the first: the battery gauge, else AC).
 */
export function profileInEffect(settings: GovernorSettings, onAc: boolean): ProfileId {
  return onAc ? settings.acProfile : settings.batteryProfile;
}

/** Whether the power figures come from a sensor now (the newest sample, else `energy.status`); false when unknown. */
export function sensorMeasured(state: Pick<AppState, 'energy'>): boolean {
  const samples = state.energy.samples;
  return samples[samples.length - 1]?.measured ?? state.energy.status?.measured ?? false;
}

/** Whether the machine is on mains power as the governor last saw it (the battery gauge before that; AC when unknown). */
export function onAcPower(state: Pick<AppState, 'governor' | 'energy'>): boolean {
  return state.governor?.onAc ?? state.energy.battery?.onAc ?? true;
}

/** Whether a calibration run is going on (started and not ended), as the renderer knows it. */
export function calibrationRunning(state: Pick<AppState, 'calibration'>): boolean {
  return state.calibration.starting || state.calibration.run?.state === 'running';
}

/** `jobs` with `job` in place of the one with its id, or added at the end when new. */
export function upsertDownload(jobs: readonly DownloadJob[], job: DownloadJob): DownloadJob[] {
  const index = jobs.findIndex((j) => j.id === job.id);
  if (index < 0) return [...jobs, job];
  const next = [...jobs];
  next[index] = job;
  return next;
}

/**
 * The downloads going on now (queued or active), oldest first: the sidebar's indicator. A new array:
 * select `library.downloads` and call this in the component (useAppState needs stable references).
 */
export function runningDownloads(downloads: readonly DownloadJob[]): DownloadJob[] {
  return downloads.filter((j) => j.state === 'queued' || j.state === 'active');
}

/**
 * Whether `incoming` (an event or an answer) may replace `current` for the run shown: a run that ended
 * never goes back to running (a late event), and an older run never replaces a newer one.
 */
export function newerCalibrationStatus(current: CalibrationStatus | null, incoming: CalibrationStatus): boolean {
  if (!current) return true;
  if (current.runId !== incoming.runId) return incoming.startedAt >= current.startedAt;
  return !(current.state !== 'running' && incoming.state === 'running');
}

/** The text to show for a message: the live buffer while streaming. */
export function messageText(state: Pick<AppState, 'live'>, message: Message): string {
  if (message.status === 'streaming') return state.live[message.id] ?? message.content;
  return message.content;
}

function sortConversations(list: ConversationSummary[]): ConversationSummary[] {
  return [...list].sort((a, b) => b.updatedAt - a.updatedAt);
}

export class AppStore {
  readonly #bridge: WattwiseBridge;
  #state: AppState = initialState;
  readonly #listeners = new Set<() => void>();
  /** Token text waiting for the next animation frame, by message id. */
  #pending = new Map<string, string>();
  #frame = 0;
  /** Final messages that arrived before the call that started them answered. */
  #earlyDone = new Map<string, Message>();
  #detailSeq = 0;
  /** Bumped on every local change to the open conversation; older fetches are dropped. */
  #localEpoch = 0;
  /** Chat calls waiting for their answer; conversation reloads wait for them. */
  #pendingChats = new Map<string, number>();
  #pendingSeq = 0;
  #reloadWanted = new Set<string>();
  /** Conversations whose Stop was pressed before their request id was known. */
  #abortWanted = new Set<string>();
  #searchSeq = 0;
  #listTimer = 0;
  #drafts = new Map<string, string>();
  /** User-facing text for failed replies, from the error code that came with `chat.done`. */
  #errorText = new Map<string, string>();
  #unsubscribe: (() => void) | null = null;
  /** Requests whose `chat.done` arrived: a late `power.sample` must not bring their reply back. */
  #finishedRequests = new Set<string>();
  #energyStatusSeq = 0;
  #lastStatusRetryAt = 0;
  /** Bumped by every `governor.decide` request and every `governor.decision` event: older answers are dropped. */
  #governorSeq = 0;
  /** Bumped by every profile change: only the last one's outcome is applied. */
  #profileSeq = 0;
  /** Bumped by every `calibration.list` request and every `calibration.progress` event: older runs in answers are dropped. */
  #calibrationSeq = 0;
  /** Bumped by every `calibration.estimate` request: older answers are dropped. */
  #estimateSeq = 0;
  /** Bumped by every library refresh: older answers are dropped. */
  #librarySeq = 0;
  /**
   * Bumped by every `downloads.changed` event and every download call; per job, the count when its last
   * event arrived. An answer (list or call) sent before a job's latest event is older for that job.
   */
  #downloadSeq = 0;
  #downloadEventAt = new Map<string, number>();
  /** Coalesces bursts of `models.changed`. */
  #modelsChangedTimer = 0;
  /** Bumped by every `api.status` request and event: an answer older than the last event is dropped. */
  #apiStatusSeq = 0;

  constructor(bridge: WattwiseBridge) {
    this.#bridge = bridge;
    this.#state = { ...initialState, energyPanelOpen: readPanelPreference() };
  }

  // -- store plumbing -------------------------------------------------------------------------

  getState = (): AppState => this.#state;

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  #set(patch: Partial<AppState> | ((state: AppState) => Partial<AppState>)): void {
    const next = typeof patch === 'function' ? patch(this.#state) : patch;
    this.#state = { ...this.#state, ...next };
    for (const listener of [...this.#listeners]) listener();
  }

  #call<M extends ApiMethod>(method: M, input: ApiInput<M>): Promise<ApiResult<ApiOutput<M>>> {
    return this.#bridge.call(method, input).catch((error: unknown) => ({
      ok: false as const,
      error: { code: 'INTERNAL' as const, message: error instanceof Error ? error.message : String(error) },
    }));
  }

  // -- start ------------------------------------------------------------------------------------

  async start(): Promise<void> {
    this.#unsubscribe ??= this.#bridge.onEvent(this.#onEvent);
    this.#set({ phase: 'loading', loadError: null });
    const [info, settings, engine] = await Promise.all([
      this.#call('app.info', {}),
      this.#call('settings.get', {}),
      this.#call('engine.status', {}),
    ]);
    if (!info.ok || !settings.ok) {
      this.#set({ phase: 'failed', loadError: !info.ok ? info.error : !settings.ok ? settings.error : null });
      return;
    }
    this.#set({
      phase: 'ready',
      info: info.value,
      settings: settings.value,
      engine: engine.ok ? engine.value : null,
      draftSystemPrompt: settings.value.defaultSystemPrompt,
    });
    await Promise.all([
      this.refreshModels(),
      this.refreshConversations(),
      this.refreshEnergyStatus(),
      this.refreshGovernor(),
      this.refreshDownloads(),
      this.refreshApiStatus(),
    ]);
  }

  dispose(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    if (this.#frame) cancelAnimationFrame(this.#frame);
    window.clearTimeout(this.#modelsChangedTimer);
  }

  // -- models, engine, settings ---------------------------------------------------------------

  async refreshModels(): Promise<void> {
    this.#set({ modelsLoading: true });
    const result = await this.#call('models.list', {});
    this.#set(
      result.ok
        ? { models: result.value, modelsError: null, modelsLoading: false }
        : { modelsError: result.error, modelsLoading: false },
    );
  }

  /**
   * Pins `path` for the open conversation (`conversations.pin`), or for the new chat not created yet (it
   * is then created pinned); `null` goes back to Auto (the governor chooses each reply's model). A pinned
   * model is loaded at once, as LM Studio does, so the first reply does not wait for the load (unless a
   * reply is being written). Resolves false when the pin failed (the error is shown above the composer).
   */
  async pinModel(path: string | null): Promise<boolean> {
    this.#set({ engineLoadError: null });
    const id = this.#state.selectedId;
    if (id === null) {
      this.#set({ draftModelPath: path });
    } else {
      const before = pinnedModelPath(this.#state);
      this.#patchConversation(id, { pinnedModelPath: path });
      const result = await this.#call('conversations.pin', { id, modelPath: path });
      if (!result.ok) {
        if (this.#state.selectedId === id) this.#patchConversation(id, { pinnedModelPath: before });
        this.#set({ chatError: describeError(result.error) });
        return false;
      }
      this.#patchConversation(id, { pinnedModelPath: result.value.pinnedModelPath, modelPath: result.value.modelPath });
    }
    if (path === null) return true;
    const busy = Object.keys(this.#state.active).length > 0 || this.#state.engine?.state === 'generating';
    if (!busy && this.#state.engine?.modelPath !== path) {
      const loaded = await this.#call('engine.load', { modelPath: path });
      if (loaded.ok) this.#set({ engine: loaded.value });
      else if (pinnedModelPath(this.#state) === path) this.#set({ engineLoadError: loaded.error });
    }
    return true;
  }

  /** Applies `patch` to a conversation wherever the store holds it (list, search results, open detail). */
  #patchConversation(id: string, patch: Partial<ConversationSummary>): void {
    this.#set((s) => ({
      conversations: s.conversations.map((c) => (c.id === id ? { ...c, ...patch } : c)),
      searchResults: s.searchResults?.map((c) => (c.id === id ? { ...c, ...patch } : c)) ?? null,
      detail: s.detail?.conversation.id === id ? { ...s.detail, conversation: { ...s.detail.conversation, ...patch } } : s.detail,
    }));
  }

  /** Unloads the model from memory (LM Studio's "Eject"); the next reply loads it again. */
  async ejectModel(): Promise<void> {
    const r = await this.#call('engine.unload', {});
    if (r.ok) this.#set({ engine: r.value });
  }

  async saveSettings(patch: ApiInput<'settings.update'>): Promise<ApiResult<Settings>> {
    const before = this.#state.settings;
    const result = await this.#call('settings.update', patch);
    if (!result.ok) return result;
    this.#set({ settings: result.value });
    if (before && before.modelsDir !== result.value.modelsDir) {
      const info = await this.#call('app.info', {});
      if (info.ok) this.#set({ info: info.value });
      await this.#modelsChanged();
    } else if (before && JSON.stringify(before.modelSources) !== JSON.stringify(result.value.modelSources)) {
      // Another app's folder was turned on or off: the installed list changes (the backend also says so).
      await this.#modelsChanged();
    }
    return result;
  }

  async loadCalibrations(): Promise<void> {
    const result = await this.#call('threads.calibrations', {});
    if (result.ok) this.#set({ calibrations: result.value });
  }

  /** Applies the theme immediately (preview in the settings dialog is not needed: it saves at once). */
  setThemeLocally(theme: Settings['theme']): void {
    const settings = this.#state.settings;
    if (settings) this.#set({ settings: { ...settings, theme } });
  }

  // -- local API -------------------------------------------------------------------------------

  /** Asks `api.status` (Settings → Local API opens, the event stream reconnected). */
  async refreshApiStatus(): Promise<void> {
    const seq = ++this.#apiStatusSeq;
    const result = await this.#call('api.status', {});
    if (seq !== this.#apiStatusSeq) return;
    this.#set(result.ok ? { apiStatus: result.value, apiStatusError: null } : { apiStatusError: result.error });
  }

  /**
   * Changes the local API's settings (`patch` over the stored ones): turning it on starts the server (the
   * backend makes the key the first time), off stops it, a new port restarts it. The status follows as
   * `api.status` events; it is asked once more when the answer comes.
   */
  async updateApiSettings(patch: Partial<ApiServerSettings>): Promise<ApiResult<Settings>> {
    const current = this.#state.settings?.api;
    if (!current) return { ok: false, error: { code: 'INTERNAL', message: 'the settings are not loaded yet' } };
    const result = await this.saveSettings({ api: { ...current, ...patch } });
    await this.refreshApiStatus();
    return result;
  }

  /** Replaces the local API's key (`api.regenerateKey`): clients with the old key get 401 from now on. */
  async regenerateApiKey(): Promise<ApiResult<Settings>> {
    const result = await this.#call('api.regenerateKey', {});
    if (result.ok) this.#set({ settings: result.value });
    await this.refreshApiStatus();
    return result;
  }

  // -- conversations ---------------------------------------------------------------------------

  async refreshConversations(): Promise<void> {
    const askedAt = Date.now();
    const result = await this.#call('conversations.list', {});
    if (result.ok) {
      this.#set((s) => {
        // Replies that finished before this list was asked for are in its totals now.
        const settling = Object.fromEntries(Object.entries(s.energy.settling).filter(([, v]) => v.doneAt >= askedAt));
        const changed = Object.keys(settling).length !== Object.keys(s.energy.settling).length;
        return {
          conversations: sortConversations(result.value),
          conversationsError: null,
          ...(changed ? { energy: { ...s.energy, settling } } : {}),
        };
      });
    } else this.#set({ conversationsError: result.error });
    if (this.#state.searchQuery) await this.search(this.#state.searchQuery);
  }

  /** Coalesces the bursts of `conversations.changed` events into one list request. */
  #scheduleListRefresh(): void {
    window.clearTimeout(this.#listTimer);
    this.#listTimer = window.setTimeout(() => void this.refreshConversations(), 60);
  }

  async search(query: string): Promise<void> {
    const trimmed = query.trim();
    const seq = ++this.#searchSeq;
    if (!trimmed) {
      this.#set({ searchQuery: '', searchResults: null, searchError: null });
      return;
    }
    this.#set({ searchQuery: trimmed });
    const result = await this.#call('conversations.list', { query: trimmed });
    if (seq !== this.#searchSeq) return;
    this.#set(result.ok ? { searchResults: result.value, searchError: null } : { searchResults: [], searchError: result.error });
  }

  newChat(): void {
    this.#localEpoch++;
    this.#set((s) => ({
      view: 'chat',
      selectedId: null,
      detail: null,
      detailError: null,
      detailLoading: false,
      chatError: null,
      draftSystemPrompt: s.settings?.defaultSystemPrompt ?? '',
      draftModelPath: null,
    }));
  }

  setDraftSystemPrompt(value: string): void {
    this.#set({ draftSystemPrompt: value });
  }

  getDraft(conversationId: string | null): string {
    return this.#drafts.get(conversationId ?? '') ?? '';
  }

  setDraft(conversationId: string | null, text: string): void {
    if (text) this.#drafts.set(conversationId ?? '', text);
    else this.#drafts.delete(conversationId ?? '');
  }

  async select(id: string): Promise<void> {
    if (this.#state.view !== 'chat') this.#set({ view: 'chat' });
    if (id === this.#state.selectedId && this.#state.detail) return;
    this.#localEpoch++;
    this.#set({ selectedId: id, detail: null, detailLoading: true, detailError: null, chatError: null });
    await this.#loadDetail(id);
  }

  async #loadDetail(id: string): Promise<void> {
    if (this.#pendingChats.get(id)) {
      // The optimistic messages would be replaced by a copy that may not have them yet.
      this.#reloadWanted.add(id);
      return;
    }
    const seq = ++this.#detailSeq;
    const epoch = this.#localEpoch;
    const result = await this.#call('conversations.get', { id });
    if (seq !== this.#detailSeq || this.#state.selectedId !== id) return;
    if (epoch !== this.#localEpoch) {
      // The conversation changed locally while this was in flight: this answer may be older.
      void this.#loadDetail(id);
      return;
    }
    if (!result.ok) {
      // Deleted elsewhere (another window, the CLI): back to a new chat.
      if (result.error.code === 'NOT_FOUND') this.newChat();
      else this.#set({ detailLoading: false, detailError: result.error });
      return;
    }
    this.#applyDetail(result.value);
  }

  /** Takes the backend's copy of the open conversation, keeping what streaming already showed. */
  #applyDetail(server: ConversationDetail): void {
    const local = this.#state.detail;
    const live = { ...this.#state.live };
    const active = { ...this.#state.active };
    const messages = server.messages.map((message) => {
      const mine = local?.messages.find((m) => m.id === message.id);
      // An older snapshot may still say "streaming" for a reply whose final message we have.
      if (mine && mine.status !== 'streaming' && message.status === 'streaming') return mine;
      const early = this.#earlyDone.get(message.id);
      if (early) {
        this.#earlyDone.delete(message.id);
        // The versions of a reply may have changed since (another one shown, one added): the server's are newer.
        return message.alternatives ? { ...early, alternatives: message.alternatives } : early;
      }
      if (message.status === 'streaming') {
        const known = (live[message.id] ?? '') + (this.#pending.get(message.id) ?? '');
        this.#pending.delete(message.id);
        live[message.id] = known.length >= message.content.length ? known : message.content;
        if (!active[message.conversationId]) {
          active[message.conversationId] = { requestId: null, conversationId: message.conversationId, assistantMessageId: message.id };
        }
      } else {
        delete live[message.id];
        if (active[message.conversationId]?.assistantMessageId === message.id) delete active[message.conversationId];
      }
      return this.#withErrorText(message);
    });
    this.#set({ detail: { conversation: server.conversation, messages }, detailLoading: false, detailError: null, live, active });
  }

  async rename(id: string, title: string): Promise<ApiResult<ConversationSummary>> {
    const result = await this.#call('conversations.rename', { id, title });
    if (result.ok) {
      const updated = result.value;
      this.#set((s) => ({
        conversations: s.conversations.map((c) => (c.id === id ? { ...c, ...updated, snippet: c.snippet } : c)),
        searchResults: s.searchResults?.map((c) => (c.id === id ? { ...c, title: updated.title } : c)) ?? null,
        detail: s.detail?.conversation.id === id ? { ...s.detail, conversation: { ...s.detail.conversation, title: updated.title } } : s.detail,
      }));
    }
    return result;
  }

  async remove(id: string): Promise<ApiResult<{ deleted: boolean }>> {
    const result = await this.#call('conversations.delete', { id });
    if (result.ok) {
      this.#set((s) => ({
        conversations: s.conversations.filter((c) => c.id !== id),
        searchResults: s.searchResults?.filter((c) => c.id !== id) ?? null,
      }));
      if (this.#state.selectedId === id) this.newChat();
    }
    return result;
  }

  // -- chat ---------------------------------------------------------------------------------------

  clearChatError(): void {
    if (this.#state.chatError) this.#set({ chatError: null });
  }

  /**
   * The `modelPath` for a chat call: the pinned model when the user chose one (it pins it, which it
   * already is), nothing in Auto (the governor chooses). Never the governor's current choice: passing it
   * would pin it.
   */
  #pinnedInput(): { modelPath?: string } {
    const pinned = pinnedModelPath(this.#state);
    return pinned ? { modelPath: pinned } : {};
  }

  /**
   * Sends a message, creating the conversation first for a new chat (pinned to the model picked for it,
   * else in Auto). Resolves true when it started.
   */
  async send(content: string): Promise<boolean> {
    const text = content.trim();
    if (!text) return false;
    const pinned = this.#pinnedInput();
    this.#set({ chatError: null });
    let conversationId = this.#state.selectedId;
    if (!conversationId) {
      const systemPrompt = this.#state.draftSystemPrompt;
      const created = await this.#call('conversations.create', { systemPrompt, ...pinned, ...presetsStore.draftInput() });
      if (!created.ok) {
        this.#set({ chatError: describeError(created.error) });
        return false;
      }
      conversationId = created.value.id;
      this.#localEpoch++;
      this.#set((s) => ({
        selectedId: created.value.id,
        detail: { conversation: created.value, messages: [] },
        detailLoading: false,
        detailError: null,
        conversations: sortConversations([created.value, ...s.conversations.filter((c) => c.id !== created.value.id)]),
      }));
    }
    const id = conversationId;
    return this.#startChat(
      id,
      () => this.#call('chat.send', { conversationId: id, content: text, ...pinned }),
      (messages, userId) => [...messages, this.#userMessage(userId, id, text)],
    );
  }

  /** Asks again for the last reply, which the new one replaces. */
  async regenerate(): Promise<boolean> {
    const detail = this.#state.detail;
    if (!detail) return false;
    const id = detail.conversation.id;
    const pinned = this.#pinnedInput();
    return this.#startChat(
      id,
      () => this.#call('chat.regenerate', { conversationId: id, ...pinned }),
      (messages) => {
        const last = messages[messages.length - 1];
        return last?.role === 'assistant' ? messages.slice(0, -1) : messages;
      },
    );
  }

  /**
   * "Try with…": answers the last question again with an installed model or the governor's choice for a
   * profile, for this reply only; the current reply stays as an alternative (‹ 1/2 ›).
   */
  async tryWith(target: { modelPath: string } | { profile: 'performance' | 'balanced' | 'saver' }): Promise<boolean> {
    const detail = this.#state.detail;
    if (!detail) return false;
    const id = detail.conversation.id;
    return this.#startChat(
      id,
      () => this.#call('chat.tryWith', { conversationId: id, ...target }),
      (messages) => {
        const last = messages[messages.length - 1];
        return last?.role === 'assistant' ? messages.slice(0, -1) : messages;
      },
    );
  }

  /**
   * What each profile's governor would answer with now (for "Try with…"): the chosen candidate per
   * profile, or null when that profile has none (or the call failed).
   */
  async profileChoices(): Promise<Record<'saver' | 'balanced' | 'performance', GovernorCandidate | null>> {
    const profiles = ['saver', 'balanced', 'performance'] as const;
    const results = await Promise.all(profiles.map((profile) => this.#call('governor.decide', { profile })));
    const out = { saver: null, balanced: null, performance: null } as Record<'saver' | 'balanced' | 'performance', GovernorCandidate | null>;
    profiles.forEach((profile, i) => {
      const r = results[i];
      out[profile] = r?.ok ? r.value.chosen : null;
    });
    return out;
  }

  /** Shows another version of a reply (one of its alternatives); later replies see it as history. */
  async selectAlternative(messageId: string): Promise<boolean> {
    const detail = this.#state.detail;
    if (!detail) return false;
    const result = await this.#call('messages.selectAlternative', { messageId });
    if (!result.ok) {
      this.#set({ chatError: describeError(result.error) });
      return false;
    }
    if (this.#state.detail?.conversation.id === result.value.conversation.id) {
      this.#localEpoch++;
      this.#applyDetail(result.value);
    }
    return true;
  }

  /** Changes a user message; the messages after it are replaced by a new reply. */
  async edit(messageId: string, content: string): Promise<boolean> {
    const text = content.trim();
    const detail = this.#state.detail;
    if (!text || !detail) return false;
    const id = detail.conversation.id;
    const pinned = this.#pinnedInput();
    return this.#startChat(
      id,
      () => this.#call('chat.edit', { messageId, content: text, ...pinned }),
      (messages, userId) => {
        const index = messages.findIndex((m) => m.id === messageId);
        const kept = index >= 0 ? messages.slice(0, index) : messages;
        return [...kept, { ...this.#userMessage(userId, id, text), createdAt: messages[index]?.createdAt ?? Date.now() }];
      },
    );
  }

  /** Stops the reply being written in the open conversation (as soon as its request id is known). */
  async stop(): Promise<void> {
    const id = this.#state.selectedId;
    const request = id ? this.#state.active[id] : undefined;
    if (!id || !request) return;
    if (!request.requestId) {
      this.#abortWanted.add(id);
      return;
    }
    await this.#abort(request.requestId);
  }

  async #abort(requestId: string): Promise<void> {
    const result = await this.#call('chat.abort', { requestId });
    if (!result.ok && result.error.code !== 'NOT_FOUND') this.#set({ chatError: describeError(result.error) });
  }

  /** Sends the Stop that was pressed before the request id was known. */
  #abortIfWanted(conversationId: string, requestId: string): void {
    if (this.#abortWanted.delete(conversationId)) void this.#abort(requestId);
  }

  #userMessage(id: string, conversationId: string, content: string): Message {
    return { id, conversationId, role: 'user', content, status: 'complete', createdAt: Date.now(), stats: null, error: null, energy: null, governor: null };
  }

  /**
   * Runs a chat call with an optimistic view: `edit` rewrites the messages (with a temporary id for the
   * user message) and an empty streaming reply is shown at once; the real ids replace the temporary ones
   * when the call answers, and a failure puts the messages back as they were.
   */
  async #startChat(
    conversationId: string,
    call: () => Promise<ApiResult<ChatStarted>>,
    edit: (messages: Message[], userId: string) => Message[],
  ): Promise<boolean> {
    const n = ++this.#pendingSeq;
    const tempUser = `pending-user-${n}`;
    const tempAssistant = `pending-reply-${n}`;
    const before = this.#state.detail?.conversation.id === conversationId ? this.#state.detail.messages : null;
    this.#localEpoch++;
    this.#pendingChats.set(conversationId, (this.#pendingChats.get(conversationId) ?? 0) + 1);
    this.#set((s) => {
      const active = { ...s.active, [conversationId]: { requestId: null, conversationId, assistantMessageId: tempAssistant } };
      if (!s.detail || s.detail.conversation.id !== conversationId) return { chatError: null, active };
      const placeholder: Message = {
        id: tempAssistant,
        conversationId,
        role: 'assistant',
        content: '',
        status: 'streaming',
        createdAt: Date.now(),
        stats: null,
        error: null,
        energy: null,
        governor: null,
      };
      return { chatError: null, active, detail: { ...s.detail, messages: [...edit(s.detail.messages, tempUser), placeholder] } };
    });

    const result = await call();
    const left = (this.#pendingChats.get(conversationId) ?? 1) - 1;
    if (left > 0) this.#pendingChats.set(conversationId, left);
    else this.#pendingChats.delete(conversationId);
    this.#localEpoch++;

    if (!result.ok) {
      this.#abortWanted.delete(conversationId);
      this.#set((s) => {
        const active = { ...s.active };
        if (active[conversationId]?.assistantMessageId === tempAssistant) delete active[conversationId];
        const detail = s.detail && s.detail.conversation.id === conversationId && before ? { ...s.detail, messages: before } : s.detail;
        return { active, detail, chatError: describeError(result.error) };
      });
      this.#afterPendingChat(conversationId, true);
      return false;
    }

    const started = result.value;
    const early = this.#earlyDone.get(started.assistantMessageId);
    this.#earlyDone.delete(started.assistantMessageId);
    this.#set((s) => {
      const active = { ...s.active };
      if (early) {
        if (active[conversationId]?.assistantMessageId === tempAssistant) delete active[conversationId];
      } else {
        active[conversationId] = { requestId: started.requestId, conversationId, assistantMessageId: started.assistantMessageId };
      }
      if (!s.detail || s.detail.conversation.id !== conversationId) return { active };
      const messages: Message[] = [];
      for (const m of s.detail.messages) {
        if (m.id === tempUser) {
          if (started.userMessageId) messages.push({ ...m, id: started.userMessageId });
        } else if (m.id === tempAssistant) {
          messages.push(early ?? { ...m, id: started.assistantMessageId });
        } else if (m.id !== started.userMessageId && m.id !== started.assistantMessageId) {
          messages.push(m);
        }
      }
      return { active, detail: { ...s.detail, messages } };
    });
    if (!early) this.#abortIfWanted(conversationId, started.requestId);
    else this.#abortWanted.delete(conversationId);
    this.#afterPendingChat(conversationId, false);
    return true;
  }

  /** Runs the conversation reload that was held back while a chat call was in flight. */
  #afterPendingChat(conversationId: string, failed: boolean): void {
    if (this.#pendingChats.get(conversationId)) return;
    const wanted = this.#reloadWanted.delete(conversationId) || failed;
    if (wanted && this.#state.selectedId === conversationId) void this.#loadDetail(conversationId);
  }

  // -- power governor ------------------------------------------------------------------------------

  /**
   * Asks `governor.decide` for the power state now (the profile the power source selects). Cheap; called
   * at start, after every reply (measurements change the predictions) and after a profile change. An
   * answer older than a later request or a `governor.decision` event is dropped.
   */
  async refreshGovernor(): Promise<void> {
    const seq = ++this.#governorSeq;
    const result = await this.#call('governor.decide', {});
    if (seq !== this.#governorSeq) return;
    this.#set(result.ok ? { governor: result.value, governorError: null } : { governorError: result.error });
    if (result.ok) this.#followGovernorSettings(result.value);
  }

  /** "What would `profile` choose?" for the power state now (the Governor view's preview); changes nothing. */
  previewGovernor(profile: ProfileId): Promise<ApiResult<GovernorDecision>> {
    return this.#call('governor.decide', { profile });
  }

  /**
   * Selects `profile` for the power source in effect (`acProfile` on AC, `batteryProfile` on battery):
   * the switcher shows it at once, the whole `governor` settings object is saved, then the decision is
   * asked again. A failure puts the previous profile back, says so above the composer and resolves with
   * the error; null when there was nothing to change.
   */
  async setProfile(profile: ProfileId): Promise<ApiResult<Settings> | null> {
    const settings = this.#state.settings;
    if (!settings) return null;
    const key = onAcPower(this.#state) ? 'acProfile' : 'batteryProfile';
    if (settings.governor[key] === profile && !this.#state.governorSaving) return null;
    const result = await this.saveGovernorSettings({ ...settings.governor, [key]: profile });
    if (result && !result.ok) this.#set({ chatError: `The profile was not changed. ${describeError(result.error)}` });
    return result;
  }

  /**
   * Saves the governor's settings (the whole object, as the contract requires), shown at once; on
   * failure the settings as they were come back. Asks for a fresh decision afterwards.
   */
  async saveGovernorSettings(governor: GovernorSettings, calibration?: Settings['calibration']): Promise<ApiResult<Settings> | null> {
    const settings = this.#state.settings;
    if (!settings) return null;
    const seq = ++this.#profileSeq;
    const previous = { governor: settings.governor, calibration: settings.calibration };
    this.#set({ settings: { ...settings, governor, ...(calibration ? { calibration } : {}) }, governorSaving: true });
    const result = await this.#call('settings.update', calibration ? { governor, calibration } : { governor });
    if (seq !== this.#profileSeq) return result;
    if (result.ok) {
      this.#set({ settings: result.value, governorSaving: false });
      await this.refreshGovernor();
    } else {
      this.#set((s) => ({ settings: s.settings ? { ...s.settings, ...previous } : s.settings, governorSaving: false, governorError: result.error }));
    }
    return result;
  }

  /**
   * A decision made for a profile other than the one these settings select (changed in another window or
   * by the CLI) means the settings here are old: read them again. Not while a change of ours is saving.
   */
  #followGovernorSettings(decision: GovernorDecision): void {
    const settings = this.#state.settings;
    if (!settings || this.#state.governorSaving) return;
    if (profileInEffect(settings.governor, decision.onAc) === decision.profile) return;
    const seq = this.#profileSeq;
    void this.#call('settings.get', {}).then((result) => {
      if (result.ok && seq === this.#profileSeq && !this.#state.governorSaving) this.#set({ settings: result.value });
    });
  }

  // -- calibration bench ---------------------------------------------------------------------------

  #setCalibration(patch: Partial<CalibrationState> | ((c: CalibrationState) => Partial<CalibrationState>)): void {
    this.#set((s) => ({ calibration: { ...s.calibration, ...(typeof patch === 'function' ? patch(s.calibration) : patch) } }));
  }

  /**
   * Asks `calibration.list` (results and the run in progress). Called when the Governor view opens, when
   * a variant or a run finishes, and after the event stream reconnects. The run in an answer is dropped
   * when a progress event arrived meanwhile (the event is newer).
   */
  async refreshCalibration(): Promise<void> {
    const seq = ++this.#calibrationSeq;
    const result = await this.#call('calibration.list', {});
    if (!result.ok) {
      this.#setCalibration({ error: result.error });
      return;
    }
    const { results, run } = result.value;
    this.#setCalibration((c) => ({
      results,
      error: null,
      ...(seq === this.#calibrationSeq && run && newerCalibrationStatus(c.run, run) ? { run } : {}),
    }));
  }

  /**
   * Asks how long calibrating every usable model would take in the mode chosen (`calibration.estimate`,
   * which lists each model's share too). An answer for another mode, or older than a later request, is dropped.
   */
  async refreshCalibrationEstimate(): Promise<void> {
    const seq = ++this.#estimateSeq;
    const quick = this.#state.calibration.quick;
    const result = await this.#call('calibration.estimate', { quick });
    if (seq !== this.#estimateSeq) return;
    this.#setCalibration(result.ok ? { estimate: result.value, estimateError: null } : { estimateError: result.error });
  }

  /** Quick (a first look) or full runs for the next Calibrate; the estimate follows. */
  setCalibrationQuick(quick: boolean): void {
    if (this.#state.calibration.quick === quick) return;
    this.#setCalibration({ quick });
    void this.refreshCalibrationEstimate();
  }

  /** Forgets the error of the last start or cancel. */
  clearCalibrationError(): void {
    if (this.#state.calibration.actionError) this.#setCalibration({ actionError: null });
  }

  /**
   * Starts calibrating every usable model, or `modelPaths`, in the mode chosen ({@link setCalibrationQuick}).
   * Progress arrives as events; the answer is applied unless an event of that run came first.
   */
  async startCalibration(modelPaths?: string[]): Promise<boolean> {
    const quick = this.#state.calibration.quick;
    this.#setCalibration({ starting: true, actionError: null });
    const result = await this.#call('calibration.start', modelPaths ? { quick, modelPaths } : { quick });
    if (!result.ok) {
      this.#setCalibration({ starting: false, actionError: result.error });
      // BUSY: a run this page has not heard of (another window, auto-calibration) is going on.
      if (result.error.code === 'BUSY') void this.refreshCalibration();
      return false;
    }
    const run = result.value;
    this.#setCalibration((c) => ({ starting: false, ...(c.run?.runId === run.runId || !newerCalibrationStatus(c.run, run) ? {} : { run }) }));
    return true;
  }

  /** Cancels the run in progress; results already measured are kept. The final state comes as an event. */
  async cancelCalibration(): Promise<void> {
    const result = await this.#call('calibration.cancel', {});
    if (!result.ok) this.#setCalibration({ actionError: result.error });
    else if (!result.value.cancelled) void this.refreshCalibration();
  }

  /** `calibration.exportCsv`: the results as CSV (one row per model file). */
  exportCalibrationCsv(): Promise<ApiResult<ApiOutput<'calibration.exportCsv'>>> {
    return this.#call('calibration.exportCsv', {});
  }

  #calibrationProgress(status: CalibrationStatus): void {
    this.#calibrationSeq++;
    const before = this.#state.calibration.run;
    if (!newerCalibrationStatus(before, status)) return;
    this.#setCalibration({ run: status });
    const done = (run: CalibrationStatus | null) => (run ? run.variants.filter((v) => v.state === 'done').length : 0);
    const sameRun = before?.runId === status.runId;
    const ended = status.state !== 'running' && (!sameRun || before?.state === 'running');
    // A variant finished (its row joins the measurements table) or the run ended (the qualities changed).
    if (ended || done(status) > (sameRun ? done(before) : 0)) void this.refreshCalibration();
    if (ended) {
      void this.refreshGovernor();
      void this.refreshCalibrationEstimate();
    }
  }

  // -- model library -------------------------------------------------------------------------------

  #setLibrary(patch: Partial<LibraryState> | ((l: LibraryState) => Partial<LibraryState>)): void {
    this.#set((s) => ({ library: { ...s.library, ...(typeof patch === 'function' ? patch(s.library) : patch) } }));
  }

  /**
   * Asks `library.status`, `library.catalog` and `library.recommend` together (the Models view opens,
   * the installed models changed). Each answer is applied on its own; an older refresh is dropped.
   */
  async refreshLibrary(): Promise<void> {
    const seq = ++this.#librarySeq;
    this.#setLibrary({ loading: true });
    const [status, catalog, ladder] = await Promise.all([
      this.#call('library.status', {}),
      this.#call('library.catalog', {}),
      this.#call('library.recommend', {}),
    ]);
    if (seq !== this.#librarySeq) return;
    this.#setLibrary({
      loading: false,
      ...(status.ok ? { status: status.value, statusError: null } : { statusError: status.error }),
      ...(catalog.ok ? { offers: catalog.value.offers, catalogError: null } : { catalogError: catalog.error }),
      ...(ladder.ok ? { ladder: ladder.value, ladderError: null } : { ladderError: ladder.error }),
    });
  }

  /** Asks `library.status` alone (Settings shows the other apps' folders and what was found there). */
  async refreshLibraryStatus(): Promise<void> {
    const result = await this.#call('library.status', {});
    this.#setLibrary(result.ok ? { status: result.value, statusError: null } : { statusError: result.error });
  }

  /** Asks `downloads.list`; a job that had an event after the request keeps the event's copy. */
  async refreshDownloads(): Promise<void> {
    const asked = ++this.#downloadSeq;
    const result = await this.#call('downloads.list', {});
    if (!result.ok) {
      this.#setLibrary({ downloadsError: result.error });
      return;
    }
    this.#setLibrary((l) => {
      let jobs = l.downloads;
      for (const job of result.value) {
        if ((this.#downloadEventAt.get(job.id) ?? 0) > asked) continue;
        jobs = upsertDownload(jobs, job);
      }
      return { downloads: jobs, downloadsError: null };
    });
  }

  /** Applies a download call's answer unless an event about that job arrived after the call was sent. */
  #downloadAnswer(asked: number, result: ApiResult<DownloadJob>): ApiResult<DownloadJob> {
    if (result.ok && (this.#downloadEventAt.get(result.value.id) ?? 0) <= asked) {
      const job = result.value;
      this.#setLibrary((l) => ({ downloads: upsertDownload(l.downloads, job), cleared: l.cleared.filter((id) => id !== job.id) }));
    }
    return result;
  }

  /**
   * Starts a download into the models folder: an `hf:` URI, a Hub URL or an https URL; `sha256` when
   * known (catalog offers) is checked too. Resolves with the job or the error (BAD_INPUT for a source
   * that cannot be parsed).
   */
  async startDownload(source: string, sha256?: string): Promise<ApiResult<DownloadJob>> {
    const asked = ++this.#downloadSeq;
    const result = await this.#call('downloads.start', sha256 ? { source, sha256 } : { source });
    return this.#downloadAnswer(asked, result);
  }

  /** Pauses, resumes or cancels a download; the job comes back (and as events). */
  async downloadAction(action: 'pause' | 'resume' | 'cancel', id: string): Promise<ApiResult<DownloadJob>> {
    const asked = ++this.#downloadSeq;
    const method = action === 'pause' ? 'downloads.pause' : action === 'resume' ? 'downloads.resume' : 'downloads.cancel';
    const result = await this.#call(method, { id });
    return this.#downloadAnswer(asked, result);
  }

  /** Hides finished downloads (done, cancelled) from the list, in this page only. */
  clearFinishedDownloads(): void {
    this.#setLibrary((l) => ({
      cleared: [...new Set([...l.cleared, ...l.downloads.filter((j) => j.state === 'done' || j.state === 'cancelled').map((j) => j.id)])],
    }));
  }

  /**
   * Deletes a model file from Wattwise's own models folder (the backend refuses any other). The lists
   * follow at once (the backend's `models.changed` comes too).
   */
  async deleteModel(modelPath: string): Promise<ApiResult<ApiOutput<'models.delete'>>> {
    const result = await this.#call('models.delete', { modelPath });
    if (result.ok) {
      this.#set((s) => ({ models: s.models?.filter((m) => m.path !== modelPath) ?? null }));
      await this.#modelsChanged();
    }
    return result;
  }

  /** The installed models changed: the list, the governor's decision, the calibration estimate and the library. */
  async #modelsChanged(): Promise<void> {
    const work: Promise<void>[] = [this.refreshModels(), this.refreshGovernor()];
    if (this.#state.library.status !== null || this.#state.library.offers !== null || this.#state.view === 'models') work.push(this.refreshLibrary());
    if (this.#state.calibration.estimate !== null) work.push(this.refreshCalibrationEstimate());
    await Promise.all(work);
  }

  #scheduleModelsChanged(): void {
    window.clearTimeout(this.#modelsChangedTimer);
    this.#modelsChangedTimer = window.setTimeout(() => void this.#modelsChanged(), 80);
  }

  #downloadEvent(job: DownloadJob): void {
    this.#downloadEventAt.set(job.id, ++this.#downloadSeq);
    const before = this.#state.library.downloads.find((j) => j.id === job.id);
    this.#setLibrary((l) => ({ downloads: upsertDownload(l.downloads, job) }));
    // A finished file is a new model (the backend says so with `models.changed` too; this does not wait for it).
    if (job.state === 'done' && before?.state !== 'done') this.#scheduleModelsChanged();
  }

  // -- energy --------------------------------------------------------------------------------------

  /** Shows the chat (`chat`), the Energy view (`energy`), the Governor view (`governor`) or the Models view (`models`). */
  setView(view: MainView): void {
    if (this.#state.view !== view) this.#set({ view });
  }

  /**
   * Opens or closes the energy column: in wide windows the remembered preference, in narrow windows
   * (`narrow` true) the overlay, which is never remembered.
   */
  toggleEnergyPanel(narrow: boolean, open?: boolean): void {
    if (narrow) {
      this.#set((s) => ({ energyPanelOverlay: open ?? !s.energyPanelOverlay }));
      return;
    }
    const next = open ?? !this.#state.energyPanelOpen;
    try {
      window.localStorage.setItem(PANEL_KEY, next ? 'open' : 'closed');
    } catch {
      // Storage disabled: the choice lasts for this page.
    }
    this.#set({ energyPanelOpen: next });
  }

  /** Asks for `energy.status` (sources, battery, the recent trace, the reply in progress). */
  async refreshEnergyStatus(): Promise<void> {
    const seq = ++this.#energyStatusSeq;
    const result = await this.#call('energy.status', {});
    if (seq !== this.#energyStatusSeq) return;
    this.#set((s) => {
      if (!result.ok) return { energy: { ...s.energy, statusError: result.error } };
      const status = result.value;
      const reply = status.reply && !this.#finishedRequests.has(status.reply.requestId) ? status.reply : null;
      return {
        energy: {
          ...s.energy,
          status,
          statusError: null,
          samples: mergeRecentSamples(s.energy.samples, status.recent),
          battery: status.battery,
          timeToEmptyMinutes: status.timeToEmptyMinutes,
          reply,
        },
      };
    });
  }

  /**
   * `chat.context` for the open conversation (or the new chat) with `draft` as the next message, against
   * the model the next reply will use (the pinned one; in Auto the governor's). For the context meter.
   */
  contextUsage(draft: string): Promise<ApiResult<ApiOutput<'chat.context'>>> {
    return this.#call('chat.context', { conversationId: this.#state.selectedId, draft, ...this.#pinnedInput() });
  }

  /** `energy.summary` for the Energy view. */
  energySummary(days: number): Promise<ApiResult<ApiOutput<'energy.summary'>>> {
    return this.#call('energy.summary', { days });
  }

  /** `energy.trace` of one conversation, for the Energy view. */
  energyTrace(conversationId: string): Promise<ApiResult<ApiOutput<'energy.trace'>>> {
    return this.#call('energy.trace', { conversationId });
  }

  /** `energy.exportCsv`: messages or samples, of one conversation or (without id) of all. */
  exportCsv(kind: 'messages' | 'samples', conversationId?: string): Promise<ApiResult<ApiOutput<'energy.exportCsv'>>> {
    return this.#call('energy.exportCsv', conversationId ? { kind, conversationId } : { kind });
  }

  /** `history.export`: one conversation (or, without id, every chat) as Markdown or JSON, to save as a file. */
  exportHistory(format: 'md' | 'json', conversationId?: string): Promise<ApiResult<ApiOutput<'history.export'>>> {
    return this.#call('history.export', conversationId ? { format, conversationId } : { format });
  }

  /** `history.import`: an exported JSON file's text (the sidebar follows through `conversations.changed`). */
  importHistory(text: string): Promise<ApiResult<ApiOutput<'history.import'>>> {
    return this.#call('history.import', { text });
  }

  /** `backup.create`: backs the database up now (Settings → Data). */
  createBackup(): Promise<ApiResult<ApiOutput<'backup.create'>>> {
    return this.#call('backup.create', {});
  }

  /** `backup.list`: the backups, the restore staged for the next start, and how the last one ended. */
  listBackups(): Promise<ApiResult<ApiOutput<'backup.list'>>> {
    return this.#call('backup.list', {});
  }

  /** `backup.restore`: checks a backup and stages it to replace the database at the next start. */
  restoreBackup(name: string): Promise<ApiResult<ApiOutput<'backup.restore'>>> {
    return this.#call('backup.restore', { name });
  }

  /** `backup.cancelRestore`: forgets the staged restore. */
  cancelRestore(): Promise<ApiResult<ApiOutput<'backup.cancelRestore'>>> {
    return this.#call('backup.cancelRestore', {});
  }

  #powerSample(event: Extract<ApiEvent, { type: 'power.sample' }>): void {
    const reply = event.reply && !this.#finishedRequests.has(event.reply.requestId) ? event.reply : null;
    this.#set((s) => ({
      energy: {
        ...s.energy,
        samples: mergeRecentSamples(s.energy.samples, [event.sample]),
        battery: event.battery,
        timeToEmptyMinutes: event.timeToEmptyMinutes,
        reply,
      },
    }));
    // Samples flow but the sources were never read (telemetry started after this page): ask again, rarely.
    const now = Date.now();
    if (!this.#state.energy.status && now - this.#lastStatusRetryAt > 10_000) {
      this.#lastStatusRetryAt = now;
      void this.refreshEnergyStatus();
    }
  }

  /** A reply ended: it leaves the gauges' "in progress" and its energy waits in `settling`. */
  #energyDone(requestId: string, conversationId: string, message: Message): void {
    this.#finishedRequests.add(requestId);
    if (this.#finishedRequests.size > 64) {
      const oldest = this.#finishedRequests.values().next().value;
      if (oldest !== undefined) this.#finishedRequests.delete(oldest);
    }
    const energy = message.energy;
    this.#set((s) => {
      const reply = s.energy.reply?.requestId === requestId ? null : s.energy.reply;
      if (!energy) return { energy: { ...s.energy, reply } };
      const previous = s.energy.settling[conversationId];
      return {
        energy: {
          ...s.energy,
          reply,
          settling: { ...s.energy.settling, [conversationId]: { energyJ: (previous?.energyJ ?? 0) + energy.energyJ, doneAt: Date.now() } },
          lastReply: {
            conversationId,
            messageId: message.id,
            energyJPerToken: energy.energyJPerToken,
            measured: energy.measured,
            completionTokens: message.stats?.completionTokens ?? 0,
          },
        },
      };
    });
  }

  // -- events --------------------------------------------------------------------------------------

  #onEvent = (event: ApiEvent): void => {
    switch (event.type) {
      case 'chat.token': {
        this.#pending.set(event.messageId, (this.#pending.get(event.messageId) ?? '') + event.text);
        const active = this.#state.active[event.conversationId];
        if (!active || active.requestId !== event.requestId) {
          this.#set((s) => ({
            active: {
              ...s.active,
              [event.conversationId]: { requestId: event.requestId, conversationId: event.conversationId, assistantMessageId: event.messageId },
            },
          }));
        }
        this.#frame ||= requestAnimationFrame(this.#flush);
        if (!this.#pendingChats.get(event.conversationId)) this.#abortIfWanted(event.conversationId, event.requestId);
        return;
      }
      case 'chat.done':
        if (event.error) this.#errorText.set(event.message.id, describeError(event.error));
        this.#energyDone(event.requestId, event.conversationId, event.message);
        this.#done(event.conversationId, this.#withErrorText(event.message));
        // The reply measured its model: the predictions (and maybe the choice) changed.
        void this.refreshGovernor();
        return;
      case 'engine.status':
        this.#set((s) => ({
          engine: event.status,
          engineLoadError: event.status.state === 'loading' || event.status.state === 'ready' ? null : s.engineLoadError,
        }));
        return;
      case 'conversations.changed': {
        this.#scheduleListRefresh();
        const selected = this.#state.selectedId;
        if (selected && (event.conversationId === null || event.conversationId === selected)) void this.#loadDetail(selected);
        if (event.conversationId === null) {
          // Sent after the event stream reconnects: anything may have changed.
          void this.#call('engine.status', {}).then((r) => r.ok && this.#set({ engine: r.value }));
          void this.refreshEnergyStatus();
          if (this.#state.calibration.results !== null || this.#state.calibration.run) void this.refreshCalibration();
          // Downloads may have progressed or ended, and models may have come or gone, unseen.
          void this.refreshDownloads();
          this.#scheduleModelsChanged();
          void this.refreshApiStatus();
        }
        return;
      }
      case 'power.sample':
        this.#powerSample(event);
        return;
      case 'governor.decision':
        // Pushed when the power source flips or the governor's settings change: newer than any answer in flight.
        this.#governorSeq++;
        this.#set({ governor: event.decision, governorError: null });
        this.#followGovernorSettings(event.decision);
        return;
      case 'calibration.progress':
        this.#calibrationProgress(event.status);
        return;
      case 'downloads.changed':
        this.#downloadEvent(event.job);
        return;
      case 'models.changed':
        this.#scheduleModelsChanged();
        return;
      case 'api.status':
        // Pushed on every change (started, stopped, failed, a request began or ended): newer than any answer in flight.
        this.#apiStatusSeq++;
        this.#set({ apiStatus: event.status, apiStatusError: null });
        return;
      default: {
        const unreachable: never = event;
        console.warn('Wattwise: unknown event', unreachable);
      }
    }
  };

  #withErrorText(message: Message): Message {
    const text = message.status === 'error' ? this.#errorText.get(message.id) : undefined;
    return text ? { ...message, error: text } : message;
  }

  #flush = (): void => {
    this.#frame = 0;
    if (this.#pending.size === 0) return;
    const live = { ...this.#state.live };
    for (const [id, text] of this.#pending) live[id] = (live[id] ?? '') + text;
    this.#pending.clear();
    this.#set({ live });
  };

  #done(conversationId: string, message: Message): void {
    this.#pending.delete(message.id);
    this.#set((s) => {
      const live = { ...s.live };
      delete live[message.id];
      const active = { ...s.active };
      if (active[conversationId]?.assistantMessageId === message.id || active[conversationId]?.requestId === null) delete active[conversationId];
      if (!s.detail || s.detail.conversation.id !== conversationId) return { live, active };
      const index = s.detail.messages.findIndex((m) => m.id === message.id);
      if (index < 0) {
        this.#earlyDone.set(message.id, message);
        return { live, active };
      }
      const messages = [...s.detail.messages];
      messages[index] = message;
      return { live, active, detail: { ...s.detail, messages } };
    });
    // The title and token totals of the conversation changed.
    this.#scheduleListRefresh();
  }
}
