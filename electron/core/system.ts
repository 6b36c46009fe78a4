/**
 * Hardware facts via systeminformation (cached: they do not change while the app runs).
 */
import { availableParallelism } from 'node:os';
import si from 'systeminformation';

let cores: Promise<number> | null = null;

/**
 * Physical CPU cores (systeminformation `cpu().physicalCores`); falls back to `os.availableParallelism()`
 * (logical CPUs) when systeminformation cannot tell.
 */
export function physicalCoreCount(): Promise<number> {
  cores ??= si
    .cpu()
    .then((cpu) => (cpu.physicalCores > 0 ? cpu.physicalCores : availableParallelism()))
    .catch(() => availableParallelism());
  return cores;
}
