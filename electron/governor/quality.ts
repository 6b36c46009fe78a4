/**
 * The quality prior: how good one variant is expected to be relative to its family's best, from its size
 * and its quantization, before any evaluation on this machine. 0..1, 1 = the family's largest variant at
 * full precision (F16/BF16/F32).
 *
 * One unit for both effects: the loss in cross-entropy, nats per token. Perplexity is exp(mean
 * negative log-likelihood), so a variant whose loss is Δ nats/token above the reference assigns the
 * correct token a geometric-mean probability exp(−Δ) times the reference's. The score is that ratio:
 *
 *     quality = exp(−(Δ_size + Δ_quant))
 *
 * - Δ_size = A·(N^−α − N_max^−α): the parameter term of the Chinchilla loss fit L(N, D) = E + A/N^α + B/D^β
 *   with A = 406.4, α = 0.34 (Hoffmann et al. 2022, "Training Compute-Optimal Large Language Models",
 *   arXiv:2203.15556, Approach 3). It is monotone in log N (A·exp(−α·ln N)) and flattens for big models:
 *   e.g. 0.5B vs 7B ≈ 0.27 nats (×0.77), 1.5B vs 7B ≈ 0.13 nats (×0.88), 3B vs 7B ≈ 0.06 nats (×0.94).
 * - Δ_quant = ln(PPL_quant ÷ PPL_F16) from llama.cpp's perplexity table for Llama-3-8B vs FP16 on
 *   wikitext-2 (llama.cpp `tools/perplexity/README.md`, "LLaMA 3 8b Scoreboard", FP16 PPL 6.233160;
 *   Q8_0 ΔPPL +0.003, Q6_K +0.022, Q5_K_M +0.057, Q4_K_M +0.175, IQ4_XS +0.228, Q4_0 +0.469,
 *   Q3_K_M +0.657, Q2_K +3.52). Other names use their own row of the same table when it has one, else
 *   are interpolated by bits per weight (see {@link quantDeltaPpl}).
 *
 * Caveats, on purpose conservative: better-trained models lose more at the same quantization (Q4_K_M mean
 * KLD 0.031 on Llama-3-8B vs 0.013 on Llama-2-7B, llama.cpp PR #6936), and Llama-3-8B is a modern,
 * heavily trained model, so its losses are a fair prior for current families. The quantization penalty is
 * taken as independent of size. Scores compare variants of ONE family; across families they are not
 * comparable (each family's best is 1).
 */
import type { CandidateInput } from './types.js';

/** Chinchilla loss fit, parameter term coefficient A (nats/token). Hoffmann et al. 2022, Approach 3. */
export const CHINCHILLA_A = 406.4;
/** Chinchilla loss fit, parameter exponent α. Hoffmann et al. 2022, Approach 3. */
export const CHINCHILLA_ALPHA = 0.34;

/** Perplexity of Llama-3-8B at FP16 on wikitext-2 in llama.cpp (perplexity README scoreboard, rev f364eb6f). */
export const LLAMA3_8B_F16_PPL = 6.23316;
/** Llama-3-8B's parameter count (8.03 B), to turn the scoreboard's GiB into bits per weight. */
const LLAMA3_8B_PARAMS = 8.03e9;

/** One quantization: ΔPPL vs FP16 on Llama-3-8B, and effective bits per weight (file size × 8 ÷ params). */
export interface QuantInfo {
  /** Canonical name, upper case, e.g. `Q4_K_M`. */
  name: string;
  /** Perplexity increase over FP16 (Llama-3-8B, wikitext-2). */
  deltaPpl: number;
  /** Effective bits per weight of the whole file (embeddings and output included). */
  bitsPerWeight: number;
  /** Where the ΔPPL comes from. */
  source: 'llama.cpp' | 'interpolated' | 'alias';
}

/** Bits per weight from the scoreboard's "Model size [GiB]" column: GiB × 2³⁰ × 8 ÷ 8.03e9. */
function bpwFromGiB(gib: number): number {
  return (gib * 2 ** 30 * 8) / LLAMA3_8B_PARAMS;
}

/**
 * The measured rows of llama.cpp's Llama-3-8B scoreboard (tools/perplexity/README.md): [name, ΔPPL,
 * model size GiB]. Rows without an importance matrix where the table has one; the IQ quants (always made
 * with one) and Q2_K_S use the "WT 10m" imatrix row. The first eight are the anchors named in the brief.
 */
const MEASURED: ReadonlyArray<readonly [string, number, number]> = [
  ['F16', 0, 14.97],
  ['Q8_0', 0.00265, 7.96],
  ['Q6_K', 0.021748, 6.14],
  ['Q5_K_M', 0.056974, 5.33],
  ['Q4_K_M', 0.175482, 4.58],
  ['IQ4_XS', 0.228071, 4.14],
  ['Q4_0', 0.468514, 4.34],
  ['Q3_K_M', 0.656864, 3.74],
  ['Q2_K', 3.519934, 2.96],
  ['Q5_K_S', 0.104964, 5.21],
  ['Q5_1', 0.106223, 5.65],
  ['Q5_0', 0.131591, 5.21],
  ['Q4_K_S', 0.268895, 4.37],
  ['IQ4_NL', 0.223959, 4.35],
  ['Q4_1', 0.451103, 4.78],
  ['Q3_K_L', 0.556242, 4.03],
  ['IQ3_M', 0.666694, 3.53],
  ['IQ3_S', 0.733867, 3.42],
  ['IQ3_XS', 0.931409, 3.28],
  ['IQ3_XXS', 1.226803, 3.05],
  ['Q3_K_S', 1.632152, 3.41],
  ['IQ2_M', 2.369166, 2.74],
  ['Q2_K_S', 3.092145, 2.96],
  ['IQ2_S', 3.419148, 2.56],
  ['IQ2_XS', 4.529791, 2.43],
  ['IQ2_XXS', 7.860148, 2.24],
  ['IQ1_M', 19.262089, 2.01],
  ['IQ1_S', 54.462959, 1.88],
];

/**
 * Names with no scoreboard row that behave like one that has: full precision (no loss), ggml tensor type
 * names without the K-quant size suffix (a file whose type was taken from its tensors: `Q4_K` is the
 * Q4_K_M mix's main type), and the ARM-repacked Q4_0 layouts (same numbers, other memory order).
 */
const ALIASES: Readonly<Record<string, string>> = {
  F32: 'F16',
  F64: 'F16',
  BF16: 'F16',
  Q8_1: 'Q8_0',
  Q8_K: 'Q8_0',
  Q6_K_S: 'Q6_K',
  Q5_K: 'Q5_K_M',
  Q4_K: 'Q4_K_M',
  Q3_K: 'Q3_K_M',
  Q4_0_4_4: 'Q4_0',
  Q4_0_4_8: 'Q4_0',
  Q4_0_8_8: 'Q4_0',
  Q4_1_SOME_F16: 'Q4_1',
  // Ternary packings exist for natively ternary models (BitNet b1.58, TriLM; llama.cpp PR #8151), whose
  // trained weights they store exactly: no loss against the model's own full precision.
  TQ1_0: 'F16',
  TQ2_0: 'F16',
};

/**
 * Nominal bits per weight of quantization types with no scoreboard row (ggml block sizes: e.g. MXFP4 is
 * 4.25 = 4 bits + one 8-bit scale per 32 weights), used for interpolation.
 */
const NOMINAL_BPW: Readonly<Record<string, number>> = {
  MXFP4_MOE: 4.25,
  MXFP4: 4.25,
  NVFP4: 4.5,
  Q4_2: 5.0,
  Q4_3: 6.0,
};

const TABLE = new Map<string, QuantInfo>();
for (const [name, deltaPpl, gib] of MEASURED) {
  TABLE.set(name, { name, deltaPpl, bitsPerWeight: name === 'F16' ? 16 : bpwFromGiB(gib), source: 'llama.cpp' });
}

/**
 * The interpolation curve: the K-quant ladder plus Q8_0 and F16, ascending in bits per weight; ΔPPL rises
 * monotonically as bits fall along it (unlike the full table, where e.g. Q4_0 loses more than the smaller
 * IQ4_XS).
 */
const CURVE: ReadonlyArray<QuantInfo> = ['Q2_K', 'Q3_K_M', 'Q4_K_M', 'Q5_K_M', 'Q6_K', 'Q8_0', 'F16'].map((n) => TABLE.get(n)!);

/**
 * ΔPPL at `bitsPerWeight` on the {@link CURVE}: log-linear in ΔPPL between neighbouring rows (the table's
 * ΔPPL falls roughly exponentially with bits), linear between Q8_0 and F16 (ΔPPL → 0), 0 at or above
 * 16 bpw, and below Q2_K extrapolated with the Q3_K_M→Q2_K slope (at 2.0 bpw it gives ≈ +38, the
 * table's IQ1_S at 2.0 bpw measured +54: the same order).
 */
export function deltaPplAtBitsPerWeight(bitsPerWeight: number): number {
  if (!Number.isFinite(bitsPerWeight)) return CURVE[2]!.deltaPpl;
  const top = CURVE[CURVE.length - 1]!;
  if (bitsPerWeight >= top.bitsPerWeight) return 0;
  for (let i = CURVE.length - 1; i > 0; i--) {
    const hi = CURVE[i]!;
    const lo = CURVE[i - 1]!;
    if (bitsPerWeight >= lo.bitsPerWeight) {
      const t = (bitsPerWeight - lo.bitsPerWeight) / (hi.bitsPerWeight - lo.bitsPerWeight);
      if (hi.deltaPpl === 0) return lo.deltaPpl * (1 - t);
      return Math.exp(Math.log(lo.deltaPpl) + t * (Math.log(hi.deltaPpl) - Math.log(lo.deltaPpl)));
    }
  }
  const a = CURVE[0]!; // Q2_K
  const b = CURVE[1]!; // Q3_K_M
  const slope = (Math.log(b.deltaPpl) - Math.log(a.deltaPpl)) / (b.bitsPerWeight - a.bitsPerWeight);
  return Math.exp(Math.log(a.deltaPpl) + slope * (bitsPerWeight - a.bitsPerWeight));
}

/** Canonical spelling of a quantization name: trimmed, upper case, `MOSTLY_`/`ALL_` prefixes dropped. */
export function normalizeQuantization(quantization: string | null | undefined): string | null {
  if (quantization == null) return null;
  const q = quantization.trim().toUpperCase().replace(/^(MOSTLY|ALL)_/, '');
  return q.length > 0 ? q : null;
}

/**
 * What the prior knows about one quantization name (any case; `MOSTLY_` prefixes allowed): its scoreboard
 * row, an alias's row, or an interpolation at its nominal bits per weight. null for names it cannot place
 * (null, `type 41`, a future format): the caller then falls back to the file's own bits per weight.
 */
export function quantInfo(quantization: string | null | undefined): QuantInfo | null {
  const name = normalizeQuantization(quantization);
  if (name == null) return null;
  const direct = TABLE.get(name);
  if (direct) return direct;
  const alias = ALIASES[name];
  if (alias != null) {
    const row = TABLE.get(alias)!;
    return { ...row, name, bitsPerWeight: name === 'TQ1_0' ? 1.69 : name === 'TQ2_0' ? 2.06 : row.bitsPerWeight, source: 'alias' };
  }
  const bpw = NOMINAL_BPW[name];
  if (bpw != null) return { name, deltaPpl: deltaPplAtBitsPerWeight(bpw), bitsPerWeight: bpw, source: 'interpolated' };
  return null;
}

/**
 * ΔPPL vs FP16 for a quantization name (see {@link quantInfo}); null when the name is unknown.
 * F16/BF16/F32 → 0.
 */
export function quantDeltaPpl(quantization: string | null | undefined): number | null {
  return quantInfo(quantization)?.deltaPpl ?? null;
}

/** Loss of a quantization in nats/token: ln((PPL_F16 + ΔPPL) ÷ PPL_F16), ≥ 0. */
export function quantPenaltyNats(deltaPpl: number): number {
  if (!(deltaPpl > 0)) return 0;
  return Math.log((LLAMA3_8B_F16_PPL + deltaPpl) / LLAMA3_8B_F16_PPL);
}

/**
 * Loss of a smaller sibling in nats/token: A·(N^−α − N_max^−α) with the Chinchilla fit (≥ 0; 0 when
 * either count is unknown, not positive, or N ≥ N_max).
 */
export function sizePenaltyNats(parameterCount: number | null, largestParameterCount: number | null): number {
  if (parameterCount == null || largestParameterCount == null) return 0;
  if (!(parameterCount > 0) || !(largestParameterCount > 0) || parameterCount >= largestParameterCount) return 0;
  return CHINCHILLA_A * (parameterCount ** -CHINCHILLA_ALPHA - largestParameterCount ** -CHINCHILLA_ALPHA);
}

/** Bits per weight the prior assumes for a file whose quantization it cannot place: Q4_K_M's, the usual download. */
const FALLBACK_QUANT = 'Q4_K_M';

/**
 * Parameter count estimated from the file size when the header gave none: sizeBytes × 8 ÷ bits per weight
 * of its quantization (Q4_K_M's when unknown). null when the size is not positive.
 */
export function estimateParameterCount(sizeBytes: number, quantization: string | null): number | null {
  if (!(sizeBytes > 0) || !Number.isFinite(sizeBytes)) return null;
  const bpw = (quantInfo(quantization) ?? TABLE.get(FALLBACK_QUANT)!).bitsPerWeight;
  return (sizeBytes * 8) / bpw;
}

/** `1.5B`, `260K`, `70B` for messages. */
export function formatParameterCount(n: number): string {
  const units: Array<[number, string]> = [[1e12, 'T'], [1e9, 'B'], [1e6, 'M'], [1e3, 'K']];
  for (const [scale, unit] of units) {
    if (n >= scale) {
      const v = n / scale;
      return `${v >= 10 ? v.toFixed(0) : Number(v.toFixed(1))}${unit}`;
    }
  }
  return `${Math.round(n)}`;
}

/**
 * The quality prior of one variant, 0..1 (see the file comment): exp(−(size penalty + quantization
 * penalty)) relative to the largest parameter count among `familyPeers` of the same family (and the
 * input itself) at full precision.
 *
 * - Parameter counts: the input's / peers' `parameterCount`, else estimated from `sizeBytes` (when given)
 *   and the quantization's bits per weight. Unknown size → no size penalty (said in `basis`).
 * - Quantization: the scoreboard row, an alias, or an interpolation by bits per weight; a name the prior
 *   cannot place is interpolated at the file's own bits per weight (sizeBytes × 8 ÷ parameterCount) when
 *   both are known, else taken as Q4_K_M (said in `basis`).
 *
 * Never throws; peers of other families are ignored.
 *
 * @returns `quality` in (0, 1] and a one-line `basis`, e.g.
 *   `1.5B of the family's 7B (−0.126 nats); Q4_K_M: ΔPPL +0.175 on Llama-3-8B (llama.cpp)`.
 */
export function qualityOf(
  input: Pick<CandidateInput, 'family' | 'parameterCount' | 'quantization'> & Partial<Pick<CandidateInput, 'sizeBytes'>>,
  familyPeers: CandidateInput[],
): { quality: number; basis: string } {
  const ownParams = knownParams(input.parameterCount, input.sizeBytes, input.quantization);
  let largest = ownParams;
  for (const peer of familyPeers) {
    if (peer.family !== input.family) continue;
    const p = knownParams(peer.parameterCount, peer.sizeBytes, peer.quantization);
    if (p != null && (largest == null || p > largest)) largest = p;
  }

  const sizeNats = sizePenaltyNats(ownParams, largest);
  const estimated = ownParams != null && !(input.parameterCount != null && input.parameterCount > 0 && Number.isFinite(input.parameterCount));
  let sizeText: string;
  if (ownParams == null) sizeText = 'size unknown (no size penalty)';
  else {
    const own = `${estimated ? '~' : ''}${formatParameterCount(ownParams)}${estimated ? ' (from the file size)' : ''}`;
    if (largest != null && sizeNats > 0) sizeText = `${own} of the family's ${formatParameterCount(largest)} (−${sizeNats.toFixed(3)} nats)`;
    else sizeText = `${own}, the family's largest`;
  }

  let info = quantInfo(input.quantization);
  let quantText: string;
  if (info == null) {
    const fileBpw = !estimated && ownParams != null && input.sizeBytes != null && input.sizeBytes > 0 ? (input.sizeBytes * 8) / ownParams : null;
    const label = normalizeQuantization(input.quantization) ?? 'unknown quantization';
    if (fileBpw != null && Number.isFinite(fileBpw)) {
      info = { name: label, deltaPpl: deltaPplAtBitsPerWeight(fileBpw), bitsPerWeight: fileBpw, source: 'interpolated' };
      quantText = `${label}: ${fileBpw.toFixed(2)} bits/weight → ΔPPL +${fmtDelta(info.deltaPpl)} (interpolated on llama.cpp's Llama-3-8B table)`;
    } else {
      info = { ...TABLE.get(FALLBACK_QUANT)!, name: label, source: 'interpolated' };
      quantText = `${label}: assumed like Q4_K_M (ΔPPL +${fmtDelta(info.deltaPpl)})`;
    }
  } else if (info.deltaPpl === 0) {
    quantText = info.name.startsWith('TQ') ? `${info.name}: ternary, lossless for a natively ternary model` : `${info.name}: full precision`;
  } else if (info.source === 'llama.cpp') {
    quantText = `${info.name}: ΔPPL +${fmtDelta(info.deltaPpl)} on Llama-3-8B (llama.cpp)`;
  } else if (info.source === 'alias') {
    quantText = `${info.name}: like its scoreboard row, ΔPPL +${fmtDelta(info.deltaPpl)} (llama.cpp)`;
  } else {
    quantText = `${info.name}: ${info.bitsPerWeight.toFixed(2)} bits/weight → ΔPPL +${fmtDelta(info.deltaPpl)} (interpolated)`;
  }

  const quality = Math.exp(-(sizeNats + quantPenaltyNats(info.deltaPpl)));
  return { quality: Math.min(1, Math.max(0, quality)), basis: `${sizeText}; ${quantText}` };
}

function knownParams(parameterCount: number | null, sizeBytes: number | undefined, quantization: string | null): number | null {
  if (parameterCount != null && parameterCount > 0 && Number.isFinite(parameterCount)) return parameterCount;
  if (sizeBytes == null) return null;
  return estimateParameterCount(sizeBytes, quantization);
}

function fmtDelta(d: number): string {
  return d >= 1 ? d.toFixed(2) : d.toFixed(3);
}
