// Settings shared by the benchmarks: integers and filters from the environment (every BENCH_*
// variable is parsed by these functions), and logging kept out of the way.

/** A positive integer from env var `name` (underscores allowed: `1_000_000`), or `fallback`. */
export function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw.replaceAll('_', ''));
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return value;
}

/** An integer of at least `least` from env var `name` (underscores allowed), or `fallback`. */
export function intAtLeast(name: string, least: number, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw.replaceAll('_', ''));
  if (!Number.isSafeInteger(value) || value < least) throw new Error(`${name} must be an integer >= ${least}, got "${raw}"`);
  return value;
}

/** BENCH_WARMUP: warm-up passes (or runs) before the measured rounds; 0 skips them (for a quick check that a bench runs). */
export function warmupPasses(fallback: number): number {
  return intAtLeast('BENCH_WARMUP', 0, fallback);
}

/** Comma-separated positive integers from env var `name`, sorted and without repeats, or `fallback`. */
export function positiveInts(name: string, fallback: readonly number[]): number[] {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return [...fallback];
  const values = raw.split(',').map((part) => Number(part.trim().replaceAll('_', '')));
  if (values.some((v) => !Number.isSafeInteger(v) || v < 1)) throw new Error(`${name} must be comma-separated positive integers, got "${raw}"`);
  return [...new Set(values)].sort((a, b) => a - b);
}

/**
 * BENCH_VARIANTS: comma-separated, case-insensitive parts of variant names. `keeps(name)` is true
 * for every name when it is unset, else for the names containing one of the parts. For
 * investigating one variant: published figures run them all, since variants sharing a process
 * affect each other (JIT feedback).
 */
export function variantFilter(): { parts: string[]; keeps: (name: string) => boolean } {
  const parts = (process.env.BENCH_VARIANTS ?? '')
    .split(',')
    .map((part) => part.trim().toLowerCase())
    .filter((part) => part !== '');
  return { parts, keeps: (name) => parts.length === 0 || parts.some((part) => name.toLowerCase().includes(part)) };
}

/** STEADFAST_LOG_LEVEL would override the pipelines' `logLevel: 'silent'`, and the bench would measure logging. */
export function keepPipelinesSilent(log: (line: string) => void): void {
  const level = process.env.STEADFAST_LOG_LEVEL;
  if (level === undefined || level === 'silent') return;
  log(`ignoring STEADFAST_LOG_LEVEL=${level}: the bench runs its pipelines silent`);
  delete process.env.STEADFAST_LOG_LEVEL;
}
