// A small deterministic pipeline for the time-travel tests: an async source that lets the event
// loop turn between events (so that checkpoints every few events do complete), one stage that
// counts and sums, and a sink that keeps everything. `version: 2` is the "bug fix" a what-if rerun runs.
import { createPipeline, defineStage, fromAsyncIterable, toArray, type ArraySink, type Pipeline } from '../../src/index.js';

/** The stage's state. */
export interface Tally {
  n: number;
  sum: number;
  /** Only version 2 keeps it. */
  last?: string;
}

/** The events: `{ i, label }` for i in [0, count). */
export function events(count: number, label: (i: number) => string = (i) => `e${i}`): Array<{ i: number; label: string }> {
  return Array.from({ length: count }, (_, i) => ({ i, label: label(i) }));
}

async function* slowly<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const item of items) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    yield item;
  }
}

/** What a run gives: the pipeline (for stats and its final state) and its sink. */
export interface WhatIfRun {
  pipeline: Pipeline;
  sink: ArraySink<string>;
}

/** A pipeline over `items` checkpointed in `dir`; version 1 emits `i*2`, version 2 (the fix) `i*3` and keeps the last label. */
export function whatIfPipeline(dir: string, items: ReadonlyArray<{ i: number; label: string }>, options: { version: 1 | 2; stage?: string; keep?: number; everyEvents?: number }): WhatIfRun {
  const stage = defineStage({
    name: options.stage ?? 'tally',
    initialState: (): Tally => ({ n: 0, sum: 0 }),
    process: (e: { i: number; label: string }, state: Tally) => {
      const next: Tally = { n: state.n + 1, sum: state.sum + e.i };
      if (options.version === 2) next.last = e.label;
      return { state: next, emit: [`${e.i}:${e.i * (options.version === 2 ? 3 : 2)}`] };
    },
  });
  const sink = toArray<string>();
  const pipeline = createPipeline({
    name: 'orders',
    source: fromAsyncIterable(slowly(items)),
    stages: [stage],
    sink,
    logLevel: 'silent',
    checkpoint: { dir, everyEvents: options.everyEvents ?? 10, everyMs: 0, keep: options.keep ?? 4 },
  });
  return { pipeline, sink };
}

/**
 * Writes the "original" history into `dir` deterministically: `sessions` runs of version 1, each over
 * `per` more events and ending with its final checkpoint (none by count), keep 4: the checkpoints
 * kept are at offsets per-1, 2*per-1, … (the newest 4).
 */
export async function writeOriginal(dir: string, sessions = 4, per = 30): Promise<void> {
  for (let k = 1; k <= sessions; k++) await whatIfPipeline(dir, events(per * k), { version: 1, keep: 4, everyEvents: 0 }).pipeline.run();
}
