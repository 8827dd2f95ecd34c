import { ConfigError } from './errors.js';
import { integerIn, knownKeys, oneOf, record } from './validate.js';

/** The calls of a count window, oldest first, one digit each: 0 ok, 1 failed, 2 slow, 3 slow and failed. */
export interface CountWindowSnapshot {
  kind: 'count';
  size: number;
  outcomes: string;
}

/** The bucket counts of a time window, oldest first; the last bucket is the one of epoch `headEpoch` (`floor(now / (ms / buckets))`). */
export interface TimeWindowSnapshot {
  kind: 'time';
  ms: number;
  buckets: number;
  headEpoch: number;
  calls: number[];
  failures: number[];
  slow: number[];
}

/** A breaker's window state as plain JSON (see `snapshotWindows` / `restoreWindows`). */
export interface WindowsSnapshot {
  version: 1;
  consecutiveFailures: number;
  /** EMA of the failure rate, in [0, 1]. */
  ema: number;
  /** Calls the EMA has seen since the last reset. */
  emaCalls: number;
  window: CountWindowSnapshot | TimeWindowSnapshot;
}

const OUTCOMES = /^[0-3]*$/;

/** Checks a snapshot read back from JSON (a checkpoint, a user's `initialState`); a flaw throws CONFIG_INVALID naming `${field}.<path>`. */
export function parseWindowsSnapshot(field: string, value: unknown): WindowsSnapshot {
  const snap = record(field, value);
  knownKeys(field, snap, ['version', 'consecutiveFailures', 'ema', 'emaCalls', 'window']);
  if (snap.version !== 1) throw new ConfigError(`${field}.version`, snap.version, 'must be 1 (the only snapshot format so far)');
  const consecutiveFailures = integerIn(`${field}.consecutiveFailures`, snap.consecutiveFailures, 0);
  const ema = snap.ema;
  if (typeof ema !== 'number' || !(ema >= 0 && ema <= 1)) throw new ConfigError(`${field}.ema`, ema, 'must be a number in [0, 1]');
  const emaCalls = integerIn(`${field}.emaCalls`, snap.emaCalls, 0);
  return { version: 1, consecutiveFailures, ema, emaCalls, window: windowSnapshot(`${field}.window`, snap.window) };
}

function windowSnapshot(field: string, value: unknown): CountWindowSnapshot | TimeWindowSnapshot {
  const snap = record(field, value);
  const kind = oneOf(`${field}.kind`, snap.kind, ['count', 'time'] as const);
  if (kind === 'count') {
    knownKeys(field, snap, ['kind', 'size', 'outcomes']);
    const size = integerIn(`${field}.size`, snap.size, 1);
    const outcomes = snap.outcomes;
    if (typeof outcomes !== 'string' || !OUTCOMES.test(outcomes) || outcomes.length > size) {
      throw new ConfigError(`${field}.outcomes`, outcomes, `must be a string of at most ${size} digits 0-3`);
    }
    return { kind, size, outcomes };
  }
  knownKeys(field, snap, ['kind', 'ms', 'buckets', 'headEpoch', 'calls', 'failures', 'slow']);
  const ms = integerIn(`${field}.ms`, snap.ms, 1);
  const buckets = integerIn(`${field}.buckets`, snap.buckets, 1, ms);
  if (ms % buckets !== 0) throw new ConfigError(`${field}.buckets`, buckets, `must divide ${field}.ms (${ms}) evenly`);
  const headEpoch = snap.headEpoch;
  if (typeof headEpoch !== 'number' || !Number.isInteger(headEpoch)) {
    throw new ConfigError(`${field}.headEpoch`, headEpoch, 'must be an integer');
  }
  const calls = counts(`${field}.calls`, snap.calls, buckets);
  const failures = counts(`${field}.failures`, snap.failures, buckets);
  const slow = counts(`${field}.slow`, snap.slow, buckets);
  for (let i = 0; i < buckets; i++) {
    if (failures[i] > calls[i]) throw new ConfigError(`${field}.failures[${i}]`, failures[i], `must be at most calls[${i}] (${calls[i]})`);
    if (slow[i] > calls[i]) throw new ConfigError(`${field}.slow[${i}]`, slow[i], `must be at most calls[${i}] (${calls[i]})`);
  }
  return { kind, ms, buckets, headEpoch, calls, failures, slow };
}

function counts(field: string, value: unknown, length: number): number[] {
  if (!Array.isArray(value) || value.length !== length) throw new ConfigError(field, value, `must be an array of ${length} counts`);
  return value.map((n: unknown, i) => integerIn(`${field}[${i}]`, n, 0));
}
