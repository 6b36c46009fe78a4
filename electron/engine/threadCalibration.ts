/**
 * The pure part of thread calibration: which thread counts to try, and which trial wins.
 *
 * Why calibrate at all: on small machines llama.cpp's default thread count can decode far slower than
 * one thread (measured with bare node-llama-cpp on a 2-core VM: 1.7× to 23× slower with 2 threads than
 * with 1), because its worker threads spin and fight the app's own threads for the cores. So the engine
 * times a short decode at a few thread counts on first load of each model and keeps the fastest
 * (`LlamaEngine`, stored as a `ThreadCalibration`). No I/O here.
 */
import type { ThreadCalibration } from '../../shared/contract.js';

/** One timed decode: thread count and decode speed in tokens/s. */
export type ThreadTrial = ThreadCalibration['trials'][number];

/**
 * Relative speed difference under which two trials count as a tie, and the tie goes to fewer threads
 * (fewer busy cores, less energy, more room for the rest of the machine). 5%: the run-to-run noise of a
 * ~30-token decode is of that order.
 */
export const THREAD_TIE_TOLERANCE = 0.05;

/**
 * Thread counts to try: 1, half and three quarters of the physical cores, and all of them — deduplicated,
 * sorted ascending, each between 1 and `logicalCores`. E.g. 2 physical cores → `[1, 2]`;
 * 8 → `[1, 4, 6, 8]`; 16 → `[1, 8, 12, 16]`.
 *
 * @param physicalCores physical CPU cores (systeminformation `cpu().physicalCores`); values < 1 count as 1.
 * @param logicalCores logical CPUs (`os.availableParallelism()`); defaults to `physicalCores`.
 */
export function defaultThreadCandidates(physicalCores: number, logicalCores: number = physicalCores): number[] {
  const physical = Math.max(1, Math.floor(physicalCores) || 1);
  const cap = Math.max(1, Math.floor(logicalCores) || 1);
  return normalizeThreadCandidates([1, Math.floor(physical / 2), Math.floor((physical * 3) / 4), physical], cap);
}

/**
 * Cleans a list of candidate thread counts: whole numbers ≥ 1, at most `maxThreads`, deduplicated,
 * ascending. Never empty: falls back to `[1]`.
 */
export function normalizeThreadCandidates(candidates: readonly number[], maxThreads: number): number[] {
  const cap = Math.max(1, Math.floor(maxThreads) || 1);
  const set = new Set<number>();
  for (const c of candidates) {
    if (!Number.isFinite(c)) continue;
    set.add(Math.min(cap, Math.max(1, Math.floor(c))));
  }
  const out = [...set].sort((a, b) => a - b);
  return out.length > 0 ? out : [1];
}

/**
 * The winning thread count: the fewest threads whose decode speed is within `tolerance` (a fraction,
 * default {@link THREAD_TIE_TOLERANCE}) of the fastest trial. Trials with a non-finite or negative speed
 * are ignored. Throws a `RangeError` when no trial is usable.
 */
export function chooseBestThreads(trials: readonly ThreadTrial[], tolerance: number = THREAD_TIE_TOLERANCE): number {
  const valid = trials.filter((t) => Number.isFinite(t.decodeTokensPerSecond) && t.decodeTokensPerSecond >= 0 && t.threads >= 1);
  if (valid.length === 0) throw new RangeError('no usable thread calibration trial');
  const fastest = Math.max(...valid.map((t) => t.decodeTokensPerSecond));
  const threshold = fastest * (1 - Math.max(0, tolerance));
  const winners = valid.filter((t) => t.decodeTokensPerSecond >= threshold).sort((a, b) => a.threads - b.threads);
  return winners[0]!.threads;
}

/**
 * Decode speed of one trial, in tokens/s: `tokens` decoded in `elapsedMs` milliseconds. 0 when nothing
 * was decoded; a zero duration is taken as 1 µs so a very fast decode still ranks first.
 */
export function decodeSpeed(tokens: number, elapsedMs: number): number {
  if (tokens <= 0) return 0;
  return (tokens * 1000) / Math.max(elapsedMs, 0.001);
}
