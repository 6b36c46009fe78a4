/**
 * Test helpers that open a real backend (real SQLite file in a temp folder) over a chosen engine.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApiEvent, ApiResult } from '../../shared/contract.js';
import { openRuntime, type RuntimeOptions } from '../../electron/core/runtime.js';
import type { Backend } from '../../electron/core/backend.js';

/** A fresh temp folder; removed by the returned cleanup. */
export function tempDir(prefix = 'wattwise-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Opens a backend on `dataDir` (default: a new temp folder), reading no other app's model folder unless `discovery` is given. */
export async function openTestBackend(options: Partial<RuntimeOptions> & { dataDir: string }): Promise<Backend> {
  // Other apps' folders are not read unless a test asks (with a fixture home): the machine's own never leak in.
  // Tests name the kit's model files directly, as the CLI does; the app's restriction has its own tests.
  return openRuntime({ transport: 'ipc', gpu: false, discovery: false, modelPathsAnywhere: true, ...options });
}

/** The value of an ok result; throws with the error otherwise. */
export function ok<T>(result: ApiResult<T>): T {
  if (!result.ok) throw new Error(`expected ok, got ${result.error.code}: ${result.error.message}`);
  return result.value;
}

/**
 * Records every event and resolves when `chat.done` arrives for `requestId()` (read lazily, so the
 * request id returned by chat.send can be filled in after subscribing). `tokens` holds that request's
 * token texts, in order.
 */
export function waitForDone(backend: Backend, requestId: () => string | null, timeoutMs = 60_000) {
  const events: ApiEvent[] = [];
  const tokens: string[] = [];
  const promise = new Promise<Extract<ApiEvent, { type: 'chat.done' }>>((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error('timed out waiting for chat.done'));
    }, timeoutMs);
    const unsubscribe = backend.onEvent((event) => {
      events.push(event);
      if (event.type === 'chat.done' && event.requestId === requestId()) {
        clearTimeout(timer);
        unsubscribe();
        for (const e of events) if (e.type === 'chat.token' && e.requestId === event.requestId) tokens.push(e.text);
        resolve(event);
      }
    });
  });
  return { tokens, events, promise };
}
