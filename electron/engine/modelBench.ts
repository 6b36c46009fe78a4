/**
 * The calibration bench's measurements on one loaded model (node-llama-cpp), one function per quantity:
 * bits per byte on a text, prefill speed, sustained greedy decode, and the process's peak resident
 * memory. `LlamaEngine.benchmark` runs them in order inside its queue (never beside a reply).
 *
 * Bits per byte (BPB): −Σ log₂ p(tokenᵢ | tokens before it) ÷ UTF-8 bytes of the scored text. Dividing by
 * bytes instead of tokens makes models with different tokenizers comparable (the same text, however it is
 * cut). Long texts are scored in windows of the context size that overlap by half, llama.cpp
 * `perplexity`-style: every token is scored once, and every one after the first window with at least half
 * a window of context. log p comes from node-llama-cpp's `controlledEvaluate`: the target's logit, the
 * greedy (argmax) token's logit and Σ exp(logit − max): log p = logit_target − logit_max − ln Σ. This
 * asks llama.cpp for one logit per position (plus the sum) instead of a whole-vocabulary probability map,
 * ≈ 4× faster on a 32k vocabulary (measured on llama-2-tiny-random: 1.0 s vs 4.1–4.9 s for 258 tokens),
 * with the same result to 1e-5.
 */
import { performance } from 'node:perf_hooks';
import type { LlamaContext, LlamaContextSequence, LlamaModel, Token } from 'node-llama-cpp';

/** Thrown when the bench's AbortSignal fires; the caller keeps nothing of the variant. */
export class BenchmarkAbortedError extends Error {
  override readonly name = 'BenchmarkAbortedError';
  constructor() {
    super('calibration cancelled');
  }
}

function checkAbort(signal: AbortSignal): void {
  if (signal.aborted) throw new BenchmarkAbortedError();
}

/** What {@link measureBitsPerByte} returns. */
export interface BitsPerByteResult {
  /** Bits per UTF-8 byte of the scored text; null when no token could be scored. */
  bitsPerByte: number | null;
  /** Tokens scored (each once). */
  scoredTokens: number;
  /** UTF-8 bytes those tokens cover. */
  scoredBytes: number;
  /** Tokens evaluated (scored + context re-read by overlapping windows) per second of evaluation. */
  tokensPerSecond: number;
}

/** The tokens of `text` for scoring: BOS first when the model adds one (then every text token is scored). */
export function scoringTokens(model: LlamaModel, text: string): { tokens: Token[]; hasBos: boolean } {
  const tokens: Token[] = model.tokenize(text);
  const bos = model.tokens.bos;
  const hasBos = model.tokens.shouldPrependBosToken && bos != null;
  if (hasBos) tokens.unshift(bos);
  return { tokens, hasBos };
}

/**
 * The windows that score every token once: [begin, end) spans of at most `window` tokens, each scoring
 * the targets [scoreFrom, end); the next begins half a window before the previous end. The first target
 * is token 1 (token 0 has no context: BOS, or the first text token when the model adds none).
 * Pure; `window` ≥ 2.
 */
export function scoringWindows(tokenCount: number, window: number): Array<{ begin: number; end: number; scoreFrom: number }> {
  const size = Math.max(2, Math.floor(window));
  const stride = Math.max(1, Math.floor(size / 2));
  const out: Array<{ begin: number; end: number; scoreFrom: number }> = [];
  let begin = 0;
  let scored = 1;
  while (scored < tokenCount) {
    const end = Math.min(begin + size, tokenCount);
    out.push({ begin, end, scoreFrom: Math.max(scored, begin + 1) });
    scored = end;
    if (end >= tokenCount) break;
    begin = Math.max(begin + 1, end - stride);
  }
  return out;
}

/**
 * Bits per byte of `text` under the model, windows of `sequence`'s context size (see the file comment).
 * Clears the sequence's history before each window.
 * @throws BenchmarkAbortedError when `signal` fires; node-llama-cpp's errors as they come.
 */
export async function measureBitsPerByte(
  model: LlamaModel,
  sequence: LlamaContextSequence,
  text: string,
  signal: AbortSignal,
  onFraction: (fraction: number) => void,
): Promise<BitsPerByteResult> {
  const { tokens, hasBos } = scoringTokens(model, text);
  const totalBytes = Buffer.byteLength(text, 'utf8');
  // Without BOS the first text token is not scored: its bytes are left out.
  const unscoredBytes = hasBos || tokens.length === 0 ? 0 : Buffer.byteLength(model.detokenize([tokens[0]!]), 'utf8');
  const windows = scoringWindows(tokens.length, sequence.context.contextSize);
  let bits = 0;
  let scoredTokens = 0;
  let evaluated = 0;
  let evalMs = 0;
  for (const [i, w] of windows.entries()) {
    checkAbort(signal);
    await sequence.clearHistory();
    const input = [];
    for (let p = w.begin; p < w.end; p++) {
      const target = p + 1 >= w.scoreFrom && p + 1 < w.end ? tokens[p + 1]! : null;
      input.push(
        target === null
          ? tokens[p]!
          : ([
              tokens[p]!,
              {
                generateNext: {
                  token: true,
                  options: { temperature: 0 },
                  totalLogitWeight: true,
                  logits: { filter: { tokens: [target], includeSelected: true } },
                },
              },
            ] as const),
      );
    }
    const t0 = performance.now();
    const out = await sequence.controlledEvaluate(input as Parameters<LlamaContextSequence['controlledEvaluate']>[0]);
    evalMs += performance.now() - t0;
    evaluated += w.end - w.begin;
    for (let p = w.begin; p < w.end - 1; p++) {
      if (p + 1 < w.scoreFrom) continue;
      const next = out[p - w.begin]?.next;
      const target = tokens[p + 1]!;
      const logits = next?.logits;
      const total = next?.totalLogitWeight;
      if (!logits || total == null || !(total > 0)) continue;
      let max = Number.NEGATIVE_INFINITY;
      for (const v of logits.values()) if (v > max) max = v;
      const own = logits.get(target);
      if (own === undefined || !Number.isFinite(max)) continue;
      const logP = own - max - Math.log(total);
      bits += -logP / Math.LN2;
      scoredTokens++;
    }
    onFraction((i + 1) / windows.length);
  }
  await sequence.clearHistory();
  const scoredBytes = Math.max(0, totalBytes - unscoredBytes);
  return {
    bitsPerByte: scoredTokens > 0 && scoredBytes > 0 && Number.isFinite(bits) ? bits / scoredBytes : null,
    scoredTokens,
    scoredBytes: scoredTokens > 0 ? scoredBytes : 0,
    tokensPerSecond: evalMs > 0 ? (evaluated * 1000) / evalMs : 0,
  };
}

/**
 * Prefill speed: evaluates `tokens` (≈512, a prompt) on a cleared sequence without generating, tokens/s.
 * @throws BenchmarkAbortedError when `signal` fires before it starts.
 */
export async function measurePrefill(sequence: LlamaContextSequence, tokens: Token[], signal: AbortSignal): Promise<{ tokens: number; tokensPerSecond: number }> {
  checkAbort(signal);
  await sequence.clearHistory();
  const t0 = performance.now();
  await sequence.evaluateWithoutGeneratingNewTokens(tokens);
  const ms = performance.now() - t0;
  await sequence.clearHistory();
  return { tokens: tokens.length, tokensPerSecond: ms > 0 ? (tokens.length * 1000) / ms : 0 };
}

/** What {@link measureDecode} returns. Times are ms since the epoch (the energy window) and durations in ms. */
export interface DecodeResult {
  /** Tokens the speeds count: after each segment's first (its time includes the prompt), warm-up left out. */
  tokens: number;
  /** Every token decoded in the phase (what its energy paid for). */
  totalTokens: number;
  tokensPerSecond: number;
  /** When the decode phase started and ended (ms since the epoch): the energy window. */
  startedAt: number;
  endedAt: number;
  durationMs: number;
  /** Tokens/s in the first and the last quarter of the run's time. */
  firstQuarterTokensPerSecond: number;
  lastQuarterTokensPerSecond: number;
}

/**
 * Tokens decoded per segment of the sustained run before it starts over from the prompt: 64. Keeping
 * the context short and the same in every segment makes the per-token work constant, so a slowdown
 * between the first and the last quarter is the machine's (heat, power limits, other load), not the KV
 * cache growing (on a 260K-parameter model, decoding 800 tokens in one go halves the speed by itself).
 */
export const DECODE_SEGMENT_TOKENS = 64;

/**
 * Speeds from token arrival times, per segment (ms, ascending within a segment; each segment's first
 * token starts its clock and is not counted, as it includes the prompt). The decode clock is the sum of
 * the gaps between tokens, so the short prompt re-evaluations between segments are left out:
 * overall = tokens ÷ decode time; quarters = tokens whose gap ends in the first / last quarter of the
 * decode clock, over a quarter's length. With 3 or more segments the first is a warm-up (caches, CPU
 * clocks ramping up) and is left out of every figure. Pure.
 */
export function decodeSpeeds(segments: readonly (readonly number[])[]): Pick<DecodeResult, 'tokens' | 'tokensPerSecond' | 'durationMs' | 'firstQuarterTokensPerSecond' | 'lastQuarterTokensPerSecond'> {
  const gaps: number[] = [];
  const counted = segments.length >= 3 ? segments.slice(1) : segments;
  for (const seg of counted) for (let i = 1; i < seg.length; i++) gaps.push(Math.max(0, seg[i]! - seg[i - 1]!));
  const total = gaps.reduce((a, b) => a + b, 0);
  if (gaps.length === 0 || !(total > 0)) return { tokens: gaps.length, tokensPerSecond: 0, durationMs: total, firstQuarterTokensPerSecond: 0, lastQuarterTokensPerSecond: 0 };
  const quarter = total / 4;
  let clock = 0;
  let first = 0;
  let last = 0;
  for (const g of gaps) {
    clock += g;
    if (clock <= quarter) first++;
    if (clock > total - quarter) last++;
  }
  return {
    tokens: gaps.length,
    tokensPerSecond: (gaps.length * 1000) / total,
    durationMs: total,
    firstQuarterTokensPerSecond: (first * 1000) / quarter,
    lastQuarterTokensPerSecond: (last * 1000) / quarter,
  };
}

/**
 * Sustained greedy decode after `prompt`, in segments of {@link DECODE_SEGMENT_TOKENS} tokens that each
 * start again from the prompt (also when the model ends a segment early), until `durationMs` of decode
 * time and at least `minTokens` tokens; every token is timed.
 * @throws BenchmarkAbortedError when `signal` fires.
 */
export async function measureDecode(
  sequence: LlamaContextSequence,
  prompt: Token[],
  options: { durationMs: number; minTokens: number; signal: AbortSignal; onFraction: (fraction: number) => void },
): Promise<DecodeResult> {
  const segments: number[][] = [];
  let decodeMs = 0;
  let tokens = 0;
  let lastReport = 0;
  const startedAt = Date.now();
  const done = () => decodeMs >= options.durationMs && tokens >= options.minTokens;
  while (!done()) {
    checkAbort(options.signal);
    await sequence.clearHistory();
    const times: number[] = [];
    segments.push(times);
    for await (const _token of sequence.evaluate(prompt, { temperature: 0 })) {
      const now = performance.now();
      if (times.length > 0) {
        decodeMs += now - times[times.length - 1]!;
        tokens++;
      }
      times.push(now);
      if (options.signal.aborted || times.length > DECODE_SEGMENT_TOKENS || done()) break;
      if (now - lastReport > 200) {
        lastReport = now;
        options.onFraction(Math.min(0.99, Math.min(decodeMs / Math.max(1, options.durationMs), tokens / Math.max(1, options.minTokens))));
      }
    }
    // A model that cannot produce a second token would loop forever: give up after an empty segment.
    if (times.length < 2) break;
  }
  checkAbort(options.signal);
  const endedAt = Date.now();
  await sequence.clearHistory();
  options.onFraction(1);
  const totalTokens = segments.reduce((sum, seg) => sum + seg.length, 0);
  return { ...decodeSpeeds(segments), totalTokens, startedAt, endedAt: Math.max(startedAt, endedAt) };
}

/**
 * The process's peak resident memory while it runs: samples `process.memoryUsage.rss()` every
 * `intervalMs` (default 100 ms; the first sample at once). `stop()` ends sampling and returns the peak.
 * The timer is unref'd.
 */
export function trackPeakRss(intervalMs = 100): { baselineBytes: number; sample: () => void; stop: () => number } {
  const baselineBytes = process.memoryUsage.rss();
  let peak = baselineBytes;
  const sample = () => {
    const rss = process.memoryUsage.rss();
    if (rss > peak) peak = rss;
  };
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  return {
    baselineBytes,
    sample,
    stop: () => {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}

/** A cleared single-sequence context for the bench. */
export type BenchContext = { context: LlamaContext; sequence: LlamaContextSequence };
