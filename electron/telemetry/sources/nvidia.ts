/**
 * NVIDIA GPU board power from ONE long-lived `nvidia-smi` process:
 * `nvidia-smi --query-gpu=index,power.draw,power.limit --format=csv,noheader,nounits -lms 1000`
 * prints one line per GPU every interval (`0, 35.12, 115.00`), power in W (nvidia-smi `--help-query-gpu`:
 * "power.draw: The last measured power draw for the entire board, in watts"; on Ampere and newer it is a 1 s
 * average). Spawning nvidia-smi per sample would cost more than it measures, so {@link NvidiaSmiMonitor} keeps
 * one process and every {@link NvidiaGpuSource} reads the latest line for its GPU.
 *
 * - `[N/A]`, `[Not Supported]`, `[Unknown Error]` for power.draw → that GPU is `unavailable`.
 * - nvidia-smi not installed (spawn `ENOENT`) → `not-present`, no restart.
 * - The process dying (driver unloaded, GPU lost, killed) → `error`, restarted at most `maxRestarts` times with
 *   exponential backoff (`restartBackoffMs` × 2^n).
 * - No line for a GPU for `staleAfterMs` → `error` (the process hangs).
 */
import type { ChildProcess } from 'node:child_process';
import type { PowerReading, PowerSource, PowerSourceStatus } from '../types.js';
import { preciseNowMs } from './sysfs.js';
import { defaultSpawn, onLines, stopChild, type SpawnFn } from './spawn.js';

/** One parsed nvidia-smi line. */
export interface NvidiaSmiLine {
  /** GPU index as nvidia-smi numbers it. */
  index: number;
  /** power.draw in W; null when nvidia-smi printed `[N/A]`, `[Not Supported]` or similar. */
  powerW: number | null;
  /** power.limit in W; null when not reported. */
  powerLimitW: number | null;
  /** power.draw as printed (for the `unavailable` detail). */
  rawPower: string;
}

/**
 * Parses one line of `--query-gpu=index,power.draw,power.limit --format=csv,noheader,nounits`. Returns null
 * for anything else (a header, "No devices were found", an error message, a blank line). Never throws.
 */
export function parseNvidiaSmiLine(line: string): NvidiaSmiLine | null {
  const cells = line.split(',').map((c) => c.trim());
  if (cells.length !== 3) return null;
  const [indexText, powerText, limitText] = cells as [string, string, string];
  if (!/^\d+$/.test(indexText)) return null;
  const number = (text: string): number | null => {
    if (!/^\d+(\.\d+)?$/.test(text)) return null; // [N/A], [Not Supported], [Unknown Error], ...
    return Number(text);
  };
  const powerW = number(powerText);
  // A non-numeric draw must still look like nvidia-smi's bracketed placeholder, not random text.
  if (powerW === null && !/^\[.*\]$/.test(powerText)) return null;
  return { index: Number(indexText), powerW, powerLimitW: number(limitText), rawPower: powerText };
}

/** The nvidia-smi arguments for one line per GPU every `intervalMs`. */
export function nvidiaSmiArgs(intervalMs: number): string[] {
  return ['--query-gpu=index,power.draw,power.limit', '--format=csv,noheader,nounits', '-lms', String(Math.max(1, Math.round(intervalMs)))];
}

/** Options of {@link NvidiaSmiMonitor}. */
export interface NvidiaMonitorOptions {
  /** Binary to run. Defaults to `nvidia-smi` (found on PATH). */
  command?: string;
  /** Starts the child; inject to feed canned output. Defaults to `child_process.spawn` with piped stdio. */
  spawn?: SpawnFn;
  /** Sampling interval passed as `-lms`, in ms. Defaults to 1000 (power.draw is a 1 s average on Ampere+). */
  intervalMs?: number;
  /** Restarts after the process dies, at most. Defaults to 3. */
  maxRestarts?: number;
  /** First restart delay in ms; doubles each time. Defaults to 1000. */
  restartBackoffMs?: number;
  /** A GPU with no line for this long is `error`, in ms. Defaults to max(5000, 5 × intervalMs). */
  staleAfterMs?: number;
  /** Clock, ms since the epoch. Defaults to `performance.timeOrigin + performance.now()`. */
  now?: () => number;
}

/** The latest line of one GPU, with when it arrived (ms since the epoch). */
export interface NvidiaGpuSample extends NvidiaSmiLine {
  at: number;
}

type MonitorState = 'idle' | 'starting' | 'running' | 'not-present' | 'dead' | 'disposed';

/**
 * Owns the one nvidia-smi process and the latest sample per GPU. Shared by the {@link NvidiaGpuSource}s (reference
 * counted: the process stops when the last source is disposed, or on {@link dispose}).
 */
export class NvidiaSmiMonitor {
  /** Times the process was started (1 + restarts). */
  spawnCount = 0;

  private readonly command: string;
  private readonly spawnFn: SpawnFn;
  private readonly intervalMs: number;
  private readonly maxRestarts: number;
  private readonly restartBackoffMs: number;
  private readonly staleAfterMs: number;
  private readonly now: () => number;
  private state: MonitorState = 'idle';
  private child: ChildProcess | null = null;
  private restartTimer: NodeJS.Timeout | null = null;
  private readonly samples = new Map<number, NvidiaGpuSample>();
  private problem: string | null = null;
  private refs = 0;
  private firstData: Promise<void> | null = null;
  private signalFirstData: (() => void) | null = null;

  constructor(options: NvidiaMonitorOptions = {}) {
    this.command = options.command ?? 'nvidia-smi';
    this.spawnFn = options.spawn ?? defaultSpawn;
    this.intervalMs = options.intervalMs ?? 1000;
    this.maxRestarts = options.maxRestarts ?? 3;
    this.restartBackoffMs = options.restartBackoffMs ?? 1000;
    this.staleAfterMs = options.staleAfterMs ?? Math.max(5000, 5 * this.intervalMs);
    this.now = options.now ?? preciseNowMs;
  }

  /** Starts the process if it is not running yet (idempotent). Never throws. */
  start(): void {
    if (this.state !== 'idle') return;
    this.firstData = new Promise((resolve) => (this.signalFirstData = resolve));
    this.launch();
  }

  /**
   * Starts the process and waits until the first lines arrived (plus `settleMs` for the other GPUs of the same
   * batch), the process failed, or `timeoutMs` passed. Resolves with the GPU indexes seen, sorted; [] when none.
   */
  async waitForGpus(timeoutMs = 5000, settleMs = 250): Promise<number[]> {
    this.start();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.firstData, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    if (this.samples.size > 0 && settleMs > 0) await new Promise((resolve) => setTimeout(resolve, settleMs));
    return [...this.samples.keys()].sort((a, b) => a - b);
  }

  /** The latest sample of GPU `index`, or null when none arrived yet. */
  latest(index: number): NvidiaGpuSample | null {
    return this.samples.get(index) ?? null;
  }

  /** The state of GPU `index` now (see the module comment). */
  status(index: number): PowerSourceStatus {
    switch (this.state) {
      case 'not-present':
        return { state: 'not-present', detail: `${this.command} not found (no NVIDIA driver installed)`, fix: null };
      case 'disposed':
        return { state: 'error', detail: 'nvidia-smi monitor was stopped', fix: null };
      case 'dead':
        return { state: 'error', detail: this.problem ?? 'nvidia-smi stopped', fix: null };
      case 'idle':
      case 'starting':
        if (this.samples.size === 0) return { state: 'unavailable', detail: 'waiting for the first nvidia-smi sample', fix: null };
        break;
      case 'running':
        break;
    }
    const s = this.samples.get(index);
    if (!s) return { state: 'not-present', detail: `nvidia-smi reports no GPU ${index}`, fix: null };
    const ageMs = this.now() - s.at;
    if (ageMs > this.staleAfterMs) return { state: 'error', detail: `no sample from nvidia-smi for ${(ageMs / 1000).toFixed(0)} s`, fix: null };
    if (s.powerW === null) return { state: 'unavailable', detail: `GPU ${index} reports power.draw ${s.rawPower}`, fix: null };
    return { state: 'ok', detail: null, fix: null };
  }

  /** Registers a user (a source); {@link release} stops the process when the last one leaves. */
  acquire(): void {
    this.refs += 1;
  }

  /** Unregisters a user; disposes the monitor when none is left. */
  async release(): Promise<void> {
    this.refs = Math.max(0, this.refs - 1);
    if (this.refs === 0) await this.dispose();
  }

  /** Stops the process and any pending restart. Idempotent; never throws. */
  async dispose(): Promise<void> {
    if (this.state === 'disposed') return;
    this.state = 'disposed';
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    this.signalFirstData?.();
    const child = this.child;
    this.child = null;
    if (child) await stopChild(child);
  }

  private launch(): void {
    if (this.state === 'disposed') return;
    this.state = 'starting';
    this.spawnCount += 1;
    let child: ChildProcess;
    try {
      child = this.spawnFn(this.command, nvidiaSmiArgs(this.intervalMs));
    } catch (error) {
      this.onSpawnError(error as NodeJS.ErrnoException);
      return;
    }
    this.child = child;
    let lastOther: string | null = null;
    onLines(child.stdout, (line) => {
      if (this.child !== child) return;
      const parsed = parseNvidiaSmiLine(line);
      if (!parsed) {
        if (line.trim()) lastOther = line.trim();
        return;
      }
      this.samples.set(parsed.index, { ...parsed, at: this.now() });
      this.state = 'running';
      this.signalFirstData?.();
    });
    onLines(child.stderr, (line) => {
      if (line.trim()) lastOther = line.trim();
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (this.child !== child) return;
      this.onSpawnError(error);
    });
    child.on('exit', (code, signal) => {
      if (this.child !== child) return;
      this.child = null;
      if (this.state === 'disposed' || this.state === 'not-present') return;
      const how = signal ? `signal ${signal}` : `code ${code}`;
      this.onDeath(`nvidia-smi exited (${how})${lastOther ? `: ${lastOther}` : ''}`);
    });
  }

  private onSpawnError(error: NodeJS.ErrnoException): void {
    this.child = null;
    if (error.code === 'ENOENT') {
      this.state = 'not-present';
      this.problem = `${this.command} not found`;
      this.signalFirstData?.();
      return;
    }
    this.onDeath(`cannot run ${this.command}: ${error.code ?? error.message}`);
  }

  private onDeath(problem: string): void {
    if (this.state === 'disposed') return;
    this.state = 'dead';
    const restarts = this.spawnCount - 1;
    this.problem = restarts < this.maxRestarts ? `${problem} (restarting)` : `${problem} (gave up after ${restarts} restarts)`;
    this.signalFirstData?.();
    if (restarts >= this.maxRestarts) return;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      this.launch();
    }, this.restartBackoffMs * 2 ** restarts);
    this.restartTimer.unref();
  }
}

/** One NVIDIA GPU as a power source, reading the shared {@link NvidiaSmiMonitor}. */
export class NvidiaGpuSource implements PowerSource {
  readonly id: string;
  readonly kind = 'nvidia' as const;
  readonly label = 'GPU (NVML)';
  readonly scope = 'gpu' as const;
  /** GPU index (nvidia-smi numbering). */
  readonly index: number;
  private readonly monitor: NvidiaSmiMonitor;
  private disposed = false;

  /** Registers with `monitor` (which this source starts on first use and releases on dispose). */
  constructor(index: number, monitor: NvidiaSmiMonitor) {
    this.index = index;
    this.id = `nvidia:${index}`;
    this.monitor = monitor;
    monitor.acquire();
  }

  /** Starts the monitor if needed, waits for its first sample (≤ 5 s), and returns this GPU's state. */
  async probe(): Promise<PowerSourceStatus> {
    await this.monitor.waitForGpus(5000, 0);
    return this.monitor.status(this.index);
  }

  /** The latest power.draw in W (at = when its line arrived); null unless the status is ok. Never throws. */
  async read(): Promise<PowerReading | null> {
    this.monitor.start();
    if (this.monitor.status(this.index).state !== 'ok') return null;
    const s = this.monitor.latest(this.index);
    if (!s || s.powerW === null) return null;
    return { sourceId: this.id, at: s.at, powerW: s.powerW, measured: true };
  }

  /** Releases the monitor (the process stops with the last GPU source). Idempotent. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.monitor.release();
  }
}

/**
 * Starts one nvidia-smi and returns a source per GPU it reports ([] and the process stopped when nvidia-smi is
 * missing, fails, or reports no GPU within `timeoutMs`). Never throws.
 */
export async function discoverNvidiaGpus(options: NvidiaMonitorOptions & { timeoutMs?: number } = {}): Promise<NvidiaGpuSource[]> {
  const monitor = new NvidiaSmiMonitor(options);
  const indexes = await monitor.waitForGpus(options.timeoutMs ?? 5000);
  if (indexes.length === 0) {
    await monitor.dispose();
    return [];
  }
  return indexes.map((i) => new NvidiaGpuSource(i, monitor));
}
