/**
 * Wires one Wattwise backend: data folder → SQLite store → llama.cpp engine → {@link Backend}.
 * Shared by the Electron shell, the browser mode and the CLI so they behave the same.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Backend, type BackendOptions } from './backend.js';
import { databasePath } from './paths.js';
import { Store } from '../store/store.js';
import { applyPendingRestore, describeRestoreOutcome } from '../store/restore.js';
import type { ChatEngine } from '../engine/types.js';
import { LlamaEngine, MEMORY_ESTIMATE_VERSION, type EngineLogLevel } from '../engine/llamaEngine.js';
import { z } from 'zod';

/** The shape of a stored memory estimate (bytes, layers). */
const memoryEstimateSchema = z.object({ ram: z.number().nonnegative(), vram: z.number().nonnegative(), gpuLayers: z.number().int().nonnegative() });
import { discoverPowerSources, type DiscoverOptions } from '../telemetry/discover.js';
import { readBatteryState } from '../telemetry/battery.js';
import { PowerSampler, type PowerSamplerOptions } from '../telemetry/sampler.js';
import { WindowsBatterySource } from '../telemetry/sources/windowsBattery.js';

/** Options of {@link openRuntime}. */
export interface RuntimeOptions {
  /** Data folder; created if missing. */
  dataDir: string;
  transport: BackendOptions['transport'];
  modelsDirOverride?: string | null;
  overrides?: BackendOptions['overrides'];
  /** better_sqlite3.node built for the running runtime (the Electron shell passes its Electron-ABI build). */
  nativeBinding?: string;
  /** Engine to use instead of llama.cpp (tests: a `ScriptedEngine`). The store is passed for calibrations. */
  engineFactory?: (store: Store) => Promise<ChatEngine> | ChatEngine;
  /** GPU use for llama.cpp: `'auto'` (default) or `false` for CPU only. */
  gpu?: 'auto' | false;
  /** llama.cpp log level; defaults to `'warn'` (the CLI passes `'error'` to keep its output clean). */
  logLevel?: EngineLogLevel;
  /**
   * Energy telemetry: `true` (default) discovers this machine's power sources and starts the sampler;
   * `false` runs without (commands that never generate); an object tunes discovery and sampling (tests:
   * `sysfsRoot` fixtures, short intervals).
   */
  telemetry?: boolean | { discover?: DiscoverOptions; sampler?: Partial<Omit<PowerSamplerOptions, 'sources'>> };
  /** A fixed power state for the governor (CLI `--power-state-json`). */
  powerStateOverride?: BackendOptions['powerStateOverride'];
  /** Memory bandwidth measurement for the governor (tests inject a fixed figure). */
  measureBandwidth?: () => number;
  /** Automatic calibration's timing (tests shorten it); see `BackendOptions.autoCalibration`. */
  autoCalibration?: BackendOptions['autoCalibration'];
  /** Idle unload's clock (tests); see `BackendOptions.idleUnload`. */
  idleUnload?: BackendOptions['idleUnload'];
  /** How other apps' model folders are read; see `BackendOptions.discovery`. */
  discovery?: BackendOptions['discovery'];
  /** Environment for downloads; see `BackendOptions.env`. */
  env?: BackendOptions['env'];
  /** Model files may be anywhere (the CLI); see `BackendOptions.modelPathsAnywhere`. */
  modelPathsAnywhere?: boolean;
  /** Tests only: the database's page limit (`StoreOptions.maxPageCount`), to simulate a full disk. */
  storeMaxPageCount?: number;
  /** App version; defaults to package.json's. */
  version?: string;
}

/**
 * A key for this machine's CPU, so thread calibrations measured on one machine are not reused on another
 * (a copied data folder): CPU model and logical CPU count.
 */
export function machineKey(): string {
  const list = cpus();
  return `${list[0]?.model.trim() ?? 'unknown CPU'} x${list.length}`;
}

/** package.json's version (the repo root is two levels above this file, in source and in dist alike). */
export function packageVersion(): string {
  for (const up of ['../..', '../../..']) {
    try {
      const pkg = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), up, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'wattwise' && pkg.version) return pkg.version;
    } catch {
      // try the next candidate
    }
  }
  return '0.0.0';
}

/**
 * Carries out a restore staged in Settings → Data (electron/store/restore.ts), then opens the store (running
 * migrations, marking replies cut by a crash as interrupted), creates the engine and returns the backend. Call
 * `backend.dispose()` to close everything. A restore's outcome is logged on stderr (and shown in Settings).
 * @throws StoreError when the database cannot be opened (corrupt file, newer schema, read-only folder).
 */
export async function openRuntime(options: RuntimeOptions): Promise<Backend> {
  mkdirSync(options.dataDir, { recursive: true });
  const restored = applyPendingRestore({ dataDir: options.dataDir, databasePath: databasePath(options.dataDir), nativeBinding: options.nativeBinding });
  if (restored) console.error(`wattwise: ${describeRestoreOutcome(restored)}`);
  const store = Store.open({
    filePath: databasePath(options.dataDir),
    nativeBinding: options.nativeBinding,
    machineKey: machineKey(),
    ...(options.storeMaxPageCount !== undefined ? { maxPageCount: options.storeMaxPageCount } : {}),
  });
  return assemble(store, options);
}

/**
 * Opens the data folder for a command that only reads (`history`): the store read-only
 * (`Store.openForReading`: nothing created, migrated or written, works on a read-only folder), no
 * telemetry. A database of an older schema is opened with {@link openRuntime} instead (its migrations
 * must run once).
 * @returns the backend, or `null` when the folder holds no database yet (nothing to read; nothing created).
 * @throws StoreError as {@link openRuntime}.
 */
export async function openRuntimeForReading(options: RuntimeOptions): Promise<Backend | null> {
  const opened = Store.openForReading({ filePath: databasePath(options.dataDir), nativeBinding: options.nativeBinding, machineKey: machineKey() });
  if (opened.kind === 'missing') return null;
  if (opened.kind === 'outdated') return openRuntime(options);
  return assemble(opened.store, { ...options, telemetry: false });
}

/** The engine, telemetry and backend around an open store; closes the store if the engine cannot start. */
async function assemble(store: Store, options: RuntimeOptions): Promise<Backend> {
  let engine: ChatEngine;
  try {
    engine = options.engineFactory
      ? await options.engineFactory(store)
      : await LlamaEngine.create({
          calibrationStore: store,
          gpu: options.gpu ?? 'auto',
          logLevel: options.logLevel,
          estimateCache: (contextSize) => store.modelFacts.cache(`memory-estimate:${contextSize}`, MEMORY_ESTIMATE_VERSION, memoryEstimateSchema),
        });
  } catch (error) {
    store.close();
    throw error;
  }
  let sampler: PowerSampler | null = null;
  if (options.telemetry !== false) {
    const tuning = typeof options.telemetry === 'object' ? options.telemetry : {};
    try {
      const sources = await discoverPowerSources(tuning.discover ?? {});
      // On Windows the battery facts reuse the power source's one PowerShell session (never one per read).
      const windows = sources.find((s): s is WindowsBatterySource => s instanceof WindowsBatterySource);
      sampler = await PowerSampler.create({
        sources,
        readBattery: () =>
          readBatteryState({
            ...(tuning.discover?.sysfsRoot ? { sysfsRoot: tuning.discover.sysfsRoot } : {}),
            ...(tuning.discover?.platform ? { platform: tuning.discover.platform } : {}),
            ...(windows ? { windows } : {}),
          }),
        ...tuning.sampler,
      });
      sampler.start();
    } catch (error) {
      // Telemetry must never keep chat from working: without it replies simply carry no energy.
      console.error(`wattwise: energy telemetry is off: ${error instanceof Error ? error.message : String(error)}`);
      sampler = null;
    }
  }
  return new Backend({
    store,
    engine,
    sampler,
    powerStateOverride: options.powerStateOverride ?? null,
    measureBandwidth: options.measureBandwidth,
    autoCalibration: options.autoCalibration,
    idleUnload: options.idleUnload,
    discovery: options.discovery,
    env: options.env,
    modelPathsAnywhere: options.modelPathsAnywhere,
    dataDir: options.dataDir,
    modelsDirOverride: options.modelsDirOverride ?? null,
    transport: options.transport,
    version: options.version ?? packageVersion(),
    overrides: options.overrides,
  });
}
