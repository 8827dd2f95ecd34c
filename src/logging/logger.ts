import { pino, type Level, type LevelWithSilent, type Logger } from 'pino';
import { messageWithCauses } from '../core/errors.js';

export type { Logger, LevelWithSilent };

const LEVELS: readonly LevelWithSilent[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** True when `value` names a pino level or `silent`. */
export function isLogLevel(value: unknown): value is LevelWithSilent {
  return typeof value === 'string' && (LEVELS as readonly string[]).includes(value);
}

/**
 * The level a pipeline logs at: the level its code asked for; else `STEADFAST_LOG_LEVEL` when it
 * names a level; else the mode's default.
 */
export function chooseLevel(explicit: LevelWithSilent | undefined, modeDefault: LevelWithSilent): LevelWithSilent {
  if (explicit !== undefined) return explicit;
  const fromEnv = process.env.STEADFAST_LOG_LEVEL;
  return isLogLevel(fromEnv) ? fromEnv : modeDefault;
}

/**
 * pino's error serializer, except that the message states each cause once: pino appends every
 * cause's message to the error's, and ours already hold their cause's (`a: b` caused by `b` would
 * log as `a: b: b`). The stack keeps pino's `caused by:` chain.
 */
export function serializeError(error: unknown): unknown {
  const serialized = pino.stdSerializers.err(error as Error) as unknown;
  if (typeof serialized === 'object' && serialized !== null && 'message' in serialized) (serialized as { message: string }).message = messageWithCauses(error);
  return serialized;
}

/**
 * The logger of one pipeline: pino writing JSON lines to stderr synchronously (no worker thread,
 * nothing left open after stop).
 */
export function createLogger(level: LevelWithSilent, bindings: Record<string, string>): Logger {
  return pino({ level, base: bindings, serializers: { err: serializeError } }, pino.destination({ dest: 2, sync: true }));
}

/** Level names in order of severity, for callers that compare them. */
export type { Level };
