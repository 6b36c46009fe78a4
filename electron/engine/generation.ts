/**
 * One reply's run on a loaded model, for {@link LlamaEngine} (./llamaEngine.ts): a chat turn through the
 * model's chat template (`runChat`, node-llama-cpp's `LlamaChat`) or a plain text completion of a prompt
 * (`runCompletion`, node-llama-cpp's `LlamaCompletion`, for the OpenAI-compatible `/v1/completions`),
 * both on the session's context sequence, with per-request sampling and stop strings, and the reply's
 * statistics (TTFT, prefill and decode tokens/s) from the sequence's token meter. No Electron imports.
 */
import {
  LlamaCompletion,
  type ChatHistoryItem,
  type LlamaChat,
  type LlamaContext,
  type LlamaContextSequence,
  type Token,
} from 'node-llama-cpp';
import type { ModelInfo, ReplyStats } from '../../shared/contract.js';
import type { TokenizerGuard } from './tokenizerGuard.js';
import { contextShiftOptions, promptTokenCount } from './contextOverflow.js';
import { EngineError, type ChatTurn, type GenerateRequest, type GenerateResult, type SamplingOptions, type StopReason } from './types.js';

/**
 * Bytes of text per token a context can hold at most, for trimming texts before tokenizing them: 16.
 * English averages about 4 bytes per token and no common vocabulary's tokens average anywhere near 16
 * over a whole text, so a text of contextSize × 16 bytes already overfills the context: cutting longer
 * ones there loses nothing the model could see.
 */
export const MAX_BYTES_PER_TOKEN = 16;

/**
 * `text` cut to at most `maxBytes` UTF-8 bytes, keeping its `start` or its `end`, with `…` where it was
 * cut; never splits a character. Texts within the limit come back unchanged.
 */
export function trimToBytes(text: string, maxBytes: number, keep: 'start' | 'end'): string {
  // Quick exit without encoding: a string of n UTF-16 units is at most 3n UTF-8 bytes.
  if (text.length * 3 <= maxBytes) return text;
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  const cut = keep === 'end' ? bytes.subarray(bytes.length - maxBytes) : bytes.subarray(0, maxBytes);
  const decoded = cut.toString('utf8').replace(keep === 'end' ? /^\uFFFD+/ : /\uFFFD+$/, '');
  return keep === 'end' ? `…${decoded}` : `${decoded}…`;
}

/** Tokens kept free for the chat template around the last user message when it is trimmed to fit. */
export const TEMPLATE_OVERHEAD_TOKENS = 64;


/** A context + sequence + chat, reused while (context size, threads) stay the same. */
export interface GenerationSession {
  /** The context size asked for (the key; the actual one is `context.contextSize`). */
  requestedContextSize: number;
  threads: number;
  context: LlamaContext;
  sequence: LlamaContextSequence;
  chat: LlamaChat;
  /**
   * The previous chat reply: its full history (ending with the reply) and what node-llama-cpp kept of it.
   * Null after a failure or a plain completion (which leaves other tokens in the sequence).
   */
  last: { history: ChatHistoryItem[]; contextWindow: ChatHistoryItem[]; contextShiftMetadata: unknown } | null;
}

/** What a run needs to know of the loaded model. */
export interface GenerationModel {
  path: string;
  info: Pick<ModelInfo, 'name' | 'quantization'>;
  /** Set for vocabularies that cannot encode every character (see ./tokenizerGuard.ts). */
  guard: TokenizerGuard | null;
}

/** One run: the model, its session, the request, the signal to stop on, when the request came (`performance.now()`), the engine's default sampling. */
export interface GenerationRun {
  loaded: GenerationModel;
  session: GenerationSession;
  request: GenerateRequest;
  signal: AbortSignal;
  requestStart: number;
  defaults: SamplingOptions;
}

/** The first line of an error message (llama.cpp messages can be long). */
export function reason(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const line = (text.split('\n')[0] ?? '').trim();
  return line === '' ? 'unknown error' : line.length > 300 ? `${line.slice(0, 297)}...` : line;
}

/** Whole milliseconds since the epoch. */
const nowMs = () => Math.round(Date.now());

/**
 * The node-llama-cpp chat history for a request: optional system message, the turns, and an empty model
 * response to be filled in (what `LlamaChatSession.prompt` does). `clean` is applied to every text.
 */
export function toChatHistory(
  systemPrompt: string,
  turns: readonly ChatTurn[],
  clean: (text: string) => string = (text) => text,
): ChatHistoryItem[] {
  const out: ChatHistoryItem[] = [];
  if (systemPrompt.trim() !== '') out.push({ type: 'system', text: clean(systemPrompt) });
  for (const turn of turns) {
    const content = clean(turn.content);
    out.push(turn.role === 'user' ? { type: 'user', text: content } : { type: 'model', response: [content] });
  }
  out.push({ type: 'model', response: [] });
  return out;
}

/** `a` starts with all of `prefix` (deep equality of the JSON-like history items). */
function startsWith(a: readonly ChatHistoryItem[], prefix: readonly ChatHistoryItem[]): boolean {
  if (prefix.length > a.length) return false;
  return prefix.every((item, i) => JSON.stringify(item) === JSON.stringify(a[i]));
}

/** node-llama-cpp's stop reason as ours. */
function toStopReason(why: string): StopReason {
  return why === 'abort' ? 'abort' : why === 'maxTokens' ? 'maxTokens' : why === 'customStopTrigger' ? 'stopSequence' : 'eos';
}

/** Sampling options for node-llama-cpp: the engine's defaults, then the request's (llama.cpp's own defaults last; see {@link SamplingOptions}). */
function samplingFor(run: GenerationRun): { temperature: number; topK: number; topP: number; minP: number; seed?: number; repeatPenalty?: { penalty: number } } {
  const sampling: SamplingOptions = { ...run.defaults, ...run.request.sampling };
  return {
    temperature: sampling.temperature ?? 0.8,
    topK: sampling.topK ?? 40,
    topP: sampling.topP ?? 0.95,
    minP: sampling.minP ?? 0.05,
    ...(sampling.seed != null ? { seed: sampling.seed } : {}),
    // node-llama-cpp's LlamaChat `repeatPenalty` option (last 64 tokens by default); 1 is llama.cpp's "off".
    ...(sampling.repeatPenalty != null ? { repeatPenalty: { penalty: sampling.repeatPenalty } } : {}),
  };
}

/** What the token callbacks saw, for {@link replyStats}. Times from `performance.now()`. */
interface Timing {
  firstTokenAt: number | null;
  lastTokenAt: number;
  completionTokens: number;
  promptTokens: number | null;
  prefillTokens: number | null;
}

/** Counts a batch of tokens released by node-llama-cpp into `timing` (the first batch fixes prefill and prompt size). */
function countTokens(timing: Timing, sequence: LlamaContextSequence, meterStart: ReturnType<LlamaContextSequence['tokenMeter']['getState']>, tokens: readonly Token[]): void {
  if (tokens.length === 0) return;
  const now = performance.now();
  if (timing.firstTokenAt == null) {
    timing.firstTokenAt = now;
    // Tokens released together were decoded one by one: all but the last are in the sequence already.
    const fedBack = tokens.length - 1;
    const used = sequence.tokenMeter.diff(meterStart);
    timing.prefillTokens = Math.max(0, used.usedInputTokens + used.usedOutputTokens - fedBack);
    timing.promptTokens = Math.max(0, sequence.nextTokenIndex - fedBack);
  }
  timing.lastTokenAt = now;
  timing.completionTokens += tokens.length;
}

/** The reply's statistics (see `replyStatsSchema`): TTFT from the request, prefill up to the first token, decode after it. */
function replyStats(input: {
  loaded: GenerationModel;
  session: GenerationSession;
  meterStart: ReturnType<LlamaContextSequence['tokenMeter']['getState']>;
  startedAt: number;
  prefillStart: number;
  requestStart: number;
  timing: Timing;
  /** The context window moved in this turn. */
  shifted: boolean;
}): ReplyStats {
  const { loaded, session, timing } = input;
  const { sequence } = session;
  const end = performance.now();
  const used = sequence.tokenMeter.diff(input.meterStart);
  const first = timing.firstTokenAt;
  const prefillMs = (first ?? end) - input.prefillStart;
  const prefill = timing.prefillTokens ?? Math.max(0, used.usedInputTokens + used.usedOutputTokens);
  const completionTokens = timing.completionTokens;
  return {
    modelPath: loaded.path,
    modelName: loaded.info.name,
    quantization: loaded.info.quantization,
    promptTokens: timing.promptTokens ?? Math.max(0, sequence.nextTokenIndex),
    prefillTokens: prefill,
    completionTokens,
    ttftMs: first != null ? Math.max(0, first - input.requestStart) : 0,
    prefillTokensPerSecond: prefill > 0 && prefillMs > 0 ? (prefill * 1000) / prefillMs : 0,
    decodeTokensPerSecond:
      first != null && completionTokens >= 2 && timing.lastTokenAt > first ? ((completionTokens - 1) * 1000) / (timing.lastTokenAt - first) : 0,
    threads: Math.max(1, session.context.currentThreads || session.threads),
    contextSize: session.context.contextSize,
    // Everything evaluated this turn except the reply's own tokens: the rebuilt window and the new message.
    reEvaluatedTokens: input.shifted ? Math.max(prefill, used.usedInputTokens + used.usedOutputTokens - completionTokens) : 0,
    startedAt: input.startedAt,
    endedAt: Math.max(input.startedAt, nowMs()),
  };
}

/** Calls the request's `onText`, never letting its failure stop the model. */
function emitText(request: GenerateRequest, chunk: string): void {
  try {
    request.onText(chunk);
  } catch {
    // The caller's callback failing must not stop the model.
  }
}

/**
 * What both kinds of run share: the options node-llama-cpp takes for streaming (signal, sampling, stop
 * strings, token and text callbacks), the text so far, and the reply's statistics when it ends.
 */
function startRun(run: GenerationRun) {
  const { loaded, session, request, signal } = run;
  const { sequence } = session;
  const meterStart = sequence.tokenMeter.getState();
  const startedAt = nowMs();
  const prefillStart = performance.now();
  const timing: Timing = { firstTokenAt: null, lastTokenAt: 0, completionTokens: 0, promptTokens: null, prefillTokens: null };
  let text = '';
  let shifted = false;
  return {
    options: {
      signal,
      stopOnAbortSignal: true,
      ...samplingFor(run),
      ...(request.stop && request.stop.length > 0 ? { customStopTriggers: request.stop } : {}),
      onToken: (tokens: Token[]) => countTokens(timing, sequence, meterStart, tokens),
      onTextChunk: (chunk: string) => {
        if (chunk === '') return;
        text += chunk;
        emitText(request, chunk);
      },
    },
    text: () => text,
    /** Marks that the context window moved in this turn (the prompt was re-read). */
    setShifted: (value: boolean) => {
      shifted = value;
    },
    stats: () => replyStats({ loaded, session, meterStart, startedAt, prefillStart, requestStart: run.requestStart, timing, shifted }),
  };
}

/**
 * Keeps the prompt's two parts that node-llama-cpp's context shift cannot shorten within the context:
 * the system prompt keeps at most half of the room (its beginning), and the last user message the rest
 * (its end). The room is the context minus space for the reply (`maxTokens`, at most a quarter of the
 * context) and {@link TEMPLATE_OVERHEAD_TOKENS}. Older turns are left to the context shift, which drops
 * the oldest first. Without this, node-llama-cpp drops an over-long user message entirely, or fails.
 */
export function fitToContext(history: ChatHistoryItem[], session: GenerationSession, maxTokens: number): ChatHistoryItem[] {
  const model = session.context.model;
  const contextSize = session.context.contextSize;
  const room = Math.max(32, contextSize - Math.min(maxTokens, Math.floor(contextSize / 4)) - TEMPLATE_OVERHEAD_TOKENS);
  const copy = [...history];
  let systemTokens = 0;
  const system = copy[0];
  if (system?.type === 'system' && typeof system.text === 'string') {
    const tokens = model.tokenize(system.text);
    const max = Math.floor(room / 2);
    if (tokens.length > max) {
      copy[0] = { type: 'system', text: `${model.detokenize(tokens.slice(0, max - 1))}…` };
      systemTokens = max;
    } else systemTokens = tokens.length;
  }
  const lastUserIndex = copy.findLastIndex((item) => item.type === 'user');
  const user = copy[lastUserIndex];
  if (user?.type === 'user') {
    const tokens = model.tokenize(user.text);
    const max = Math.max(16, room - systemTokens);
    if (tokens.length > max) copy[lastUserIndex] = { type: 'user', text: `…${model.detokenize(tokens.slice(tokens.length - max + 1))}` };
  }
  return copy;
}


/**
 * A chat turn: the system prompt and history through the model's chat template, reusing the KV cache of
 * the previous turn when the history continues it. Rejects with {@link EngineError} `GENERATION_FAILED`
 * (never for an abort: then the partial text with `stopReason: 'abort'`).
 */
export async function runChat(run: GenerationRun): Promise<GenerateResult> {
  const { loaded, session, request, signal } = run;
  const { chat } = session;
  const guard = loaded.guard;
  const clean = guard ? (text: string) => guard.sanitize(text) : undefined;
  // Bound every text by bytes before anything tokenizes it (tokenizing runs on the main thread): a text
  // longer than the context could ever hold is cut to what could fit, so a 400 KB message neither blocks
  // the event loop for seconds nor makes each later turn re-read it.
  const maxBytes = session.context.contextSize * MAX_BYTES_PER_TOKEN;
  const bounded = request.history.map((t) => ({ ...t, content: trimToBytes(t.content, maxBytes, 'end') }));
  const history = fitToContext(toChatHistory(trimToBytes(request.systemPrompt, maxBytes, 'start'), bounded, clean), session, request.maxTokens);
  const cleanHistory = history.slice(0, -1);

  // Reuse what node-llama-cpp kept of the previous turn (matters after a context shift).
  let lastWindow: ChatHistoryItem[] | undefined;
  let lastShiftMetadata: unknown;
  if (session.last && startsWith(cleanHistory, session.last.history)) {
    lastWindow = [...session.last.contextWindow, ...history.slice(session.last.history.length)];
    lastShiftMetadata = session.last.contextShiftMetadata;
  }

  const overflow = request.contextOverflow ?? 'rolling-window';
  const contextSize = session.context.contextSize;
  let maxTokens = Math.max(1, Math.floor(request.maxTokens));
  if (overflow === 'stop') {
    // Never shift: refuse a prompt that leaves no room for a reply, and end the reply where the context ends.
    const promptTokens = promptTokenCount(history, chat.chatWrapper, session.context.model.tokenizer);
    const room = contextSize - promptTokens - 1;
    if (room < Math.min(maxTokens, MIN_REPLY_TOKENS)) {
      session.last = null;
      throw new EngineError(
        'CONTEXT_FULL',
        `This conversation (${promptTokens} tokens) has filled the context window (${contextSize} tokens).`,
      );
    }
    maxTokens = Math.min(maxTokens, room);
  }

  const meter = startRun(run);
  let stopReason: StopReason = 'eos';
  try {
    const response = await chat.generateResponse(history, {
      ...meter.options,
      maxTokens,
      contextShift: contextShiftOptions(overflow, contextSize, lastShiftMetadata as object | undefined),
      lastEvaluationContextWindow: { history: lastWindow, minimumOverlapPercentageToPreventContextShift: 0.5 },
    });
    stopReason = toStopReason(response.metadata.stopReason);
    if (signal.aborted) stopReason = 'abort';
    // A shift hands back new metadata; reusing the previous window hands back the one it was given.
    const newMetadata: unknown = response.lastEvaluation.contextShiftMetadata;
    meter.setShifted(newMetadata != null && newMetadata !== lastShiftMetadata);
    const cleanWithReply: ChatHistoryItem[] = [...cleanHistory, { type: 'model', response: [meter.text()] }];
    session.last = {
      history: cleanWithReply,
      contextWindow: response.lastEvaluation.contextWindow,
      contextShiftMetadata: response.lastEvaluation.contextShiftMetadata,
    };
  } catch (err) {
    session.last = null;
    if (!signal.aborted) {
      throw new EngineError('GENERATION_FAILED', `generation failed: ${reason(err)}`, { cause: err });
    }
    stopReason = 'abort';
  }
  return { text: meter.text(), stopReason, stats: meter.stats() };
}

/**
 * Fewest reply tokens worth starting a reply for when the context must not shift (`stop`): below this the
 * conversation counts as full.
 */
export const MIN_REPLY_TOKENS = 16;

/**
 * A plain text completion of `request.prompt` (no chat template, no system prompt; the OpenAI
 * `/v1/completions` endpoint). The prompt is bounded by bytes, then keeps its last tokens so that it and
 * the reply fit the context (at most a quarter of the context is kept for the reply). The KV cache's
 * common prefix with the previous run is reused by node-llama-cpp; the chat's memory of its last turn is
 * dropped (the sequence now holds other tokens). Rejects with {@link EngineError} `GENERATION_FAILED`
 * (never for an abort).
 */
export async function runCompletion(run: GenerationRun): Promise<GenerateResult> {
  const { loaded, session, request, signal } = run;
  const { sequence, context } = session;
  session.last = null;
  const contextSize = context.contextSize;
  const replyRoom = Math.min(Math.max(1, Math.floor(request.maxTokens)), Math.floor(contextSize / 4));
  const promptText = trimToBytes(request.prompt ?? '', contextSize * MAX_BYTES_PER_TOKEN, 'end');
  const cleaned = loaded.guard ? loaded.guard.sanitize(promptText) : promptText;
  let promptTokens = context.model.tokenize(cleaned, false);
  const room = Math.max(1, contextSize - replyRoom - 1);
  if (promptTokens.length > room) promptTokens = promptTokens.slice(promptTokens.length - room);
  const bos = context.model.tokens.bos;
  const input: Token[] = bos != null && context.model.tokens.shouldPrependBosToken ? [bos, ...promptTokens] : promptTokens;

  const completion = new LlamaCompletion({ contextSequence: sequence, autoDisposeSequence: false });
  const meter = startRun(run);
  let stopReason: StopReason = 'eos';
  try {
    const response = await completion.generateCompletionWithMeta(input, {
      ...meter.options,
      maxTokens: Math.max(1, Math.min(Math.floor(request.maxTokens), contextSize - input.length)),
    });
    stopReason = toStopReason(response.metadata.stopReason);
    if (signal.aborted) stopReason = 'abort';
  } catch (err) {
    if (!signal.aborted) {
      throw new EngineError('GENERATION_FAILED', `completion failed: ${reason(err)}`, { cause: err });
    }
    stopReason = 'abort';
  } finally {
    completion.dispose({ disposeSequence: false });
  }
  return { text: meter.text(), stopReason, stats: meter.stats() };
}
