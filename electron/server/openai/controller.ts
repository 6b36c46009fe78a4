/**
 * Runs the local OpenAI-compatible API server as the settings say (Settings → Local API): started,
 * stopped, moved to another port, or given a new key without a restart. The backend drives it through
 * {@link ApiServerHost}; the Electron shell and the browser mode attach one. Plain Node.
 */
import type { ApiServerSettings, ApiServerStatus } from '../../../shared/contract.js';
import type { Backend } from '../../core/backend.js';
import { apiServerOff, type ApiServerHost } from '../../core/apiServerHost.js';
import { startOpenAiServer, type RunningOpenAiServer } from './server.js';

/** The {@link ApiServerHost} for one backend. */
export class ApiServerController implements ApiServerHost {
  private running: RunningOpenAiServer | null = null;
  private current: ApiServerStatus;
  private readonly listeners = new Set<(status: ApiServerStatus) => void>();
  private readonly unsubscribeCounters: () => void;
  /** Applies run one after another (a quick on/off/on must not race two listens). */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly backend: Backend,
    private readonly options: { host?: string } = {},
  ) {
    this.current = apiServerOff(null);
    this.unsubscribeCounters = backend.apiReplies.onChange(() => this.publish(this.withCounters(this.current)));
  }

  /** {@inheritDoc ApiServerHost.status} */
  status(): ApiServerStatus {
    return this.withCounters(this.current);
  }

  /** {@inheritDoc ApiServerHost.onStatus} */
  onStatus(listener: (status: ApiServerStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** {@inheritDoc ApiServerHost.apply} */
  apply(settings: ApiServerSettings): Promise<ApiServerStatus> {
    const next = this.queue.then(() => this.applyNow(settings));
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** {@inheritDoc ApiServerHost.close} */
  async close(): Promise<void> {
    this.unsubscribeCounters();
    await this.queue;
    await this.stop();
    this.listeners.clear();
  }

  private async applyNow(settings: ApiServerSettings): Promise<ApiServerStatus> {
    if (!settings.enabled || settings.apiKey === null) {
      await this.stop();
      return this.publish(apiServerOff(settings.port));
    }
    if (this.running && this.running.port === settings.port) {
      this.running.configure({ apiKey: settings.apiKey, allowedOrigins: settings.allowedOrigins });
      return this.publish(this.current);
    }
    await this.stop();
    try {
      this.running = await startOpenAiServer({
        backend: this.backend,
        port: settings.port,
        apiKey: settings.apiKey,
        allowedOrigins: settings.allowedOrigins,
        host: this.options.host,
      });
      return this.publish({ ...apiServerOff(this.running.port), state: 'running', baseUrl: this.running.baseUrl });
    } catch (error) {
      return this.publish(apiServerOff(settings.port, listenProblem(error, settings.port)));
    }
  }

  private async stop(): Promise<void> {
    const running = this.running;
    this.running = null;
    if (running) await running.close();
  }

  private withCounters(status: ApiServerStatus): ApiServerStatus {
    const counters = this.backend.apiReplies.status();
    return { ...status, activeRequests: counters.active, servedRequests: counters.served };
  }

  private publish(status: ApiServerStatus): ApiServerStatus {
    this.current = status;
    const full = this.withCounters(status);
    for (const listener of this.listeners) {
      try {
        listener(full);
      } catch {
        // A listener's failure is its own.
      }
    }
    return full;
  }
}

/** A listen failure in words a user can act on. */
export function listenProblem(error: unknown, port: number): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code === 'EADDRINUSE') return `Port ${port} is in use by another program: choose another port`;
  if (code === 'EACCES') return `This system does not allow listening on port ${port}: choose a port above 1024`;
  return `The API could not start on port ${port}: ${error instanceof Error ? error.message : String(error)}`;
}
