/**
 * CPU package power from RAPL through the Linux powercap framework (`/sys/class/powercap/intel-rapl:N/`).
 *
 * - `energy_uj`: a cumulative energy counter in µJ (kernel `Documentation/power/powercap/powercap.rst`), which
 *   wraps back to 0 after `max_energy_range_uj`. Power W = Δenergy_uj / 1e6 / Δt s.
 * - Only package domains (`intel-rapl:0`, `intel-rapl:1`, ... whose `name` is `package-N`) are sources. Their
 *   subdomains (`intel-rapl:0:0` core, `intel-rapl:0:1` uncore, dram) are already inside the package energy and
 *   are never added; the `psys` platform domain some laptops expose at `intel-rapl:1` overlaps the package and is
 *   skipped too. AMD Zen CPUs show up as `intel-rapl` on recent kernels (the `intel_rapl_msr` driver).
 * - Since November 2020 `energy_uj` is readable by root only (kernel commit 949dd0104c49, "powercap: restrict
 *   energy meter to root access", the fix for CVE-2020-8694 "PLATYPUS": the counter leaked enough to recover
 *   keys). Reading it as another user fails with EACCES: the source then reports `no-permission` with
 *   {@link RAPL_FIX}.
 *
 * First read: a counter gives power only between two reads, so the first `read()` stores the counter and
 * returns null (state stays `ok`); every later read returns the average power since the previous read.
 */
import { join } from 'node:path';
import type { PowerReading, PowerSource, PowerSourceStatus } from '../types.js';
import { defaultReadTextFile, listDir, parseSysfsInt, powercapDir, preciseNowMs, readAttr, type ReadTextFile } from './sysfs.js';

/** One-line command that lets every user read the RAPL counters (until the next reboot). */
export const RAPL_FIX = 'sudo chmod o+r /sys/class/powercap/intel-rapl:*/energy_uj';

/**
 * A udev rule with the same effect that survives reboots (put it in `/etc/udev/rules.d/70-wattwise-rapl.rules`).
 * Note it re-opens the side channel of CVE-2020-8694 to local users; that is the administrator's call.
 */
export const RAPL_UDEV_RULE = 'SUBSYSTEM=="powercap", ACTION=="add", RUN+="/bin/chmod o+r /sys%p/energy_uj"';

/** Why EACCES: shown as the `detail` of a `no-permission` status. */
export const RAPL_NO_PERMISSION_DETAIL =
  'energy_uj is readable by root only since Nov 2020 (CVE-2020-8694 "PLATYPUS", kernel commit 949dd0104c49); ' +
  `the fix below lasts until reboot, a udev rule makes it permanent: ${RAPL_UDEV_RULE}`;

/**
 * Package zones under `<sysfsRoot>/sys/class/powercap`: directory names matching `intel-rapl:N` (never
 * `intel-rapl:N:M` subzones, never `intel-rapl-mmio:N`, which mirrors a package for power limits) whose `name` is
 * `package-*` (or unreadable: assumed a package). Sorted by N. [] when powercap is absent. Never throws.
 */
export async function listRaplPackages(sysfsRoot = '/', read: ReadTextFile = defaultReadTextFile): Promise<string[]> {
  const dir = powercapDir(sysfsRoot);
  const names = (await listDir(dir)) ?? [];
  const zones = names.filter((n) => /^intel-rapl:\d+$/.test(n)).sort((a, b) => zoneIndex(a) - zoneIndex(b));
  const out: string[] = [];
  for (const zone of zones) {
    const name = await readAttr(read, join(dir, zone, 'name'));
    if (name.ok && !name.text.startsWith('package')) continue; // psys and anything else that is not a package
    out.push(zone);
  }
  return out;
}

function zoneIndex(zone: string): number {
  return Number(zone.slice('intel-rapl:'.length));
}

/** Options of {@link RaplSource}. */
export interface RaplOptions {
  /** Zone directory name, e.g. `intel-rapl:0`. */
  zone: string;
  /** Root of the sysfs tree (`<root>/sys/class/powercap`). Defaults to `/`. */
  sysfsRoot?: string;
  /** File reader (inject one that throws EACCES to test permissions as root). Defaults to `fs.promises.readFile`. */
  readFile?: ReadTextFile;
  /** Clock, ms since the epoch. Defaults to `performance.timeOrigin + performance.now()` (sub-ms). */
  now?: () => number;
}

/** One RAPL package domain as a power source (see the module comment). */
export class RaplSource implements PowerSource {
  readonly id: string;
  readonly kind = 'rapl' as const;
  readonly label = 'RAPL package';
  readonly scope = 'cpu-package' as const;
  /** Zone directory name (`intel-rapl:0`). */
  readonly zone: string;

  private readonly dir: string;
  private readonly readText: ReadTextFile;
  private readonly now: () => number;
  private lastStatus: PowerSourceStatus = { state: 'ok', detail: null, fix: null };
  private previous: { energyUJ: number; at: number } | null = null;
  private maxRangeUJ: number | null = null;

  constructor(options: RaplOptions) {
    this.zone = options.zone;
    this.id = `rapl:${options.zone}`;
    this.dir = join(powercapDir(options.sysfsRoot ?? '/'), options.zone);
    this.readText = options.readFile ?? defaultReadTextFile;
    this.now = options.now ?? preciseNowMs;
  }

  /** The status of the last `probe` or `read`. */
  get status(): PowerSourceStatus {
    return this.lastStatus;
  }

  /** Reads `energy_uj` once: ok, no-permission (EACCES/EPERM), not-present (ENOENT) or error. Never throws. */
  async probe(): Promise<PowerSourceStatus> {
    const r = await this.readEnergy();
    this.lastStatus = r.status;
    return r.status;
  }

  /**
   * Average package power in W since the previous read; null on the first read (the counter is stored) and
   * whenever the counter cannot be read (status says why). A counter that went backwards wrapped at
   * `max_energy_range_uj`: Δ = max − previous + current. Reads must come less than one wrap apart (the range is
   * typically ~262 kJ: over 40 minutes at 100 W). Never throws.
   */
  async read(): Promise<PowerReading | null> {
    const at = this.now();
    const r = await this.readEnergy();
    this.lastStatus = r.status;
    if (r.energyUJ === null) {
      this.previous = null;
      return null;
    }
    const prev = this.previous;
    this.previous = { energyUJ: r.energyUJ, at };
    if (prev === null || at <= prev.at) return null;
    let deltaUJ = r.energyUJ - prev.energyUJ;
    if (deltaUJ < 0) {
      const max = await this.maxRange();
      if (max === null || prev.energyUJ > max) {
        this.lastStatus = { state: 'error', detail: `${this.zone}/energy_uj went backwards and max_energy_range_uj is unreadable`, fix: null };
        return null;
      }
      deltaUJ = max - prev.energyUJ + r.energyUJ;
    }
    const powerW = deltaUJ / 1e6 / ((at - prev.at) / 1000);
    return { sourceId: this.id, at, powerW, measured: true };
  }

  /** Nothing to stop. */
  async dispose(): Promise<void> {}

  private async maxRange(): Promise<number | null> {
    if (this.maxRangeUJ !== null) return this.maxRangeUJ;
    const m = await readAttr(this.readText, join(this.dir, 'max_energy_range_uj'));
    const v = m.ok ? parseSysfsInt(m.text) : null;
    this.maxRangeUJ = v !== null && v > 0 ? v : null;
    return this.maxRangeUJ;
  }

  private async readEnergy(): Promise<{ status: PowerSourceStatus; energyUJ: number | null }> {
    const r = await readAttr(this.readText, join(this.dir, 'energy_uj'));
    if (!r.ok) {
      if (r.code === 'EACCES' || r.code === 'EPERM') {
        return { status: { state: 'no-permission', detail: RAPL_NO_PERMISSION_DETAIL, fix: RAPL_FIX }, energyUJ: null };
      }
      if (r.code === 'ENOENT' || r.code === 'ENOTDIR') {
        return { status: { state: 'not-present', detail: `no RAPL zone ${this.zone}`, fix: null }, energyUJ: null };
      }
      return { status: { state: 'error', detail: `cannot read ${this.zone}/energy_uj: ${r.code}`, fix: null }, energyUJ: null };
    }
    const v = parseSysfsInt(r.text);
    if (v === null || v < 0) {
      return { status: { state: 'error', detail: `${this.zone}/energy_uj is not a counter: ${JSON.stringify(r.text.slice(0, 40))}`, fix: null }, energyUJ: null };
    }
    return { status: { state: 'ok', detail: null, fix: null }, energyUJ: v };
  }
}
