import { ConfigError } from '../src/core/errors.js';
import { integerIn, knownKeys, record } from '../src/core/validate.js';

/** A flapping pattern: two children alternating (`ABAB`), a repeated sequence of three or more (`CYCLE`), one child failing again and again (`RUNAWAY`). */
export type FlapPattern = 'ABAB' | 'CYCLE' | 'RUNAWAY';

/** What flapping detection looks for. */
export interface FlapOptions {
  /** RUNAWAY: this many failures of the same child in a row. */
  runaway: number;
  /** CYCLE: this many consecutive repetitions of the sequence. */
  cycleRepeats: number;
  /** Only the last `window` failures count. */
  window: number;
}

/** Flapping settings used when a supervisor gives none. */
export const DEFAULT_FLAP_OPTIONS: Readonly<FlapOptions> = Object.freeze({ runaway: 5, cycleRepeats: 2, window: 32 });

/** Largest accepted `window`: CYCLE detection is quadratic in it, and it runs on every failure. */
export const MAX_FLAP_WINDOW = 1024;

/** A detected pattern; `children` is one period of it, in order (RUNAWAY `[a]`, ABAB `[a, b]`, CYCLE `[a, b, c, …]`). */
export interface FlapDetection {
  pattern: FlapPattern;
  children: string[];
}

const KNOWN = ['runaway', 'cycleRepeats', 'window'] as const;

/**
 * Checks a partial flapping object (`undefined` = all defaults) over {@link DEFAULT_FLAP_OPTIONS}; a
 * mistake is a CONFIG_INVALID naming the field and the value. `runaway` and `cycleRepeats` are
 * integers >= 2, and `window` must hold every pattern: `runaway` and `3 × cycleRepeats` entries.
 */
export function flapOptions(field: string, value: unknown): FlapOptions {
  const opts = value === undefined ? {} : record(field, value);
  knownKeys(field, opts, KNOWN);
  const at = (key: string): string => `${field}.${key}`;
  const runaway = opts.runaway === undefined ? DEFAULT_FLAP_OPTIONS.runaway : integerIn(at('runaway'), opts.runaway, 2, MAX_FLAP_WINDOW);
  const cycleRepeats = opts.cycleRepeats === undefined ? DEFAULT_FLAP_OPTIONS.cycleRepeats : integerIn(at('cycleRepeats'), opts.cycleRepeats, 2, Math.floor(MAX_FLAP_WINDOW / 3));
  const window = opts.window === undefined ? DEFAULT_FLAP_OPTIONS.window : integerIn(at('window'), opts.window, 1, MAX_FLAP_WINDOW);
  const needed = Math.max(runaway, 3 * cycleRepeats);
  if (window < needed) {
    // Blame a field the caller gave: with the default window, the one that outgrew it.
    if (opts.window !== undefined) {
      throw new ConfigError(at('window'), window, `must be at least ${needed} so that RUNAWAY (runaway ${runaway}) and CYCLE (3 × cycleRepeats ${cycleRepeats}) fit in it`);
    }
    if (runaway > window) throw new ConfigError(at('runaway'), runaway, `must be at most window (${window})`);
    throw new ConfigError(at('cycleRepeats'), cycleRepeats, `must be at most window / 3 (${Math.floor(window / 3)})`);
  }
  return { runaway, cycleRepeats, window };
}

/**
 * Looks for flapping in `history` (ids of failing children, oldest first; only the last `window`
 * count), checking RUNAWAY, then ABAB, then the shortest CYCLE; undefined when none matches.
 */
export function detectFlapping(history: readonly string[], options: FlapOptions): FlapDetection | undefined {
  const recent = history.slice(Math.max(0, history.length - Math.max(0, options.window)));
  return runaway(recent, options.runaway) ?? abab(recent) ?? cycle(recent, options.cycleRepeats);
}

/** The last `count` entries are the same child. */
function runaway(h: readonly string[], count: number): FlapDetection | undefined {
  const n = h.length;
  if (!(count >= 1) || n < count) return undefined;
  const last = h[n - 1];
  for (let i = n - count; i < n - 1; i++) if (h[i] !== last) return undefined;
  return { pattern: 'RUNAWAY', children: [last] };
}

/** The last four entries are x y x y with x ≠ y. */
function abab(h: readonly string[]): FlapDetection | undefined {
  const n = h.length;
  if (n < 4) return undefined;
  const x = h[n - 4];
  const y = h[n - 3];
  if (x === y || h[n - 2] !== x || h[n - 1] !== y) return undefined;
  return { pattern: 'ABAB', children: [x, y] };
}

/** The last `repeats · p` entries repeat a sequence of length p >= 3 with >= 3 distinct children; the smallest such p. */
function cycle(h: readonly string[], repeats: number): FlapDetection | undefined {
  const n = h.length;
  for (let p = 3; p <= n && p * repeats <= n; p++) {
    const from = n - p * repeats;
    let periodic = true;
    for (let i = from + p; i < n && periodic; i++) periodic = h[i] === h[i - p];
    if (!periodic) continue;
    const sequence = h.slice(from, from + p);
    if (new Set(sequence).size >= 3) return { pattern: 'CYCLE', children: sequence };
  }
  return undefined;
}
