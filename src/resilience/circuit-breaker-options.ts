import type { Clock } from '../core/clock.js';
import { tripOptions, type ResolvedTripOptions, type TripOptions } from '../core/breaker-windows.js';
import { ConfigError } from '../core/errors.js';
import { fn, integerIn, knownKeys, positiveNumber, record } from '../core/validate.js';
import { AbortedError } from '../core/errors.js';
import { defaultBreakerThreshold, defaultBreakerTimeoutMs } from './breaker-env-defaults.js';
import type { BreakerRegistry } from './breaker-registry.js';
import type { BreakerSnapshot } from './breaker-snapshot.js';

/** Options of `circuitBreaker`: when it trips (any of the trip conditions), how long it stays open, how it probes. */
export interface CircuitBreakerOptions extends TripOptions {
  /** Unique in its registry; used in metrics and the dashboard. */
  name: string;
  /** How long `open` lasts before probes are let through (default `STEADFAST_BREAKER_TIMEOUT_MS`, else 10 000 ms). */
  openMs?: number;
  /** Each consecutive re-open (a failed probe) lasts `factor` times longer, up to `maxMs` (defaults 2 and the larger of 300 000 ms and `openMs`). */
  openBackoff?: { factor?: number; maxMs?: number };
  /** Probes let through at once in `halfOpen`; others are refused (default 1). */
  halfOpenMaxCalls?: number;
  /** Successful probes that close the breaker (default 1). */
  successThreshold?: number;
  /** Which errors count as failures (default: every error but an AbortedError); others pass through uncounted. */
  isFailure?: (error: unknown) => boolean;
  /** A state saved with `toJSON()` to start from. */
  initialState?: BreakerSnapshot;
  /** The registry to join (default: `breakers`), or `null` for none. */
  registry?: BreakerRegistry | null;
  /** Time source: `now` for the time windows, `monotonic` (if given) for call durations, `setTimer` (if given) for the open timer; tests give a `SimulatedClock` or use fake timers. */
  clock?: Pick<Clock, 'now'> & Partial<Pick<Clock, 'monotonic' | 'setTimer'>>;
}

/** Breaker options with defaults filled in. */
export interface ResolvedBreakerOptions {
  name: string;
  trip: ResolvedTripOptions;
  openMs: number;
  openBackoff: { factor: number; maxMs: number };
  halfOpenMaxCalls: number;
  successThreshold: number;
  isFailure: (error: unknown) => boolean;
  initialState: BreakerSnapshot | undefined;
  registry: BreakerRegistry | null | undefined;
  clock: (Pick<Clock, 'now'> & Partial<Pick<Clock, 'monotonic' | 'setTimer'>>) | undefined;
}

/**
 * What a breaker may be called: longer than other names, and with `#`, so that a stage breaker's
 * `<pipeline>.<node>#<replica>` (a pipeline name and a node name of up to 128 characters each) fits.
 */
const BREAKER_NAME = /^[A-Za-z0-9_.:#-]{1,300}$/;

/** Checks a breaker's name: 1 to 300 letters, digits, `_`, `.`, `:`, `#` or `-`. */
function breakerName(field: string, value: unknown): string {
  if (typeof value !== 'string' || !BREAKER_NAME.test(value)) {
    throw new ConfigError(field, value, 'must be 1-300 characters of letters, digits, "_", ".", ":", "#" or "-"');
  }
  return value;
}

const OWN_KEYS = ['name', 'openMs', 'openBackoff', 'halfOpenMaxCalls', 'successThreshold', 'isFailure', 'initialState', 'registry', 'clock'] as const;
const STATES = ['closed', 'open', 'halfOpen', 'isolated'];

/** Checks breaker options; a mistake is a CONFIG_INVALID naming the field and the value. */
export function resolveBreakerOptions(options: unknown): ResolvedBreakerOptions {
  const opts = record('circuitBreaker options', options);
  const name = breakerName('circuitBreaker.name', opts.name);
  const tripPart: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(opts)) if (!(OWN_KEYS as readonly string[]).includes(key)) tripPart[key] = value;
  // With no trip condition given, N failures in a row open the breaker: STEADFAST_BREAKER_THRESHOLD, else 5 (as cockatiel's ConsecutiveBreaker(5)).
  const hasCondition = ['consecutiveFailures', 'failureRate', 'slowCallRate', 'emaThreshold'].some((key) => tripPart[key] !== undefined);
  const trip = tripOptions('circuitBreaker', hasCondition ? tripPart : { consecutiveFailures: defaultBreakerThreshold(), ...tripPart });
  const openMs = opts.openMs === undefined ? defaultBreakerTimeoutMs() : positiveNumber('circuitBreaker.openMs', opts.openMs);
  let openBackoff = { factor: 2, maxMs: Math.max(300_000, openMs) };
  if (opts.openBackoff !== undefined) {
    const given = record('circuitBreaker.openBackoff', opts.openBackoff);
    knownKeys('circuitBreaker.openBackoff', given, ['factor', 'maxMs']);
    const factor = given.factor === undefined ? 2 : positiveNumber('circuitBreaker.openBackoff.factor', given.factor);
    if (factor < 1) throw new ConfigError('circuitBreaker.openBackoff.factor', factor, 'must be >= 1');
    const maxMs = given.maxMs === undefined ? Math.max(300_000, openMs) : positiveNumber('circuitBreaker.openBackoff.maxMs', given.maxMs);
    openBackoff = { factor, maxMs };
  }
  if (openBackoff.maxMs < openMs) throw new ConfigError('circuitBreaker.openBackoff.maxMs', openBackoff.maxMs, `must be >= openMs (${openMs})`);
  const halfOpenMaxCalls = opts.halfOpenMaxCalls === undefined ? 1 : integerIn('circuitBreaker.halfOpenMaxCalls', opts.halfOpenMaxCalls, 1, 1_000_000);
  const successThreshold = opts.successThreshold === undefined ? 1 : integerIn('circuitBreaker.successThreshold', opts.successThreshold, 1, 1_000_000);
  const isFailure = opts.isFailure === undefined ? (error: unknown) => !(error instanceof AbortedError) : fn<(error: unknown) => boolean>('circuitBreaker.isFailure', opts.isFailure);
  const initialState = opts.initialState === undefined ? undefined : snapshot('circuitBreaker.initialState', opts.initialState, name);
  const registry = opts.registry as BreakerRegistry | null | undefined;
  const clock = opts.clock as ResolvedBreakerOptions['clock'];
  return { name, trip, openMs, openBackoff, halfOpenMaxCalls, successThreshold, isFailure, initialState, registry, clock };
}

function snapshot(field: string, value: unknown, name: string): BreakerSnapshot {
  const s = record(field, value);
  if (s.version !== 1) throw new ConfigError(`${field}.version`, s.version, 'must be 1 (a snapshot made by toJSON())');
  if (s.name !== name) throw new ConfigError(`${field}.name`, s.name, `must be the breaker's own name ("${name}")`);
  if (typeof s.state !== 'string' || !STATES.includes(s.state)) throw new ConfigError(`${field}.state`, s.state, `must be one of ${STATES.join(', ')}`);
  const reopens = integerIn(`${field}.reopens`, s.reopens, 0);
  const openRemainingMs = s.openRemainingMs === undefined ? undefined : Math.max(0, Number(s.openRemainingMs));
  return { version: 1, name, state: s.state as BreakerSnapshot['state'], reopens, ...(openRemainingMs === undefined ? {} : { openRemainingMs }), windows: s.windows };
}
