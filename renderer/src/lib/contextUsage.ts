/**
 * What the context meter under the composer shows for a `chat.context` answer: the figures, the tone,
 * and the sentence saying what happens when the next message does not fit. Pure; tested in
 * test/unit/contextUsage.test.ts.
 */
import type { ContextOverflow, ContextUsage } from '../../../shared/contract.js';

/**
 * Share of the context (history + draft + reply reserve over the context size) above which the meter
 * turns to the warning colour: 85%, about where LM Studio's context indicator turns amber, early enough
 * to trim or start a new chat before anything is dropped.
 */
export const contextWarnFraction = 0.85;

/** The meter's tone: normal, nearly full, full (something will be dropped) or blocked (nothing can fit / `stop`). */
export type ContextTone = 'ok' | 'warn' | 'full' | 'blocked';

/** Everything the meter renders. Token counts are whole tokens. */
export interface ContextView {
  /** Tokens in the window: history + draft. */
  usedTokens: number;
  /** usedTokens + the reply reserve: what the next reply needs. */
  neededTokens: number;
  contextSize: number;
  /** usedTokens / contextSize, 0..1 (clamped). */
  usedFraction: number;
  /** The reply reserve's share of the bar after the used part, 0..1 (clamped to what is left). */
  reserveFraction: number;
  tone: ContextTone;
  /** False when the counts are estimates (shown with "≈"). */
  exact: boolean;
  /** The figures as shown: "1,234 / 2,048 tokens", with "≈ " in front when estimated. */
  label: string;
  /** What will happen to the next message; null while it fits. */
  notice: string | null;
}

/** What each overflow setting does to a conversation that no longer fits, as the meter says it. */
export const overflowNotice: Readonly<Record<ContextOverflow, string>> = {
  'rolling-window': 'Oldest messages will be dropped to make room',
  'truncate-middle': 'The middle of the conversation will be dropped; your first message stays',
  stop: 'The context is full: start a new chat or shorten your message',
};

/** Whole numbers with thousands separators, "12,345". */
function whole(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/**
 * The meter's view of `usage`. Tone: `warn` above {@link contextWarnFraction}; past the context size
 * `full` (the overflow setting drops history) or `blocked` (the setting is `stop`, or the draft and the
 * reply reserve alone do not fit, which no dropping of history can fix).
 */
export function contextView(usage: ContextUsage): ContextView {
  const { contextSize, historyTokens, draftTokens, replyReserveTokens, exact, overflow } = usage;
  const usedTokens = historyTokens + draftTokens;
  const neededTokens = usedTokens + replyReserveTokens;
  const usedFraction = Math.min(1, usedTokens / contextSize);
  const reserveFraction = Math.min(1 - usedFraction, replyReserveTokens / contextSize);
  let tone: ContextTone = 'ok';
  let notice: string | null = null;
  if (draftTokens > 0 && draftTokens + replyReserveTokens > contextSize) {
    tone = 'blocked';
    notice = `Your message alone does not fit: ${whole(draftTokens)} tokens + ${whole(replyReserveTokens)} for the reply > ${whole(contextSize)}. Shorten it, remove an attachment or raise the context size in Settings`;
  } else if (neededTokens > contextSize) {
    tone = overflow === 'stop' ? 'blocked' : 'full';
    notice = overflowNotice[overflow];
  } else if (neededTokens > contextWarnFraction * contextSize) {
    tone = 'warn';
  }
  const label = `${exact ? '' : '≈ '}${whole(usedTokens)} / ${whole(contextSize)} tokens`;
  return { usedTokens, neededTokens, contextSize, usedFraction, reserveFraction, tone, exact, label, notice };
}
