import { ConfigError, TimeoutError } from '../core/errors.js';
import { knownKeys, record } from '../core/validate.js';
import { deadlines, type DeadlineTask } from './deadline-queue.js';
import { wantsSignal, type Policy, type Work } from './policy.js';
import { abortedBy, invoke, isAborted, isThenable, offAbort, onAbort } from './signals.js';

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
 * caller's reason when the caller aborts); work that declares none costs no AbortController. The
 * deadline lives in one process-wide queue behind a single unref'd timer, so a timeout never keeps
 * the process alive and a settled call leaves no timer and no listener behind. A timeout cannot
 * stop synchronous code: work that returns a value (not a promise) resolves with it.
 *
 * @example
 * const twoSeconds = timeout(2_000);
 * const geo = await twoSeconds.execute((signal) => fetchGeo(id, signal));
 */
export function timeout(options: number | TimeoutOptions): TimeoutPolicy {
  const ms = timeoutMs(options);
  return {
    ms,
    execute: <T>(work: Work<T>, signal?: AbortSignal) => runWithTimeout(ms, work, signal),
  };
}

function timeoutMs(options: unknown): number {
  if (typeof options === 'number') return bounded('timeout', options);
  const opts = record('timeout', options);
  knownKeys('timeout', opts, ['ms']);
  return bounded('timeout.ms', opts.ms);
}

function bounded(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_MS) {
    throw new ConfigError(field, value, `must be a finite number in (0, ${MAX_MS}]`);
  }
  return value;
}

function runWithTimeout<T>(ms: number, work: Work<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal?.aborted === true) return Promise.reject(abortedBy(signal));
  const start = deadlines.now();
  const controller = wantsSignal(work) ? new AbortController() : undefined;
  const call = new TimeoutCall<T>(ms, controller, signal);
  // Linked before the work runs, so that work aborting its caller synchronously sees its own signal abort.
  if (signal !== undefined && controller !== undefined) onAbort(signal, call.onAbort);
  let result: T | PromiseLike<T>;
  try {
    result = invoke(work, controller?.signal);
  } catch (error) {
    call.unlink();
    return Promise.reject(error);
  }
  if (isAborted(signal)) {
    // The caller's signal aborted while the work ran synchronously.
    call.unlink();
    if (isThenable(result)) Promise.resolve(result).then(undefined, noop);
    return Promise.reject(abortedBy(signal as AbortSignal));
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
  private key = 0;
  private resolve: (value: T) => void = noop;
  private reject: (error: unknown) => void = noop;

  constructor(
    private readonly ms: number,
    private readonly controller: AbortController | undefined,
    private readonly signal: AbortSignal | undefined,
  ) {}

  readonly onAbort = (): void => {
    if (this.settled) return;
    this.settled = true;
    deadlines.cancel(this, this.key);
    const signal = this.signal as AbortSignal;
    this.reject(abortedBy(signal));
    this.controller?.abort(signal.reason);
  };

  start(result: PromiseLike<T>, at: number): Promise<T> {
    const promise = new Promise<T>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    if (this.signal !== undefined && this.controller === undefined) onAbort(this.signal, this.onAbort);
    this.key = deadlines.add(this, at);
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
    this.controller?.abort(error);
  }

  unlink(): void {
    if (this.signal !== undefined) offAbort(this.signal, this.onAbort);
  }

  private finish(): boolean {
    if (this.settled) return false;
    this.settled = true;
    deadlines.cancel(this, this.key);
    this.unlink();
    return true;
  }
}

function noop(): void {}
