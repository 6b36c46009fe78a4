/**
 * Idle hygiene: unloads the model after the idle time in Settings (`idleUnload`: 10 minutes on battery,
 * 60 on AC by default; never when null), freeing its RAM (and VRAM). The next message loads it again
 * (the engine loads on demand), and that load's time and energy feed the governor like any other.
 *
 * Idle means: the engine holds a model (`ready`) and nothing used it for the whole time: every engine
 * status change (loading, generating, calibrating, ready after a reply) counts as activity. A reply in
 * flight or a calibration run is never interrupted. Checks run every {@link idleCheckIntervalMs} on an
 * unref'd timer (no cost to speak of: one comparison); tests drive {@link IdleUnloader.check} with a fake
 * clock. Plain Node.
 */
import type { EngineStatus, Settings } from '../../shared/contract.js';
import type { ChatEngine } from '../engine/types.js';

/** How often the idle time is checked, ms (30 s: unloading at most this late is fine). */
export const idleCheckIntervalMs = 30_000;

/** Options of {@link IdleUnloader}. */
export interface IdleUnloaderOptions {
  engine: Pick<ChatEngine, 'status' | 'onStatus' | 'unload'>;
  /** The idle times in effect (Settings → `idleUnload`). */
  settings: () => Settings['idleUnload'];
  /** Whether the computer is on AC now (the governor's power state). */
  onAc: () => boolean;
  /** True while something else holds the engine (a reply in flight, a calibration run): never unload then. */
  busy: () => boolean;
  /** Called after an idle unload (the backend tells the renderer). */
  onUnloaded: () => void;
  /** Clock, ms since the epoch; default `Date.now`. */
  now?: () => number;
}

/** Watches the engine and unloads it when idle long enough. */
export class IdleUnloader {
  private lastActivityAt: number;
  private unloadedForIdle = false;
  private unloading = false;
  private readonly now: () => number;
  private readonly unsubscribe: () => void;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly options: IdleUnloaderOptions) {
    this.now = options.now ?? Date.now;
    this.lastActivityAt = this.now();
    this.unsubscribe = options.engine.onStatus((status) => this.noteStatus(status));
  }

  /** True while the model is unloaded because of idleness (until the engine loads something again). */
  get idleUnloaded(): boolean {
    return this.unloadedForIdle;
  }

  /** Starts the periodic check (an unref'd interval: it never keeps the process alive). */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.check(), idleCheckIntervalMs);
    this.timer.unref();
  }

  /** Stops checking and listening. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.unsubscribe();
  }

  /** The idle time in effect now, ms; null = never unload. */
  idleLimitMs(): number | null {
    const s = this.options.settings();
    const minutes = this.options.onAc() ? s.onAcMinutes : s.onBatteryMinutes;
    return minutes === null ? null : minutes * 60_000;
  }

  /**
   * Unloads the model when it has been idle for the limit in effect. Never throws (a failed unload is
   * tried again at the next check). @returns whether it unloaded now.
   */
  async check(): Promise<boolean> {
    const limit = this.idleLimitMs();
    const status = this.options.engine.status();
    if (limit === null || this.unloading || status.state !== 'ready' || status.modelPath === null || this.options.busy()) return false;
    if (this.now() - this.lastActivityAt < limit) return false;
    this.unloading = true;
    try {
      await this.options.engine.unload();
      this.unloadedForIdle = true;
      this.options.onUnloaded();
      return true;
    } catch {
      return false;
    } finally {
      this.unloading = false;
    }
  }

  private noteStatus(status: EngineStatus): void {
    if (this.unloading && status.state === 'idle') return;
    this.lastActivityAt = this.now();
    if (status.state !== 'idle') this.unloadedForIdle = false;
  }
}
