/**
 * The browser mode: builds the renderer when its build is missing or older than its sources, opens the
 * backend with the HTTP transport and starts the server. Used by `npm run web` (through the CLI) and by
 * the end-to-end tests.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openRuntime, type RuntimeOptions } from '../core/runtime.js';
import { startHttpServer, type RunningHttpServer } from './httpServer.js';
import { ApiServerController } from './openai/controller.js';
import type { Backend } from '../core/backend.js';

/** Repository root (this file is electron/server/webMode.ts). */
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Where `npm run build:renderer` writes the renderer. */
export const rendererBuildDir = join(repoRoot, 'dist', 'renderer');

/** Options of {@link startWebMode}. */
export interface WebModeOptions {
  dataDir: string;
  modelsDirOverride?: string | null;
  /** TCP port, 0 = any free port. */
  port?: number;
  /** Interface; defaults to 127.0.0.1. Anything else is reachable from other machines: the token still guards it. */
  host?: string;
  gpu?: 'auto' | false;
  /** Build the renderer first when stale. Defaults to true. */
  build?: boolean;
  /** Access token (tests fix it); random by default. */
  token?: string;
  engineFactory?: RuntimeOptions['engineFactory'];
  log?: (line: string) => void;
}

/** A running browser mode. */
export interface RunningWebMode extends RunningHttpServer {
  backend: Backend;
}

function newestMtimeMs(dir: string): number {
  let newest = 0;
  if (!existsSync(dir)) return newest;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtimeMs(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** True when dist/renderer is missing or older than renderer/ or shared/. */
export function rendererBuildIsStale(): boolean {
  const index = join(rendererBuildDir, 'index.html');
  if (!existsSync(index)) return true;
  const built = statSync(index).mtimeMs;
  return Math.max(newestMtimeMs(join(repoRoot, 'renderer')), newestMtimeMs(join(repoRoot, 'shared'))) > built;
}

/**
 * Builds the renderer if needed, then starts backend + server.
 * @throws when the build fails, the port is taken or the database cannot be opened.
 */
export async function startWebMode(options: WebModeOptions): Promise<RunningWebMode> {
  const log = options.log ?? (() => undefined);
  if (options.build !== false && rendererBuildIsStale()) {
    log('Building the renderer (vite build)…');
    const r = spawnSync('npm', ['run', '-s', 'build:renderer'], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'], shell: process.platform === 'win32' });
    if (r.status !== 0) throw new Error('The renderer build failed (npm run build:renderer)');
  }
  const backend = await openRuntime({
    dataDir: options.dataDir,
    transport: 'http',
    modelsDirOverride: options.modelsDirOverride ?? null,
    gpu: options.gpu,
    engineFactory: options.engineFactory,
  });
  let server: RunningHttpServer;
  try {
    server = await startHttpServer({ backend, staticDir: rendererBuildDir, host: options.host, port: options.port, token: options.token });
    // The local OpenAI-compatible API, as in the app (Settings → Local API; off by default).
    await backend.attachApiServer(new ApiServerController(backend));
  } catch (error) {
    await backend.dispose();
    throw error;
  }
  log(`Data: ${options.dataDir}`);
  log(`Models: ${backend.modelsDir()}`);
  return {
    ...server,
    backend,
    close: async () => {
      await server.close();
      await backend.dispose();
    },
  };
}
