/**
 * The measuring loop every bench shares: warm-up passes, rounds that run every variant once in an
 * order rotated by one each round, a full GC before each timed run (with `--expose-gc`), medians,
 * the {@link ScenarioResult} of bench/result.ts with each variant's ratio to the baseline, and the
 * tables that the runner (bench/run.ts) writes into docs/benchmarks.md and a bench prints when run
 * alone.
 *
 * A variant times itself: `run()` does one run and returns its sample (by convention ns per unit of
 * work: an event, a call, a write, a restore), so each bench keeps its own way of taking a sample
 * (wall clock or CPU time, what is inside the timed span) and the harness only decides when runs
 * happen and what is done between them.
 */
import { RESULT_FORMAT, printResult, type Comparison, type ScenarioResult, type VariantResult } from './result.js';

/** Progress goes to stderr: stdout's last line is the bench's JSON result. */
export const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

const gc = (globalThis as { gc?: () => void }).gc;

/** Whether node runs with `--expose-gc`, so that {@link collectGarbage} does something. */
export const canCollect = gc !== undefined;

/** `times` full garbage collections in a row with `--expose-gc`; nothing without it. */
export function collectGarbage(times = 1): void {
  if (gc === undefined) return;
  for (let i = 0; i < times; i++) gc();
}

/** Says once, on stderr, what is lost without `--expose-gc`. */
export function noteGc(what = 'collect garbage between timed runs'): void {
  if (gc === undefined) log(`note: run node with --expose-gc to ${what}`);
}

// Statistics.

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Nearest-rank percentile (p in (0, 100]). */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

// Measurement.

/**
 * What one run reports: its sample, or words for the round's log line with the sample (absent
 * when the run keeps its figures itself, several per run).
 */
export type RunOutcome = number | { ns?: number; detail: string };

export interface Variant {
  name: string;
  /** One timed run: returns its sample (ns per unit by convention). The variant does its own timing. */
  run: () => RunOutcome | Promise<RunOutcome>;
  /** What a warm-up run does; `run` when absent. */
  warm?: () => unknown;
  /** The untimed run right before a timed one (with `settle`); `run` when absent. */
  settle?: () => unknown;
  /** Runs in the first that many rounds only (every round when absent). */
  rounds?: number;
}

export interface MeasureOptions {
  /** Names the measurement in the log lines. */
  label: string;
  rounds: number;
  /** Warm-up passes over every variant before the rounds; 0 for none. */
  warmup: number;
  /** Least time a variant runs in each warm-up pass, again and again (at least once); default 0. */
  warmupMs?: number;
  /** Before each timed run: one full GC (default), two in a row, or none. */
  collect?: 'gc' | 'gc-twice' | 'none';
  /** One untimed run of the variant after the GC and right before the timed one, so that the heap has settled to its size for that variant. */
  settle?: boolean;
  /** What the log lines call a sample, e.g. `ns/event`. */
  unit?: string;
  format?: (ns: number) => string;
  /** After each round, with that round's samples by name; returns words for its log line, if any. */
  afterRound?: (round: number, taken: ReadonlyMap<string, number>) => string | undefined | Promise<string | undefined>;
}

/** Each variant's samples in round order, the variants in the order given. */
export type Samples = Map<string, number[]>;

function described(outcome: unknown, format: (ns: number) => string): string | undefined {
  if (typeof outcome === 'number') return format(outcome);
  if (typeof outcome === 'object' && outcome !== null && typeof (outcome as { detail?: unknown }).detail === 'string') return (outcome as { detail: string }).detail;
  return undefined;
}

/**
 * Warm-up passes, then `rounds` rounds; round r runs variant (j + r) mod n as its j-th, each after
 * the GC (and the settling run) the options ask for.
 */
export async function measure(variants: readonly Variant[], options: MeasureOptions): Promise<Samples> {
  const format = options.format ?? fmtNs;
  const unit = options.unit === undefined ? '' : ` (${options.unit})`;
  const collections = options.collect === 'none' ? 0 : options.collect === 'gc-twice' ? 2 : 1;
  for (let pass = 1; pass <= options.warmup; pass++) {
    const parts: string[] = [];
    for (const variant of variants) {
      const warm = variant.warm ?? variant.run;
      const start = performance.now();
      let runs = 0;
      let last: unknown;
      do {
        last = await warm();
        runs++;
      } while (performance.now() - start < (options.warmupMs ?? 0));
      const detail = described(last, format);
      parts.push(`${variant.name}${detail === undefined ? '' : ` ${detail}`}${runs > 1 ? ` (${runs}×)` : ''}`);
    }
    log(`  ${options.label} warm-up ${pass}/${options.warmup}${unit}: ${parts.join(' · ')}`);
  }
  const samples: Samples = new Map(variants.map((v) => [v.name, []]));
  for (let round = 0; round < options.rounds; round++) {
    const taken = new Map<string, number>();
    const parts: string[] = [];
    for (let j = 0; j < variants.length; j++) {
      const variant = variants[(j + round) % variants.length] as Variant;
      if (variant.rounds !== undefined && round >= variant.rounds) continue;
      collectGarbage(collections);
      if (options.settle === true) await (variant.settle ?? variant.run)();
      const outcome = await variant.run();
      const ns = typeof outcome === 'number' ? outcome : outcome.ns;
      if (ns !== undefined) {
        samples.get(variant.name)?.push(ns);
        taken.set(variant.name, ns);
      }
      parts.push(`${variant.name} ${described(outcome, format) ?? ''}`.trimEnd());
    }
    const extra = await options.afterRound?.(round, taken);
    if (extra !== undefined) parts.push(extra);
    log(`  ${options.label} round ${round + 1}/${options.rounds}${unit}: ${parts.join(' · ')}`);
  }
  return samples;
}

// Results.

/**
 * One row per variant: the median of its samples, events/s, and the ratio of its median to the
 * baseline's. `names` picks the variants and their order (those without samples are left out).
 */
export function variantResults(samples: ReadonlyMap<string, readonly number[]>, baseline: string, names: readonly string[] = [...samples.keys()]): VariantResult[] {
  const baselineNs = median(samples.get(baseline) ?? []);
  return names
    .filter((name) => samples.has(name))
    .map((name) => {
      const values = samples.get(name) ?? [];
      const ns = median(values);
      return { name, nsPerEvent: ns, eventsPerSecond: 1e9 / ns, ratio: ns / baselineNs, samplesNsPerEvent: [...values] };
    });
}

/** A scenario's result, its variants' rows made from the samples (see {@link variantResults}). */
export function scenarioResult(
  scenario: Omit<ScenarioResult, 'variants'> & { samples: ReadonlyMap<string, readonly number[]>; names?: readonly string[] },
): ScenarioResult {
  const { samples, names, ...rest } = scenario;
  return { id: rest.id, title: rest.title, description: rest.description, parameters: rest.parameters, baseline: rest.baseline, variants: variantResults(samples, rest.baseline, names), comparisons: rest.comparisons };
}

export const byName = (variants: readonly VariantResult[], name: string): VariantResult => {
  const found = variants.find((v) => v.name === name);
  if (found === undefined) throw new Error(`no variant "${name}" among ${variants.map((v) => `"${v.name}"`).join(', ')}`);
  return found;
};

/** A figure with a target `value >= atLeast` (an upper bound is written as bound ÷ measured, with atLeast 1). */
export const target = (label: string, value: number, atLeast: number): Comparison => ({ label, value, atLeast, met: value >= atLeast });

/** A figure without a target. */
export const info = (label: string, value: number): Comparison => ({ label, value });

/** Prints each scenario's tables on stdout (for a bench run alone), then the JSON result as the last line. */
export function finish(bench: string, scenarios: ScenarioResult[]): void {
  for (const s of scenarios) {
    console.log(`\n${s.title}\n`);
    console.log(variantTable(s));
    if (s.comparisons.length > 0) console.log(`\n${comparisonTable(s)}`);
  }
  printResult({ format: RESULT_FORMAT, bench, scenarios });
}

// Tables, as docs/benchmarks.md shows them.

export const fmtNs = (ns: number): string => (ns < 10 ? ns.toFixed(2) : ns < 100 ? ns.toFixed(1) : ns.toFixed(0));
export const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');
export const fmtRatio = (r: number): string => `${r < 10 ? r.toFixed(2) : r < 100 ? r.toFixed(1) : r.toFixed(0)}×`;

/** A markdown table, columns padded; `right[c]` aligns column c to the right. */
export function table(header: readonly string[], rows: readonly (readonly string[])[], right: readonly boolean[]): string {
  const widths = header.map((h, c) => Math.max(h.length, 3, ...rows.map((row) => (row[c] ?? '').length)));
  const cell = (text: string, c: number) => (right[c] === true ? text.padStart(widths[c] as number) : text.padEnd(widths[c] as number));
  const line = (cells: readonly string[]) => `| ${cells.map((text, c) => cell(text, c)).join(' | ')} |`;
  const rule = `|${widths.map((w, c) => (right[c] === true ? `${'-'.repeat(w + 1)}:` : `${'-'.repeat(w + 2)}`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** The variants with their medians and their ratio to the baseline. */
export function variantTable(s: ScenarioResult): string {
  return table(
    ['variant', 'ns/event', 'events/s', `ratio to ${s.baseline}`],
    s.variants.map((v) => [v.name, fmtNs(v.nsPerEvent), fmtInt(v.eventsPerSecond), fmtRatio(v.ratio)]),
    [false, true, true, true],
  );
}

/** The derived figures and whether their targets are met. */
export function comparisonTable(s: ScenarioResult): string {
  return table(
    ['comparison', 'value', 'target', 'met'],
    s.comparisons.map((c) => [c.label, c.value.toFixed(2), c.atLeast === undefined ? '' : `≥ ${c.atLeast}`, c.met === undefined ? '' : c.met ? 'yes' : 'no']),
    [false, true, true, false],
  );
}
