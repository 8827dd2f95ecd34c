import { ConfigError, TimeoutError } from '../core/errors.js';
import { knownKeys } from '../core/validate.js';
import { deadlines, type DeadlineHandle, type DeadlineTask } from './deadline-queue.js';
import { wantsSignal, type Policy, type Work } from './policy.js';
import {
  RUN,
  Stop,
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

/** Options of {@link timeout}. */
export interface TimeoutOptions {
  /** The deadline of each call, in ms after it starts: a finite number in (0, 2147483647]. */
  ms: number;
}

/** A timeout policy; `ms` is its deadline. */
export interface TimeoutPolicy extends Policy {
  readonly ms: number;
}

/** The longest timeout (the longest setTimeout delay, about 24.8 days). */
const MAX_MS = 2_147_483_647;

/**
 * A policy that rejects a call with a TimeoutError once `ms` pass. Work that declares a signal gets
 * one made for the call, aborted at the deadline with the TimeoutError as its reason (and with the
 * caller's reason when the caller aborts); work that declares none costs no AbortController.
 * Inside `wrap`, the policies within the timeout stop at the deadline too (a retry makes no further
 * attempt, a call queued in a bulkhead leaves the queue). The deadline lives in one process-wide
 * queue behind a single unref'd timer, so a timeout never keeps the process alive, and a settled
 * call leaves no timer and no listener behind. A timeout cannot interrupt synchronous code: work
 * that returns a plain value (not a promise) resolves with it.
 *
 * @example
 * const twoSeconds = timeout(2_000);
 * const geo = await twoSeconds.execute((signal) => fetchGeo(id, signal));
 */
export function timeout(options: number | TimeoutOptions): TimeoutPolicy {
  const ms = timeoutMs(options);
  return new Timeout(ms);
}

class Timeout implements TimeoutPolicy, StoppablePolicy {
  constructor(readonly ms: number) {}

  execute<T>(work: Work<T>, signal?: AbortSignal): Promise<T> {
    return runWithTimeout(this.ms, work, signal);
  }

  [RUN]<T>(work: Work<T>, source: StopSource | undefined): Promise<T> {
    return runWithTimeout(this.ms, work, source);
  }
}

function timeoutMs(options: unknown): number {
  if (typeof options === 'number') return bounded('timeout', options);
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ConfigError('timeout', options, 'must be a number of milliseconds or { ms }');
  }
  const opts = options as Record<string, unknown>;
  knownKeys('timeout', opts, ['ms']);
  return bounded('timeout.ms', opts.ms);
}

function bounded(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_MS) {
    throw new ConfigError(field, value, `must be a finite number in (0, ${MAX_MS}]`);
  }
  return value;
}

function runWithTimeout<T>(ms: number, work: Work<T>, source: StopSource | undefined): Promise<T> {
  if (isAborted(source)) return Promise.reject(abortedBy(source as StopSource));
  const start = deadlines.now();
  // Work that declares a parameter gets a Stop: an inner policy (through wrap) listens to it for a
  // few nanoseconds; user work gets its AbortSignal, made on demand.
  const wants = wantsSignal(work);
  const stop = wants ? new Stop() : undefined;
  const call = new TimeoutCall<T>(ms, stop, source);
  // Linked before the work runs, so that work aborting its caller synchronously sees its own signal abort.
  if (stop !== undefined) call.link();
  let result: T | PromiseLike<T>;
  try {
    result = invoke(work, argumentFor(work, stop, wants));
  } catch (error) {
    call.unlink();
    return Promise.reject(error);
  }
  if (isAborted(source)) {
    // The caller's signal aborted while the work ran synchronously.
    call.unlink();
    if (isThenable(result)) Promise.resolve(result).then(undefined, noop);
    return Promise.reject(abortedBy(source as StopSource));
  }
  if (!isThenable(result)) {
    call.unlink();
    return Promise.resolve(result);
  }
  return call.start(result, start + ms);
}

/** One call under a timeout: settles once, by the work, the deadline or the caller's abort. */
class TimeoutCall<T> implements DeadlineTask {
  private settled = false;
  private handle: DeadlineHandle | undefined;
  private onAbort: (() => void) | undefined;
  private resolve: (value: T) => void = noop;
  private reject: (error: unknown) => void = noop;

  constructor(
    private readonly ms: number,
    private readonly stop: Stop | undefined,
    private readonly source: StopSource | undefined,
  ) {}

  /** Listens to the caller's stop source, if any (once). */
  link(): void {
    if (this.source === undefined || this.onAbort !== undefined) return;
    this.onAbort = () => this.aborted();
    listen(this.source, this.onAbort);
  }

  unlink(): void {
    if (this.source !== undefined && this.onAbort !== undefined) unlisten(this.source, this.onAbort);
  }

  start(result: PromiseLike<T>, at: number): Promise<T> {
    const promise = new Promise<T>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.link();
    this.handle = deadlines.add(this, at);
    Promise.resolve(result).then(
      (value) => {
        if (this.finish()) this.resolve(value);
      },
      (error: unknown) => {
        if (this.finish()) this.reject(error);
      },
    );
    return promise;
  }

  expire(): void {
    if (this.settled) return;
    this.settled = true;
    this.unlink();
    const error = new TimeoutError(this.ms);
    this.reject(error);
    this.stop?.abort(error);
  }

  private aborted(): void {
    if (this.settled) return;
    this.settled = true;
    if (this.handle !== undefined) deadlines.cancel(this, this.handle);
    const source = this.source as StopSource;
    this.reject(abortedBy(source));
    this.stop?.abort(source.reason);
  }

  private finish(): boolean {
    if (this.settled) return false;
    this.settled = true;
    deadlines.cancel(this, this.handle as DeadlineHandle);
    this.unlink();
    return true;
  }
}

function noop(): void {}
