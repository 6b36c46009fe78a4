/**
 * Linux battery power from sysfs (`/sys/class/power_supply/<name>/`), whole-system while discharging.
 *
 * Units (kernel `Documentation/ABI/testing/sysfs-class-power`, `include/linux/power_supply.h`: "voltages,
 * currents, charges, energies ... in µV, µA, µAh, µWh"): `power_now` µW, `current_now` µA, `voltage_now` µV,
 * `energy_now`/`energy_full` µWh, `charge_now`/`charge_full` µAh.
 *
 * - Power: `power_now` (µW) / 1e6, else `current_now` (µA) × `voltage_now` (µV) / 1e12.
 * - Sign: the ABI says `current_now` is negative while discharging, but the ACPI driver reports the absolute
 *   value; the direction comes from `status` (`Charging`, `Discharging`, `Not charging`, `Full`, `Unknown`).
 *   Only `Discharging` gives a whole-system reading; the magnitude is taken as |value|.
 * - The values are firmware-averaged and update every few seconds to tens of seconds: treat them as slow.
 * - Cross-check: `energy_now` (or `charge_now` × `voltage_now`) falls in steps as the firmware updates it. The
 *   source remembers the last two observed steps and exposes the average power between them as
 *   {@link LinuxBatterySource.lastCrossCheckW} (null until two steps were seen while discharging). It is an
 *   independent check on `power_now`, not a reading.
 *
 * Any battery name is accepted (BAT0, BAT1, CMB0, "battery", ...); only supplies with `type` = `Battery` are
 * batteries, and those with `scope` = `Device` (wireless mice, gamepads) do not power the system and are skipped.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { PowerReading, PowerSource, PowerSourceStatus } from '../types.js';
import { defaultReadTextFile, listDir, parseSysfsInt, powerSupplyDir, preciseNowMs, readAttr, type ReadTextFile } from './sysfs.js';

/** The sysfs `status` of a battery, lower-cased, or `unknown` for anything else. */
export type SysfsBatteryStatus = 'charging' | 'discharging' | 'full' | 'not-charging' | 'unknown';

/** Maps a sysfs `status` text ("Discharging", "Not charging", ...) to {@link SysfsBatteryStatus}. */
export function parseSysfsBatteryStatus(text: string): SysfsBatteryStatus {
  switch (text.trim().toLowerCase()) {
    case 'charging':
      return 'charging';
    case 'discharging':
      return 'discharging';
    case 'full':
      return 'full';
    case 'not charging':
      return 'not-charging';
    default:
      return 'unknown';
  }
}

/**
 * Highest battery power accepted as real, in W. Above it the value is treated as garbage (a unit mix-up or a
 * corrupted read): laptop batteries are limited to 100 Wh by air-transport rules (IATA lithium battery
 * guidance) and discharge at well under 1C in normal use, so 1 kW leaves a wide margin.
 */
export const MAX_PLAUSIBLE_BATTERY_W = 1000;

/** One entry of `/sys/class/power_supply`. */
export interface PowerSupplyEntry {
  /** Directory name (BAT0, CMB0, AC, ADP1, ...). */
  name: string;
  /** Contents of `type` ("Battery", "Mains", "USB", ...), or null when unreadable. */
  type: string | null;
  /** Contents of `scope` ("System", "Device"), or null when absent. */
  scope: string | null;
}

/**
 * Lists the supplies under `<sysfsRoot>/sys/class/power_supply`, sorted by name. Returns null when that folder
 * cannot be listed (no sysfs); an empty array when it exists but is empty. Never throws.
 */
export async function listPowerSupplies(sysfsRoot = '/', read: ReadTextFile = defaultReadTextFile): Promise<PowerSupplyEntry[] | null> {
  const dir = powerSupplyDir(sysfsRoot);
  const names = await listDir(dir);
  if (names === null) return null;
  const out: PowerSupplyEntry[] = [];
  for (const name of names) {
    const type = await readAttr(read, join(dir, name, 'type'));
    const scope = await readAttr(read, join(dir, name, 'scope'));
    out.push({ name, type: type.ok ? type.text : null, scope: scope.ok ? scope.text : null });
  }
  return out;
}

/** True for a supply that is a system battery: `type` = `Battery` and `scope` not `Device`. */
export function isSystemBattery(entry: PowerSupplyEntry): boolean {
  return entry.type === 'Battery' && entry.scope?.toLowerCase() !== 'device';
}

/** Names of the system batteries under `<sysfsRoot>/sys/class/power_supply` (sorted); [] when none. Never throws. */
export async function listLinuxBatteries(sysfsRoot = '/', read: ReadTextFile = defaultReadTextFile): Promise<string[]> {
  return ((await listPowerSupplies(sysfsRoot, read)) ?? []).filter(isSystemBattery).map((e) => e.name);
}

/** Options of {@link LinuxBatterySource}. */
export interface LinuxBatteryOptions {
  /** Directory name under `power_supply` (BAT0, CMB0, ...). */
  name: string;
  /** Root of the sysfs tree to read (`<root>/sys/class/power_supply`). Defaults to `/`. */
  sysfsRoot?: string;
  /** File reader. Defaults to `fs.promises.readFile(path, 'utf8')`. */
  readFile?: ReadTextFile;
  /** Clock, ms since the epoch. Defaults to `performance.timeOrigin + performance.now()`. */
  now?: () => number;
}

/** What one look at the battery gave: status, and the power in W when `ok`. */
interface Sample {
  status: PowerSourceStatus;
  powerW: number | null;
  /** `energy_now` in µWh, or `charge_now` in µAh, for the cross-check; null when absent or garbage. */
  counter: { value: number; unit: 'uWh' | 'uAh'; voltageUV: number | null } | null;
}

const ok: PowerSourceStatus = { state: 'ok', detail: null, fix: null };

/** A Linux battery as a whole-system power source (see the module comment for units and rules). */
export class LinuxBatterySource implements PowerSource {
  readonly id: string;
  readonly kind = 'linux-battery' as const;
  readonly label = 'battery sensor';
  readonly scope = 'system' as const;
  /** Battery directory name (BAT0, CMB0, ...). */
  readonly name: string;
  /**
   * Cross-check: average power in W between the last two observed steps of `energy_now` (or `charge_now` ×
   * `voltage_now`), while discharging; null until two steps were seen. Firmware updates these counters every
   * few seconds to a minute, so this lags; it should roughly agree with `power_now` averaged over the same time.
   */
  lastCrossCheckW: number | null = null;
  /** When {@link lastCrossCheckW} was computed, ms since the epoch; null when never. */
  lastCrossCheckAt: number | null = null;

  private readonly dir: string;
  private readonly readText: ReadTextFile;
  private readonly now: () => number;
  private lastStatus: PowerSourceStatus = ok;
  /** Last counter value seen (to notice a step), and the last step (value, time). */
  private seenCounter: { value: number; unit: 'uWh' | 'uAh' } | null = null;
  private lastStep: { value: number; unit: 'uWh' | 'uAh'; at: number } | null = null;

  constructor(options: LinuxBatteryOptions) {
    this.name = options.name;
    this.id = `linux-battery:${options.name}`;
    this.dir = join(powerSupplyDir(options.sysfsRoot ?? '/'), options.name);
    this.readText = options.readFile ?? defaultReadTextFile;
    this.now = options.now ?? preciseNowMs;
  }

  /** The status of the last `probe` or `read` (ok before either). */
  get status(): PowerSourceStatus {
    return this.lastStatus;
  }

  /** Reads the battery's files now and says whether a whole-system reading is possible. Never throws. */
  async probe(): Promise<PowerSourceStatus> {
    this.lastStatus = (await this.sample()).status;
    return this.lastStatus;
  }

  /**
   * Power in W while discharging; null otherwise (charging, full, gone, garbage: {@link status} says why).
   * Also advances the `energy_now`/`charge_now` cross-check. Never throws.
   */
  async read(): Promise<PowerReading | null> {
    const at = this.now();
    const s = await this.sample();
    this.lastStatus = s.status;
    this.updateCrossCheck(s, at);
    if (s.powerW === null) return null;
    return { sourceId: this.id, at, powerW: s.powerW, measured: true };
  }

  /** Nothing to stop (no process, no timer). */
  async dispose(): Promise<void> {}

  private updateCrossCheck(s: Sample, at: number): void {
    const discharging = s.status.state === 'ok';
    if (!discharging || s.counter === null) {
      // Leaving discharge (or losing the counter) breaks the series: start over.
      this.seenCounter = null;
      this.lastStep = null;
      return;
    }
    const c = s.counter;
    const seen = this.seenCounter;
    this.seenCounter = { value: c.value, unit: c.unit };
    if (seen === null || seen.unit !== c.unit) {
      this.lastStep = null;
      return;
    }
    if (c.value === seen.value) return; // the firmware has not updated yet
    const prev = this.lastStep;
    this.lastStep = { value: c.value, unit: c.unit, at };
    if (prev === null || prev.unit !== c.unit || at <= prev.at || c.value >= prev.value) return;
    const dtS = (at - prev.at) / 1000;
    let deltaWh: number;
    if (c.unit === 'uWh') deltaWh = (prev.value - c.value) / 1e6;
    else if (c.voltageUV !== null) deltaWh = ((prev.value - c.value) * c.voltageUV) / 1e12;
    else return;
    this.lastCrossCheckW = (deltaWh * 3600) / dtS;
    this.lastCrossCheckAt = at;
  }

  private async sample(): Promise<Sample> {
    try {
      await stat(this.dir);
    } catch {
      return { status: { state: 'not-present', detail: `battery ${this.name} is gone (unplugged or removed)`, fix: null }, powerW: null, counter: null };
    }
    const statusText = await readAttr(this.readText, join(this.dir, 'status'));
    if (!statusText.ok) {
      if (statusText.code === 'ENOENT') {
        // The directory went away between stat and read, or the driver has no status.
        const still = await stat(this.dir).then(() => true, () => false);
        if (!still) return { status: { state: 'not-present', detail: `battery ${this.name} is gone (unplugged or removed)`, fix: null }, powerW: null, counter: null };
      }
      return { status: error(`cannot read ${this.name}/status: ${statusText.code}`), powerW: null, counter: null };
    }
    const status = parseSysfsBatteryStatus(statusText.text);
    const counter = await this.readCounter();
    if (status !== 'discharging') {
      const what = status === 'unknown' ? `in state "${statusText.text || 'empty'}"` : status === 'not-charging' ? 'not charging (on AC)' : status;
      return {
        status: { state: 'unavailable', detail: `battery is ${what}: whole-system power reads only while discharging`, fix: null },
        powerW: null,
        counter,
      };
    }

    let powerW: number;
    const p = await readAttr(this.readText, join(this.dir, 'power_now'));
    if (p.ok) {
      const uW = parseSysfsInt(p.text);
      if (uW === null) return { status: error(`${this.name}/power_now is not a number: ${quote(p.text)}`), powerW: null, counter };
      powerW = Math.abs(uW) / 1e6;
    } else if (p.code === 'ENOENT') {
      const c = await readAttr(this.readText, join(this.dir, 'current_now'));
      const v = await readAttr(this.readText, join(this.dir, 'voltage_now'));
      if (!c.ok && c.code === 'ENOENT') {
        return { status: error(`${this.name} has neither power_now nor current_now`), powerW: null, counter };
      }
      if (!c.ok) return { status: error(`cannot read ${this.name}/current_now: ${c.code}`), powerW: null, counter };
      if (!v.ok) return { status: error(`cannot read ${this.name}/voltage_now: ${v.code}`), powerW: null, counter };
      const uA = parseSysfsInt(c.text);
      const uV = parseSysfsInt(v.text);
      if (uA === null) return { status: error(`${this.name}/current_now is not a number: ${quote(c.text)}`), powerW: null, counter };
      if (uV === null) return { status: error(`${this.name}/voltage_now is not a number: ${quote(v.text)}`), powerW: null, counter };
      if (uV <= 0) return { status: error(`${this.name}/voltage_now is not positive: ${uV} µV`), powerW: null, counter };
      powerW = (Math.abs(uA) * uV) / 1e12;
    } else {
      return { status: error(`cannot read ${this.name}/power_now: ${p.code}`), powerW: null, counter };
    }
    if (powerW > MAX_PLAUSIBLE_BATTERY_W) {
      return { status: error(`${this.name} reports an implausible ${powerW.toFixed(0)} W`), powerW: null, counter };
    }
    if (powerW === 0) {
      return {
        status: { state: 'unavailable', detail: `battery ${this.name} reports 0 W while discharging (the firmware has not updated yet)`, fix: null },
        powerW: null,
        counter,
      };
    }
    return { status: ok, powerW, counter };
  }

  /** `energy_now` (µWh), else `charge_now` (µAh) with `voltage_now` (µV); null when absent or garbage. */
  private async readCounter(): Promise<Sample['counter']> {
    const e = await readAttr(this.readText, join(this.dir, 'energy_now'));
    if (e.ok) {
      const v = parseSysfsInt(e.text);
      return v !== null && v >= 0 ? { value: v, unit: 'uWh', voltageUV: null } : null;
    }
    const c = await readAttr(this.readText, join(this.dir, 'charge_now'));
    if (!c.ok) return null;
    const value = parseSysfsInt(c.text);
    if (value === null || value < 0) return null;
    const v = await readAttr(this.readText, join(this.dir, 'voltage_now'));
    const uV = v.ok ? parseSysfsInt(v.text) : null;
    return { value, unit: 'uAh', voltageUV: uV !== null && uV > 0 ? uV : null };
  }
}

function error(detail: string): PowerSourceStatus {
  return { state: 'error', detail, fix: null };
}

function quote(text: string): string {
  return text === '' ? '(empty)' : JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}
