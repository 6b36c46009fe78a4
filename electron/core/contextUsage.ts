/**
 * How full the context window is for the next message (contract method `chat.context`): the history as
 * it would be sent plus the draft, counted with the answering model's tokenizer and chat template when
 * that model is loaded, else estimated from UTF-8 bytes. No Electron imports; no I/O besides the engine's
 * synchronous tokenizer.
 */
import type { ContextOverflow, ContextUsage } from '../../shared/contract.js';
import type { ChatEngine, ChatTurn } from '../engine/types.js';

/**
 * UTF-8 bytes per token for the estimate: 4, the usual figure for English with BPE vocabularies of
 * 32k–150k tokens (OpenAI's tokenizer guide: "one token ≈ 4 characters of English text"). Code and other
 * languages take more tokens, so the estimate is marked as such (`exact: false`).
 */
export const ESTIMATED_BYTES_PER_TOKEN = 4;

/** Tokens a chat template adds around each message in the estimate (role markers, separators): 6. */
export const ESTIMATED_TEMPLATE_TOKENS_PER_MESSAGE = 6;

/** What {@link contextUsage} needs. */
export interface ContextUsageInput {
  engine: ChatEngine;
  /** The model that would answer, if known. */
  modelPath: string | null;
  systemPrompt: string;
  /** The stored turns that would be sent, oldest first. */
  history: readonly ChatTurn[];
  /** The message being written ('' for none). */
  draft: string;
  /** Settings in effect: context size (tokens), reply cap (tokens) and the overflow setting. */
  contextSize: number;
  maxReplyTokens: number;
  overflow: ContextOverflow;
  /**
   * Earlier replies of this conversation by the same model, for scaling the estimate when the model is not
   * loaded: each reply's measured `promptTokens` and the turns it was asked with (oldest first).
   */
  measured?: readonly { promptTokens: number; turns: readonly ChatTurn[] }[];
}

/** Bounds of the estimate's scale from measured replies: a vocabulary makes text at most 8× or at least ¼ the default token count. */
const MIN_SCALE = 0.25;
const MAX_SCALE = 8;

/**
 * How many tokens this model makes of what the byte estimate predicts, from replies it wrote in this
 * conversation: the largest ratio of measured prompt tokens to the estimate of the same prompt (a reply
 * whose window had been shifted read fewer tokens than its history, so the largest ratio is the one
 * least affected), bounded to [¼, 8]. 1 when there is none.
 */
export function estimateScale(systemPrompt: string, measured: ContextUsageInput['measured']): number {
  let scale = 0;
  for (const reply of measured ?? []) {
    const estimated = estimatePrompt(systemPrompt, reply.turns);
    if (estimated > 0 && reply.promptTokens > 0) scale = Math.max(scale, reply.promptTokens / estimated);
  }
  return scale === 0 ? 1 : Math.min(MAX_SCALE, Math.max(MIN_SCALE, scale));
}

/** Estimated tokens of one text: its UTF-8 bytes ÷ {@link ESTIMATED_BYTES_PER_TOKEN}, rounded up. */
function estimateTokens(text: string): number {
  return Math.ceil(Buffer.byteLength(text, 'utf8') / ESTIMATED_BYTES_PER_TOKEN);
}

/** Estimated prompt tokens of a system prompt and turns, template included. */
function estimatePrompt(systemPrompt: string, turns: readonly ChatTurn[]): number {
  const messages = turns.length + (systemPrompt.trim() ? 1 : 0) + 1;
  return estimateTokens(systemPrompt) + turns.reduce((n, t) => n + estimateTokens(t.content), 0) + messages * ESTIMATED_TEMPLATE_TOKENS_PER_MESSAGE;
}

/**
 * The context usage for the next message. History tokens are those of the history alone (with the
 * reply's opening); draft tokens are what adding the draft as a user turn adds. The reply reserve is the
 * reply cap, at most a quarter of the context (what the engine keeps free when it fits a long message).
 */
export function contextUsage(input: ContextUsageInput): ContextUsage {
  const { engine, modelPath, systemPrompt, history, draft } = input;
  const withDraft = draft.trim() ? [...history, { role: 'user' as const, content: draft }] : history;
  const count = (turns: readonly ChatTurn[]) =>
    modelPath && engine.countPromptTokens ? engine.countPromptTokens({ modelPath, systemPrompt, history: turns, contextSize: input.contextSize }) : null;
  const exactHistory = count(history);
  const exactWithDraft = exactHistory && withDraft !== history ? count(withDraft) : exactHistory;
  const contextSize = exactHistory?.contextSize ?? input.contextSize;
  const replyReserveTokens = Math.min(input.maxReplyTokens, Math.floor(contextSize / 4));
  if (exactHistory && exactWithDraft) {
    return {
      contextSize,
      historyTokens: exactHistory.promptTokens,
      draftTokens: Math.max(0, exactWithDraft.promptTokens - exactHistory.promptTokens),
      replyReserveTokens,
      exact: true,
      overflow: input.overflow,
    };
  }
  // No tokenizer at hand: bytes ÷ 4, scaled by what this model measured on this conversation before.
  const scale = estimateScale(systemPrompt, input.measured);
  const historyTokens = Math.round(estimatePrompt(systemPrompt, history) * scale);
  return {
    contextSize,
    historyTokens,
    draftTokens: withDraft === history ? 0 : Math.max(0, Math.round(estimatePrompt(systemPrompt, withDraft) * scale) - historyTokens),
    replyReserveTokens,
    exact: false,
    overflow: input.overflow,
  };
}
