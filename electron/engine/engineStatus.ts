/**
 * The engine status and its listeners, shared by every {@link ChatEngine} implementation so they report
 * the same way: listeners hear each real change once, get a copy, and a throwing listener cannot stop
 * the others.
 */
import type { EngineStatus } from '../../shared/contract.js';

/** The status of an engine with nothing loaded. */
export const idleEngineStatus: EngineStatus = Object.freeze({ state: 'idle', modelPath: null, loadProgress: null, threads: null, error: null });

/** Holds an engine's current {@link EngineStatus} and notifies subscribers of changes. */
export class EngineStatusTracker {
  private readonly listeners = new Set<(status: EngineStatus) => void>();
  private value: EngineStatus = { ...idleEngineStatus };

  /** A copy of the current status. */
  get(): EngineStatus {
    return { ...this.value, error: this.value.error ? { ...this.value.error } : null };
  }

  /** Subscribes; returns the unsubscribe function. */
  subscribe(listener: (status: EngineStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Merges `patch` into the status; listeners are told only when something actually changed. */
  set(patch: Partial<EngineStatus>): void {
    const next: EngineStatus = { ...this.value, ...patch };
    if (JSON.stringify(next) === JSON.stringify(this.value)) return;
    this.value = next;
    for (const listener of this.listeners) {
      try {
        listener(this.get());
      } catch {
        // A listener's failure is its own business.
      }
    }
  }

  /** Drops every listener (on dispose). */
  clear(): void {
    this.listeners.clear();
  }
}
