/**
 * The renderer's only door to the backend: a {@link WattwiseBridge}.
 *
 * - In Electron the sandboxed preload exposes it as `window.wattwise` (IPC underneath).
 * - In browser mode (`npm run web`) {@link HttpBridge} speaks the same contract over HTTP:
 *   `POST /api/call/<method>` for calls and a `text/event-stream` on `GET /api/events` for events, both
 *   authorised with the access token that the server printed in the page URL (`#token=...`).
 */
import {
  apiContract,
  apiErrorSchema,
  apiEventSchema,
  isApiMethod,
  type ApiEvent,
  type ApiInput,
  type ApiMethod,
  type ApiOutput,
  type ApiResult,
  type WattwiseBridge,
} from '@shared/contract';

declare global {
  interface Window {
    /** Set by the Electron preload; absent in browser mode. */
    wattwise?: WattwiseBridge;
  }
}

const TOKEN_KEY = 'wattwise.token';
const UNREACHABLE = 'Cannot reach the Wattwise server. Is `npm run web` still running?';

/** Why the bridge cannot work at all (browser mode only); the app shows a full-page message. */
export type AuthProblem = 'missing-token' | 'invalid-token';

type AuthListener = (problem: AuthProblem) => void;
const authListeners = new Set<AuthListener>();
let authProblem: AuthProblem | null = null;

function reportAuthProblem(problem: AuthProblem): void {
  if (authProblem === problem) return;
  authProblem = problem;
  for (const listener of authListeners) listener(problem);
}

/** The current auth problem, if any. */
export function getAuthProblem(): AuthProblem | null {
  return authProblem;
}

/** Called when the server rejects the token (any call or the event stream answering 401). */
export function onAuthProblem(listener: AuthListener): () => void {
  authListeners.add(listener);
  return () => authListeners.delete(listener);
}

/**
 * Reads `#token=...` from the URL once, keeps it in sessionStorage (so a reload still works) and
 * removes it from the visible URL. Returns the token in effect, or null.
 */
export function takeTokenFromLocation(): string | null {
  const hash = window.location.hash.startsWith('#') ? window.location.hash.slice(1) : '';
  const fromHash = hash ? new URLSearchParams(hash).get('token') : null;
  if (fromHash) {
    try {
      window.sessionStorage.setItem(TOKEN_KEY, fromHash);
    } catch {
      // Storage disabled: the token still works for this page load.
    }
    window.history.replaceState(window.history.state, '', window.location.pathname + window.location.search);
    return fromHash;
  }
  try {
    return window.sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

function internal(message: string): { ok: false; error: { code: 'INTERNAL'; message: string } } {
  return { ok: false, error: { code: 'INTERNAL', message } };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = window.setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      window.clearTimeout(timer);
      resolve();
    });
  });
}

/** Parses the `data:` lines of one server-sent-events block; null for heartbeats and comments. */
export function parseSseBlock(block: string): string | null {
  const data: string[] = [];
  for (const line of block.split(/\r?\n/)) {
    if (line === '' || line.startsWith(':')) continue;
    if (line.startsWith('data:')) data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
    // `event:`, `id:` and `retry:` lines carry nothing the contract needs.
  }
  return data.length ? data.join('\n') : null;
}

/** The contract over HTTP + server-sent events, for browser mode. */
export class HttpBridge implements WattwiseBridge {
  readonly #token: string;
  readonly #listeners = new Set<(event: ApiEvent) => void>();
  #stream: AbortController | null = null;

  constructor(token: string) {
    this.#token = token;
  }

  async call<M extends ApiMethod>(method: M, input: ApiInput<M>): Promise<ApiResult<ApiOutput<M>>> {
    if (!isApiMethod(method)) return internal(`Unknown method ${String(method)}`);
    let response: Response;
    try {
      response = await fetch(`/api/call/${method}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${this.#token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(input ?? {}),
        cache: 'no-store',
      });
    } catch {
      return internal(UNREACHABLE);
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch {
      return internal(`The Wattwise server answered ${method} with HTTP ${response.status} and no result.`);
    }
    const result = parseResult(method, body);
    if (!result.ok && result.error.code === 'UNAUTHORIZED') reportAuthProblem('invalid-token');
    return result;
  }

  onEvent(listener: (event: ApiEvent) => void): () => void {
    this.#listeners.add(listener);
    if (!this.#stream) {
      this.#stream = new AbortController();
      void this.#runEventStream(this.#stream.signal);
    }
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0 && this.#stream) {
        this.#stream.abort();
        this.#stream = null;
      }
    };
  }

  #emit(event: ApiEvent): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch (error) {
        console.error('Wattwise event listener failed', error);
      }
    }
  }

  /** Keeps one event stream open; reconnects with backoff and asks the UI to refresh after a gap. */
  async #runEventStream(signal: AbortSignal): Promise<void> {
    let attempt = 0;
    let connectedBefore = false;
    while (!signal.aborted) {
      const outcome = await this.#readEventStream(signal, () => {
        attempt = 0;
        // Events may have been missed while disconnected: have the UI reload its state.
        if (connectedBefore) this.#emit({ type: 'conversations.changed', conversationId: null });
        connectedBefore = true;
      });
      if (outcome === 'unauthorized') {
        reportAuthProblem('invalid-token');
        return;
      }
      if (signal.aborted) return;
      const delay = Math.min(10_000, 500 * 2 ** attempt) * (0.8 + Math.random() * 0.4);
      attempt = Math.min(attempt + 1, 6);
      await sleep(delay, signal);
    }
  }

  async #readEventStream(signal: AbortSignal, onOpen: () => void): Promise<'ended' | 'unauthorized'> {
    // A watchdog aborts a stream that went silent (no event and no heartbeat) so a half-open
    // connection does not go unnoticed.
    const local = new AbortController();
    const abortLocal = () => local.abort();
    signal.addEventListener('abort', abortLocal);
    let watchdog = 0;
    const feed = () => {
      window.clearTimeout(watchdog);
      watchdog = window.setTimeout(abortLocal, 75_000);
    };
    try {
      feed();
      const response = await fetch('/api/events', {
        headers: { Authorization: `Bearer ${this.#token}`, Accept: 'text/event-stream' },
        cache: 'no-store',
        signal: local.signal,
      });
      if (response.status === 401) return 'unauthorized';
      if (!response.ok || !response.body) return 'ended';
      onOpen();
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return 'ended';
        feed();
        buffer += value;
        let boundary: RegExpExecArray | null;
        const separator = /\r?\n\r?\n/g;
        let consumed = 0;
        while ((boundary = separator.exec(buffer))) {
          const block = buffer.slice(consumed, boundary.index);
          consumed = boundary.index + boundary[0].length;
          this.#handleBlock(block);
        }
        buffer = buffer.slice(consumed);
      }
    } catch {
      return 'ended';
    } finally {
      window.clearTimeout(watchdog);
      signal.removeEventListener('abort', abortLocal);
    }
  }

  #handleBlock(block: string): void {
    const data = parseSseBlock(block);
    if (data === null) return;
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      console.warn('Wattwise: ignoring an event that is not JSON');
      return;
    }
    const parsed = apiEventSchema.safeParse(json);
    if (!parsed.success) {
      console.warn('Wattwise: ignoring an event outside the contract', parsed.error.issues);
      return;
    }
    this.#emit(parsed.data);
  }
}

/** Checks a transport answer against the contract (output schema included). */
function parseResult<M extends ApiMethod>(method: M, body: unknown): ApiResult<ApiOutput<M>> {
  if (typeof body !== 'object' || body === null || !('ok' in body)) {
    return internal(`The Wattwise server answered ${method} with something that is not a result.`);
  }
  if (body.ok === false) {
    const error = apiErrorSchema.safeParse((body as { error?: unknown }).error);
    return error.success ? { ok: false, error: error.data } : internal(`${method} failed with an unreadable error.`);
  }
  const output = apiContract[method].output.safeParse((body as { value?: unknown }).value);
  if (!output.success) {
    const issue = output.error.issues[0];
    const where = issue ? ` (${issue.path.join('.') || 'value'}: ${issue.message})` : '';
    return internal(`The Wattwise server answered ${method} outside the contract${where}.`);
  }
  return { ok: true, value: output.data as ApiOutput<M> };
}

let bridge: WattwiseBridge | null = null;

/**
 * The bridge for this page: the preload's in Electron, otherwise an {@link HttpBridge} using the
 * token from the URL. Without a token the returned bridge fails every call with UNAUTHORIZED and
 * {@link getAuthProblem} says `missing-token`.
 */
export function getBridge(): WattwiseBridge {
  if (bridge) return bridge;
  if (window.wattwise) {
    bridge = window.wattwise;
    return bridge;
  }
  const token = takeTokenFromLocation();
  if (!token) {
    reportAuthProblem('missing-token');
    bridge = {
      call: async () => ({ ok: false, error: { code: 'UNAUTHORIZED', message: 'No access token.' } }),
      onEvent: () => () => undefined,
    };
    return bridge;
  }
  bridge = new HttpBridge(token);
  return bridge;
}

/** Forgets the stored token (used by the "invalid token" page before the user opens a new link). */
export function forgetToken(): void {
  try {
    window.sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // Nothing stored.
  }
}
