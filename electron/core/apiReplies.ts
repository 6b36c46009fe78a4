/**
 * Replies for the local OpenAI-compatible API (electron/server/openai/), on the same backend as the app's
 * chat: the same engine, reply slot, governor, energy meter and store. What this adds: model ids for
 * other programs (and `"auto"`, the governor's choice), a bounded wait queue (callers beyond it are told
 * when to retry), and the day's "API requests" conversation in the energy history (text kept or not, per
 * the `api.keepText` setting). Plain Node; the HTTP side lives in the server.
 */
import type { ApiError, ModelInfo, ProfileId, ReplyEnergy, Settings } from '../../shared/contract.js';
import type { ChatTurn, SamplingOptions } from '../engine/types.js';
import type { Store } from '../store/store.js';
import type { ReplyOutcome, ReplySpec } from './backend.js';
import { NoUsableModelError, type GovernedChoice } from './governorService.js';
import { ReplyQueueFullError, type ReplySlot } from './replySlot.js';

/** The model id that lets the power governor choose (for the profile in effect). */
export const AUTO_MODEL_ID = 'auto';

/** Requests that may wait for their turn while a reply runs; one more is refused (HTTP 429). */
export const MAX_WAITING_API_REQUESTS = 8;

/** An installed model as the API names it. */
export interface ApiModel {
  /** Unique among the installed models: the file name without `.gguf` (Ollama: its `model:tag`), `@<source>` added on a clash. */
  id: string;
  model: ModelInfo;
}

/**
 * Ids for the usable installed models, in the given order: the file name without `.gguf` (Ollama's
 * blobs: the name Ollama gives them, e.g. `llama3.2:1b`); when two share one, each clashing id gets
 * `@<source>` and, if still equal, `-2`, `-3`… in order. Never `auto`.
 */
export function apiModelIds(models: readonly ModelInfo[]): ApiModel[] {
  const usable = models.filter((m) => m.usable);
  const base = usable.map((m) => {
    const name = m.source === 'ollama' && m.appName ? m.appName : m.fileName.replace(/\.gguf$/i, '');
    return name.toLowerCase() === AUTO_MODEL_ID ? `${name}@${m.source}` : name;
  });
  const count = new Map<string, number>();
  for (const b of base) count.set(b, (count.get(b) ?? 0) + 1);
  const withSource = base.map((b, i) => ((count.get(b) ?? 0) > 1 ? `${b}@${usable[i]!.source}` : b));
  const seen = new Map<string, number>();
  return usable.map((model, i) => {
    const id = withSource[i]!;
    const n = (seen.get(id) ?? 0) + 1;
    seen.set(id, n);
    return { id: n === 1 ? id : `${id}-${n}`, model };
  });
}

/** A request the API cannot serve, with what the HTTP side needs to answer it. */
export class ApiReplyError extends Error {
  override readonly name = 'ApiReplyError';
  constructor(
    /** `model_not_found` (404), `no_model` (503: nothing usable installed), `queue_full` (429), `shutting_down` (503). */
    readonly kind: 'model_not_found' | 'no_model' | 'queue_full' | 'shutting_down',
    message: string,
    /** For `queue_full`: seconds after which a retry is likely to get a turn. */
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
  }
}

/** One API request. */
export interface ApiReplyRequest {
  /** {@link AUTO_MODEL_ID} or an id from {@link ApiReplies.models}. */
  model: string;
  /** Chat turns through the model's template, or a plain completion of `prompt`. */
  kind: 'chat' | 'completion';
  /** System prompt (chat; '' for none). */
  systemPrompt: string;
  /** Chat turns, oldest first, ending with a user turn (ignored for a completion). */
  history: ChatTurn[];
  /** The text to continue (completion). */
  prompt?: string;
  /** Reply cap, tokens; null = the settings' reply length. Capped at the context size. */
  maxTokens: number | null;
  sampling: SamplingOptions;
  stop: string[];
  /** The client went away: stops waiting or generating. */
  signal: AbortSignal;
  /** Called once with the model that will answer, before the first piece of text. */
  onStart?: (model: ApiModel) => void;
  /** Each piece of generated text, in order. */
  onText: (piece: string) => void;
}

/** How an API request ended. */
export interface ApiReplyResult {
  /** The model that answered (an id from {@link ApiReplies.models}); null when the client left before one was chosen. */
  model: ApiModel | null;
  text: string;
  /** OpenAI's `finish_reason`: `length` when the token cap ended it, else `stop`. */
  finishReason: 'stop' | 'length';
  /** The client went away (or the reply was stopped in the app) before the end. */
  aborted: boolean;
  promptTokens: number;
  completionTokens: number;
  energy: ReplyEnergy | null;
  /** When `auto` let the governor choose: the profile in effect and its reason. */
  governor: { profile: ProfileId; reason: string } | null;
  /** Why generation failed (status `error`), else null. */
  error: ApiError | null;
}

/** What {@link ApiReplies} uses of the backend (passed in by `Backend`, which owns them). */
export interface ApiRepliesDeps {
  store: Store;
  slot: ReplySlot;
  settings: () => Settings;
  installedModels: () => Promise<ModelInfo[]>;
  chooseForReply: () => Promise<GovernedChoice>;
  /** Holds the calibration bench off; returns the release. */
  holdCalibration: () => () => void;
  startReply: (spec: ReplySpec) => { outcome: Promise<ReplyOutcome> };
  disposed: () => boolean;
}

/** Counters for the API server's status. */
export interface ApiReplyCounters {
  /** Requests waiting or being answered now. */
  active: number;
  /** Requests answered (or ended) since the process started. */
  served: number;
}

/** Runs API requests through the backend. */
export class ApiReplies {
  private readonly listeners = new Set<() => void>();
  private readonly recentDurationsMs: number[] = [];
  private counters: ApiReplyCounters = { active: 0, served: 0 };

  constructor(private readonly deps: ApiRepliesDeps) {}

  /** The usable installed models with their API ids (see {@link apiModelIds}). */
  async models(): Promise<ApiModel[]> {
    return apiModelIds(await this.deps.installedModels());
  }

  /** Requests active and served (see {@link ApiReplyCounters}). */
  status(): ApiReplyCounters {
    return { ...this.counters };
  }

  /** Calls `listener` whenever {@link status} changes; returns the unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Answers one request: waits for its turn (at most {@link MAX_WAITING_API_REQUESTS} wait), resolves the
   * model (`auto` = the governor's choice), stores the request in today's API conversation and generates.
   * An abort while waiting ends it without storing anything (`aborted: true`, no text).
   * @throws ApiReplyError `queue_full` (with a retry delay), `model_not_found`, `no_model`, `shutting_down`;
   *   a store failure before generation (e.g. `StoreError` STORAGE_FULL) as is.
   */
  async run(request: ApiReplyRequest): Promise<ApiReplyResult> {
    if (this.deps.disposed()) throw new ApiReplyError('shutting_down', 'Wattwise is shutting down');
    // Resolve an explicit id before waiting: a typo is answered at once.
    let explicit: ApiModel | null = null;
    if (request.model !== AUTO_MODEL_ID) {
      explicit = (await this.models()).find((m) => m.id === request.model) ?? null;
      if (!explicit) throw new ApiReplyError('model_not_found', `The model '${request.model}' does not exist: GET /v1/models lists the installed ones (or use "auto")`);
    }
    if (this.deps.slot.busy && this.deps.slot.waiting >= MAX_WAITING_API_REQUESTS) {
      throw new ApiReplyError('queue_full', `Wattwise answers one request at a time and ${this.deps.slot.waiting} are waiting: retry later`, this.retryAfterSeconds());
    }
    this.change({ active: this.counters.active + 1 });
    const started = Date.now();
    try {
      let turn;
      try {
        turn = await this.deps.slot.acquire({ signal: request.signal, maxWaiting: MAX_WAITING_API_REQUESTS });
      } catch (error) {
        if (error instanceof ReplyQueueFullError) throw new ApiReplyError('queue_full', error.message, this.retryAfterSeconds());
        throw error;
      }
      if (turn.aborted) return this.abortedBeforeStart(explicit);
      const releaseCalibration = this.deps.holdCalibration();
      let handedOver = false;
      try {
        const { model, governor } = explicit ? { model: explicit, governor: null } : await this.auto();
        const keepText = this.deps.settings().api.keepText;
        const conversation = this.deps.store.apiConversation();
        const asked = request.kind === 'completion' ? (request.prompt ?? '') : (request.history.findLast((t) => t.role === 'user')?.content ?? '');
        const user = this.deps.store.addMessage({ conversationId: conversation.id, role: 'user', content: keepText ? asked : '', status: 'complete' });
        const settings = this.deps.settings();
        const maxTokens = Math.max(1, Math.min(request.maxTokens ?? settings.maxReplyTokens, settings.contextSize));
        request.onStart?.(model);
        let text = '';
        const { outcome } = this.deps.startReply({
          origin: 'api',
          conversationId: conversation.id,
          model: model.model,
          userMessageId: user.id,
          systemPrompt: request.systemPrompt,
          history: request.history,
          ...(request.kind === 'completion' ? { prompt: request.prompt ?? '' } : {}),
          maxTokens,
          sampling: request.sampling,
          stop: request.stop,
          governor,
          turn,
          signal: request.signal,
          keepText,
          onText: (piece) => {
            text += piece;
            request.onText(piece);
          },
          onDone: releaseCalibration,
        });
        handedOver = true;
        const { message, error, stopReason } = await outcome;
        this.noteDuration(Date.now() - started);
        return {
          model,
          text,
          finishReason: stopReason === 'maxTokens' ? 'length' : 'stop',
          aborted: stopReason === 'abort',
          promptTokens: message.stats?.promptTokens ?? 0,
          completionTokens: message.stats?.completionTokens ?? 0,
          energy: message.energy,
          governor,
          error,
        };
      } finally {
        if (!handedOver) {
          releaseCalibration();
          turn.release();
        }
      }
    } finally {
      this.change({ active: this.counters.active - 1, served: this.counters.served + 1 });
    }
  }

  /** The governor's choice for a reply now, as an API model. */
  private async auto(): Promise<{ model: ApiModel; governor: { profile: ProfileId; reason: string } }> {
    let choice: GovernedChoice;
    try {
      choice = await this.deps.chooseForReply();
    } catch (error) {
      if (error instanceof NoUsableModelError) throw new ApiReplyError('no_model', 'No usable model is installed: download one in Wattwise → Models');
      throw error;
    }
    const model = (await this.models()).find((m) => m.model.path === choice.model.path) ?? { id: choice.model.fileName.replace(/\.gguf$/i, ''), model: choice.model };
    const reason = choice.keptReason ? `${choice.decision.reason} (kept ${choice.model.name}: ${choice.keptReason})` : choice.decision.reason;
    return { model, governor: { profile: choice.decision.profile, reason } };
  }

  private abortedBeforeStart(explicit: ApiModel | null): ApiReplyResult {
    return {
      model: explicit,
      text: '',
      finishReason: 'stop',
      aborted: true,
      promptTokens: 0,
      completionTokens: 0,
      energy: null,
      governor: null,
      error: null,
    };
  }

  /** Seconds until a new request is likely to get a turn: the median recent request time × those ahead (1–300; 10 when unknown). */
  private retryAfterSeconds(): number {
    const sorted = [...this.recentDurationsMs].sort((a, b) => a - b);
    if (sorted.length === 0) return 10;
    const median = sorted[Math.floor(sorted.length / 2)]!;
    return Math.min(300, Math.max(1, Math.ceil((median * (this.deps.slot.waiting + 1)) / 1000)));
  }

  private noteDuration(ms: number): void {
    this.recentDurationsMs.push(ms);
    if (this.recentDurationsMs.length > 20) this.recentDurationsMs.shift();
  }

  private change(patch: Partial<ApiReplyCounters>): void {
    this.counters = { ...this.counters, ...patch };
    for (const listener of this.listeners) {
      try {
        listener();
      } catch {
        // A listener's failure is its own.
      }
    }
  }
}
