/**
 * Finds every power source present on this machine, best first:
 * whole-system batteries, RAPL package(s), NVIDIA GPU(s), and the estimate LAST (always present).
 *
 * "Present" means the sensor exists, not that it reads now: a charging battery (`unavailable`) and a root-only
 * RAPL counter (`no-permission`) are returned so the app can say why and how to fix it; absent ones (no
 * battery, no nvidia-smi) are not. Each source's `probe()` gives its state.
 */
import type { PowerSource } from './types.js';
import { EstimateSource, type EstimateOptions } from './sources/estimate.js';
import { LinuxBatterySource, listLinuxBatteries } from './sources/linuxBattery.js';
import { MacosBatterySource, queryIoregBattery, type RunIoreg } from './sources/macosBattery.js';
import { discoverNvidiaGpus, type NvidiaMonitorOptions } from './sources/nvidia.js';
import { listRaplPackages, RaplSource } from './sources/rapl.js';
import type { SpawnFn } from './sources/spawn.js';
import { defaultReadTextFile, type ReadTextFile } from './sources/sysfs.js';
import { WindowsBatterySource, type WindowsBatteryOptions } from './sources/windowsBattery.js';

/** Options of {@link discoverPowerSources}. */
export interface DiscoverOptions {
  /** Platform whose sources to look for. Defaults to `process.platform`. */
  platform?: NodeJS.Platform;
  /**
   * Root of the sysfs tree every Linux reader uses (`<root>/sys/class/power_supply`, `<root>/sys/class/powercap`):
   * a fixture in tests, or a copy of a user's /sys when diagnosing. Defaults to `/`.
   */
  sysfsRoot?: string;
  /** Starts child processes (nvidia-smi, PowerShell). Defaults to `child_process.spawn` with piped stdio. */
  spawn?: SpawnFn;
  /** Options of the estimate (idle W, W per core, injectable clock and CPU usage). */
  estimate?: EstimateOptions;
  /** sysfs file reader. Defaults to `fs.promises.readFile`. */
  readFile?: ReadTextFile;
  /** Runs ioreg (macOS). */
  runIoreg?: RunIoreg;
  /** nvidia-smi options (binary, interval, restarts, discovery timeout in ms); `false` skips NVIDIA. */
  nvidia?: (Omit<NvidiaMonitorOptions, 'spawn'> & { timeoutMs?: number }) | false;
  /** PowerShell session options (Windows). */
  windows?: Omit<WindowsBatteryOptions, 'spawn'>;
}

/**
 * Every source present, in preference order, estimate last. Sources with child processes (nvidia-smi,
 * PowerShell) are already started: call `dispose()` on each when done. Never throws for machine conditions.
 */
export async function discoverPowerSources(options: DiscoverOptions = {}): Promise<PowerSource[]> {
  const platform = options.platform ?? process.platform;
  const read = options.readFile ?? defaultReadTextFile;
  const spawnOpt = options.spawn ? { spawn: options.spawn } : {};
  const nvidia =
    options.nvidia === false || platform === 'darwin' ? Promise.resolve([]) : discoverNvidiaGpus({ ...(options.nvidia ?? {}), ...spawnOpt });

  const first: PowerSource[] = [];
  if (platform === 'linux') {
    const root = options.sysfsRoot ?? '/';
    for (const name of await listLinuxBatteries(root, read)) first.push(new LinuxBatterySource({ name, sysfsRoot: root, readFile: read }));
    for (const zone of await listRaplPackages(root, read)) first.push(new RaplSource({ zone, sysfsRoot: root, readFile: read }));
  } else if (platform === 'darwin') {
    const q = await queryIoregBattery(options.runIoreg);
    if (q.battery) first.push(new MacosBatterySource(options.runIoreg ? { runIoreg: options.runIoreg } : {}));
  } else if (platform === 'win32') {
    const source = new WindowsBatterySource({ ...(options.windows ?? {}), ...spawnOpt });
    const status = await source.probe();
    if (status.state === 'not-present') await source.dispose();
    else first.push(source);
  }
  return [...first, ...(await nvidia), new EstimateSource(options.estimate)];
}
