/**
 * Battery facts for the gauges (percent, AC, energy left) per platform, with systeminformation as the fallback.
 *
 * - Linux: sysfs `/sys/class/power_supply` (units µWh, µAh, µV: kernel ABI `sysfs-class-power`). percent from
 *   `capacity`; energy from `energy_now`/`energy_full` (µWh → Wh ÷ 1e6), or `charge_now`/`charge_full` (µAh) ×
 *   `voltage_min_design` (else `voltage_now`) µV ÷ 1e12. Several batteries (ThinkPads with BAT0 + BAT1) are
 *   summed. AC: any `type` = `Mains` supply with `online` = 1, or a battery that is charging / full / not
 *   charging while none discharges (a USB-C charger need not appear as Mains).
 * - macOS: `ioreg -rn AppleSmartBattery` (see sources/macosBattery.ts).
 * - Windows: WMI `BatteryStatus` + `BatteryFullChargedCapacity` through the PowerShell session of a
 *   {@link WindowsBatterySource} (pass the app's long-lived one; otherwise one is started for this call and closed).
 * - Fallback (other platforms, or the platform reader failed): `systeminformation.battery()` (percent,
 *   acConnected, capacities in mWh; it has no instantaneous power).
 *
 * A machine without a battery (desktop) gives null.
 */
import { join } from 'node:path';
import si from 'systeminformation';
import type { BatteryState } from './types.js';
import { isSystemBattery, listPowerSupplies, parseSysfsBatteryStatus } from './sources/linuxBattery.js';
import { macosBatteryState, queryIoregBattery, type RunIoreg } from './sources/macosBattery.js';
import { defaultReadTextFile, parseSysfsInt, powerSupplyDir, readAttr, type ReadTextFile } from './sources/sysfs.js';
import { WindowsBatterySource, windowsBatteryState } from './sources/windowsBattery.js';
import type { SpawnFn } from './sources/spawn.js';

/** Options of {@link readBatteryState}. */
export interface BatteryStateOptions {
  /** Platform whose reader to use. Defaults to `process.platform`. */
  platform?: NodeJS.Platform;
  /**
   * Root of the sysfs tree (Linux). Defaults to `/`. When given explicitly the systeminformation fallback is
   * not used (it would read this machine, not the tree).
   */
  sysfsRoot?: string;
  /** sysfs file reader. Defaults to `fs.promises.readFile`. */
  readFile?: ReadTextFile;
  /** Runs `ioreg -rn AppleSmartBattery` (macOS). */
  runIoreg?: RunIoreg;
  /** A long-lived Windows battery source whose PowerShell session to reuse (Windows). */
  windows?: WindowsBatterySource;
  /** Spawn for the temporary PowerShell session when `windows` is not given. */
  spawn?: SpawnFn;
  /** The fallback; `false` disables it. Defaults to `systeminformation.battery`. */
  systeminformation?: (() => Promise<si.Systeminformation.BatteryData>) | false;
}

/** Reads the battery now; null on a machine without a battery. Never throws (a failing reader gives null). */
export async function readBatteryState(options: BatteryStateOptions = {}): Promise<BatteryState | null> {
  const platform = options.platform ?? process.platform;
  const fallback = options.sysfsRoot !== undefined ? false : (options.systeminformation ?? (() => si.battery()));
  try {
    if (platform === 'linux') {
      const r = await readLinuxBatteryState(options.sysfsRoot ?? '/', options.readFile ?? defaultReadTextFile);
      if (r !== 'no-sysfs') return r;
    } else if (platform === 'darwin') {
      const q = await queryIoregBattery(options.runIoreg);
      if (q.battery) return macosBatteryState(q.battery);
      if (q.status.state === 'not-present' && q.status.detail?.startsWith('no AppleSmartBattery')) return null;
    } else if (platform === 'win32') {
      const source = options.windows ?? new WindowsBatterySource(options.spawn ? { spawn: options.spawn } : {});
      try {
        const q = await source.queryReport();
        if (q.report) return windowsBatteryState(q.report);
      } finally {
        if (!options.windows) await source.dispose();
      }
    }
  } catch {
    /* fall through to the fallback */
  }
  return fallback ? systeminformationBatteryState(fallback) : null;
}

/** Battery facts from `systeminformation.battery()`; null without a battery or when it fails. Never throws. */
export async function systeminformationBatteryState(battery: () => Promise<si.Systeminformation.BatteryData> = () => si.battery()): Promise<BatteryState | null> {
  try {
    const b = await battery();
    if (!b.hasBattery) return null;
    const mWh = b.capacityUnit === 'mWh';
    const percent = Math.min(100, Math.max(0, b.percent));
    return {
      percent,
      onAc: b.acConnected,
      energyWh: mWh && b.currentCapacity > 0 ? b.currentCapacity / 1000 : null,
      capacityWh: mWh && b.maxCapacity > 0 ? b.maxCapacity / 1000 : null,
      status: b.isCharging ? 'charging' : b.acConnected ? (percent >= 99 ? 'full' : 'not-charging') : 'discharging',
    };
  } catch {
    return null;
  }
}

interface OneBattery {
  percent: number | null;
  energyWh: number | null;
  capacityWh: number | null;
  status: BatteryState['status'];
}

/**
 * Linux battery facts from `<sysfsRoot>/sys/class/power_supply`; null without a system battery; `'no-sysfs'` when
 * the folder cannot be listed at all. Never throws.
 */
export async function readLinuxBatteryState(sysfsRoot = '/', read: ReadTextFile = defaultReadTextFile): Promise<BatteryState | null | 'no-sysfs'> {
  const supplies = await listPowerSupplies(sysfsRoot, read);
  if (supplies === null) return 'no-sysfs';
  const dir = powerSupplyDir(sysfsRoot);
  const int = async (name: string, attr: string): Promise<number | null> => {
    const r = await readAttr(read, join(dir, name, attr));
    const v = r.ok ? parseSysfsInt(r.text) : null;
    return v !== null && v >= 0 ? v : null;
  };

  let mainsOnline = false;
  const batteries: OneBattery[] = [];
  for (const s of supplies) {
    if (s.type === 'Mains' && (await int(s.name, 'online')) === 1) mainsOnline = true;
    if (!isSystemBattery(s)) continue;
    const statusText = await readAttr(read, join(dir, s.name, 'status'));
    if (!statusText.ok && statusText.code === 'ENOENT') continue; // vanished
    const status = statusText.ok ? parseSysfsBatteryStatus(statusText.text) : 'unknown';
    let energyWh: number | null = null;
    let capacityWh: number | null = null;
    const energyNow = await int(s.name, 'energy_now');
    const energyFull = await int(s.name, 'energy_full');
    if (energyNow !== null || energyFull !== null) {
      energyWh = energyNow !== null ? energyNow / 1e6 : null;
      capacityWh = energyFull !== null ? energyFull / 1e6 : null;
    } else {
      const chargeNow = await int(s.name, 'charge_now');
      const chargeFull = await int(s.name, 'charge_full');
      const voltsUV = (await int(s.name, 'voltage_min_design')) ?? (await int(s.name, 'voltage_now'));
      if (voltsUV !== null && voltsUV > 0) {
        energyWh = chargeNow !== null ? (chargeNow * voltsUV) / 1e12 : null;
        capacityWh = chargeFull !== null ? (chargeFull * voltsUV) / 1e12 : null;
      }
      if (energyWh === null && chargeNow !== null && chargeFull !== null && chargeFull > 0) {
        batteries.push({ percent: (await int(s.name, 'capacity')) ?? (chargeNow / chargeFull) * 100, energyWh: null, capacityWh: null, status });
        continue;
      }
    }
    const capacity = await int(s.name, 'capacity');
    const percent = capacity ?? (energyWh !== null && capacityWh !== null && capacityWh > 0 ? (energyWh / capacityWh) * 100 : null);
    batteries.push({ percent, energyWh, capacityWh, status });
  }
  const known = batteries.filter((b) => b.percent !== null || (b.energyWh !== null && b.capacityWh));
  if (known.length === 0) return null;

  const allEnergy = known.every((b) => b.energyWh !== null && b.capacityWh !== null && b.capacityWh > 0);
  const energyWh = allEnergy ? known.reduce((t, b) => t + (b.energyWh ?? 0), 0) : null;
  const capacityWh = allEnergy ? known.reduce((t, b) => t + (b.capacityWh ?? 0), 0) : null;
  const percents = known.map((b) => b.percent).filter((p): p is number => p !== null);
  const percent =
    energyWh !== null && capacityWh !== null && known.length > 1
      ? (energyWh / capacityWh) * 100
      : percents.length > 0
        ? percents.reduce((t, p) => t + p, 0) / percents.length
        : (energyWh! / capacityWh!) * 100;
  const statuses = known.map((b) => b.status);
  const status: BatteryState['status'] = statuses.includes('discharging')
    ? 'discharging'
    : statuses.includes('charging')
      ? 'charging'
      : statuses.every((s) => s === 'full')
        ? 'full'
        : statuses.includes('not-charging')
          ? 'not-charging'
          : statuses.includes('full')
            ? 'full'
            : 'unknown';
  // A battery that discharges means no usable AC, whatever the others say (a ThinkPad's idle second battery
  // reads "Not charging" while the first one discharges).
  const onAc = mainsOnline || (!statuses.includes('discharging') && statuses.some((s) => s === 'charging' || s === 'full' || s === 'not-charging'));
  return { percent: Math.min(100, Math.max(0, percent)), onAc, energyWh, capacityWh, status };
}
