/**
 * Published quality scores of well-known model families, matched from GGUF metadata, and how a score
 * becomes a place on the governor's quality scale (electron/governor/quality.ts).
 *
 * The benchmark is MMLU (Hendrycks et al. 2021, 57 subjects, 4 choices, chance = 25%), 5-shot, as the
 * model's authors published it for the pretrained (base) model: the one number reported the same way
 * for every family here. Instruct models are scored by their base model's row (a chat fine-tune moves
 * MMLU by a few points either way; the authors report instruct MMLU under different protocols).
 *
 * From score to scale: a least-squares line MMLU = a + b·log10(N) over the rows of this table says what a
 * typical model of N parameters scores; a published score is turned into the parameter count that line
 * needs for it (the "effective" count), whose Chinchilla size term is then the variant's size loss. A
 * model that beats the typical line for its size (more training, better data) counts as a bigger one, and
 * one below it as a smaller one, by at most {@link MAX_EFFECTIVE_SIZE_RATIO}× either way; an unmatched
 * model keeps its own count (the prior).
 */
import { SIZE_ROWS } from './publishedScoreRows.js';

/** One published score. */
export interface PublishedScore {
  /** Family as its authors name it, e.g. `Qwen2.5`. */
  family: string;
  /** Size as in the model's name, e.g. `7B`, `135M`. */
  sizeLabel: string;
  /** Total parameters, as published. */
  parameterCount: number;
  /**
   * Which models the row covers: tested against the lower-cased `general.basename`, `general.name` and
   * file name with spaces and underscores turned into `-`.
   */
  pattern: RegExp;
  /** MMLU accuracy, percent. */
  mmlu: number;
  /** The benchmark and protocol, e.g. `MMLU 5-shot (base)`. */
  benchmark: string;
  /** Where the number was published (paper table or model card). */
  source: string;
  /** License id of the model (SPDX or the vendor's license name). */
  license: string | null;
}

/** The table: one row per (family, size). Rows and their sources: ./publishedScoreRows.ts. */
export const PUBLISHED_SCORES: readonly PublishedScore[] = SIZE_ROWS;

/** MMLU's chance level with 4 choices, percent: scores at or below it say nothing about size. */
const MMLU_CHANCE = 25;

/**
 * How far a published score may move a model's effective size from its real one: 4× either way (a
 * product choice). MMLU saturates near chance (25) for small models and near the top for large ones,
 * where a few points would otherwise swing the size by orders of magnitude; 4× is the distance between
 * neighbouring sizes of one family (1.5B → 7B) and more than the spread between families at one size in
 * this table (Qwen2.5-7B counts as ≈ 3.4× its size, Llama-2-7B as ≈ 0.3×).
 */
export const MAX_EFFECTIVE_SIZE_RATIO = 4;

/** The effective parameter count is kept within 10M .. 10T (outside the range any row or fit covers). */
const MIN_EFFECTIVE = 1e7;
const MAX_EFFECTIVE = 1e13;

/** MMLU = intercept + slope × log10(parameters): the typical model of the table. */
export interface MmluFit {
  intercept: number;
  slope: number;
  /** Rows the fit is over. */
  rows: number;
}

/**
 * Least-squares line of MMLU on log10(parameter count) over `rows` (default: the table).
 * @throws Error when fewer than 2 rows or all of one size (no slope).
 */
export function fitMmlu(rows: readonly Pick<PublishedScore, 'mmlu' | 'parameterCount'>[] = PUBLISHED_SCORES): MmluFit {
  const pts = rows.filter((r) => r.parameterCount > 0 && Number.isFinite(r.mmlu)).map((r) => [Math.log10(r.parameterCount), r.mmlu] as const);
  if (pts.length < 2) throw new Error('fitMmlu needs at least 2 rows');
  const mx = pts.reduce((s, p) => s + p[0], 0) / pts.length;
  const my = pts.reduce((s, p) => s + p[1], 0) / pts.length;
  const sxx = pts.reduce((s, p) => s + (p[0] - mx) ** 2, 0);
  if (!(sxx > 0)) throw new Error('fitMmlu needs rows of different sizes');
  const slope = pts.reduce((s, p) => s + (p[0] - mx) * (p[1] - my), 0) / sxx;
  return { intercept: my - slope * mx, slope, rows: pts.length };
}

const TABLE_FIT = fitMmlu();

/**
 * The parameter count a typical model of the table needs to score `mmlu` (percent):
 * 10^((mmlu − intercept) ÷ slope) with {@link fitMmlu}'s line, clamped to 10M..10T; scores at or below
 * chance (25) give the low clamp. With `parameterCount` (the model's real size), the result is kept
 * within {@link MAX_EFFECTIVE_SIZE_RATIO}× of it.
 */
export function publishedEffectiveParameterCount(mmlu: number, parameterCount: number | null = null, fit: MmluFit = TABLE_FIT): number {
  const raw = !Number.isFinite(mmlu) || mmlu <= MMLU_CHANCE ? MIN_EFFECTIVE : 10 ** ((mmlu - fit.intercept) / fit.slope);
  let n = Math.min(MAX_EFFECTIVE, Math.max(MIN_EFFECTIVE, raw));
  if (parameterCount !== null && parameterCount > 0 && Number.isFinite(parameterCount)) {
    n = Math.min(parameterCount * MAX_EFFECTIVE_SIZE_RATIO, Math.max(parameterCount / MAX_EFFECTIVE_SIZE_RATIO, n));
  }
  return n;
}

/** Lower case, spaces/underscores → `-`, `.gguf` dropped. */
function normalize(text: string): string {
  return text.trim().toLowerCase().replace(/\.gguf$/, '').replace(/[\s_]+/g, '-');
}

/** `7B` → 7e9, `135M` → 1.35e8, `8x7B` → null (mixtures are matched by count only). */
function sizeFromLabel(label: string | null): number | null {
  if (label == null) return null;
  const m = /^(\d+(?:\.\d+)?)([KMBT])$/i.exec(label.trim());
  if (!m) return null;
  const scale = { K: 1e3, M: 1e6, B: 1e9, T: 1e12 }[m[2]!.toUpperCase() as 'K' | 'M' | 'B' | 'T'];
  return Number(m[1]) * scale;
}

/** A count from a size written into a name: `qwen2.5-7b-instruct` → 7e9 (the first `<n>[MB]` token). */
function sizeFromName(name: string): number | null {
  const m = /(?:^|-)(\d+(?:\.\d+)?)([mb])(?=$|-)/i.exec(name);
  return m ? Number(m[1]) * (m[2]!.toLowerCase() === 'b' ? 1e9 : 1e6) : null;
}

/** How far apart two counts may be to be the same size: within 25% (ratio ≤ 1.25). */
const SIZE_TOLERANCE = 1.25;

/**
 * The published row for a model, or null. A row matches when its `pattern` matches one of the names
 * (basename, general.name, file name) and its size agrees: the parameter count within 25%, else the
 * size label or the size written in the name. Among several, the closest in size. Never throws.
 */
export function matchPublishedScore(meta: {
  basename: string | null;
  name: string | null;
  fileName: string | null;
  sizeLabel: string | null;
  parameterCount: number | null;
}): PublishedScore | null {
  const names = [meta.basename, meta.name, meta.fileName].filter((n): n is string => typeof n === 'string' && n.trim() !== '').map(normalize);
  if (names.length === 0) return null;
  const size =
    (meta.parameterCount != null && meta.parameterCount > 0 ? meta.parameterCount : null) ??
    sizeFromLabel(meta.sizeLabel) ??
    names.map(sizeFromName).find((n) => n != null) ??
    null;
  if (size == null) return null;
  let best: PublishedScore | null = null;
  let bestRatio = Number.POSITIVE_INFINITY;
  for (const row of PUBLISHED_SCORES) {
    if (!names.some((n) => row.pattern.test(n))) continue;
    const ratio = Math.max(size, row.parameterCount) / Math.min(size, row.parameterCount);
    if (ratio <= SIZE_TOLERANCE && ratio < bestRatio) {
      best = row;
      bestRatio = ratio;
    }
  }
  return best;
}
