// The open/close lifecycle of a checkpoint store, as an explicit union of states: operations open
// a store on first use, close() waits for the operations in flight, and closed is final.
import { CheckpointStoreError, SteadfastError, messageOf } from '../core/errors.js';
import type { KvBackend } from './kv.js';

type Phase =
  | { status: 'idle' }
  | { status: 'opening'; opened: Promise<void> }
  | { status: 'open' }
  | { status: 'closing'; closed: Promise<void> }
  | { status: 'closed' }
  /** Closed for a while (a repair), to be opened again when `done` settles. */
  | { status: 'rebuilding'; done: Promise<void> };

/** Tracks a backend's state and the operations running on it. */
export class StoreLifecycle {
  readonly #backend: KvBackend;
  #phase: Phase = { status: 'idle' };
  readonly #inflight = new Set<Promise<unknown>>();
  /** Scans running now: each settles when its iteration ends. */
  readonly #scans = new Set<Promise<void>>();

  constructor(backend: KvBackend) {
    this.#backend = backend;
  }

  get isOpen(): boolean {
    return this.#phase.status === 'open';
  }

  /** Opens the backend once; concurrent callers share the attempt; a failed attempt can be retried. */
  async open(): Promise<void> {
    const phase = this.#phase;
    switch (phase.status) {
      case 'open':
        return;
      case 'opening':
        return phase.opened;
      case 'rebuilding':
        await phase.done.catch(() => undefined);
        return this.open();
      case 'closing':
      case 'closed':
        throw this.closedError();
      case 'idle': {
        const opened = this.#backend.open().then(
          () => {
            this.#phase = { status: 'open' };
          },
          (error: unknown) => {
            this.#phase = { status: 'idle' };
            throw error;
          },
        );
        this.#phase = { status: 'opening', opened };
        return opened;
      }
    }
  }

  /** Closes after the operations in flight; idempotent; the store cannot be used again. */
  async close(): Promise<void> {
    const phase = this.#phase;
    switch (phase.status) {
      case 'closed':
        return;
      case 'closing':
        return phase.closed;
      case 'idle':
        this.#phase = { status: 'closed' };
        return;
      case 'opening':
        await phase.opened.catch(() => undefined);
        return this.close();
      case 'rebuilding':
        await phase.done.catch(() => undefined);
        return this.close();
      case 'open': {
        const closed = this.#drainAndClose();
        this.#phase = { status: 'closing', closed };
        return closed;
      }
    }
  }

  /**
   * Runs an operation on the open backend (opening it first), mapping backend failures to typed
   * errors. Admitted now or never: an operation accepted before close() runs to its end.
   */
  run<T>(operation: string, work: () => Promise<T>): Promise<T> {
    if (this.#phase.status === 'closing' || this.#phase.status === 'closed') return Promise.reject(this.closedError());
    const running = this.open()
      .then(work)
      .catch((error: unknown) => {
        throw this.failure(operation, error);
      });
    this.#inflight.add(running);
    const forget = (): void => {
      this.#inflight.delete(running);
    };
    running.then(forget, forget);
    return running;
  }

  /**
   * Closes the backend (after the operations and scans already running), runs `work` on it closed,
   * and opens it again; operations and scans that come meanwhile wait for the reopening.
   */
  rebuild<T>(work: () => Promise<T>): Promise<T> {
    const phase = this.#phase;
    if (phase.status === 'closing' || phase.status === 'closed') return Promise.reject(this.closedError());
    const previous = phase.status === 'opening' ? phase.opened : phase.status === 'rebuilding' ? phase.done : undefined;
    // Only what began before: what comes now waits for this rebuild, and waiting for it would deadlock.
    const running = [...this.#inflight, ...this.#scans];
    let finish = (): void => {};
    const done = new Promise<void>((resolve) => (finish = resolve));
    this.#phase = { status: 'rebuilding', done };
    const rebuilt = async (): Promise<T> => {
      try {
        await previous?.catch(() => undefined);
        await Promise.allSettled(running);
        await this.#backend.close();
        const result = await work();
        await this.#backend.open();
        this.#phase = { status: 'open' };
        return result;
      } catch (error) {
        this.#phase = { status: 'idle' };
        throw error;
      } finally {
        finish();
      }
    };
    return rebuilt();
  }

  /** Iterates a backend scan, opening first; a scan that outlives close() fails with CHECKPOINT_STORE_CLOSED. */
  async *scan<T>(operation: string, source: () => AsyncIterable<T>): AsyncGenerator<T> {
    let end = (): void => {};
    const ended = new Promise<void>((resolve) => (end = resolve));
    this.#scans.add(ended);
    try {
      await this.open();
      for await (const item of source()) {
        if (this.#phase.status === 'closing' || this.#phase.status === 'closed') throw this.closedError();
        yield item;
      }
    } catch (error) {
      throw this.failure(operation, error);
    } finally {
      this.#scans.delete(ended);
      end();
    }
  }

  /** CHECKPOINT_STORE_CLOSED for this store. */
  closedError(): CheckpointStoreError {
    return new CheckpointStoreError('CHECKPOINT_STORE_CLOSED', this.#backend.location, `checkpoint store at ${this.#backend.location} is closed`);
  }

  /** A typed error for a failed operation: steadfast errors pass through, others become CHECKPOINT_STORE_FAILED (or CLOSED once closed). */
  failure(operation: string, error: unknown): SteadfastError {
    if (error instanceof SteadfastError) return error;
    if (this.#phase.status === 'closing' || this.#phase.status === 'closed') return this.closedError();
    const location = this.#backend.location;
    return new CheckpointStoreError('CHECKPOINT_STORE_FAILED', location, `checkpoint store at ${location}: ${operation} failed: ${messageOf(error)}`, error);
  }

  async #drainAndClose(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
    try {
      await this.#backend.close();
    } finally {
      this.#phase = { status: 'closed' };
    }
  }
}
