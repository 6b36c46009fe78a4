/**
 * Synthetic governor inputs and the decision timer, for the governor bench (`./governor.ts`) and the
 * governor's property tests: a seeded PRNG ({@link mulberry32}), seeded synthetic installed variants
 * ({@link syntheticCandidateInputs}) and {@link benchDecide}. Kept out of `electron/governor/` so the app's
 * governor holds only what the app runs.
 */
import {
  buildCandidates,
  decide,
  DEFAULT_MACHINE,
  profileTarget,
  type CandidateInput,
  type DecideInput,
  type GovernorTarget,
  type PowerState,
} from '../electron/governor/index.js';

/**
 * Mulberry32, a tiny seeded PRNG (public domain, Tommy Ettinger): uniform floats in [0, 1). The same
 * seed gives the same sequence on every platform (32-bit integer arithmetic only).
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SYNTHETIC_QUANTS = ['F16', 'Q8_0', 'Q6_K', 'Q5_K_M', 'Q4_K_M', 'IQ4_XS', 'Q4_0', 'Q3_K_M', 'Q2_K'] as const;
const SYNTHETIC_BPW: Readonly<Record<(typeof SYNTHETIC_QUANTS)[number], number>> = {
  F16: 16, Q8_0: 8.5, Q6_K: 6.57, Q5_K_M: 5.7, Q4_K_M: 4.9, IQ4_XS: 4.43, Q4_0: 4.64, Q3_K_M: 4.0, Q2_K: 3.17,
};
const SYNTHETIC_SIZES = [0.5e9, 1.5e9, 3e9, 7e9, 14e9] as const;

/**
 * `count` synthetic installed variants for tests and benchmarks, deterministic in `seed`: a few families
 * of 0.5B–14B models in common quantizations, file size = params × bits ÷ 8, about 1 in 6 not fitting in
 * memory, about half with measurements (decode speed from a 20–60 GB/s bandwidth, power 5–40 W).
 */
export function syntheticCandidateInputs(count: number, seed: number): CandidateInput[] {
  const rand = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const out: CandidateInput[] = [];
  const families = Math.max(1, Math.ceil(count / 20));
  for (let i = 0; i < count; i++) {
    const family = `family-${Math.floor(rand() * families)}`;
    const params = pick(SYNTHETIC_SIZES);
    const quantization = pick(SYNTHETIC_QUANTS);
    const sizeBytes = Math.round((params * SYNTHETIC_BPW[quantization]) / 8);
    const measured = rand() < 0.5
      ? (() => {
          const decode = (20e9 + rand() * 40e9) / sizeBytes;
          const powerW = 5 + rand() * 35;
          return { decodeTokensPerSecond: decode, prefillTokensPerSecond: decode * 8, powerW, energyJPerToken: rand() < 0.5 ? powerW / decode : null, replies: 1 + Math.floor(rand() * 9) };
        })()
      : null;
    out.push({
      modelPath: `/models/${family}-${params / 1e9}B-${quantization}-${i}.gguf`,
      fileName: `${family}-${params / 1e9}B-${quantization}-${i}.gguf`,
      name: `${family} ${params / 1e9}B`,
      family,
      architecture: 'llama',
      parameterCount: rand() < 0.9 ? params : null,
      sizeBytes,
      quantization,
      fits: rand() >= 1 / 6,
      memoryReason: null,
      settings: { threads: 1 + Math.floor(rand() * 8), gpuLayers: 0, contextSize: 4096 },
      measured,
      kvCacheBytesPerToken: Math.round(rand() * 50e6),
    });
  }
  for (const c of out) if (!c.fits) c.memoryReason = 'needs more memory than is free';
  return out;
}

/** Result of {@link benchDecide}. */
export interface DecideBenchResult {
  candidates: number;
  iterations: number;
  /** Total time of all decisions, ms. */
  totalMs: number;
  /** Mean time of one decision, ms. */
  meanMs: number;
}

/**
 * Times `iterations` (default 1,000) decisions over `candidates` (default 100) synthetic variants
 * ({@link syntheticCandidateInputs}, `seed` default 1), cycling through the profiles, AC and battery.
 * The clock is an argument (e.g. `performance.now`, ms), so tests can pass a fake one. Candidates are
 * built once, before timing.
 */
export function benchDecide(options: { clock: () => number; candidates?: number; iterations?: number; seed?: number }): DecideBenchResult {
  const count = Math.max(1, Math.floor(options.candidates ?? 100));
  const iterations = Math.max(1, Math.floor(options.iterations ?? 1000));
  const candidates = buildCandidates(syntheticCandidateInputs(count, options.seed ?? 1), DEFAULT_MACHINE);
  const powers: PowerState[] = [
    { onAc: true, batteryPercent: 80, batteryCapacityWh: 60, baselinePowerW: 6, thermalThrottled: false },
    { onAc: false, batteryPercent: 41, batteryCapacityWh: 60, baselinePowerW: 6, thermalThrottled: false },
    { onAc: false, batteryPercent: 15, batteryCapacityWh: 60, baselinePowerW: 6, thermalThrottled: true },
  ];
  const targets: Array<(p: PowerState) => GovernorTarget> = [
    (p) => profileTarget('performance', p),
    (p) => profileTarget('balanced', p),
    (p) => profileTarget('saver', p),
    () => ({ profile: 'custom', wattCapW: 20, battery: { hoursLeft: 3, reservePercent: 10 }, minDecodeTokensPerSecond: 5, minQuality: 0.6 }),
  ];
  const inputs: DecideInput[] = [];
  for (const p of powers) for (const t of targets) inputs.push({ candidates, target: t(p), power: p, usage: { tokensPerHour: null }, targetLabel: '18:00' });
  const start = options.clock();
  for (let k = 0; k < iterations; k++) decide(inputs[k % inputs.length]!);
  const totalMs = options.clock() - start;
  return { candidates: count, iterations, totalMs, meanMs: totalMs / iterations };
}
