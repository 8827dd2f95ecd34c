import { setTimer, systemClock, type CancelTimer } from '../core/clock.js';
import { backoffDelay } from '../core/backoff.js';
import { ConfigError, RetryExhaustedError } from '../core/errors.js';
import { fn, record } from '../core/validate.js';
import { wantsSignal, type Policy, type Work } from './policy.js';
import { retrySettings, type RetryBackoff, type RetryOptions, type RetrySettings } from './retry-options.js';
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
  type WorkArgument,
} from './signals.js';

/** A retry policy and the settings it resolved. */
export interface RetryPolicy extends Policy {
  readonly maxAttempts: number;
  readonly backoff: RetryBackoff;
  readonly baseMs: number;
  readonly maxDelayMs: number;
}

/**
 * A policy that runs work up to `maxAttempts` times, waiting a backoff delay between attempts.
 * An error `retryOn` refuses is rethrown as is; when the last attempt fails, the call rejects with a
 * RetryExhaustedError (`attempts`, and the last error as `cause`). The caller's signal (and
 * `options.signal`) stops the call at once with an AbortedError, clearing a pending delay's timer;
 * that timer is an ordinary one, which keeps the process alive while a call waits to try again.
 *
 * @example
 * const policy = retry({ maxAttempts: 4, backoff: 'exponential', baseMs: 1_000, maxDelayMs: 30_000 });
 * const user = await policy.execute((signal) => fetchUser(id, signal));
 * const again = retry({ ...presets.transient, retryOn: (error) => error instanceof HttpError && error.status >= 500 });
 */
export function retry(options: RetryOptions): RetryPolicy {
  return new Retry(retrySettings('retry', options, []));
}

/** Options of {@link retryAndContinue}: retry options, the value to resolve with once they are exhausted, and a hook told when that happens. */
export interface RetryAndContinueOptions<D> extends RetryOptions {
  /** What the call resolves with after the last attempt failed (required; `undefined` is a valid value if given explicitly). */
  default: D;
  /** Told, with the RetryExhaustedError, each time the call fell back to `default`; throwing from it rejects the call. */
  onExhausted?: (error: RetryExhaustedError) => void;
}

/**
 * Runs `work` under a retry policy built from `options` and resolves with `options.default`
 * (telling `onExhausted`) when every attempt failed: graceful degradation for optional work. Only
 * exhaustion degrades; an error `retryOn` refuses, an abort and a bad option still reject.
 *
 * @example
 * const avatar = await retryAndContinue(() => fetchAvatar(id), {
 *   ...presets.transient,
 *   default: null,
 *   onExhausted: (error) => log.warn({ err: error }, 'avatar unavailable'),
 * });
 */
export async function retryAndContinue<T, D>(work: Work<T>, options: RetryAndContinueOptions<D>): Promise<T | D> {
  const opts = record('retryAndContinue', options);
  if (!('default' in opts)) {
    throw new ConfigError('retryAndContinue.default', undefined, 'is required (the value to resolve with once every attempt failed)');
  }
  const onExhausted = opts.onExhausted === undefined ? undefined : fn<(error: RetryExhaustedError) => void>('retryAndContinue.onExhausted', opts.onExhausted);
  const policy = new Retry(retrySettings('retryAndContinue', opts, ['default', 'onExhausted']));
  try {
    return await policy.execute(work);
  } catch (error) {
    if (!(error instanceof RetryExhaustedError)) throw error;
    onExhausted?.(error);
    return options.default;
  }
}

class Retry implements RetryPolicy, StoppablePolicy {
  constructor(private readonly settings: RetrySettings) {}

  get maxAttempts(): number {
    return this.settings.maxAttempts;
  }

  get backoff(): RetryBackoff {
    return this.settings.backoff;
  }

  get baseMs(): number {
    return this.settings.baseMs;
  }

  get maxDelayMs(): number {
    return this.settings.maxDelayMs;
  }

  execute<T>(work: Work<T>, signal?: AbortSignal): Promise<T> {
    return this[RUN](work, signal);
  }

  [RUN]<T>(work: Work<T>, source: StopSource | undefined): Promise<T> {
    const shared = this.settings.signal;
    if (isAborted(shared)) return Promise.reject(abortedBy(shared as AbortSignal));
    if (isAborted(source)) return Promise.reject(abortedBy(source as StopSource));
    return new Promise<T>((resolve, reject) => new RetryRun(this.settings, work, source, resolve, reject).start());
  }
}

/** One call under a retry policy: attempts, delays, and the one way it settles. */
class RetryRun<T> {
  private attempts = 0;
  private previousDelay: number;
  private timer: CancelTimer | undefined;
  private settled = false;
  // Work that declares a parameter while both the policy and the caller can stop the call gets a Stop that either aborts.
  private readonly joint: Stop | undefined;
  private readonly argument: WorkArgument;

  constructor(
    private readonly settings: RetrySettings,
    private readonly work: Work<T>,
    private readonly source: StopSource | undefined,
    private readonly resolve: (value: T) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    this.previousDelay = settings.baseMs;
    const shared = settings.signal;
    this.joint = shared !== undefined && source !== undefined && wantsSignal(work) ? new Stop() : undefined;
    this.argument = argumentFor(work, this.joint ?? source ?? shared);
  }

  start(): void {
    if (this.settings.signal !== undefined) listen(this.settings.signal, this.onAbort);
    if (this.source !== undefined) listen(this.source, this.onAbort);
    this.attempt();
  }

  private readonly onAbort = (): void => {
    if (this.settled) return;
    const shared = this.settings.signal;
    const aborted = (isAborted(shared) ? shared : this.source) as StopSource;
    this.finish();
    this.reject(abortedBy(aborted));
    this.joint?.abort(aborted.reason);
  };

  private attempt(): void {
    this.attempts++;
    let result: T | PromiseLike<T>;
    try {
      result = invoke(this.work, this.argument);
    } catch (error) {
      this.failed(error);
      return;
    }
    if (isThenable(result)) Promise.resolve(result).then(this.succeeded, this.failed);
    else this.succeeded(result);
  }

  private readonly resume = (): void => {
    this.timer = undefined;
    if (!this.settled) this.attempt();
  };

  private readonly succeeded = (value: T): void => {
    if (this.settled) return;
    this.finish();
    this.resolve(value);
  };

  private readonly failed = (error: unknown): void => {
    if (this.settled) return;
    const { settings, attempts } = this;
    let outcome: unknown;
    try {
      if (!settings.retryOn(error, attempts)) outcome = error;
      else if (attempts >= settings.maxAttempts) outcome = new RetryExhaustedError(attempts, error);
      else {
        const delayMs = this.nextDelay();
        settings.onRetry?.({ attempt: attempts, error, delayMs });
        // onRetry may have aborted a signal, which settled the call.
        if (this.settled) return;
        if (delayMs > 0) this.timer = setTimer(systemClock, delayMs, this.resume);
        else queueMicrotask(this.resume);
        return;
      }
    } catch (hookError) {
      outcome = hookError;
    }
    this.finish();
    this.reject(outcome);
  };

  private nextDelay(): number {
    const { backoff, baseMs, maxDelayMs, factor, jitter, random } = this.settings;
    const n = this.attempts - 1;
    switch (backoff) {
      case 'exponential':
        return backoffDelay(n, { minMs: baseMs, maxMs: maxDelayMs, factor, jitter, resetAfterMs: 0 }, random);
      case 'linear':
        return spread(Math.min(maxDelayMs, baseMs * (n + 1)), jitter, random);
      case 'constant':
        return spread(baseMs, jitter, random);
      case 'decorrelated': {
        const high = this.previousDelay * 3;
        const next = Math.min(maxDelayMs, baseMs + unit(random()) * (high - baseMs));
        this.previousDelay = next;
        return next;
      }
    }
  }

  private finish(): void {
    this.settled = true;
    this.timer?.();
    this.timer = undefined;
    if (this.settings.signal !== undefined) unlisten(this.settings.signal, this.onAbort);
    if (this.source !== undefined) unlisten(this.source, this.onAbort);
  }
}

/** Jitters a delay exactly as supervisor backoff does (same bounds, same clamping of a faulty random source). */
function spread(base: number, jitter: number, random: () => number): number {
  return backoffDelay(0, { minMs: base, maxMs: base, factor: 1, jitter, resetAfterMs: 0 }, random);
}

/** A random draw clamped to [0, 1] (NaN as 0). */
function unit(r: number): number {
  if (r > 0) return r < 1 ? r : 1;
  return 0;
}
