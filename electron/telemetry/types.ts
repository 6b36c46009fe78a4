/**
 * Energy telemetry: the one interface every power source implements, and the readings they produce.
 *
 * Sources (each a small module under ./sources): Linux battery (sysfs power_supply), Linux RAPL (powercap),
 * NVIDIA GPUs (nvidia-smi), macOS battery (ioreg), Windows battery (WMI through one PowerShell session), and
 * the fallback CPU estimate. Units and paths: each source's module doc, and the team kit's
 * `../shared/docs/power-sources.md` (beside the repository, not in it).
 *
 * No Electron imports here or in any source: telemetry runs under plain Node (tests, CLI, browser mode).
 */

/** Which kind of sensor a source reads. */
export type PowerSourceKind = 'linux-battery' | 'rapl' | 'nvidia' | 'macos-battery' | 'windows-battery' | 'estimate';

/**
 * What a reading covers:
 * - `system`: the whole machine (a battery while discharging),
 * - `cpu-package`: the CPU package (RAPL), shared by every process,
 * - `gpu`: one GPU board,
 * - `process-estimate`: a model of this process's CPU power, not a measurement.
 */
export type PowerScope = 'system' | 'cpu-package' | 'gpu' | 'process-estimate';

/**
 * A source's state:
 * - `ok`: readable now,
 * - `no-permission`: present but not readable by this user (RAPL since CVE-2020-8694); `fix` says how,
 * - `not-present`: no such sensor on this machine,
 * - `unavailable`: present but gives no usable reading right now (battery charging or full, on AC), with `detail`,
 * - `error`: reading failed (garbage value, tool crashed), with `detail`.
 */
export type PowerSourceState = 'ok' | 'no-permission' | 'not-present' | 'unavailable' | 'error';

/** A source's state and what to tell the user about it. */
export interface PowerSourceStatus {
  state: PowerSourceState;
  /** One line on why it is not `ok` (e.g. "battery is charging: power reads only while discharging"). */
  detail: string | null;
  /** For `no-permission`: a one-line command the user can run to allow reading (e.g. a chmod or udev rule). */
  fix: string | null;
}

/** One power reading. */
export interface PowerReading {
  /** Source id (see {@link PowerSource.id}). */
  sourceId: string;
  /** When the reading was taken, ms since the epoch. */
  at: number;
  /** Power in watts (≥ 0). For counters (RAPL) the average since the previous read. */
  powerW: number;
  /** False for the estimate; true for every sensor. */
  measured: boolean;
}

/**
 * One power sensor (or the estimate). Sources are cheap to construct; `probe` checks the machine.
 * Implementations never throw from `probe`/`read` for machine conditions: missing files, permissions,
 * garbage values and vanished sensors become a status or a `null` reading.
 */
export interface PowerSource {
  /** Stable id, e.g. `linux-battery:BAT0`, `rapl:intel-rapl:0`, `nvidia:0`, `macos-battery`, `windows-battery`, `estimate`. */
  readonly id: string;
  readonly kind: PowerSourceKind;
  /** What the user sees: "battery sensor", "RAPL package", "GPU (NVML)", "estimated". */
  readonly label: string;
  readonly scope: PowerScope;
  /** Checks whether the source can be read now. */
  probe(): Promise<PowerSourceStatus>;
  /** Reads power now; `null` when it cannot (the status then says why). */
  read(): Promise<PowerReading | null>;
  /** Stops child processes (nvidia-smi, PowerShell) and timers. */
  dispose(): Promise<void>;
}

/** Battery facts for the gauges (from sysfs / ioreg / WMI / systeminformation). */
export interface BatteryState {
  /** Charge, 0..100. */
  percent: number;
  /** True when on mains power (AC adapter online). */
  onAc: boolean;
  /** Energy left, in Wh (null when the battery reports charge units and no voltage). */
  energyWh: number | null;
  /** Energy when full, in Wh. */
  capacityWh: number | null;
  /** Charging / discharging / full / not charging / unknown. */
  status: 'charging' | 'discharging' | 'full' | 'not-charging' | 'unknown';
}
