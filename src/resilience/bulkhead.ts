import { BulkheadRejectedError, ConfigError } from '../core/errors.js';
import { integerIn, knownKeys, record } from '../core/validate.js';
import { deadlines, type DeadlineHandle, type DeadlineTask } from './deadline-queue.js';
import type { Policy, Work } from './policy.js';
import {
  RUN,
  abortedBy,
  argumentFor,
  invoke,
  isAborted,
  isThenable,
  listen,
  unlisten,
  type StoppablePolicy,
  type StopSource,
} from './signals.js';

/** Options of {@link bulkhead}. */
export interface BulkheadOptions {
  /** Calls that may run at once (an integer >= 1). */
  maxConcurrent: number;
  /** Calls that may wait for a slot, first in first out (an integer >= 0; 0 rejects every call that finds no free slot). */
  maxQueue: number;
  /** Longest wait in the queue (ms, in (0, 2147483647]), after which the call is rejected; without it a call waits until a slot frees or its caller aborts. */
  queueTimeoutMs?: number;
}

/** A bulkhead policy, with its live counts. */
export interface BulkheadPolicy extends Policy {
  readonly maxConcurrent: number;
  readonly maxQueue: number;
  readonly queueTimeoutMs: number | undefined;
  /** Calls running now (a call whose caller aborted holds its slot until its work settles). */
  readonly running: number;
  /** Calls waiting for a slot. */
  readonly queued: number;
}

const MAX_MS = 2_147_483_647;

/**
 * A policy that lets at most `maxConcurrent` calls run at once, queues up to `maxQueue` more in
 * arrival order, and rejects the rest at once with a BulkheadRejectedError (as it rejects a call
 * that waited `queueTimeoutMs`). A queued call whose caller aborts leaves the queue with an
 * AbortedError; a running one rejects at once too but keeps its slot until its work settles, so
 * that no more than `maxConcurrent` pieces of work ever run.
 *
 * @example
 * const db = bulkhead({ maxConcurrent: 10, maxQueue: 100, queueTimeoutMs: 5_000 });
 * const rows = await db.execute(() => pool.query(sql));
 * db.running; db.queued;
 */
export function bulkhead(options: BulkheadOptions): BulkheadPolicy {
  const opts = record('bulkhead', options);
  knownKeys('bulkhead', opts, ['maxConcurrent', 'maxQueue', 'queueTimeoutMs']);
  const maxConcurrent = integerIn('bulkhead.maxConcurrent', opts.maxConcurrent, 1);
  const maxQueue = integerIn('bulkhead.maxQueue', opts.maxQueue, 0);
  const wait = opts.queueTimeoutMs;
  if (wait !== undefined && (typeof wait !== 'number' || !Number.isFinite(wait) || wait <= 0 || wait > MAX_MS)) {
    throw new ConfigError('bulkhead.queueTimeoutMs', wait, `must be a finite number in (0, ${MAX_MS}]`);
  }
  return new Bulkhead(maxConcurrent, maxQueue, wait);
}

class Bulkhead implements BulkheadPolicy, StoppablePolicy {
  private active = 0;
  // Waiters in a doubly linked list through the calls themselves: the oldest comes first, and a
  // waiter that gives up leaves in O(1). (A Set would do, except that taking its first entry again
  // and again walks over the holes its deletions leave: quadratic for a long queue.)
  private head: BulkheadCall<unknown> | undefined;
  private tail: BulkheadCall<unknown> | undefined;
  private size = 0;
  private draining = false;

  constructor(
    readonly maxConcurrent: number,
    readonly maxQueue: number,
    readonly queueTimeoutMs: number | undefined,
  ) {}

  get running(): number {
    return this.active;
  }

  get queued(): number {
    return this.size;
  }

  execute<T>(work: Work<T>, signal?: AbortSignal): Promise<T> {
    return this[RUN](work, signal);
  }

  [RUN]<T>(work: Work<T>, source: StopSource | undefined): Promise<T> {
    if (isAborted(source)) return Promise.reject(abortedBy(source as StopSource));
    if (this.active < this.maxConcurrent && this.size === 0) {
      if (source === undefined) return this.runBare(work);
      return new Promise<T>((resolve, reject) => {
        const call = new BulkheadCall(this, work, source, resolve, reject);
        listen(source, call.onAbort);
        this.active++;
        call.run();
      });
    }
    if (this.size >= this.maxQueue) {
      return Promise.reject(new BulkheadRejectedError(this.maxConcurrent, this.maxQueue));
    }
    return new Promise<T>((resolve, reject) => {
      const call = new BulkheadCall(this, work, source, resolve, reject);
      if (source !== undefined) listen(source, call.onAbort);
      if (this.queueTimeoutMs !== undefined) call.deadline = deadlines.add(call, deadlines.now() + this.queueTimeoutMs);
      this.enqueue(call as BulkheadCall<unknown>);
    });
  }

  /** Takes a slot back and starts the oldest waiters that now fit. */
  release(): void {
    this.active--;
    // A waiter whose work settles synchronously releases again from inside this loop: the loop
    // carries on instead of recursing once per waiter.
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.active < this.maxConcurrent && this.head !== undefined) {
        const next = this.head;
        this.leave(next);
        this.active++;
        next.run();
      }
    } finally {
      this.draining = false;
    }
  }

  /** Takes a waiter out of the queue (to run, or because it gave up) and forgets its queue-wait deadline. */
  leave(call: BulkheadCall<unknown>): void {
    if (call.previous === undefined) this.head = call.next;
    else call.previous.next = call.next;
    if (call.next === undefined) this.tail = call.previous;
    else call.next.previous = call.previous;
    call.previous = undefined;
    call.next = undefined;
    this.size--;
    if (call.deadline !== undefined) deadlines.cancel(call, call.deadline);
  }

  private enqueue(call: BulkheadCall<unknown>): void {
    call.previous = this.tail;
    if (this.tail === undefined) this.head = call;
    else this.tail.next = call;
    this.tail = call;
    this.size++;
  }

  // The common case, a free slot and no caller signal, needs no per-call object.
  private runBare<T>(work: Work<T>): Promise<T> {
    this.active++;
    let result: T | PromiseLike<T>;
    try {
      result = invoke(work, argumentFor(work, undefined));
    } catch (error) {
      this.release();
      return Promise.reject(error);
    }
    if (!isThenable(result)) {
      this.release();
      return Promise.resolve(result);
    }
    return Promise.resolve(result).then(
      (value) => {
        this.release();
        return value;
      },
      (error: unknown) => {
        this.release();
        throw error;
      },
    );
  }
}

/** One call through a bulkhead with a caller signal or a wait in the queue. */
class BulkheadCall<T> implements DeadlineTask {
  private state: 'queued' | 'running' | 'settled' = 'queued';
  /** Where the queue-wait deadline waits (none without queueTimeoutMs). */
  deadline: DeadlineHandle | undefined;
  previous: BulkheadCall<unknown> | undefined;
  next: BulkheadCall<unknown> | undefined;

  constructor(
    private readonly bulkhead: Bulkhead,
    private readonly work: Work<T>,
    private readonly source: StopSource | undefined,
    private readonly resolve: (value: T) => void,
    private readonly reject: (error: unknown) => void,
  ) {}

  readonly onAbort = (): void => {
    if (this.state === 'settled') return;
    if (this.state === 'queued') this.bulkhead.leave(this as BulkheadCall<unknown>);
    this.state = 'settled';
    this.reject(abortedBy(this.source as StopSource));
  };

  expire(): void {
    if (this.state !== 'queued') return;
    this.bulkhead.leave(this as BulkheadCall<unknown>);
    this.state = 'settled';
    this.unlink();
    const { maxConcurrent, maxQueue, queueTimeoutMs } = this.bulkhead;
    this.reject(new BulkheadRejectedError(maxConcurrent, maxQueue, `queue wait over ${queueTimeoutMs} ms`));
  }

  /** Runs the work in a slot the bulkhead already counted; the slot is given back when the work settles. */
  run(): void {
    this.state = 'running';
    let result: T | PromiseLike<T>;
    try {
      result = invoke(this.work, argumentFor(this.work, this.source));
    } catch (error) {
      this.settle(false, error);
      return;
    }
    if (!isThenable(result)) this.settle(true, result);
    else Promise.resolve(result).then((value) => this.settle(true, value), (error: unknown) => this.settle(false, error));
  }

  private settle(ok: boolean, outcome: unknown): void {
    this.bulkhead.release();
    if (this.state === 'settled') return;
    this.state = 'settled';
    this.unlink();
    if (ok) this.resolve(outcome as T);
    else this.reject(outcome);
  }

  private unlink(): void {
    if (this.source !== undefined) unlisten(this.source, this.onAbort);
  }
}
