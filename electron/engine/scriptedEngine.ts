/**
 * `ScriptedEngine`: a {@link ChatEngine} that answers with scripted text instead of a model. For tests and
 * the end-to-end tests (e.g. a reply full of HTML to check that the renderer never executes it).
 *
 * It is a real implementation of the interface, not a mock: it validates the model path like
 * `LlamaEngine` (`NOT_FOUND` for a missing file), serializes loads and replies, moves through the same
 * status states, streams the reply in small chunks (about one word each, one chunk per "token"),
 * honours `maxTokens` and the abort signal, and reports plausible {@link ReplyStats}. No Electron imports.
 */
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import type { EngineStatus, ReplyStats } from '../../shared/contract.js';
import { EngineError, type ChatEngine, type ChatTurn, type GenerateRequest, type GenerateResult, type MemoryFit, type StopReason } from './types.js';
import { EngineStatusTracker } from './engineStatus.js';

/** Options of {@link ScriptedEngine}. */
export interface ScriptedEngineOptions {
  /**
   * What to answer: a list used in turn (reply *i* is `replies[i % length]`), or a function of the
   * history (oldest first, ending with the user turn being answered).
   */
  replies: string[] | ((history: ChatTurn[]) => string);
  /** Delay before each chunk, in ms (default 0: chunks are still delivered asynchronously). */
  tokenDelayMs?: number;
  /** Reported as `modelName` in stats (default: the file name without `.gguf`). */
  modelName?: string;
  /** Reported as `quantization` in stats (default `'Q8_0'`). */
  quantization?: string | null;
  /** Reported as the thread count (default 1). */
  threads?: number;
}

/** Splits a reply into stream chunks of about one word each, with their leading whitespace. */
export function splitIntoChunks(text: string): string[] {
  return text.match(/\s*\S+|\s+$/g) ?? (text === '' ? [] : [text]);
}

/** A rough token count for stats: about 4 characters per token (the usual rule of thumb for English BPE). */
function roughTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((done) => {
    if (signal.aborted) return done();
    const timer = setTimeout(finish, ms);
    function finish() {
      clearTimeout(timer);
      signal.removeEventListener('abort', finish);
      done();
    }
    signal.addEventListener('abort', finish, { once: true });
  });
}

/** A scripted {@link ChatEngine}. */
export class ScriptedEngine implements ChatEngine {
  private readonly tracker = new EngineStatusTracker();
  private queue: Promise<unknown> = Promise.resolve();
  private loadedPath: string | null = null;
  private replyIndex = 0;
  private disposed = false;
  private readonly inFlight = new Set<AbortController>();

  constructor(private readonly options: ScriptedEngineOptions) {}

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


  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private threads(): number {
    return Math.max(1, Math.floor(this.options.threads ?? 1));
  }

  /** Checks the file exists (`NOT_FOUND` otherwise) and marks it loaded. */
  private async ensureLoaded(path: string): Promise<void> {
    if (this.loadedPath === path) return;
    this.setStatus({ state: 'loading', modelPath: path, loadProgress: 0, threads: null, error: null });
    try {
      const st = await stat(path);
      if (!st.isFile()) throw new Error('not a file');
    } catch (err) {
      const error = new EngineError('NOT_FOUND', `model file not found: ${path}`, { cause: err });
      this.setStatus({ state: 'error', loadProgress: null, error: { code: error.code, message: error.message } });
      throw error;
    }
    this.loadedPath = path;
    this.setStatus({ state: 'ready', modelPath: path, loadProgress: null, threads: this.threads(), error: null });
  }

  /** {@inheritDoc ChatEngine.load} Loading another model aborts the reply in flight. */
  load(modelPath: string, _options?: { contextSize?: number; threads?: number | null }): Promise<void> {
    const path = resolve(modelPath);
    if (path !== this.loadedPath) for (const c of this.inFlight) c.abort();
    return this.enqueue(async () => {
      if (this.disposed) throw new EngineError('MODEL_LOAD_FAILED', 'the engine has been disposed');
      await this.ensureLoaded(path);
    });
  }

  /** The scripted reply for `history`. */
  private nextReply(history: ChatTurn[]): string {
    const { replies } = this.options;
    if (typeof replies === 'function') return replies(history);
    if (replies.length === 0) return '';
    return replies[this.replyIndex++ % replies.length] ?? '';
  }

  /** {@inheritDoc ChatEngine.generate} */
  generate(request: GenerateRequest): Promise<GenerateResult> {
    const requestStart = performance.now();
    const path = resolve(request.modelPath);
    if (path !== this.loadedPath) for (const c of this.inFlight) c.abort();
    const controller = new AbortController();
    this.inFlight.add(controller);
    const signal = AbortSignal.any([request.signal, controller.signal]);
    return this.enqueue(async () => {
      try {
        if (this.disposed) throw new EngineError('GENERATION_FAILED', 'the engine has been disposed');
        await this.ensureLoaded(path);
        this.setStatus({ state: 'generating' });
        const startedAt = Date.now();
        const prompt = [request.systemPrompt, ...request.history.map((t) => t.content)].join('\n');
        const chunks = signal.aborted ? [] : splitIntoChunks(this.nextReply(request.history));
        const delay = Math.max(0, this.options.tokenDelayMs ?? 0);
        const maxTokens = Math.max(1, Math.floor(request.maxTokens));
        let text = '';
        let sent = 0;
        let firstAt: number | null = null;
        let lastAt = 0;
        let stopReason: StopReason = 'eos';
        for (const chunk of chunks) {
          if (sent >= maxTokens) {
            stopReason = 'maxTokens';
            break;
          }
          if (delay > 0) await sleep(delay, signal);
          else await new Promise<void>((r) => setImmediate(r));
          if (signal.aborted) break;
          text += chunk;
          sent++;
          lastAt = performance.now();
          firstAt ??= lastAt;
          try {
            request.onText(chunk);
          } catch {
            // The caller's callback failing must not stop the reply.
          }
        }
        if (signal.aborted) stopReason = 'abort';
        const end = performance.now();
        const promptTokens = roughTokens(prompt) + 4 * request.history.length;
        const prefillMs = Math.max(0.001, (firstAt ?? end) - requestStart);
        const stats: ReplyStats = {
          modelPath: path,
          modelName: this.options.modelName ?? basename(path).replace(/\.gguf$/i, ''),
          quantization: this.options.quantization === undefined ? 'Q8_0' : this.options.quantization,
          promptTokens,
          prefillTokens: promptTokens,
          completionTokens: sent,
          ttftMs: firstAt != null ? firstAt - requestStart : 0,
          prefillTokensPerSecond: firstAt != null ? (promptTokens * 1000) / prefillMs : 0,
          decodeTokensPerSecond: firstAt != null && sent >= 2 && lastAt > firstAt ? ((sent - 1) * 1000) / (lastAt - firstAt) : 0,
          threads: this.threads(),
          contextSize: Math.max(1, Math.floor(request.contextSize)),
          startedAt,
          endedAt: Math.max(startedAt, Date.now()),
        };
        return { text, stopReason, stats };
      } finally {
        this.inFlight.delete(controller);
        if (this.loadedPath != null && this.tracker.get().state === 'generating') this.setStatus({ state: 'ready' });
      }
    });
  }

  /** {@inheritDoc ChatEngine.dispose} */
  /** {@inheritDoc ChatEngine.checkFit} A scripted engine needs no memory: every existing file fits. */
  async checkFit(modelPath: string, _contextSize: number): Promise<MemoryFit> {
    try {
      const st = await stat(resolve(modelPath));
      if (st.isFile()) return { fits: true, reason: null, requiredRamBytes: 0, gpuLayers: 0 };
    } catch {
      // fall through
    }
    return { fits: false, reason: `model file not found: ${modelPath}`, requiredRamBytes: null, gpuLayers: 0 };
  }

  /** {@inheritDoc ChatEngine.unload} */
  async unload(): Promise<void> {
    for (const c of this.inFlight) c.abort();
    await this.enqueue(async () => {
      this.loadedPath = null;
      this.setStatus({ state: 'idle', modelPath: null, loadProgress: null, threads: null, error: null });
    });
  }

  async dispose(): Promise<void> {
    for (const c of this.inFlight) c.abort();
    await this.enqueue(async () => {
      this.disposed = true;
      this.loadedPath = null;
      this.setStatus({ state: 'idle', modelPath: null, loadProgress: null, threads: null, error: null });
    });
    this.tracker.clear();
  }
}
