/**
 * The quality of each variant on ONE absolute scale, comparable across model families (the scale itself:
 * shared/qualityScale.ts). 0..1, the geometric-mean probability of the right token relative to a model of
 * unlimited size trained the same way: quality = exp(−loss above that model, nats/token).
 *
 * Three sources, best first (each candidate says which: {@link QualitySource}):
 * 1. `measured`: bits per byte (BPB) on the held-out text bundled with the app, measured on this machine
 *    by the calibration bench. BPB divides by text bytes, so it compares models with different tokenizers.
 *    A difference in BPB is a difference in loss: Δnats/token = ΔBPB × ln 2 × 4 bytes/token
 *    (`SCALE_BYTES_PER_TOKEN`). The text's own entropy is unknown, so measured scores are placed
 *    relative to the best measured variant (the lowest BPB), which keeps its published or prior score:
 *    quality_i = exp(−(loss_best + (BPB_i − BPB_best) × ln 2 × 4)). See {@link measuredQualities}.
 * 2. `published`: a sourced benchmark score (MMLU, electron/governor/publishedScores.ts) matched from the
 *    GGUF metadata; the score is turned into the parameter count a typical model of the table needs for
 *    it (a least-squares fit over the table), and that count into loss with the size term below.
 * 3. `prior`: from the parameter count and the quantization only:
 *
 *        loss = A·N^−α + Δ_quant
 *
 *    - A·N^−α: the parameter term of the Chinchilla loss fit, absolute (no per-family normalization), with
 *      A = 406.4, α = 0.34 (Hoffmann et al. 2022, arXiv:2203.15556, Approach 3): 135M → 0.50,
 *      1B → 0.70, 3B → 0.78, 8B → 0.84 at full precision. Monotone in N within and across families.
 *    - Δ_quant = ln(PPL_quant ÷ PPL_F16) from llama.cpp's perplexity table for Llama-3-8B vs FP16 on
 *      wikitext-2 (llama.cpp `tools/perplexity/README.md`, "LLaMA 3 8b Scoreboard", FP16 PPL 6.233160;
 *      Q8_0 ΔPPL +0.003, Q6_K +0.022, Q5_K_M +0.057, Q4_K_M +0.175, IQ4_XS +0.228, Q4_0 +0.469,
 *      Q3_K_M +0.657, Q2_K +3.52). Other names use their own row of the same table when it has one, else
 *      are interpolated by bits per weight (see {@link quantDeltaPpl}). The published source adds the same
 *      penalty (benchmarks are published for the unquantized model).
 *
 * Caveats, on purpose conservative: better-trained models lose more at the same quantization (Q4_K_M mean
 * KLD 0.031 on Llama-3-8B vs 0.013 on Llama-2-7B, llama.cpp PR #6936), and Llama-3-8B is a modern,
 * heavily trained model, so its losses are a fair prior for current families. The quantization penalty is
 * taken as independent of size. The Chinchilla fit describes compute-optimal training; today's small
 * models are trained far longer and beat it, which is what the published scores correct where they can.
 */
import { CHINCHILLA_A, CHINCHILLA_ALPHA, SCALE_BYTES_PER_TOKEN, qualityFromLossNats, sizeLossNats } from '../../shared/qualityScale.js';
import { formatParameterCount } from '../../shared/format.js';
import { matchPublishedScore, publishedEffectiveParameterCount } from './publishedScores.js';
import type { CandidateInput } from './types.js';

export { CHINCHILLA_A, CHINCHILLA_ALPHA };

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

/** Where a variant's quality comes from, best first: measured here, published, or the size/quantization prior. */
export type QualitySource = 'measured' | 'published' | 'prior';

/** One variant's quality on the absolute scale. */
export interface QualityEstimate {
  /** 0..1 (see the file comment). */
  quality: number;
  source: QualitySource;
  /** One line on what the score rests on, shown to the user. */
  basis: string;
  /** Loss above a model of unlimited size, nats/token (quality = exp(−lossNats)). */
  lossNats: number;
}

/** What the quality functions read of a variant (a subset of {@link CandidateInput}). */
export type QualityInput = Pick<CandidateInput, 'parameterCount' | 'quantization'> &
  Partial<Pick<CandidateInput, 'sizeBytes' | 'basename' | 'sizeLabel' | 'name' | 'fileName'>>;

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

/** The header's parameter count when usable, else one estimated from the file size (`estimated: true`). */
function knownParams(input: QualityInput): { params: number | null; estimated: boolean } {
  const n = input.parameterCount;
  if (n != null && n > 0 && Number.isFinite(n)) return { params: n, estimated: false };
  if (input.sizeBytes == null) return { params: null, estimated: false };
  return { params: estimateParameterCount(input.sizeBytes, input.quantization), estimated: true };
}

/**
 * The quantization's loss and its text: the scoreboard row, an alias, an interpolation by bits per weight
 * (the name's nominal bits, else the file's own when size and count are known), else Q4_K_M's.
 */
function quantLoss(input: QualityInput, params: number | null, estimated: boolean): { nats: number; text: string } {
  let info = quantInfo(input.quantization);
  let text: string;
  if (info == null) {
    const fileBpw = !estimated && params != null && input.sizeBytes != null && input.sizeBytes > 0 ? (input.sizeBytes * 8) / params : null;
    const label = normalizeQuantization(input.quantization) ?? 'unknown quantization';
    if (fileBpw != null && Number.isFinite(fileBpw)) {
      info = { name: label, deltaPpl: deltaPplAtBitsPerWeight(fileBpw), bitsPerWeight: fileBpw, source: 'interpolated' };
      text = `${label}: ${fileBpw.toFixed(2)} bits/weight → ΔPPL +${fmtDelta(info.deltaPpl)} (interpolated on llama.cpp's Llama-3-8B table)`;
    } else {
      info = { ...TABLE.get(FALLBACK_QUANT)!, name: label, source: 'interpolated' };
      text = `${label}: assumed like Q4_K_M (ΔPPL +${fmtDelta(info.deltaPpl)})`;
    }
  } else if (info.deltaPpl === 0) {
    text = info.name.startsWith('TQ') ? `${info.name}: ternary, lossless for a natively ternary model` : `${info.name}: full precision`;
  } else if (info.source === 'llama.cpp') {
    text = `${info.name}: ΔPPL +${fmtDelta(info.deltaPpl)} on Llama-3-8B (llama.cpp)`;
  } else if (info.source === 'alias') {
    text = `${info.name}: like its scoreboard row, ΔPPL +${fmtDelta(info.deltaPpl)} (llama.cpp)`;
  } else {
    text = `${info.name}: ${info.bitsPerWeight.toFixed(2)} bits/weight → ΔPPL +${fmtDelta(info.deltaPpl)} (interpolated)`;
  }
  return { nats: quantPenaltyNats(info.deltaPpl), text };
}

/**
 * The prior: loss = A·N^−α (absolute Chinchilla size term) + the quantization's loss. Parameter count from
 * the header, else estimated from `sizeBytes`; unknown size → the size term of a 1B model (said in the
 * basis), so an unreadable count neither wins nor loses by default.
 *
 * Never throws. E.g. basis `1.5B: −0.30 nats; Q4_K_M: ΔPPL +0.175 on Llama-3-8B (llama.cpp)`.
 */
export function priorQuality(input: QualityInput): QualityEstimate {
  const { params, estimated } = knownParams(input);
  const sizeNats = params != null ? sizeLossNats(params) : sizeLossNats(1e9);
  const sizeText =
    params == null
      ? 'size unknown (taken as 1B)'
      : `${estimated ? '~' : ''}${formatParameterCount(params)}${estimated ? ' (from the file size)' : ''} parameters: −${sizeNats.toFixed(3)} nats`;
  const quant = quantLoss(input, params, estimated);
  const lossNats = sizeNats + quant.nats;
  return { quality: qualityFromLossNats(lossNats), source: 'prior', basis: `${sizeText}; ${quant.text}`, lossNats };
}

/**
 * The reference quality of a variant before any measurement here: its published score when the metadata
 * (`basename`, `name`, `fileName`, `sizeLabel`, parameter count) matches a row of the published table,
 * else {@link priorQuality}. A published score gives the parameter count a typical model of the table
 * needs for it ({@link publishedEffectiveParameterCount}); the loss is that count's size term plus the
 * file's quantization loss. Never throws.
 */
export function referenceQuality(input: QualityInput): QualityEstimate {
  const { params, estimated } = knownParams(input);
  const row = matchPublishedScore({
    basename: input.basename ?? null,
    name: input.name ?? null,
    fileName: input.fileName ?? null,
    sizeLabel: input.sizeLabel ?? null,
    parameterCount: params,
  });
  if (row == null) return priorQuality(input);
  const effective = publishedEffectiveParameterCount(row.mmlu, params ?? row.parameterCount);
  const sizeNats = sizeLossNats(effective);
  const quant = quantLoss(input, params, estimated);
  const lossNats = sizeNats + quant.nats;
  return {
    quality: qualityFromLossNats(lossNats),
    source: 'published',
    basis: `${row.family} ${row.sizeLabel}: ${row.benchmark} ${row.mmlu.toFixed(1)} (${row.source}), like a typical ${formatParameterCount(effective)} model: −${sizeNats.toFixed(3)} nats; ${quant.text}`,
    lossNats,
  };
}

/**
 * Measured qualities from bits per byte on one held-out text (see the file comment): the variant with the
 * lowest BPB keeps its reference loss; every other measured one is placed (BPB_i − BPB_best) × ln 2 ×
 * {@link SCALE_BYTES_PER_TOKEN} nats/token below it. Entries without a finite, positive `bitsPerByte` get
 * null (keep their reference). All entries must have been measured on the same text (the caller's job).
 *
 * @param items per variant: its measured BPB (or null), its reference estimate and a label for the basis.
 * @returns one entry per item, in order.
 */
export function measuredQualities(items: ReadonlyArray<{ bitsPerByte: number | null; reference: QualityEstimate; label: string }>): Array<QualityEstimate | null> {
  let best = -1;
  items.forEach((item, i) => {
    const b = item.bitsPerByte;
    if (b != null && Number.isFinite(b) && b > 0 && (best < 0 || b < items[best]!.bitsPerByte!)) best = i;
  });
  if (best < 0) return items.map(() => null);
  const anchor = items[best]!;
  const anchorBpb = anchor.bitsPerByte!;
  return items.map((item, i) => {
    const b = item.bitsPerByte;
    if (b == null || !Number.isFinite(b) || b <= 0) return null;
    const extraNats = (b - anchorBpb) * Math.LN2 * SCALE_BYTES_PER_TOKEN;
    const lossNats = anchor.reference.lossNats + extraNats;
    const basis =
      i === best
        ? `${b.toFixed(3)} bits/byte on the held-out text, the best measured here (its ${anchor.reference.source} score kept: ${anchor.reference.basis})`
        : `${b.toFixed(3)} bits/byte on the held-out text, +${(b - anchorBpb).toFixed(3)} over the best measured (${anchor.label}, ${anchorBpb.toFixed(3)}): −${extraNats.toFixed(3)} nats`;
    return { quality: qualityFromLossNats(lossNats), source: 'measured', basis, lossNats };
  });
}

/**
 * Every input's quality, best source first (measured, published, prior), in input order: the reference
 * ({@link referenceQuality}) of each, then {@link measuredQualities} over those with
 * `measuredQuality.bitsPerByte`. O(n). Never throws.
 */
export function qualitiesOf(inputs: readonly CandidateInput[]): QualityEstimate[] {
  const references = inputs.map((input) => referenceQuality(input));
  const measured = measuredQualities(
    inputs.map((input, i) => ({
      bitsPerByte: input.measuredQuality?.bitsPerByte ?? null,
      reference: references[i]!,
      label: `${input.name}${input.quantization ? ` ${input.quantization}` : ''}`,
    })),
  );
  return references.map((reference, i) => measured[i] ?? reference);
}

/** The loss a quality stands for, nats/token (inverse of `qualityFromLossNats`); +Infinity for 0. */
export function lossOfQuality(quality: number): number {
  return quality > 0 ? -Math.log(Math.min(1, quality)) : Number.POSITIVE_INFINITY;
}

/** The prior quality of a reference model: `parameterCount` weights at `quantization` (for profile floors). */
export function referenceModelQuality(parameterCount: number, quantization: string): number {
  return priorQuality({ parameterCount, quantization }).quality;
}

function fmtDelta(d: number): string {
  return d >= 1 ? d.toFixed(2) : d.toFixed(3);
}
