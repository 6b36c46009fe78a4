/**
 * Windows battery power from WMI (`root\wmi` class `BatteryStatus`), whole-system while discharging, queried
 * through ONE long-lived PowerShell session.
 *
 * Fields (Windows battery class, `BATTERY_WMI_STATUS` in batclass.h; units from `BATTERY_STATUS`: "Rate ... in
 * milliwatts", "Capacity ... in mWh", "Voltage ... in millivolts"): `DischargeRate`/`ChargeRate` mW,
 * `RemainingCapacity` mWh, `Voltage` mV, `PowerOnline`, `Charging`, `Discharging`; `BatteryFullChargedCapacity`
 * gives `FullChargedCapacity` mWh. Unknown values are the sentinels `BATTERY_UNKNOWN_RATE` = 0x80000000 (prints as
 * −2147483648) and `BATTERY_UNKNOWN_CAPACITY`/`_VOLTAGE` = 0xFFFFFFFF; they become null.
 *
 * Why one session: starting PowerShell costs ~0.3–1 s of CPU, so spawning it per sample costs more power than it
 * measures (Jan issue #1178 measured 50% idle CPU from exactly that). {@link PowerShellSession} starts
 * `powershell -NoProfile -NoLogo -NonInteractive -InputFormat Text -NoExit -Command -` once and writes one query
 * line per sample to its stdin; each query prints one line `@@wattwise:<id> <json>` that is matched back by id.
 */
import { EOL } from 'node:os';
import type { ChildProcess } from 'node:child_process';
import type { BatteryState, PowerReading, PowerSource, PowerSourceStatus } from '../types.js';
import { preciseNowMs } from './sysfs.js';
import { defaultSpawn, onLines, stopChild, type SpawnFn } from './spawn.js';

/** One battery as WMI reports it; null where the value is missing or an unknown sentinel. */
export interface WmiBattery {
  instanceName: string | null;
  powerOnline: boolean | null;
  charging: boolean | null;
  discharging: boolean | null;
  /** mW (absolute value). */
  dischargeRateMw: number | null;
  /** mW (absolute value). */
  chargeRateMw: number | null;
  /** mWh. */
  remainingCapacityMwh: number | null;
  /** mV. */
  voltageMv: number | null;
  /** From `BatteryFullChargedCapacity` (matched by InstanceName), mWh. */
  fullChargedCapacityMwh: number | null;
}

/** Every battery WMI lists ([] on a desktop). */
export interface WmiBatteryReport {
  batteries: WmiBattery[];
}

/** The PowerShell line that prints `{"status":[BatteryStatus...],"full":[BatteryFullChargedCapacity...]}` as JSON. */
export const WMI_BATTERY_QUERY =
  '$s=@(Get-CimInstance -Namespace root/wmi -ClassName BatteryStatus -ErrorAction SilentlyContinue|' +
  'Select-Object InstanceName,PowerOnline,Charging,Discharging,DischargeRate,ChargeRate,RemainingCapacity,Voltage);' +
  '$f=@(Get-CimInstance -Namespace root/wmi -ClassName BatteryFullChargedCapacity -ErrorAction SilentlyContinue|' +
  'Select-Object InstanceName,FullChargedCapacity);' +
  'ConvertTo-Json -Compress -Depth 3 -InputObject @{status=$s;full=$f}';

const UNKNOWN_RATE = 0x80000000;
const UNKNOWN_CAPACITY = 0xffffffff;

function wmiNumber(value: unknown, kind: 'rate' | 'capacity'): number | null {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isFinite(n)) return null;
  if (kind === 'rate' && (n === UNKNOWN_RATE || n === -UNKNOWN_RATE)) return null;
  if (kind === 'capacity' && (n === UNKNOWN_CAPACITY || n < 0)) return null;
  return Math.abs(n);
}

function wmiBool(value: unknown): boolean | null {
  if (typeof value === 'boolean') return value;
  if (value === 'True' || value === 'true') return true;
  if (value === 'False' || value === 'false') return false;
  return null;
}

function asArray(value: unknown): Record<string, unknown>[] {
  const list = Array.isArray(value) ? value : value && typeof value === 'object' ? [value] : [];
  return list.filter((x): x is Record<string, unknown> => !!x && typeof x === 'object');
}

/**
 * Parses the JSON printed by {@link WMI_BATTERY_QUERY} (`status` and `full` may each be an array, a single
 * object or missing, as ConvertTo-Json prints them). Returns null for anything that is not that JSON. Never throws.
 */
export function parseWmiBatteryStatus(text: string): WmiBatteryReport | null {
  let data: unknown;
  try {
    data = JSON.parse(text.trim());
  } catch {
    return null;
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) return null;
  const obj = data as Record<string, unknown>;
  if (!('status' in obj)) return null;
  const full = new Map<string, number | null>();
  for (const f of asArray(obj.full)) {
    if (typeof f.InstanceName === 'string') full.set(f.InstanceName, wmiNumber(f.FullChargedCapacity, 'capacity'));
  }
  const fullList = [...full.values()];
  const batteries = asArray(obj.status).map((s, i): WmiBattery => {
    const name = typeof s.InstanceName === 'string' ? s.InstanceName : null;
    return {
      instanceName: name,
      powerOnline: wmiBool(s.PowerOnline),
      charging: wmiBool(s.Charging),
      discharging: wmiBool(s.Discharging),
      dischargeRateMw: wmiNumber(s.DischargeRate, 'rate'),
      chargeRateMw: wmiNumber(s.ChargeRate, 'rate'),
      remainingCapacityMwh: wmiNumber(s.RemainingCapacity, 'capacity'),
      voltageMv: wmiNumber(s.Voltage, 'capacity'),
      fullChargedCapacityMwh: (name !== null ? full.get(name) : undefined) ?? fullList[i] ?? null,
    };
  });
  return { batteries };
}

/**
 * Whole-system power from a report: Σ DischargeRate (mW) / 1000 over discharging batteries; `not-present` without
 * batteries, `unavailable` on AC or with an unknown/zero rate. Pure; never throws.
 */
export function windowsBatteryPower(report: WmiBatteryReport): { status: PowerSourceStatus; powerW: number | null } {
  if (report.batteries.length === 0) return { status: { state: 'not-present', detail: 'no battery (WMI BatteryStatus is empty)', fix: null }, powerW: null };
  const discharging = report.batteries.filter((b) => b.discharging === true);
  if (discharging.length === 0 || report.batteries.some((b) => b.powerOnline === true)) {
    const what = report.batteries.some((b) => b.charging) ? 'charging' : 'not charging (on AC)';
    return { status: { state: 'unavailable', detail: `battery is ${what}: whole-system power reads only while discharging`, fix: null }, powerW: null };
  }
  let mW = 0;
  for (const b of discharging) {
    if (b.dischargeRateMw === null) {
      return { status: { state: 'unavailable', detail: 'battery reports an unknown discharge rate', fix: null }, powerW: null };
    }
    mW += b.dischargeRateMw;
  }
  if (mW === 0) return { status: { state: 'unavailable', detail: 'battery reports 0 mW while discharging (not updated yet)', fix: null }, powerW: null };
  return { status: { state: 'ok', detail: null, fix: null }, powerW: mW / 1000 };
}

/**
 * Battery facts from a report: percent = Σ RemainingCapacity / Σ FullChargedCapacity × 100, Wh = mWh / 1000,
 * onAc = any PowerOnline. Null without batteries or without capacities. Pure; never throws.
 */
export function windowsBatteryState(report: WmiBatteryReport): BatteryState | null {
  const bs = report.batteries;
  if (bs.length === 0) return null;
  const remaining = bs.every((b) => b.remainingCapacityMwh !== null) ? bs.reduce((t, b) => t + (b.remainingCapacityMwh ?? 0), 0) : null;
  const full = bs.every((b) => b.fullChargedCapacityMwh !== null) ? bs.reduce((t, b) => t + (b.fullChargedCapacityMwh ?? 0), 0) : null;
  if (remaining === null || full === null || full <= 0) return null;
  const onAc = bs.some((b) => b.powerOnline === true);
  const percent = Math.min(100, Math.max(0, (remaining / full) * 100));
  const status: BatteryState['status'] = bs.some((b) => b.charging)
    ? 'charging'
    : bs.some((b) => b.discharging)
      ? 'discharging'
      : onAc
        ? percent >= 99
          ? 'full'
          : 'not-charging'
        : 'unknown';
  return { percent, onAc, energyWh: remaining / 1000, capacityWh: full / 1000, status };
}

/** A query's answer: the printed line, or why there is none. */
export type SessionResult = { ok: true; text: string } | { ok: false; state: 'not-present' | 'error'; detail: string };

/** Options of {@link PowerShellSession}. */
export interface PowerShellSessionOptions {
  /** Binary. Defaults to `powershell` (Windows PowerShell 5.1, present on every Windows 10/11). */
  command?: string;
  /** Starts the child; inject to test with a fake shell. Defaults to `child_process.spawn`, stdio piped. */
  spawn?: SpawnFn;
  /** Time allowed per query, in ms. Defaults to 15000 (a cold WMI provider can take seconds). */
  queryTimeoutMs?: number;
  /** Restarts after the session dies, at most. Defaults to 3. */
  maxRestarts?: number;
  /** Wait before the first restart, in ms; doubles each time. Defaults to 1000. */
  restartBackoffMs?: number;
}

/** Arguments of the long-lived session: read commands from stdin, one per line. */
export const POWERSHELL_ARGS = ['-NoProfile', '-NoLogo', '-NonInteractive', '-InputFormat', 'Text', '-NoExit', '-Command', '-'];

/**
 * One persistent PowerShell reading commands from stdin. {@link query} writes `<script>` wrapped so its output comes
 * back as ONE line `@@wattwise:<id> <output>`; queries run one at a time. A dead session is restarted on the next
 * query (at most `maxRestarts` times, with backoff).
 */
export class PowerShellSession {
  /** Times the shell was started. */
  spawnCount = 0;
  private readonly command: string;
  private readonly spawnFn: SpawnFn;
  private readonly queryTimeoutMs: number;
  private readonly maxRestarts: number;
  private readonly restartBackoffMs: number;
  private child: ChildProcess | null = null;
  private notPresent = false;
  private disposed = false;
  private deadSince: number | null = null;
  private lastProblem: string | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, (r: SessionResult) => void>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: PowerShellSessionOptions = {}) {
    this.command = options.command ?? 'powershell';
    this.spawnFn = options.spawn ?? defaultSpawn;
    this.queryTimeoutMs = options.queryTimeoutMs ?? 15_000;
    this.maxRestarts = options.maxRestarts ?? 3;
    this.restartBackoffMs = options.restartBackoffMs ?? 1000;
  }

  /** Runs one script line and resolves with its output line (serialized with other queries). Never throws. */
  query(script: string): Promise<SessionResult> {
    const run = this.queue.then(() => this.runQuery(script));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Ends the shell (`exit`, then SIGTERM). Idempotent. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.failPending({ ok: false, state: 'error', detail: 'PowerShell session closed' });
    const child = this.child;
    this.child = null;
    if (child) {
      try {
        child.stdin?.write(`exit${EOL}`);
      } catch {
        /* already closed */
      }
      await stopChild(child);
    }
  }

  private async runQuery(script: string): Promise<SessionResult> {
    if (this.disposed) return { ok: false, state: 'error', detail: 'PowerShell session closed' };
    const ready = await this.ensureStarted();
    if (!ready.ok) return ready;
    const child = this.child;
    if (!child?.stdin) return { ok: false, state: 'error', detail: 'PowerShell has no stdin' };
    const id = this.nextId++;
    return new Promise<SessionResult>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve({ ok: false, state: 'error', detail: `PowerShell query timed out after ${this.queryTimeoutMs} ms` });
      }, this.queryTimeoutMs);
      timer.unref();
      this.pending.set(id, (r) => {
        clearTimeout(timer);
        this.pending.delete(id);
        resolve(r);
      });
      // One line: run the script, print its output joined as one line behind the marker.
      const line = `try { $o = (& { ${script} }) -join ' '; Write-Output ('@@wattwise:${id} ' + $o) } catch { Write-Output ('@@wattwise:${id} !' + $_.Exception.Message) }`;
      try {
        child.stdin!.write(`${line}${EOL}`);
      } catch (error) {
        this.pending.get(id)?.({ ok: false, state: 'error', detail: `cannot write to PowerShell: ${(error as Error).message}` });
      }
    });
  }

  private async ensureStarted(): Promise<SessionResult> {
    if (this.notPresent) return { ok: false, state: 'not-present', detail: `${this.command} not found` };
    if (this.child) return { ok: true, text: '' };
    const restarts = this.spawnCount - 1;
    if (this.spawnCount > 0) {
      if (restarts >= this.maxRestarts) {
        return { ok: false, state: 'error', detail: `${this.lastProblem ?? 'PowerShell stopped'} (gave up after ${restarts} restarts)` };
      }
      const waitMs = this.restartBackoffMs * 2 ** restarts - (Date.now() - (this.deadSince ?? 0));
      if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
      if (this.disposed) return { ok: false, state: 'error', detail: 'PowerShell session closed' };
    }
    this.spawnCount += 1;
    let child: ChildProcess;
    try {
      child = this.spawnFn(this.command, POWERSHELL_ARGS);
    } catch (error) {
      return this.onStartError(error as NodeJS.ErrnoException);
    }
    // The spawn error (ENOENT) arrives asynchronously: wait for 'spawn' or 'error'.
    const started = await new Promise<SessionResult>((resolve) => {
      child.once('spawn', () => resolve({ ok: true, text: '' }));
      child.once('error', (error: NodeJS.ErrnoException) => resolve(this.onStartError(error)));
    });
    if (!started.ok) return started;
    this.child = child;
    let lastStderr: string | null = null;
    onLines(child.stdout, (line) => {
      const m = /^@@wattwise:(\d+) (.*)$/.exec(line);
      if (!m) return;
      const text = m[2]!;
      const settle = this.pending.get(Number(m[1]));
      if (!settle) return;
      if (text.startsWith('!')) settle({ ok: false, state: 'error', detail: `PowerShell: ${text.slice(1)}` });
      else settle({ ok: true, text });
    });
    onLines(child.stderr, (line) => {
      if (line.trim()) lastStderr = line.trim();
    });
    child.on('error', () => undefined); // reported through 'exit'
    child.on('exit', (code, signal) => {
      if (this.child !== child) return;
      this.child = null;
      this.deadSince = Date.now();
      this.lastProblem = `PowerShell exited (${signal ? `signal ${signal}` : `code ${code}`})${lastStderr ? `: ${lastStderr}` : ''}`;
      this.failPending({ ok: false, state: 'error', detail: this.lastProblem });
    });
    return { ok: true, text: '' };
  }

  private onStartError(error: NodeJS.ErrnoException): SessionResult {
    if (error.code === 'ENOENT') {
      this.notPresent = true;
      return { ok: false, state: 'not-present', detail: `${this.command} not found` };
    }
    this.deadSince = Date.now();
    this.lastProblem = `cannot start ${this.command}: ${error.code ?? error.message}`;
    return { ok: false, state: 'error', detail: this.lastProblem };
  }

  private failPending(result: SessionResult): void {
    for (const settle of [...this.pending.values()]) settle(result);
  }
}

/** Options of {@link WindowsBatterySource}: the session's, plus a clock. */
export interface WindowsBatteryOptions extends PowerShellSessionOptions {
  /** Clock, ms since the epoch. */
  now?: () => number;
}

/** The Windows battery (all batteries summed) as a whole-system power source, over one PowerShell session. */
export class WindowsBatterySource implements PowerSource {
  readonly id = 'windows-battery';
  readonly kind = 'windows-battery' as const;
  readonly label = 'battery sensor';
  readonly scope = 'system' as const;
  /** The session (exposed for tests and for {@link readBatteryState} to share). */
  readonly session: PowerShellSession;
  private readonly now: () => number;
  private lastStatus: PowerSourceStatus = { state: 'ok', detail: null, fix: null };

  constructor(options: WindowsBatteryOptions = {}) {
    this.session = new PowerShellSession(options);
    this.now = options.now ?? preciseNowMs;
  }

  /** The status of the last probe or read. */
  get status(): PowerSourceStatus {
    return this.lastStatus;
  }

  /** Runs the WMI query once in the session: the parsed report, or the status saying why not. Never throws. */
  async queryReport(): Promise<{ report: WmiBatteryReport | null; status: PowerSourceStatus }> {
    const r = await this.session.query(WMI_BATTERY_QUERY);
    if (!r.ok) return { report: null, status: { state: r.state, detail: r.detail, fix: null } };
    const report = parseWmiBatteryStatus(r.text);
    if (!report) return { report: null, status: { state: 'error', detail: `WMI answer is not BatteryStatus JSON: ${JSON.stringify(r.text.slice(0, 60))}`, fix: null } };
    return { report, status: { state: 'ok', detail: null, fix: null } };
  }

  /** Queries WMI and says whether a whole-system reading is possible now. Never throws. */
  async probe(): Promise<PowerSourceStatus> {
    return (await this.sample()).status;
  }

  /** Power in W while discharging (one query in the session); null otherwise. Never throws. */
  async read(): Promise<PowerReading | null> {
    const at = this.now();
    const s = await this.sample();
    return s.powerW === null ? null : { sourceId: this.id, at, powerW: s.powerW, measured: true };
  }

  /** Ends the PowerShell session. */
  async dispose(): Promise<void> {
    await this.session.dispose();
  }

  private async sample(): Promise<{ status: PowerSourceStatus; powerW: number | null }> {
    const q = await this.queryReport();
    const s = q.report ? windowsBatteryPower(q.report) : { status: q.status, powerW: null };
    this.lastStatus = s.status;
    return s;
  }
}
