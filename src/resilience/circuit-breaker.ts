import { createActor, type Actor } from 'xstate';
import { circuitBreakerMachine, type BreakerState, type CircuitBreakerEmitted } from '../../machines/circuit-breaker.machine.js';
import {
  createWindows,
  recordCall,
  resetWindows,
  restoreWindows,
  snapshotWindows,
  windowStats,
  type BreakerWindows,
  type ResolvedTripOptions,
} from '../core/breaker-windows.js';
import { actorClock, systemClock, type ActorClock, type Clock } from '../core/clock.js';
import { CircuitOpenError } from '../core/errors.js';
import type { Policy, Work } from './policy.js';
import { RUN, abortedBy, argumentFor, invoke, isAborted, isThenable, type StopSource } from './signals.js';
import { stoppable, type Abandonable } from './stoppable.js';
import type { BreakerSnapshot } from './breaker-snapshot.js';
import type { BreakerStats } from './breaker-stats.js';
import { resolveBreakerOptions, type CircuitBreakerOptions, type ResolvedBreakerOptions } from './circuit-breaker-options.js';
import { breakers, type BreakerRegistry } from './breaker-registry.js';

/**
 * A circuit breaker around any async work, as a policy: `breaker.execute(fn)`. The state machine
 * (`circuitBreakerMachine`) is the only place the state changes; in `closed` a call costs no
 * XState event: it is recorded in the breaker's windows, and only a trip sends one.
 *
 * @example
 * const breaker = circuitBreaker({ name: 'geo-api', consecutiveFailures: 5, openMs: 10_000 });
 * const place = await breaker.execute((signal) => fetchGeo(id, signal));
 * breaker.state; // 'closed' | 'open' | 'halfOpen' | 'isolated'
 */
export function circuitBreaker(options: CircuitBreakerOptions): CircuitBreaker {
  return new CircuitBreaker(options);
}

export class CircuitBreaker implements Policy {
  readonly name: string;
  private readonly options: ResolvedBreakerOptions;
  private readonly actor: Actor<typeof circuitBreakerMachine>;
  private readonly windows: BreakerWindows;
  private readonly clock: Pick<Clock, 'now'>;
  /** Durations of calls (slow-call detection): a monotonic clock, or `now` when only that is given. */
  private readonly elapsed: () => number;
  /** Bumped each time the breaker half-opens: a probe of an earlier half-open phase does not count. */
  private phase = 0;
  private restoring = false;
  private readonly registry: BreakerRegistry | undefined;
  private readonly timed: boolean;
  /** Time-based windows need the time of every call, slow-call detection its duration too. */
  private readonly needsNow: boolean;
  private readonly counts = { succeeded: 0, failed: 0, rejected: 0, ignored: 0, abandoned: 0 };
  private opens = 0;
  private openedAt = 0;
  private readonly onOk: (value: unknown) => unknown;
  private readonly onError: (error: unknown) => never;

  constructor(options: CircuitBreakerOptions) {
    this.options = resolveBreakerOptions(options);
    const o = this.options;
    this.name = o.name;
    this.clock = o.clock ?? systemClock;
    const given = o.clock;
    this.elapsed = given === undefined ? () => systemClock.monotonic() : given.monotonic !== undefined ? () => (given.monotonic as () => number)() : () => given.now();
    const now = this.clock.now();
    const saved = o.initialState;
    this.windows = saved === undefined ? createWindows(o.trip, now) : restoreWindows(o.trip, saved.windows, now, 'circuitBreaker.initialState.windows');
    this.timed = o.trip.slowCallMs !== undefined;
    this.needsNow = this.timed || o.trip.window.kind === 'time';
    this.actor = createActor(
      circuitBreakerMachine.provide({ actions: { resetWindows: () => resetWindows(this.windows, this.clock.now()) } }),
      {
        id: `breaker:${o.name}`,
        // The open timer (a delayed transition) runs on the breaker's clock when it has timers.
        ...(actorClock(o.clock) === undefined ? {} : { clock: actorClock(o.clock) as ActorClock }),
        input: {
          name: o.name,
          openMs: o.openMs,
          openBackoffFactor: o.openBackoff.factor,
          openMaxMs: o.openBackoff.maxMs,
          halfOpenMaxCalls: o.halfOpenMaxCalls,
          successThreshold: o.successThreshold,
          ...(saved === undefined
            ? {}
            : { start: saved.state, reopens: saved.reopens, ...(saved.openRemainingMs === undefined ? {} : { openRemainingMs: saved.openRemainingMs }) }),
        },
      },
    );
    this.actor.on('steadfast.breaker.opened', () => {
      // Starting open from a saved state is not an opening: not counted (and nobody outside hears it yet).
      if (!this.restoring) this.opens++;
      this.openedAt = this.clock.now();
    });
    this.actor.on('steadfast.breaker.halfOpened', () => {
      this.phase++;
    });
    this.restoring = saved !== undefined;
    this.actor.start();
    this.restoring = false;
    // Untimed breakers settle every call through these two, made once: no closure per call.
    this.onOk = (value) => {
      this.closedSettled(true, 0);
      return value;
    };
    this.onError = (error) => {
      this.closedFailed(error, 0);
      throw error;
    };
    this.registry = o.registry === null ? undefined : (o.registry ?? breakers);
    this.registry?.register(this);
  }

  /** How long `open` lasts before the first probe (later re-opens last longer, by `openBackoff`). */
  get openMs(): number {
    return this.options.openMs;
  }

  /** True when this breaker counts `error` as a failure of its dependency (its `isFailure` option). */
  countsAsFailure(error: unknown): boolean {
    return this.options.isFailure(error);
  }

  /** `closed`, `open`, `halfOpen` or `isolated`. */
  get state(): BreakerState {
    const value = this.actor.getSnapshot().value;
    return value === 'restoring' ? 'closed' : (value as BreakerState);
  }

  /** Runs `work` if the breaker lets it through, else rejects with CircuitOpenError. */
  execute<T>(work: Work<T>, signal?: AbortSignal): Promise<T> {
    return this[RUN](work, signal);
  }

  /** `execute` with any stop source (`wrap` passes its cheap Stop tokens through the breaker). */
  [RUN]<T>(work: Work<T>, signal: StopSource | undefined): Promise<T> {
    if (isAborted(signal)) return Promise.reject(abortedBy(signal as StopSource));
    const snapshot = this.actor.getSnapshot();
    const state = snapshot.value;
    if (state === 'closed') {
      return signal === undefined ? this.runClosed(work, undefined, undefined) : stoppable(signal, (call) => this.runClosed(work, signal, call));
    }
    if (state === 'halfOpen' && snapshot.context.probes < snapshot.context.halfOpenMaxCalls) {
      this.actor.send({ type: 'CALL' });
      return signal === undefined ? this.runProbe(work, undefined, undefined) : stoppable(signal, (call) => this.runProbe(work, signal, call));
    }
    this.counts.rejected++;
    return Promise.reject(new CircuitOpenError(this.name, state as string, this.retryAfterMs()));
  }

  /** Opens the breaker now (it half-opens after `openMs`, as after a trip). */
  forceOpen(): void {
    this.actor.send({ type: 'FORCE_OPEN' });
  }

  /** Holds the breaker open until `reset()`: for maintenance, or a dependency known to be down. */
  isolate(): void {
    this.actor.send({ type: 'ISOLATE' });
  }

  /** Closes the breaker and starts its windows over. */
  reset(): void {
    this.actor.send({ type: 'RESET' });
  }

  /** Hears one kind of transition; returns the unsubscribe function. */
  on<TType extends CircuitBreakerEmitted['type']>(type: TType, handler: (event: Extract<CircuitBreakerEmitted, { type: TType }>) => void): () => void {
    const subscription = this.actor.on(type, handler as (event: CircuitBreakerEmitted) => void);
    return () => subscription.unsubscribe();
  }

  /** Hears every transition; returns the unsubscribe function. */
  onAny(handler: (event: CircuitBreakerEmitted) => void): () => void {
    const subscription = this.actor.on('*', handler);
    return () => subscription.unsubscribe();
  }

  /** The state to save (checkpoints carry it); `circuitBreaker({ ..., initialState })` restores it. */
  toJSON(): BreakerSnapshot {
    const { context } = this.actor.getSnapshot();
    const state = this.state;
    return {
      version: 1,
      name: this.name,
      state,
      reopens: context.reopens,
      ...(state === 'open' ? { openRemainingMs: this.retryAfterMs() } : {}),
      windows: snapshotWindows(this.windows),
    };
  }

  stats(): BreakerStats {
    return {
      name: this.name,
      state: this.state,
      calls: { ...this.counts },
      opens: this.opens,
      lastOpenReason: this.actor.getSnapshot().context.lastReason,
      window: windowStats(this.windows, this.clock.now()),
    };
  }

  /** Stops the breaker's machine (and its open timer) and leaves its registry. */
  dispose(): void {
    this.registry?.unregister(this);
    this.actor.stop();
  }

  // The call paths.

  private runClosed<T>(work: Work<T>, signal: StopSource | undefined, call: Abandonable | undefined): Promise<T> {
    const started = this.timed ? this.elapsed() : 0;
    let result: T | PromiseLike<T>;
    try {
      result = invoke(work, argumentFor(work, signal));
    } catch (error) {
      this.closedFailed(error, started);
      return Promise.reject(error);
    }
    if (!isThenable(result)) {
      this.closedSettled(true, started);
      return Promise.resolve(result);
    }
    if (!this.timed && call === undefined) return Promise.resolve(result).then(this.onOk as (value: T) => T, this.onError);
    return Promise.resolve(result).then(
      (value) => {
        if (call?.abandoned === true) this.counts.abandoned++;
        else this.closedSettled(true, started);
        return value;
      },
      (error: unknown) => {
        if (call?.abandoned === true) this.counts.abandoned++;
        else this.closedFailed(error, started);
        throw error;
      },
    );
  }

  private closedFailed(error: unknown, started: number): void {
    if (!this.options.isFailure(error)) {
      this.counts.ignored++;
      return;
    }
    this.closedSettled(false, started);
  }

  /** Records a call made in `closed`; a trip is the one event sent to the machine. */
  private closedSettled(ok: boolean, started: number): void {
    if (ok) this.counts.succeeded++;
    else this.counts.failed++;
    const now = this.needsNow ? this.clock.now() : 0;
    const reason = recordCall(this.windows, { ok, durationMs: this.timed ? this.elapsed() - started : 0, now });
    if (reason !== undefined && this.actor.getSnapshot().value === 'closed') this.actor.send({ type: 'TRIP', reason });
  }

  private async runProbe<T>(work: Work<T>, signal: StopSource | undefined, call: Abandonable | undefined): Promise<T> {
    const phase = this.phase;
    // A result that comes back after the breaker left this half-open phase (forced open, reset) counts for nothing.
    const report = (event: 'SUCCESS' | 'FAILURE' | 'RELEASE') => {
      if (phase === this.phase && this.actor.getSnapshot().value === 'halfOpen') this.actor.send({ type: event });
    };
    let value: T;
    try {
      value = await invoke(work, argumentFor(work, signal));
    } catch (error) {
      if (call?.abandoned === true) {
        this.counts.abandoned++;
        report('RELEASE');
      } else if (this.options.isFailure(error)) {
        this.counts.failed++;
        report('FAILURE');
      } else {
        this.counts.ignored++;
        report('RELEASE');
      }
      throw error;
    }
    if (call?.abandoned === true) {
      this.counts.abandoned++;
      report('RELEASE');
    } else {
      this.counts.succeeded++;
      report('SUCCESS');
    }
    return value;
  }

  private retryAfterMs(): number {
    const snapshot = this.actor.getSnapshot();
    if (snapshot.value !== 'open') return 0;
    return Math.max(0, this.openedAt + snapshot.context.openFor - this.clock.now());
  }
}

export type { ResolvedTripOptions };
export type { BreakerSnapshot } from './breaker-snapshot.js';
export type { BreakerStats } from './breaker-stats.js';
