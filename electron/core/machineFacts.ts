/**
 * Facts about this machine that the governor's roofline needs, measured once and kept in the store.
 */
import { z } from 'zod';
import type { Store } from '../store/store.js';

/** Machine-fact key of the effective memory bandwidth. */
export const bandwidthFactKey = 'memoryBandwidthBytesPerSecond';

/** Bytes copied per repetition of the bandwidth measurement: 128 MiB, far beyond any CPU's last-level cache. */
export const bandwidthBufferBytes = 128 * 1024 * 1024;

/**
 * Effective memory bandwidth by `Buffer.copy` (memcpy) of {@link bandwidthBufferBytes}: bytes read plus
 * bytes written per second, best of `repetitions` (the best run is the least disturbed by other work on
 * the machine). memcpy streams like llama.cpp's weight reads, and counting both directions gives the
 * traffic the memory system sustained. Takes ≈ 0.1–0.5 s; allocates 2 × 128 MiB once.
 */
export function measureMemoryBandwidth(repetitions = 5): number {
  const source = Buffer.alloc(bandwidthBufferBytes, 1);
  const target = Buffer.allocUnsafe(bandwidthBufferBytes);
  source.copy(target); // touch every page first, so page faults are not timed
  let best = 0;
  for (let i = 0; i < repetitions; i++) {
    const t0 = process.hrtime.bigint();
    source.copy(target);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (seconds > 0) best = Math.max(best, (2 * bandwidthBufferBytes) / seconds);
  }
  return best;
}

/**
 * The stored bandwidth, measuring and storing it first if this machine has none.
 * @returns bytes/s and when it was measured.
 */
export function memoryBandwidth(store: Store, measure: () => number = measureMemoryBandwidth): { bytesPerSecond: number; measuredAt: number } {
  const stored = store.getMachineFact(bandwidthFactKey, z.number().positive());
  if (stored) return { bytesPerSecond: stored.value, measuredAt: stored.measuredAt };
  const bytesPerSecond = measure();
  if (!(bytesPerSecond > 0)) throw new Error('memory bandwidth measurement failed');
  store.setMachineFact(bandwidthFactKey, bytesPerSecond);
  const again = store.getMachineFact(bandwidthFactKey, z.number().positive());
  return { bytesPerSecond, measuredAt: again?.measuredAt ?? Date.now() };
}
