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
import type { ChatEngine } from '../engine/types.js';
import { LlamaEngine, type EngineLogLevel } from '../engine/llamaEngine.js';

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
 * Opens the store (running migrations, marking replies cut by a crash as interrupted), creates the engine
 * and returns the backend. Call `backend.dispose()` to close everything.
 * @throws StoreError when the database cannot be opened (corrupt file, newer schema, read-only folder).
 */
export async function openRuntime(options: RuntimeOptions): Promise<Backend> {
  mkdirSync(options.dataDir, { recursive: true });
  const store = Store.open({
    filePath: databasePath(options.dataDir),
    nativeBinding: options.nativeBinding,
    machineKey: machineKey(),
  });
  let engine: ChatEngine;
  try {
    engine = options.engineFactory
      ? await options.engineFactory(store)
      : await LlamaEngine.create({ calibrationStore: store, gpu: options.gpu ?? 'auto', logLevel: options.logLevel });
  } catch (error) {
    store.close();
    throw error;
  }
  return new Backend({
    store,
    engine,
    dataDir: options.dataDir,
    modelsDirOverride: options.modelsDirOverride ?? null,
    transport: options.transport,
    version: options.version ?? packageVersion(),
    overrides: options.overrides,
  });
}
