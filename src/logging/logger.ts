import { pino, type Level, type LevelWithSilent, type Logger } from 'pino';

export type { Logger, LevelWithSilent };

const LEVELS: readonly LevelWithSilent[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** True when `value` names a pino level or `silent`. */
export function isLogLevel(value: unknown): value is LevelWithSilent {
  return typeof value === 'string' && (LEVELS as readonly string[]).includes(value);
}

/**
 * The logger of one pipeline: pino writing JSON lines to stderr synchronously (no worker thread,
 * nothing left open after stop), at `STEADFAST_LOG_LEVEL` when set, else at `level`.
 */
export function createLogger(level: LevelWithSilent, bindings: Record<string, string>): Logger {
  const fromEnv = process.env.STEADFAST_LOG_LEVEL;
  const chosen = isLogLevel(fromEnv) ? fromEnv : level;
  return pino({ level: chosen, base: bindings }, pino.destination({ dest: 2, sync: true }));
}

/** Level names in order of severity, for callers that compare them. */
export type { Level };
