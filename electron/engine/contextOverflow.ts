/**
 * What happens when a conversation no longer fits the context window (Settings → "When the context is
 * full", LM Studio's three choices), as node-llama-cpp `LlamaChat` context-shift options:
 *
 * - `rolling-window`: node-llama-cpp's own strategy ("eraseFirstResponseAndKeepFirstSystem": the system
 *   prompt stays, the oldest turns go first), but shifted by half the context at once.
 * - `truncate-middle`: {@link truncateMiddleStrategy}: the system prompt and the first exchange stay, turns
 *   after it go, oldest first.
 * - `stop`: no shift at all; {@link promptTokenCount} lets the caller refuse a prompt that does not fit
 *   (`CONTEXT_FULL`) and cap the reply at the room left.
 *
 * Why half the context: after a shift the KV cache holds nothing reusable past the system prompt, so the
 * whole kept window is evaluated again (prefill). node-llama-cpp's default shift frees 10% of the context,
 * so once a conversation is full, nearly every turn shifts and re-reads ~90% of the window (measured on a
 * 270 MB model: 1.5–2 s per turn instead of 0.13–0.25 s). Freeing half makes the next shifts W/2 tokens of
 * turns away: with turns of t tokens, one re-read of ≈ W/2 tokens every W/(2t) turns, i.e. ≈ t tokens of
 * re-reading per turn on average — about the cost of the turn itself.
 *
 * No Electron imports; pure apart from tokenizing through the given tokenizer.
 */
import type { ChatHistoryItem, ChatWrapper, Tokenizer } from 'node-llama-cpp';
import type { ContextOverflow } from '../../shared/contract.js';

/**
 * Tokens freed by one context shift for a context of `contextSize` tokens: half of it (see the module
 * comment for why), at least 1.
 */
export function contextShiftSizeTokens(contextSize: number): number {
  return Math.max(1, Math.floor(contextSize / 2));
}

/** Tokens of `history` rendered through the chat template (what the model would read), special tokens included. */
export function promptTokenCount(history: readonly ChatHistoryItem[], chatWrapper: ChatWrapper, tokenizer: Tokenizer): number {
  const { contextText } = chatWrapper.generateContextState({ chatHistory: [...history] });
  return contextText.tokenize(tokenizer).length;
}

/** What {@link truncateMiddleStrategy} did, kept by node-llama-cpp and handed back on the next shift. */
export interface TruncateMiddleMetadata {
  /** History items dropped from the middle (after the anchor) in this shift. */
  droppedItems: number;
}

/** The strategy function's options, as node-llama-cpp passes them (`LLamaChatContextShiftOptions.strategy`). */
export interface ContextShiftStrategyOptions {
  chatHistory: readonly ChatHistoryItem[];
  maxTokensCount: number;
  tokenizer: Tokenizer;
  chatWrapper: ChatWrapper;
  lastShiftMetadata?: object | null;
}

/**
 * "Keep the first message, truncate the middle": keeps the system prompt (if first), the first user message
 * and the reply to it (the anchor), and the newest turns; drops whole turns right after the anchor, oldest
 * first, until the rendered history fits `maxTokensCount`. When even the anchor does not leave room, the
 * first reply goes too, then the first message (the rest of the history must fit: the newest user turn and
 * the reply being written are never dropped). Returns the smallest history it could make; node-llama-cpp
 * falls back to its own strategy if that still does not fit.
 *
 * Cost: one tokenization of each history item plus one or two of the whole kept history.
 */
export function truncateMiddleStrategy(options: ContextShiftStrategyOptions): { chatHistory: ChatHistoryItem[]; metadata: TruncateMiddleMetadata } {
  const { chatHistory, maxTokensCount, tokenizer, chatWrapper } = options;
  const items = [...chatHistory];
  const systemCount = items[0]?.type === 'system' ? 1 : 0;
  const firstUser = items.findIndex((item, i) => i >= systemCount && item.type === 'user');
  // The newest user turn and what follows it (the reply being written) always stay.
  const lastUser = items.findLastIndex((item) => item.type === 'user');
  if (firstUser < 0 || lastUser <= firstUser) return { chatHistory: items, metadata: { droppedItems: 0 } };

  const fits = (candidate: readonly ChatHistoryItem[]) => promptTokenCount(candidate, chatWrapper, tokenizer) <= maxTokensCount;
  // Anchors from the most to the least kept: first exchange, first message only, nothing.
  const anchorEnds = [items[firstUser + 1]?.type === 'model' ? firstUser + 2 : firstUser + 1, firstUser + 1, firstUser];
  for (const anchorEnd of anchorEnds) {
    const head = [...items.slice(0, systemCount), ...(anchorEnd > firstUser ? items.slice(firstUser, anchorEnd) : [])];
    const middle = anchorEnd > firstUser ? [...items.slice(systemCount, firstUser), ...items.slice(anchorEnd, lastUser)] : items.slice(systemCount, lastUser);
    const tail = items.slice(lastUser);
    // Approximate per-item sizes to find the cut in one pass, then check the real rendering.
    const sizes = middle.map((item) => itemTokens(item, tokenizer));
    const headTail = promptTokenCount([...head, ...tail], chatWrapper, tokenizer);
    let total = headTail + sizes.reduce((a, b) => a + b, 0);
    let drop = 0;
    while (drop < middle.length && total > maxTokensCount) {
      total -= sizes[drop] ?? 0;
      drop++;
    }
    // Turns go in pairs: never leave a reply whose question was dropped at the start of what is kept.
    while (drop < middle.length && middle[drop]?.type === 'model') drop++;
    for (; drop <= middle.length; drop++) {
      if (drop < middle.length && middle[drop]?.type === 'model') continue;
      const candidate = [...head, ...middle.slice(drop), ...tail];
      if (fits(candidate)) return { chatHistory: candidate, metadata: { droppedItems: items.length - candidate.length } };
    }
  }
  const smallest = [...items.slice(0, systemCount), ...items.slice(lastUser)];
  return { chatHistory: smallest, metadata: { droppedItems: items.length - smallest.length } };
}

/** Tokens of one history item's text (without the template around it). */
function itemTokens(item: ChatHistoryItem, tokenizer: Tokenizer): number {
  if (item.type === 'system') return tokenizer(typeof item.text === 'string' ? item.text : JSON.stringify(item.text)).length;
  if (item.type === 'user') return tokenizer(item.text).length;
  return tokenizer(item.response.map((part) => (typeof part === 'string' ? part : '')).join('')).length;
}

/**
 * The `contextShift` option of `LlamaChat.generateResponse` for an overflow setting (`stop` gets a shift
 * too, as a safety net: the caller keeps the prompt and reply within the context so that it never runs).
 */
export function contextShiftOptions(overflow: ContextOverflow, contextSize: number, lastEvaluationMetadata: object | undefined) {
  const size = contextShiftSizeTokens(contextSize);
  return overflow === 'truncate-middle'
    ? { size, strategy: truncateMiddleStrategy, lastEvaluationMetadata }
    : { size, strategy: 'eraseFirstResponseAndKeepFirstSystem' as const, lastEvaluationMetadata };
}
