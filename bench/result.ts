/**
 * The result format of a benchmark, shared by the `*.bench.ts` files and the runner (`run.ts`).
 *
 * A bench is a program `bench/<name>.bench.ts`. It may print anything on stdout and stderr while it
 * runs, but the LAST line it prints on stdout must be one JSON object of type {@link BenchResult}
 * (use {@link printResult}), and it must exit with code 0. Any other exit code, or a last line that
 * is not such an object, is a failed bench: the runner reports it and leaves docs/benchmarks.md
 * untouched for it.
 *
 * ```json
 * {
 *   "format": "steadfast-bench/1",
 *   "bench": "pipeline",
 *   "scenarios": [{
 *     "id": "pipeline",
 *     "title": "…", "description": "… (markdown)",
 *     "parameters": { "events": 1000000, "rounds": 5 },
 *     "baseline": "plain loop",
 *     "variants": [{ "name": "plain loop", "nsPerEvent": 21.3, "eventsPerSecond": 46948356,
 *                    "ratio": 1, "samplesNsPerEvent": [21.1, 21.3, 22.0] }],
 *     "comparisons": [{ "label": "…", "value": 2.4, "atLeast": 2, "met": true }]
 *   }]
 * }
 * ```
 *
 * Each scenario becomes one section of docs/benchmarks.md, keyed by `id`; re-running a bench
 * rewrites only its own scenarios' sections.
 */

export const RESULT_FORMAT = 'steadfast-bench/1';

export interface BenchResult {
  format: typeof RESULT_FORMAT;
  /** The bench's name: its file name without `.bench.ts`. */
  bench: string;
  scenarios: ScenarioResult[];
}

export interface ScenarioResult {
  /** Section key in docs/benchmarks.md: lower-case letters, digits and `-`. */
  id: string;
  title: string;
  /** What is measured and how (markdown). */
  description: string;
  /** The knobs of this run (event count, rounds, …), shown under the table. */
  parameters: Record<string, string | number | boolean>;
  /** Name of the variant every `ratio` is relative to. */
  baseline: string;
  variants: VariantResult[];
  /** Derived figures, e.g. "steadfast events/s ÷ Node streams events/s", with an optional target. */
  comparisons: Comparison[];
}

export interface VariantResult {
  name: string;
  /** Median over the measured rounds. */
  nsPerEvent: number;
  /** 1e9 / nsPerEvent. */
  eventsPerSecond: number;
  /** nsPerEvent / the baseline's nsPerEvent (lower is faster; the baseline is 1). */
  ratio: number;
  /** ns/event of every measured round, in round order. */
  samplesNsPerEvent: number[];
}

export interface Comparison {
  label: string;
  value: number;
  /** The target is `value >= atLeast`; absent when there is no target. */
  atLeast?: number;
  /** Whether the target is met; absent when there is no target. */
  met?: boolean;
}

/** Prints the result as the last stdout line. Call it once, at the very end of the bench. */
export function printResult(result: BenchResult): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** Type guard for what the runner parses from a bench's last stdout line. */
export function isBenchResult(value: unknown): value is BenchResult {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Partial<BenchResult>;
  return (
    r.format === RESULT_FORMAT &&
    typeof r.bench === 'string' &&
    Array.isArray(r.scenarios) &&
    r.scenarios.every(
      (s: Partial<ScenarioResult>) =>
        typeof s.id === 'string' &&
        /^[a-z0-9-]+$/.test(s.id) &&
        typeof s.title === 'string' &&
        typeof s.baseline === 'string' &&
        Array.isArray(s.variants) &&
        s.variants.every((v: Partial<VariantResult>) => typeof v.name === 'string' && typeof v.nsPerEvent === 'number') &&
        Array.isArray(s.comparisons),
    )
  );
}
