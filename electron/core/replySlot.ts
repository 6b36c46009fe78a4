/**
 * One reply at a time, for every caller: the app's chat and the local OpenAI-compatible API take turns
 * on the engine in arrival order (FIFO). Without it, a reply for another model would abort the one in
 * flight (the engine swaps models on demand). Plain Node.
 */

/** The bounded wait queue is full (the API answers 429 with `Retry-After`). */
export class ReplyQueueFullError extends Error {
  override readonly name = 'ReplyQueueFullError';
  constructor(readonly waiting: number) {
    super(`${waiting} requests are already waiting for their turn`);
  }
}

/** Options of {@link ReplySlot.acquire}. */
export interface AcquireOptions {
  /** Aborting while waiting leaves the queue at once; `acquire` then resolves with a no-op release and `aborted: true`. */
  signal?: AbortSignal;
  /** Refuse to wait when this many callers already wait (throws {@link ReplyQueueFullError}); default: no bound. */
  maxWaiting?: number;
}

/** A held turn: call `release` exactly once when the reply is over (later calls do nothing). */
export interface SlotTurn {
  release: () => void;
  /** True when the signal aborted before the turn came (nothing is held). */
  aborted: boolean;
}

interface Waiter {
  grant: () => void;
}

/** A FIFO mutex with a bounded queue and abortable waits. */
export class ReplySlot {
  private held = false;
  private readonly waiters: Waiter[] = [];

  /** Whether a reply holds the slot now. */
  get busy(): boolean {
    return this.held;
  }

  /** Callers waiting for their turn now. */
  get waiting(): number {
    return this.waiters.length;
  }

  /**
   * Waits for the slot, in arrival order.
   * @throws ReplyQueueFullError (synchronously rejected) when `maxWaiting` callers already wait and the slot is busy.
   */
  acquire(options: AcquireOptions = {}): Promise<SlotTurn> {
    const { signal } = options;
    if (signal?.aborted) return Promise.resolve({ release: () => undefined, aborted: true });
    if (!this.held) {
      this.held = true;
      return Promise.resolve({ release: this.releaser(), aborted: false });
    }
    if (options.maxWaiting !== undefined && this.waiters.length >= options.maxWaiting) {
      return Promise.reject(new ReplyQueueFullError(this.waiters.length));
    }
    return new Promise<SlotTurn>((resolve) => {
      const waiter: Waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve({ release: this.releaser(), aborted: false });
        },
      };
      const onAbort = () => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve({ release: () => undefined, aborted: true });
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.waiters.shift();
      if (next) next.grant();
      else this.held = false;
    };
  }
}
