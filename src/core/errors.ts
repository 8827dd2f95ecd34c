/** Stable error codes; a code never changes meaning once released. */
export type SteadfastErrorCode =
  | 'CONFIG_INVALID'
  | 'HTTP_LISTEN_FAILED'
  | 'STAGE_CALL_FAILED'
  | 'STAGE_RESULT_INVALID'
  | 'STAGE_OPEN_FAILED'
  | 'STAGE_CLOSE_FAILED'
  | 'STAGE_CRASHED'
  | 'STAGE_REPLAY_FAILED'
  | 'STAGE_TIMEOUT'
  | 'STAGE_STOPPED'
  | 'SOURCE_FAILED'
  | 'SOURCE_PARSE_FAILED'
  | 'SINK_WRITE_FAILED'
  | 'ROUTE_FAILED'
  | 'PIPELINE_STATE_INVALID'
  | 'PIPELINE_STOPPED'
  | 'PUSH_UNSUPPORTED'
  | 'PUSH_OVERFLOW'
  | 'SOURCE_ENDED'
  | 'STOP_TIMEOUT'
  | 'RESTART_INTENSITY_EXCEEDED'
  | 'FLAPPING_DETECTED'
  | 'CHILD_START_FAILED'
  | 'SUPERVISOR_STATE_INVALID'
  | 'CHILD_UNKNOWN'
  | 'CIRCUIT_OPEN'
  | 'TIMEOUT'
  | 'BULKHEAD_REJECTED'
  | 'RETRY_EXHAUSTED'
  | 'ABORTED'
  | 'DEAD_LETTER'
  | 'DEAD_LETTER_NOT_STORED'
  | 'CHECKPOINT_STORE_LOCKED'
  | 'CHECKPOINT_STORE_MISSING'
  | 'CHECKPOINT_STORE_FAILED'
  | 'CHECKPOINT_STORE_CLOSED'
  | 'CHECKPOINT_ENCODE_FAILED'
  | 'CHECKPOINT_CORRUPT'
  | 'CHECKPOINT_STALE'
  | 'MACHINE_NOT_PERSISTABLE'
  | 'MACHINE_RESTORE_FAILED'
  | 'CHECKPOINT_NOT_FOUND'
  | 'CHECKPOINT_FROM_REFUSED'
  | 'CHECKPOINT_STORE_NOT_EMPTY'
  | 'REDIS_UNAVAILABLE'
  | 'REDIS_FAILED';

const BRAND = Symbol.for('steadfast.error');

/** Base class of every error steadfast raises: a stable `code`, a message naming the value, a `cause`. */
export class SteadfastError extends Error {
  readonly code: SteadfastErrorCode;
  readonly [BRAND] = true;

  constructor(code: SteadfastErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
  }
}

/** True when `value` is a steadfast error, optionally with the given code (works across package copies). */
export function isSteadfastError(value: unknown, code?: SteadfastErrorCode): value is SteadfastError {
  if (typeof value !== 'object' || value === null || !(BRAND in value)) return false;
  return code === undefined || (value as SteadfastError).code === code;
}

/** An option failed validation; `field` is its path and `value` what was given. */
export class ConfigError extends SteadfastError {
  readonly field: string;
  readonly value: unknown;
  /** What the field must be, as the message says it. */
  readonly expected: string;

  constructor(field: string, value: unknown, expected: string) {
    super('CONFIG_INVALID', `${field} ${expected}, got ${describeValue(value)}`);
    this.field = field;
    this.value = value;
    this.expected = expected;
  }

  /** The same error for a field nested under another name (`circuitBreaker.x` → `stage "s".breaker.x`). */
  under(prefix: string, replaced: string): ConfigError {
    return new ConfigError(this.field.startsWith(replaced) ? prefix + this.field.slice(replaced.length) : this.field, this.value, this.expected);
  }
}

/** The codes of a failed call. */
export type StageCallErrorCode =
  | 'STAGE_CALL_FAILED'
  | 'STAGE_RESULT_INVALID'
  | 'STAGE_TIMEOUT'
  | 'STAGE_CRASHED'
  | 'STAGE_REPLAY_FAILED'
  | 'STAGE_STOPPED'
  | 'SINK_WRITE_FAILED'
  | 'ROUTE_FAILED'
  | 'DEAD_LETTER'
  | 'DEAD_LETTER_NOT_STORED'
  | 'CHECKPOINT_STORE_LOCKED'
  | 'CHECKPOINT_STORE_MISSING'
  | 'CHECKPOINT_STORE_FAILED'
  | 'CHECKPOINT_STORE_CLOSED'
  | 'CHECKPOINT_ENCODE_FAILED'
  | 'CHECKPOINT_CORRUPT';

/** A stage call threw, rejected, timed out or returned a malformed result; `events` are the inputs it did not process. */
export class StageCallError extends SteadfastError {
  readonly stage: string;
  readonly offsets: readonly number[];
  readonly events: readonly unknown[];

  constructor(
    code: StageCallErrorCode,
    stage: string,
    message: string,
    failed: { offsets: readonly number[]; events: readonly unknown[] },
    cause?: unknown,
  ) {
    super(code, message, { cause });
    this.stage = stage;
    this.offsets = failed.offsets;
    this.events = failed.events;
  }
}

/** A sink could not write some values; `events` and `offsets` are those values, the rest were written. */
export class SinkWriteError extends SteadfastError {
  readonly events: readonly unknown[];
  readonly offsets: readonly number[];

  constructor(message: string, failed: { events: readonly unknown[]; offsets: readonly number[] }, cause?: unknown) {
    super('SINK_WRITE_FAILED', message, { cause });
    this.events = failed.events;
    this.offsets = failed.offsets;
  }
}

/** A circuit breaker refused the call: it is open (or isolated, or its half-open probes are taken). */
export class CircuitOpenError extends SteadfastError {
  readonly breaker: string;
  readonly state: string;
  /** Milliseconds until the breaker lets a probe through (0 when isolated or unknown). */
  readonly retryAfterMs: number;

  constructor(breaker: string, state: string, retryAfterMs: number, cause?: unknown) {
    super('CIRCUIT_OPEN', `circuit breaker "${breaker}" is ${state}; call refused${retryAfterMs > 0 ? ` (next probe in ${Math.ceil(retryAfterMs)} ms)` : ''}`, { cause });
    this.breaker = breaker;
    this.state = state;
    this.retryAfterMs = retryAfterMs;
  }
}

/** A call took longer than its timeout; its AbortSignal (if it asked for one) was aborted. */
export class TimeoutError extends SteadfastError {
  readonly timeoutMs: number;

  constructor(timeoutMs: number, cause?: unknown) {
    super('TIMEOUT', `call timed out after ${timeoutMs} ms`, { cause });
    this.timeoutMs = timeoutMs;
  }
}

/** A bulkhead refused the call: every slot is busy and its queue is full (or the call waited too long). */
export class BulkheadRejectedError extends SteadfastError {
  readonly maxConcurrent: number;
  readonly maxQueue: number;

  constructor(maxConcurrent: number, maxQueue: number, reason = 'full') {
    super('BULKHEAD_REJECTED', `bulkhead ${reason}: ${maxConcurrent} calls running and ${maxQueue} queued at most`);
    this.maxConcurrent = maxConcurrent;
    this.maxQueue = maxQueue;
  }
}

/** Every attempt failed; `cause` is the last failure, `attempts` how many were made. */
export class RetryExhaustedError extends SteadfastError {
  readonly attempts: number;

  constructor(attempts: number, cause: unknown) {
    super('RETRY_EXHAUSTED', `gave up after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${messageOf(cause)}`, { cause });
    this.attempts = attempts;
  }
}

/** The caller's AbortSignal was aborted: the call stopped (or never started). */
export class AbortedError extends SteadfastError {
  constructor(cause?: unknown) {
    super('ABORTED', 'call aborted by its signal', { cause });
  }
}

/** A line of an NDJSON source is not valid JSON; `line` is its 1-based number. */
export class SourceParseError extends SteadfastError {
  readonly path: string;
  readonly line: number;

  constructor(path: string, line: number, cause: unknown) {
    super('SOURCE_PARSE_FAILED', `${path}:${line} is not valid JSON: ${messageOf(cause)}`, { cause });
    this.path = path;
    this.line = line;
  }
}

/** The codes of a checkpoint store failure. */
export type CheckpointStoreErrorCode =
  | 'CHECKPOINT_STORE_LOCKED'
  | 'CHECKPOINT_STORE_MISSING'
  | 'CHECKPOINT_STORE_FAILED'
  | 'CHECKPOINT_STORE_CLOSED'
  | 'CHECKPOINT_ENCODE_FAILED'
  | 'CHECKPOINT_CORRUPT'
  | 'CHECKPOINT_NOT_FOUND'
  | 'CHECKPOINT_FROM_REFUSED'
  | 'CHECKPOINT_STORE_NOT_EMPTY';

/** A checkpoint store could not open, encode, read or write; `location` is its directory (`memory` for a memory store). */
export class CheckpointStoreError extends SteadfastError {
  readonly location: string;

  constructor(code: CheckpointStoreErrorCode, location: string, message: string, cause?: unknown) {
    super(code, message, { cause });
    this.location = location;
  }
}

/** The codes of a Redis failure: the server cannot be reached (down, restarting, connection lost), or it refused a command. */
export type RedisErrorCode = 'REDIS_UNAVAILABLE' | 'REDIS_FAILED';

/** Redis could not be reached or refused a command; `url` is the server's address without its password. */
export class RedisError extends SteadfastError {
  readonly url: string;

  constructor(code: RedisErrorCode, url: string, message: string, cause?: unknown) {
    super(code, message, { cause });
    this.url = url;
  }
}

/** Renders a value for an error message: short, single-line, never throws (not even for hostile proxies). */
export function describeValue(value: unknown): string {
  try {
    return describe(value);
  } catch {
    return 'a value that cannot be described';
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'symbol') return value.toString();
  if (value === null || typeof value !== 'object') return String(value);
  if (Array.isArray(value)) return `array(${value.length})`;
  try {
    const text = JSON.stringify(value);
    if (text === undefined) return Object.prototype.toString.call(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/**
 * An error's message followed by each message of its `cause` chain not already in it: steadfast's
 * errors state their cause's message in their own, so a chain prints each cause once.
 */
export function messageWithCauses(error: unknown): string {
  let text = messageOf(error);
  const seen = new Set<unknown>([error]);
  for (let cause = causeOf(error); cause !== undefined && !seen.has(cause); cause = causeOf(cause)) {
    seen.add(cause);
    const message = messageOf(cause);
    if (message !== '' && !text.includes(message)) text += `: ${message}`;
  }
  return text;
}

function causeOf(error: unknown): unknown {
  try {
    return error instanceof Error ? error.cause : undefined;
  } catch {
    return undefined;
  }
}

/** The message of anything thrown, including non-Error values. */
export function messageOf(error: unknown): string {
  try {
    if (error instanceof Error) return String(error.message);
  } catch {
    // a hostile object: fall through to describeValue, which never throws
  }
  return describeValue(error);
}
