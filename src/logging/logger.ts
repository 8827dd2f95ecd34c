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
  if (error instanceof Error && typeof serialized === 'object' && serialized !== null) (serialized as { message: string }).message = messageWithCauses(error);
  return serialized;
}

/** Where a pino logger writes its JSON lines, one `write` per line. */
export interface LogDestination {
  write(line: string): void;
}

// Process-wide, keyed by a registered symbol: the CLI and the module it runs may load two copies of
// the package (a global install and the app's own), which must agree on where logs go.
const DESTINATION = Symbol.for('steadfast.logDestination');
type WithDestination = typeof globalThis & { [DESTINATION]?: LogDestination };

/**
 * Sets where the loggers steadfast creates from now on write (the `steadfast` command's formatter
 * for a terminal), or with `undefined` goes back to stderr; returns the previous destination.
 */
export function setLogDestination(destination: LogDestination | undefined): LogDestination | undefined {
  const holder = globalThis as WithDestination;
  const previous = holder[DESTINATION];
  if (destination === undefined) delete holder[DESTINATION];
  else holder[DESTINATION] = destination;
  return previous;
}

/**
 * The logger of one pipeline: pino writing JSON lines to stderr synchronously (no worker thread,
 * nothing left open after stop), or to the destination `setLogDestination` set.
 */
export function createLogger(level: LevelWithSilent, bindings: Record<string, string>): Logger {
  const destination = (globalThis as WithDestination)[DESTINATION] ?? pino.destination({ dest: 2, sync: true });
  return pino({ level, base: bindings, serializers: { err: serializeError } }, destination);
}

/** Level names in order of severity, for callers that compare them. */
export type { Level };
