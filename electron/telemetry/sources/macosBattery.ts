/**
 * macOS battery power from `ioreg -rn AppleSmartBattery` (no sudo needed), whole-system while discharging.
 *
 * Fields (IOKit AppleSmartBattery properties as `ioreg` prints them, `"Key" = value` per line):
 * - `Voltage` mV; `InstantAmperage` (else `Amperage`) mA, signed: negative while discharging. ioreg prints the
 *   signed 64-bit value as unsigned, so −1458 mA reads `18446744073709550158` (2^64 − 1458): values ≥ 2^63 are
 *   converted back with two's complement.
 * - `ExternalConnected` Yes/No (AC adapter), `IsCharging`, `FullyCharged`.
 * - `CurrentCapacity`/`MaxCapacity`: percent on Apple silicon, mAh on Intel Macs (the ratio is the charge either
 *   way); `AppleRawCurrentCapacity`/`AppleRawMaxCapacity`: mAh.
 *
 * Power W = Voltage (mV) × |Amperage| (mA) / 1e6, only while discharging (`ExternalConnected = No`, or amperage
 * < 0 when that key is missing). `powermetrics` would give per-component power but needs sudo: not used.
 * ioreg is a short-lived, cheap process (one registry lookup), so it runs once per read.
 */
import { execFile } from 'node:child_process';
import type { BatteryState, PowerReading, PowerSource, PowerSourceStatus } from '../types.js';
import { preciseNowMs } from './sysfs.js';

/** The AppleSmartBattery properties Wattwise uses; null where ioreg did not print the key. */
export interface IoregBattery {
  /** Battery voltage, mV. */
  voltageMv: number | null;
  /** `InstantAmperage` (else `Amperage`), mA, signed (negative = discharging). */
  amperageMa: number | null;
  /** AC adapter connected. */
  externalConnected: boolean | null;
  isCharging: boolean | null;
  fullyCharged: boolean | null;
  /** `CurrentCapacity` (percent on Apple silicon, mAh on Intel). */
  currentCapacity: number | null;
  /** `MaxCapacity` (100 on Apple silicon, mAh on Intel). */
  maxCapacity: number | null;
  /** `AppleRawCurrentCapacity`, mAh. */
  rawCurrentCapacityMah: number | null;
  /** `AppleRawMaxCapacity`, mAh. */
  rawMaxCapacityMah: number | null;
}

const TWO_64 = 1n << 64n;
const TWO_63 = 1n << 63n;

/** Parses an ioreg integer, undoing the unsigned printing of negative 64-bit values; null when not an integer. */
export function parseIoregInteger(text: string): number | null {
  const t = text.trim();
  if (!/^-?\d+$/.test(t)) return null;
  let v = BigInt(t);
  if (v >= TWO_64 || v < -TWO_63) return null;
  if (v >= TWO_63) v -= TWO_64;
  return Number(v);
}

/**
 * Parses `ioreg -rn AppleSmartBattery` text. Reads only top-level `"Key" = value` lines (nested dictionaries such
 * as `BatteryData` are printed inline and ignored); the first occurrence of a key wins. Returns null when the
 * output holds no battery (empty output on a desktop Mac, or no `Voltage`/`CurrentCapacity`). Never throws.
 */
export function parseIoregBattery(text: string): IoregBattery | null {
  const values = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^[\s|]*"([^"]+)" = (.*)$/.exec(line);
    if (m && !values.has(m[1]!)) values.set(m[1]!, m[2]!.trim());
  }
  const int = (key: string): number | null => {
    const v = values.get(key);
    return v === undefined ? null : parseIoregInteger(v);
  };
  const bool = (key: string): boolean | null => {
    const v = values.get(key);
    return v === 'Yes' ? true : v === 'No' ? false : null;
  };
  const battery: IoregBattery = {
    voltageMv: int('Voltage'),
    amperageMa: int('InstantAmperage') ?? int('Amperage'),
    externalConnected: bool('ExternalConnected'),
    isCharging: bool('IsCharging'),
    fullyCharged: bool('FullyCharged'),
    currentCapacity: int('CurrentCapacity'),
    maxCapacity: int('MaxCapacity'),
    rawCurrentCapacityMah: int('AppleRawCurrentCapacity'),
    rawMaxCapacityMah: int('AppleRawMaxCapacity'),
  };
  if (battery.voltageMv === null && battery.currentCapacity === null) return null;
  return battery;
}

/** Whether the Mac runs on its battery: `ExternalConnected = No`, or amperage < 0 when that key is missing. */
export function isMacDischarging(b: IoregBattery): boolean {
  if (b.externalConnected !== null) return !b.externalConnected;
  return b.amperageMa !== null && b.amperageMa < 0;
}

/**
 * Whole-system power from a parsed battery: W = Voltage mV × |Amperage| mA / 1e6 while discharging; otherwise
 * `unavailable` (on AC) or `error` (fields missing or nonsense). Pure; never throws.
 */
export function macosBatteryPower(b: IoregBattery): { status: PowerSourceStatus; powerW: number | null } {
  if (!isMacDischarging(b)) {
    const what = b.fullyCharged ? 'full' : b.isCharging ? 'charging' : 'not charging (on AC)';
    return { status: { state: 'unavailable', detail: `battery is ${what}: whole-system power reads only while discharging`, fix: null }, powerW: null };
  }
  if (b.voltageMv === null || b.amperageMa === null) {
    return { status: { state: 'error', detail: 'ioreg gives no Voltage or InstantAmperage', fix: null }, powerW: null };
  }
  if (b.voltageMv <= 0) return { status: { state: 'error', detail: `ioreg Voltage is not positive: ${b.voltageMv} mV`, fix: null }, powerW: null };
  if (b.amperageMa === 0) {
    return { status: { state: 'unavailable', detail: 'battery reports 0 mA while discharging (not updated yet)', fix: null }, powerW: null };
  }
  return { status: { state: 'ok', detail: null, fix: null }, powerW: (b.voltageMv * Math.abs(b.amperageMa)) / 1e6 };
}

/**
 * Battery facts from a parsed battery. percent = CurrentCapacity / MaxCapacity × 100 (else the raw mAh ratio);
 * energyWh = AppleRawCurrentCapacity mAh × Voltage mV / 1e6 (null without them; uses the present voltage, so it
 * is approximate); capacityWh likewise from AppleRawMaxCapacity. Pure; never throws.
 */
export function macosBatteryState(b: IoregBattery): BatteryState {
  const ratio = (num: number | null, den: number | null) => (num !== null && den !== null && den > 0 ? (num / den) * 100 : null);
  const percent = ratio(b.currentCapacity, b.maxCapacity) ?? ratio(b.rawCurrentCapacityMah, b.rawMaxCapacityMah) ?? 0;
  const wh = (mAh: number | null) => (mAh !== null && mAh >= 0 && b.voltageMv !== null && b.voltageMv > 0 ? (mAh * b.voltageMv) / 1e6 : null);
  const discharging = isMacDischarging(b);
  const status: BatteryState['status'] = b.fullyCharged
    ? 'full'
    : b.isCharging
      ? 'charging'
      : discharging
        ? 'discharging'
        : b.externalConnected
          ? 'not-charging'
          : 'unknown';
  return {
    percent: Math.min(100, Math.max(0, percent)),
    onAc: b.externalConnected ?? !discharging,
    energyWh: wh(b.rawCurrentCapacityMah),
    capacityWh: wh(b.rawMaxCapacityMah),
    status,
  };
}

/** Runs `ioreg -rn AppleSmartBattery` and resolves with its stdout; rejects like `execFile` (ENOENT off macOS). */
export type RunIoreg = () => Promise<string>;

/** The default {@link RunIoreg}: `execFile('ioreg', ['-rn', 'AppleSmartBattery'])` with a 5 s timeout. */
export const defaultRunIoreg: RunIoreg = () =>
  new Promise((resolve, reject) => {
    execFile('ioreg', ['-rn', 'AppleSmartBattery'], { timeout: 5000, maxBuffer: 4 * 1024 * 1024 }, (error, stdout) => {
      if (error) reject(error);
      else resolve(stdout);
    });
  });

/**
 * Reads and parses the battery once: the parsed battery, or the status saying why not (ENOENT → not-present,
 * empty → not-present desktop Mac, other failures → error). Never throws.
 */
export async function queryIoregBattery(run: RunIoreg = defaultRunIoreg): Promise<{ battery: IoregBattery | null; status: PowerSourceStatus }> {
  let text: string;
  try {
    text = await run();
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    if (e?.code === 'ENOENT') return { battery: null, status: { state: 'not-present', detail: 'ioreg not found (not macOS)', fix: null } };
    return { battery: null, status: { state: 'error', detail: `ioreg failed: ${e?.code ?? (e instanceof Error ? e.message : String(e))}`, fix: null } };
  }
  const battery = parseIoregBattery(text);
  if (!battery) return { battery: null, status: { state: 'not-present', detail: 'no AppleSmartBattery (a Mac without a battery)', fix: null } };
  return { battery, status: { state: 'ok', detail: null, fix: null } };
}

/** Options of {@link MacosBatterySource}. */
export interface MacosBatteryOptions {
  /** Runs ioreg; inject to feed fixture output. Defaults to {@link defaultRunIoreg}. */
  runIoreg?: RunIoreg;
  /** Clock, ms since the epoch. */
  now?: () => number;
}

/** The Mac's battery as a whole-system power source. */
export class MacosBatterySource implements PowerSource {
  readonly id = 'macos-battery';
  readonly kind = 'macos-battery' as const;
  readonly label = 'battery sensor';
  readonly scope = 'system' as const;
  private readonly run: RunIoreg;
  private readonly now: () => number;
  private lastStatus: PowerSourceStatus = { state: 'ok', detail: null, fix: null };

  constructor(options: MacosBatteryOptions = {}) {
    this.run = options.runIoreg ?? defaultRunIoreg;
    this.now = options.now ?? preciseNowMs;
  }

  /** The status of the last probe or read. */
  get status(): PowerSourceStatus {
    return this.lastStatus;
  }

  /** Runs ioreg and says whether a whole-system reading is possible now. Never throws. */
  async probe(): Promise<PowerSourceStatus> {
    return (await this.sample()).status;
  }

  /** Power in W while discharging; null otherwise ({@link status} says why). Never throws. */
  async read(): Promise<PowerReading | null> {
    const at = this.now();
    const s = await this.sample();
    return s.powerW === null ? null : { sourceId: this.id, at, powerW: s.powerW, measured: true };
  }

  /** Nothing to stop (ioreg runs per read and exits). */
  async dispose(): Promise<void> {}

  private async sample(): Promise<{ status: PowerSourceStatus; powerW: number | null }> {
    const q = await queryIoregBattery(this.run);
    const s = q.battery ? macosBatteryPower(q.battery) : { status: q.status, powerW: null };
    this.lastStatus = s.status;
    return s;
  }
}
