/**
 * What the backend needs from the local OpenAI-compatible API server (which lives in
 * `electron/server/openai/` and is attached after the backend is built: the server needs the backend).
 * Plain Node; no Electron.
 */
import { randomBytes } from 'node:crypto';
import type { ApiServerSettings, ApiServerStatus } from '../../shared/contract.js';

/** The API server as the backend drives it (see `ApiServerController` in electron/server/openai/controller.ts). */
export interface ApiServerHost {
  /** Its state now. */
  status(): ApiServerStatus;
  /**
   * Starts, stops or restarts the server to match `settings` (enabled, port, key, allowed origins).
   * Never throws: a port in use comes back as `state: 'error'` with the reason.
   */
  apply(settings: ApiServerSettings): Promise<ApiServerStatus>;
  /** Calls `listener` on every change of {@link status}; returns the unsubscribe function. */
  onStatus(listener: (status: ApiServerStatus) => void): () => void;
  /** Stops the server and ends open requests. */
  close(): Promise<void>;
}

/** The status of a process that serves no API (the CLI, tests), or of a server that is turned off. */
export function apiServerOff(port: number | null, error: string | null = null): ApiServerStatus {
  return { state: error ? 'error' : 'off', baseUrl: null, port, error, activeRequests: 0, servedRequests: 0 };
}

/**
 * A new API key: `ww-` and 32 random bytes in base64url (43 characters), 256 bits from the OS's CSPRNG
 * (`crypto.randomBytes`), printable ASCII as `apiServerSettingsSchema.apiKey` requires.
 */
export function newApiKey(): string {
  return `ww-${randomBytes(32).toString('base64url')}`;
}
