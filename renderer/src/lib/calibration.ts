/**
 * Words and small helpers for the calibration bench and the quality scale in the Governor view: a phase
 * in words, durations as people say them ("about 4 min"), the time left in a run, the quality source's
 * tag, and the Pareto front of the energy-vs-quality chart.
 */
import type { CalibrationPhase, CalibrationStatus, GovernorCandidate } from '@shared/contract';

/** A calibration step in words, as the progress rows show it. */
export function phaseText(phase: CalibrationPhase): string {
  switch (phase) {
    case 'load':
      return 'Loading';
    case 'threads':
      return 'Finding the best thread count';
    case 'bits-per-byte':
      return 'Measuring quality (bits per byte)';
    case 'prefill':
      return 'Prompt speed';
    case 'decode':
      return 'Sustained decode';
  }
}

/** One variant of a run. */
export type CalibrationVariant = CalibrationStatus['variants'][number];

/** A variant's state in words: its phase while running, else pending / done / failed / cancelled. */
export function variantStateText(variant: CalibrationVariant): string {
  switch (variant.state) {
    case 'pending':
      return 'Waiting its turn';
    case 'running':
      return variant.phase ? phaseText(variant.phase) : 'Starting';
    case 'done':
      return 'Done';
    case 'failed':
      return 'Failed';
    case 'cancelled':
      return 'Cancelled';
  }
}

/**
 * A rough duration as people say it: "under 10 s", "about 40 s", "about 4 min", "about 1 h 20 min".
 * Rounded up to 10 s below a minute, to whole minutes below an hour, to 10 minutes above.
 */
export function roughDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  const s = ms / 1000;
  if (s < 10) return 'under 10 s';
  if (s < 60) return `about ${Math.ceil(s / 10) * 10} s`;
  const min = Math.round(s / 60);
  if (min < 60) return `about ${Math.max(1, min)} min`;
  const tens = Math.round(min / 10) * 10;
  const h = Math.floor(tens / 60);
  const rest = tens % 60;
  return `about ${h} h${rest ? ` ${rest} min` : ''}`;
}

/** A clock duration: "0:42", "12:05", "1:02:05". */
export function clockDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/**
 * Time left in a running run, ms: from the pace so far once a tenth is done (the estimate made before
 * starting is only a guess), else the estimate minus the time spent; never below 0.
 */
export function remainingMs(run: Pick<CalibrationStatus, 'fraction' | 'estimatedMs' | 'startedAt'>, now: number): number {
  const elapsed = Math.max(0, now - run.startedAt);
  if (run.fraction >= 0.1) return Math.max(0, (elapsed * (1 - run.fraction)) / run.fraction);
  return Math.max(0, run.estimatedMs - elapsed, run.estimatedMs * (1 - run.fraction) - elapsed);
}

/** "1 model" / "4 models". */
export function modelCount(n: number): string {
  return `${n} ${n === 1 ? 'model' : 'models'}`;
}

/** The quality source as its tag says it ("estimated" for the size/quantization prior). */
export function qualitySourceText(source: GovernorCandidate['qualitySource']): string {
  switch (source) {
    case 'measured':
      return 'measured';
    case 'published':
      return 'published';
    case 'prior':
      return 'estimated';
  }
}

/** What a quality source means, for the tag's tooltip before its basis. */
export function qualitySourceMeaning(source: GovernorCandidate['qualitySource']): string {
  switch (source) {
    case 'measured':
      return 'Measured on this computer by the calibration bench';
    case 'published':
      return 'From a published benchmark score';
    case 'prior':
      return 'Estimated from the model’s size and quantization';
  }
}

/** A variant's figures are measured here: its quality by the bench and its speed and energy by runs here. */
export function measuredHere(candidate: Pick<GovernorCandidate, 'qualitySource' | 'predicted'>): boolean {
  return candidate.qualitySource === 'measured' && candidate.predicted.source === 'measured';
}

/**
 * The Pareto front of `points` for lower `x` (J/token) and higher `y` (quality): the points no other point
 * beats on both (as good on one, better on the other). Sorted by x ascending (so y rises); of equal
 * points only the first is kept. Points with a non-finite coordinate are left out.
 */
export function paretoFront<T extends { x: number; y: number }>(points: readonly T[]): T[] {
  const sorted = points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y)).sort((a, b) => a.x - b.x || b.y - a.y);
  const front: T[] = [];
  for (const p of sorted) {
    const last = front[front.length - 1];
    if (!last || p.y > last.y) front.push(p);
  }
  return front;
}

/** 1, 2 and 5 × 10ⁿ: round steps. */
function niceStep(raw: number): number {
  const e = Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) {
    const v = m * 10 ** e;
    if (v >= raw) return Number(v.toPrecision(6));
  }
  return 10 ** (e + 1);
}

/**
 * The quality axis' domain and ticks: 0..1 when the values spread over most of it, otherwise zoomed on
 * them (padded, at round steps, 3–6 ticks) so close variants do not sit on one line; within 0..1.
 */
export function qualityAxis(values: readonly number[]): { domain: [number, number]; ticks: number[] } {
  const finite = values.filter((v) => Number.isFinite(v));
  const full = { domain: [0, 1.04] as [number, number], ticks: [0, 0.25, 0.5, 0.75, 1] };
  if (finite.length === 0) return full;
  const lo = Math.max(0, Math.min(...finite));
  const hi = Math.min(1, Math.max(...finite));
  if (hi - lo > 0.5 || hi <= 0) return full;
  const pad = Math.max((hi - lo) * 0.15, hi * 0.05);
  const step = niceStep(Math.max((hi - lo + 2 * pad) / 4, 1e-12));
  const from = Math.max(0, Math.floor((lo - pad) / step) * step);
  const to = Math.min(1, Math.ceil((hi + pad) / step) * step);
  const ticks: number[] = [];
  for (let v = from; v <= to + step / 2; v += step) ticks.push(Number(v.toPrecision(6)));
  return { domain: [from, to === 1 ? 1.04 : to], ticks };
}
