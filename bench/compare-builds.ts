/**
 * Two builds of steadfast side by side in one process: the W1 chain (parse → enrich → aggregate,
 * as bench/pipeline.bench.ts) in throughput and standard mode, each variant run in rounds with the
 * order rotated and a full GC before each run; prints ns/event per build and the ratio after/before.
 * For a change to the runtime: build the previous commit in a worktree, then
 *
 *   git worktree add /tmp/before HEAD~1 && (cd /tmp/before && npm ci && npm run build)
 *   npm run build && BENCH_BEFORE=/tmp/before node --import tsx --expose-gc bench/compare-builds.ts
 *
 * Env: BENCH_BEFORE (a checkout with dist/ built; required), BENCH_AFTER (default: this checkout),
 * BENCH_EVENTS (default 300,000), BENCH_ROUNDS (default 9).
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as Steadfast from 'steadfast';
import { positiveInt } from './settings.js';

type Lib = typeof Steadfast;

const before = process.env.BENCH_BEFORE;
if (before === undefined) throw new Error('BENCH_BEFORE must name a checkout with dist/ built');
const load = (dir: string) => import(pathToFileURL(resolve(dir, 'dist/src/index.js')).href) as Promise<Lib>;
const libs: Array<[string, Lib]> = [
  ['before', await load(before)],
  ['after', await load(process.env.BENCH_AFTER ?? '.')],
];
const N = positiveInt('BENCH_EVENTS', 300_000);
const ROUNDS = positiveInt('BENCH_ROUNDS', 9);
const KEYS = 100;
const events = Array.from({ length: N }, (_, i) => ({ id: i, key: i % KEYS, value: i }));
interface Raw {
  id: number;
  key: number;
  value: number;
}
interface Scored extends Raw {
  ts: number;
  score?: number;
}

/** One build's W1 run in one mode; each build gets its own stage functions (no feedback shared between builds). */
function w1(lib: Lib, mode: 'throughput' | 'standard'): () => Promise<Float64Array> {
  const make = new Function('return (e) => ({ state: undefined, emit: [{ id: e.id, key: e.key, value: e.value, ts: 1 }] })') as () => (e: Raw) => { state: undefined; emit: Scored[] };
  const enrich = new Function('return (e) => ({ state: undefined, emit: [{ id: e.id, key: e.key, value: e.value, ts: e.ts, score: e.value * 2 }] })') as () => (e: Scored) => { state: undefined; emit: Scored[] };
  const parse = lib.defineStage({ name: 'parse', process: make() });
  const enriched = lib.defineStage({ name: 'enrich', process: enrich() });
  const aggregate = lib.defineStage({
    name: 'aggregate',
    initialState: () => new Float64Array(KEYS),
    process: (e: Scored, s: Float64Array) => {
      s[e.key] = (s[e.key] as number) + (e.score as number);
      return { state: s };
    },
  });
  return async () => {
    const pipeline = lib.createPipeline({ name: 'w1', source: lib.fromIterable(events), stages: [parse, enriched, aggregate], mode, logLevel: 'silent' });
    await pipeline.run();
    return pipeline.stageState<Float64Array>('aggregate');
  };
}

const variants: Array<{ name: string; run: () => Promise<Float64Array> }> = [];
for (const mode of ['throughput', 'standard'] as const) for (const [label, lib] of libs) variants.push({ name: `${label} ${mode}`, run: w1(lib, mode) });
const gc = (globalThis as { gc?: () => void }).gc;
const samples = new Map<string, number[]>();
let reference: string | undefined;
for (let w = 0; w < 2; w++) for (const v of variants) await v.run();
for (let r = 0; r < ROUNDS; r++) {
  const order = [...variants.slice(r % variants.length), ...variants.slice(0, r % variants.length)];
  for (const v of order) {
    gc?.();
    const t = performance.now();
    const sums = await v.run();
    const ns = ((performance.now() - t) * 1e6) / N;
    const text = Array.from(sums).join(',');
    if (reference !== undefined && text !== reference) throw new Error(`${v.name} computed different sums`);
    reference = text;
    samples.set(v.name, [...(samples.get(v.name) ?? []), ns]);
  }
}
const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
console.log(`W1, ${N.toLocaleString('en')} events, ${ROUNDS} rounds, medians (ns/event); before: ${before}`);
for (const mode of ['throughput', 'standard']) {
  const b = median(samples.get(`before ${mode}`) ?? []);
  const a = median(samples.get(`after ${mode}`) ?? []);
  console.log(`${mode.padEnd(10)}  before ${b.toFixed(1).padStart(7)}  after ${a.toFixed(1).padStart(7)}  after/before ${(a / b).toFixed(2)}×`);
}
