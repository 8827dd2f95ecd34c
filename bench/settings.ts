// Settings shared by the benchmarks: integers from the environment, and logging kept out of the way.

/** A positive integer from env var `name` (underscores allowed: `1_000_000`), or `fallback`. */
export function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw.replaceAll('_', ''));
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return value;
}

/** Comma-separated positive integers from env var `name`, sorted and without repeats, or `fallback`. */
export function positiveInts(name: string, fallback: readonly number[]): number[] {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return [...fallback];
  const values = raw.split(',').map((part) => Number(part.trim().replaceAll('_', '')));
  if (values.some((v) => !Number.isSafeInteger(v) || v < 1)) throw new Error(`${name} must be comma-separated positive integers, got "${raw}"`);
  return [...new Set(values)].sort((a, b) => a - b);
}

/** STEADFAST_LOG_LEVEL would override the pipelines' `logLevel: 'silent'`, and the bench would measure logging. */
export function keepPipelinesSilent(log: (line: string) => void): void {
  const level = process.env.STEADFAST_LOG_LEVEL;
  if (level === undefined || level === 'silent') return;
  log(`ignoring STEADFAST_LOG_LEVEL=${level}: the bench runs its pipelines silent`);
  delete process.env.STEADFAST_LOG_LEVEL;
}
