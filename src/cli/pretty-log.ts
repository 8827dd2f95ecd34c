// `steadfast run` on a terminal: each pino JSON line as `HH:MM:SS.mmm LEVEL [pipeline/stage] msg key=value ...`.
import type { LogDestination } from '../logging/logger.js';
import { oneLine } from './error-line.js';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const COLORS: Record<number, string> = { 10: '90', 20: '36', 30: '32', 40: '33', 50: '31', 60: '35' };

// Shown in the prefix, or not at all (a run's id is in every JSON line; on a terminal it is noise).
const PLACED = new Set(['level', 'time', 'msg', 'pipeline', 'stage', 'runId', 'pid', 'hostname', 'v']);

/** Options of the formatter. */
export interface PrettyOptions {
  /** ANSI colours for the level (on a terminal). */
  color?: boolean;
  /** Stacks of errors at error level and above, indented under the line (default true). */
  stacks?: boolean;
  /** Called before each line is written (clears the live status line it would otherwise cut into). */
  before?: () => void;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

function shown(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}

/** One pino JSON line as a human-readable line (a line that is not pino's JSON is returned as it is). */
export function formatLogLine(line: string, options: PrettyOptions = {}): string {
  let record: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return line;
    record = parsed as Record<string, unknown>;
  } catch {
    return line;
  }
  const at = new Date(typeof record.time === 'number' ? record.time : Date.now());
  const time = `${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}.${pad(at.getMilliseconds(), 3)}`;
  const level = typeof record.level === 'number' ? record.level : 30;
  const name = (LEVELS[level] ?? `L${level}`).padEnd(5);
  const label = options.color === true ? `\u001b[${COLORS[level] ?? '0'}m${name}\u001b[0m` : name;
  const where = [record.pipeline, record.stage].filter((part) => typeof part === 'string').join('/');
  const parts = [time, label];
  if (where !== '') parts.push(`[${where}]`);
  if (typeof record.msg === 'string' && record.msg !== '') parts.push(oneLine(record.msg));
  let stack: string | undefined;
  for (const [key, value] of Object.entries(record)) {
    if (PLACED.has(key)) continue;
    if (key === 'err' && typeof value === 'object' && value !== null) {
      const err = value as { message?: unknown; stack?: unknown };
      parts.push(`err=${shown(typeof err.message === 'string' ? oneLine(err.message) : err)}`);
      if (typeof err.stack === 'string') stack = err.stack;
      continue;
    }
    parts.push(`${key}=${oneLine(shown(value))}`);
  }
  const text = parts.join(' ');
  if (stack === undefined || level < 50 || options.stacks === false) return text;
  // The stack's first line repeats the message; its frames and causes follow, indented.
  const frames = stack.split('\n').slice(1).map((frame) => `    ${oneLine(frame.trim())}`);
  return frames.length === 0 ? text : `${text}\n${frames.join('\n')}`;
}

/** A pino destination writing each JSON line to `out` human-readable. */
export function prettyDestination(out: { write(text: string): unknown }, options: PrettyOptions = {}): LogDestination {
  return {
    write(chunk: string) {
      for (const line of chunk.split('\n')) {
        if (line === '') continue;
        options.before?.();
        out.write(`${formatLogLine(line, options)}\n`);
      }
    },
  };
}
