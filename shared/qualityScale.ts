/**
 * The governor's quality scale, the part both sides need: one absolute 0..1 score comparable across model
 * families, its unit, and how to say a score in words ("like a 3B model at full precision").
 *
 * The unit is loss in nats per token, as measured by perplexity on wikitext-2 (the unit of llama.cpp's
 * quantization table). A variant whose cross-entropy is Δ nats/token above a reference assigns the right
 * token exp(−Δ) times the reference's geometric-mean probability, and the score is that ratio against a
 * model of unlimited size trained the same way:
 *
 *     quality = exp(−(k·A·N^−α + Δ_quant))
 *
 * A·N^−α is the parameter term of the Chinchilla loss fit L(N, D) = E + A/N^α + B/D^β, A = 406.4,
 * α = 0.34 (Hoffmann et al. 2022, "Training Compute-Optimal Large Language Models", arXiv:2203.15556,
 * Approach 3): the loss a model of N parameters has above one of unlimited size. k ({@link SIZE_LOSS_SCALE},
 * ≈ 3.0) puts it in wikitext-2 nats, the unit the quantization penalties are measured in: LLaMA-1 7B and
 * 13B, trained on the same 1.0T tokens (so only N differs), differ by ln(5.68 ÷ 5.09) = 0.110 nats/token
 * on wikitext-2, where the Chinchilla term alone gives 0.037. Without k, a 14B model at Q4_K_M would rank
 * below a 7B at Q8_0, the opposite of every published perplexity comparison (e.g. llama.cpp PR #1684).
 * Used absolutely (not relative to a family's largest member), the size term puts every family on one
 * scale: at full precision 135M → 0.13, 0.5B → 0.26, 1B → 0.35, 3B → 0.49, 8B → 0.60, 70B → 0.78.
 * Δ_quant is the quantization's loss (llama.cpp's perplexity table, electron/governor/quality.ts);
 * published benchmark scores and measured bits per byte move a variant on the same scale (see there).
 *
 * Runtime-neutral (no Node, DOM or Electron imports): the renderer uses it to put scores into words.
 */
import { formatParameterCount } from './format.js';

/** Chinchilla loss fit, parameter term coefficient A (nats/token). Hoffmann et al. 2022, Approach 3. */
export const CHINCHILLA_A = 406.4;
/** Chinchilla loss fit, parameter exponent α. Hoffmann et al. 2022, Approach 3. */
export const CHINCHILLA_ALPHA = 0.34;

/**
 * Wikitext-2 perplexity of LLaMA-1 7B and 13B at FP16, and their parameter counts: 5.68 and 5.09
 * (reported identically by AWQ, Lin et al. 2023, arXiv:2306.00978, Table 4, and OmniQuant, Shao et al.
 * 2023, arXiv:2308.13137, Table 1); 6.74B and 13.0B (Touvron et al. 2023, arXiv:2302.13971). Both were
 * trained on 1.0T tokens. Llama-2 7B/13B (5.47 / 4.88, same tables) give the same scale within 5%.
 */
export const LLAMA1_WIKITEXT2_PPL = { small: { parameterCount: 6.74e9, perplexity: 5.68 }, large: { parameterCount: 13.0e9, perplexity: 5.09 } } as const;

/**
 * k: the Chinchilla size term in wikitext-2 nats/token, ln(PPL_7B ÷ PPL_13B) ÷ (A·(N_7B^−α − N_13B^−α))
 * ≈ 2.96 (see {@link LLAMA1_WIKITEXT2_PPL}).
 */
export const SIZE_LOSS_SCALE =
  Math.log(LLAMA1_WIKITEXT2_PPL.small.perplexity / LLAMA1_WIKITEXT2_PPL.large.perplexity) /
  (CHINCHILLA_A * (LLAMA1_WIKITEXT2_PPL.small.parameterCount ** -CHINCHILLA_ALPHA - LLAMA1_WIKITEXT2_PPL.large.parameterCount ** -CHINCHILLA_ALPHA));

/**
 * Bytes of English text per token of the scale's loss unit: 4 ("one token generally corresponds to ~4
 * characters of text for common English text", OpenAI tokenizer guide / help center "What are tokens").
 * Turns a difference in bits per byte into nats per token: Δnats/token = ΔBPB × ln 2 × 4.
 */
export const SCALE_BYTES_PER_TOKEN = 4;

/** Smallest and largest parameter counts the scale's words use (1K .. 10T). */
const MIN_PARAMS = 1e3;
const MAX_PARAMS = 1e13;

/**
 * The size term of the loss, wikitext-2 nats/token: k·A·N^−α for `parameterCount` N > 0 (see the file
 * comment). @returns +Infinity for a count that is not a positive finite number.
 */
export function sizeLossNats(parameterCount: number): number {
  if (!Number.isFinite(parameterCount) || parameterCount <= 0) return Number.POSITIVE_INFINITY;
  return SIZE_LOSS_SCALE * CHINCHILLA_A * parameterCount ** -CHINCHILLA_ALPHA;
}

/** Quality for a loss above the unlimited model, nats/token: exp(−loss), in [0, 1] (NaN → 0). */
export function qualityFromLossNats(lossNats: number): number {
  if (Number.isNaN(lossNats)) return 0;
  return Math.min(1, Math.max(0, Math.exp(-Math.max(0, lossNats))));
}

/** Quality of a model of `parameterCount` weights at full precision: exp(−A·N^−α). */
export function qualityAtFullPrecision(parameterCount: number): number {
  return qualityFromLossNats(sizeLossNats(parameterCount));
}

/**
 * The parameter count whose full-precision model has `quality`: the inverse of
 * {@link qualityAtFullPrecision}, N = (k·A ÷ −ln q)^(1/α), clamped to 1K..10T. null for q ≤ 0, ≥ 1 or NaN.
 */
export function equivalentParameterCount(quality: number): number | null {
  if (!(quality > 0) || !(quality < 1)) return null;
  const n = ((SIZE_LOSS_SCALE * CHINCHILLA_A) / -Math.log(quality)) ** (1 / CHINCHILLA_ALPHA);
  return Math.min(MAX_PARAMS, Math.max(MIN_PARAMS, n));
}

/**
 * A score in words: "like a 3.2B model at full precision" (the size whose full-precision model scores the
 * same, {@link equivalentParameterCount}). "not measurable" for 0 or NaN, "like an unlimited model" for 1.
 */
export function describeQuality(quality: number): string {
  if (!(quality > 0)) return 'not measurable';
  if (quality >= 1) return 'like an unlimited model';
  const n = equivalentParameterCount(quality);
  return n === null ? 'not measurable' : `like a ${formatParameterCount(n)} model at full precision`;
}

/** A quality floor said the way a user thinks of it: a model size at a quantization. */
export interface QualityFloor {
  /** Parameters of the reference model. */
  parameterCount: number;
  /** Its quantization (llama.cpp name). */
  quantization: string;
  /** The floor in words, shown in the UI. */
  text: string;
}

/**
 * Saver's quality floor: at least as good as a 1B model at Q4_K_M (≈ 0.34 on the scale). The smallest
 * models that still hold a conversation are 1B-class (Llama-3.2-1B, Qwen2.5-1.5B, Gemma-3-1B); Q4_K_M is
 * the usual download. It keeps 135M–360M models (≈ 0.13–0.20) out of Saver's choices, and admits
 * 1B-class variants at Q4_K_M and up and 3B-class ones down to Q3_K_S.
 */
export const SAVER_QUALITY_FLOOR: QualityFloor = {
  parameterCount: 1e9,
  quantization: 'Q4_K_M',
  text: 'at least as good as a 1B model at Q4_K_M',
};
