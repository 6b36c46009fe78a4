/**
 * The cost model: decode/prefill speed, power and energy per token of one variant on this machine, and the
 * power-budget arithmetic of battery targets. Pure: every number comes in as an argument.
 *
 * Roofline (no measurement yet): single-user decoding reads every weight once per generated token, so it
 * is memory-bandwidth bound (the roofline model of Williams, Waterman & Patterson, CACM 2009: at 2 FLOPs per
 * weight, i.e. 1 to 4 FLOPs per byte from F16 to 4-bit,
 * decode sits far left of any CPU or GPU ridge point; see the batch-1 numbers in
 * power-sources.md):
 *
 *     decode tokens/s ≈ effective bandwidth (bytes/s) ÷ (weights bytes + KV cache bytes read per token)
 *
 * and while it streams, the CPU/GPU draws about the same active power whatever the model, so energy per
 * token grows with the bytes read: J/token = active W ÷ tokens/s = active W × bytes ÷ bandwidth.
 * Measurements of the file on this machine replace the roofline as soon as there are any.
 */
import type { Candidate, CandidateInput, CostPrediction, MachineModel, PowerState } from './types.js';
import { qualitiesOf } from './quality.js';

/**
 * Effective memory bandwidth when none was measured: 20 GB/s. Conservative on purpose: dual-channel
 * DDR4-3200 peaks at 51.2 GB/s (2 channels × 8 bytes × 3200 MT/s) and llama.cpp's CPU decode reaches well
 * under the peak; the public figures in power-sources.md imply ~48 GB/s effective on a Ryzen AI 5 340
 * (Llama 3.2 3B Q4_K_M, ~2.0 GB, ~24 tok/s) and ~80 GB/s on an M4 (41 tok/s). A low default
 * under-promises speed until the caller measures.
 */
export const DEFAULT_BANDWIDTH_BYTES_PER_SECOND = 20e9;

/**
 * Active power above idle while decoding when the telemetry has no model yet: 15 W, a laptop CPU's
 * sustained package power (Intel U-series "processor base power" 15 W, the PL1 class); the Ryzen laptop
 * in power-sources.md drew ~51 W at the wall in total, an M4 Mac mini ≤ 30 W.
 */
export const DEFAULT_ACTIVE_POWER_W = 15;

/**
 * Prefill tokens/s ÷ decode tokens/s when not measured: 10. Prefill batches the prompt, so it is
 * compute-bound rather than bandwidth-bound; llama-bench's pp512 vs tg128 on CPUs is typically 5–20×
 * (GPUs reach far more). Only used for the prefill estimate shown to the user.
 */
export const DEFAULT_PREFILL_SPEEDUP = 10;

/**
 * DRAM energy per byte read: 160 pJ/byte (≈ 20 pJ/bit). Horowitz, "Computing's energy problem", ISSCC
 * 2014: a 64-bit DRAM access costs 1.3–2.6 nJ, i.e. 20–40 pJ/bit; LPDDR4/5 laptops sit at the low end.
 * At 20 GB/s that is 3.2 W, in line with the 1–4 W DRAM power laptops draw under memory load.
 */
export const DEFAULT_DRAM_ENERGY_J_PER_BYTE = 160e-12;

/** The machine model used when the caller has nothing better. */
export const DEFAULT_MACHINE: Readonly<MachineModel> = {
  bandwidthBytesPerSecond: DEFAULT_BANDWIDTH_BYTES_PER_SECOND,
  activePowerW: DEFAULT_ACTIVE_POWER_W,
  prefillSpeedup: DEFAULT_PREFILL_SPEEDUP,
};

/** `x` when it is a finite number > 0, else `fallback`. */
function positive(x: number | null | undefined, fallback: number): number {
  return typeof x === 'number' && Number.isFinite(x) && x > 0 ? x : fallback;
}

/** `x` when it is a finite number ≥ 0, else `fallback`. */
function nonNegative(x: number | null | undefined, fallback: number): number {
  return typeof x === 'number' && Number.isFinite(x) && x >= 0 ? x : fallback;
}

/**
 * Predicted cost of one variant.
 *
 * 1. `measured` when `input.measured` has at least one reply (or comes from the calibration bench) and a
 *    positive decode speed: that speed;
 *    its prefill speed (else decode × prefill speedup); energy per token = the measured J/token when
 *    known, else measured power ÷ decode speed, else the roofline power model (`machine.activePowerW`)
 *    ÷ the measured speed; `powerW` = the measured power, else J/token × tokens/s.
 * 2. `roofline` otherwise: decode tokens/s = bandwidth ÷ (sizeBytes + kvCacheBytesPerToken),
 *    prefill = decode × `prefillSpeedup`, powerW = `machine.activePowerW`, J/token = powerW ÷ decode.
 *    With the per-core model (`machine.activePowerWPerCore` set): decode = min(memory roof, compute roof
 *    of `settings.threads` cores at `machine.flopsPerCore`), powerW = threads × W per core + DRAM energy per
 *    byte × bytes/s actually read.
 *    Threads and GPU layers do not scale the power: the caller's thread calibration already picks the
 *    fastest setting, and in the bandwidth-bound regime the memory system runs flat out at any of them;
 *    the machine's bandwidth and active power are measured under the settings the caller uses.
 *
 * Bad numbers never throw: a missing or non-positive bandwidth, power or speedup takes the default
 * ({@link DEFAULT_MACHINE}); the bytes per token are at least 1.
 */
export function predictCost(input: CandidateInput, machine: MachineModel): CostPrediction {
  const activePowerW = nonNegative(machine.activePowerW, DEFAULT_ACTIVE_POWER_W);
  const speedup = positive(machine.prefillSpeedup, DEFAULT_PREFILL_SPEEDUP);
  const m = input.measured;
  if (m != null && (m.replies >= 1 || m.calibrated === true) && Number.isFinite(m.decodeTokensPerSecond) && m.decodeTokensPerSecond > 0) {
    const decode = m.decodeTokensPerSecond;
    const prefill = positive(m.prefillTokensPerSecond, decode * speedup);
    const measuredPowerW = typeof m.powerW === 'number' && Number.isFinite(m.powerW) && m.powerW >= 0 ? m.powerW : null;
    const measuredEnergy = typeof m.energyJPerToken === 'number' && Number.isFinite(m.energyJPerToken) && m.energyJPerToken >= 0 ? m.energyJPerToken : null;
    let energyJPerToken: number;
    let powerW: number;
    if (measuredEnergy != null) {
      energyJPerToken = measuredEnergy;
      powerW = measuredPowerW ?? measuredEnergy * decode;
    } else {
      powerW = measuredPowerW ?? activePowerW;
      energyJPerToken = powerW / decode;
    }
    return { decodeTokensPerSecond: decode, prefillTokensPerSecond: prefill, powerW, energyJPerToken, source: 'measured' };
  }
  const bandwidth = positive(machine.bandwidthBytesPerSecond, DEFAULT_BANDWIDTH_BYTES_PER_SECOND);
  const bytesPerToken = Math.max(1, nonNegative(input.sizeBytes, 0) + nonNegative(input.kvCacheBytesPerToken, 0));
  const perCoreW = machine.activePowerWPerCore;
  if (typeof perCoreW === 'number' && Number.isFinite(perCoreW) && perCoreW >= 0) {
    // Per-core roofline: decode is the lower of the memory roof and the compute roof of `threads` cores;
    // power is the busy cores plus the DRAM traffic that speed causes (so a small, compute-bound model
    // draws less memory power than a large, bandwidth-bound one).
    const threads = Math.max(1, Math.floor(nonNegative(input.settings.threads, 1)));
    const memoryRoof = bandwidth / bytesPerToken;
    const params = input.parameterCount;
    const computeRoof =
      typeof machine.flopsPerCore === 'number' && machine.flopsPerCore > 0 && typeof params === 'number' && params > 0
        ? (threads * machine.flopsPerCore) / (2 * params)
        : Number.POSITIVE_INFINITY;
    const decode = Math.min(memoryRoof, computeRoof);
    const dram = nonNegative(machine.dramEnergyJPerByte, DEFAULT_DRAM_ENERGY_J_PER_BYTE);
    const powerW = threads * perCoreW + dram * decode * bytesPerToken;
    return { decodeTokensPerSecond: decode, prefillTokensPerSecond: decode * speedup, powerW, energyJPerToken: powerW / decode, source: 'roofline' };
  }
  const decode = bandwidth / bytesPerToken;
  return {
    decodeTokensPerSecond: decode,
    prefillTokensPerSecond: decode * speedup,
    powerW: activePowerW,
    energyJPerToken: activePowerW / decode,
    source: 'roofline',
  };
}

/**
 * Candidates with their cost ({@link predictCost}) and quality on the absolute scale ({@link qualitiesOf}:
 * measured bits per byte, else a published score, else the size/quantization prior), in input order. O(n).
 * @param machine the machine model, or a function giving each input its own (e.g. small models calibrated
 *   apart from large ones).
 */
export function buildCandidates(inputs: CandidateInput[], machine: MachineModel | ((input: CandidateInput) => MachineModel)): Candidate[] {
  const qualities = qualitiesOf(inputs);
  const machineOf = typeof machine === 'function' ? machine : () => machine;
  return inputs.map((input, i) => {
    const q = qualities[i]!;
    return { ...input, cost: predictCost(input, machineOf(input)), quality: q.quality, qualitySource: q.source, qualityBasis: q.basis };
  });
}

/**
 * Energy left in the battery, Wh: `batteryEnergyWh` when given, else percent × capacity ÷ 100; null when
 * neither is known.
 */
export function batteryRemainingWh(power: PowerState): number | null {
  if (typeof power.batteryEnergyWh === 'number' && Number.isFinite(power.batteryEnergyWh) && power.batteryEnergyWh >= 0) return power.batteryEnergyWh;
  const percent = power.batteryPercent;
  const capacity = power.batteryCapacityWh;
  if (percent == null || capacity == null || !Number.isFinite(percent) || !(capacity > 0) || !Number.isFinite(capacity)) return null;
  return (Math.min(100, Math.max(0, percent)) / 100) * capacity;
}

/**
 * Average power the inference may draw above idle until the deadline, W:
 *
 *     (remaining Wh − reserve Wh) ÷ hoursLeft − baseline W
 *
 * Remaining Wh: {@link batteryRemainingWh}. Reserve Wh = reservePercent (clamped 0..100) × capacity ÷ 100;
 * the capacity is `batteryCapacityWh`, else remaining ÷ percent. An unknown idle draw counts as 0 W (the
 * budget is then an upper bound). The result can be ≤ 0: the deadline cannot be met even without
 * inference. null when it cannot be computed: battery level unknown, a reserve with no known capacity, or
 * `hoursLeft` not a positive number (the deadline has passed: nothing to keep).
 */
export function batteryBudgetW(power: PowerState, battery: { hoursLeft: number; reservePercent: number }): number | null {
  const hours = battery.hoursLeft;
  if (!Number.isFinite(hours) || hours <= 0) return null;
  const remainingWh = batteryRemainingWh(power);
  if (remainingWh == null) return null;
  let capacityWh: number | null = power.batteryCapacityWh != null && Number.isFinite(power.batteryCapacityWh) && power.batteryCapacityWh > 0 ? power.batteryCapacityWh : null;
  if (capacityWh == null && power.batteryPercent != null && power.batteryPercent > 0 && Number.isFinite(power.batteryPercent)) {
    capacityWh = remainingWh / (Math.min(100, power.batteryPercent) / 100);
  }
  const reservePercent = Number.isFinite(battery.reservePercent) ? Math.min(100, Math.max(0, battery.reservePercent)) : 0;
  let reserveWh = 0;
  if (reservePercent > 0) {
    if (capacityWh == null) return null;
    reserveWh = (reservePercent / 100) * capacityWh;
  }
  const baselineW = nonNegative(power.baselinePowerW, 0);
  return (remainingWh - reserveWh) / hours - baselineW;
}

/**
 * Energy per token a power budget allows at a usage rate, J/token:
 *
 *     budgetW × 3600 ÷ tokensPerHour
 *
 * (expected inference power = tokensPerHour × J/token ÷ 3600 must stay ≤ budgetW). A budget ≤ 0 gives a
 * value ≤ 0 (no variant fits). `tokensPerHour` ≤ 0 or not finite: no generation expected, so +Infinity for
 * a budget ≥ 0 and −Infinity for a negative one. NaN budget → NaN.
 */
export function inferencePowerBudgetToEnergyPerToken(budgetW: number, tokensPerHour: number): number {
  if (Number.isNaN(budgetW)) return Number.NaN;
  if (!Number.isFinite(tokensPerHour) || tokensPerHour <= 0) return budgetW >= 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  return (budgetW * 3600) / tokensPerHour;
}
