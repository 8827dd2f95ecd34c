/**
 * The json codec's cost on plain state: encoding 1 MB of state with `jsonCodec.encode` (which walks
 * the value to check that it is plain, then lets JSON.stringify write it) against what the codec
 * did before it kept Maps, Sets, dates and BigInts: `JSON.stringify` and UTF-8 encoding alone.
 *
 *   npm run bench -- codec
 *   TSX_TSCONFIG_PATH=bench/tsconfig.json node --import tsx --expose-gc bench/codec.bench.ts
 *
 * Env: BENCH_ROUNDS (default 15), BENCH_REPEAT (encodes per timed run, default 20).
 *
 * Method: four shapes of about 1 MB of JSON each (records of strings, numbers and small nested
 * objects; an array of numbers; one object with 40,000 keys; an array of 1 kB strings), each
 * wrapped as a stage snapshot record. Every round times BENCH_REPEAT encodes of each variant with
 * process.cpuUsage() (CPU time, so that other work on a shared machine counts less), the order
 * of the variants alternating (bench/harness.ts); the figure is the median over the rounds.
 * Decoding plain JSON is JSON.parse behind one regular-expression test of the text, and is not
 * measured here.
 */
import { jsonCodec } from '../src/checkpoint/codec.js';
import { finish, log, measure, scenarioResult, variantResults, type Variant } from './harness.js';
import type { Comparison, ScenarioResult } from './result.js';
import { positiveInt } from './settings.js';

const ROUNDS = positiveInt('BENCH_ROUNDS', 15);
const REPEAT = positiveInt('BENCH_REPEAT', 20);
const textEncoder = new TextEncoder();

function shapes(): Record<string, { title: string; state: unknown }> {
  const items = [];
  for (let i = 0; i < 6_000; i++) {
    items.push({ id: `item-${i}`, name: `Product number ${i}`, price: i * 1.25, qty: i % 7, tags: ['a', 'bb', 'ccc'], active: i % 2 === 0, meta: { created: 1_700_000_000_000 + i, by: `user${i % 50}` } });
  }
  const numbers = Array.from({ length: 120_000 }, (_, i) => i * 3.7);
  const dictionary: Record<string, number> = {};
  for (let i = 0; i < 40_000; i++) dictionary[`key-${i}`] = i;
  const strings = Array.from({ length: 1_000 }, (_, i) => `${'x'.repeat(1_000)}${i}`);
  // structuredClone: the pipeline hands the codec a structured clone of the stage state.
  return {
    records: { title: '6,000 records (strings, numbers, a nested object, an array)', state: structuredClone({ items }) },
    numbers: { title: '120,000 numbers in an array', state: structuredClone({ numbers }) },
    dictionary: { title: 'one object with 40,000 keys', state: structuredClone({ dictionary }) },
    strings: { title: '1,000 strings of 1 kB', state: structuredClone({ strings }) },
  };
}

/** A sample: CPU time of REPEAT calls of `run`, in ns per call. */
function cpuNs(run: () => unknown): number {
  const started = process.cpuUsage();
  for (let i = 0; i < REPEAT; i++) run();
  const used = process.cpuUsage(started);
  return ((used.user + used.system) / 1_000 / REPEAT) * 1e6;
}

const scenarios: ScenarioResult[] = [];
for (const [id, { title, state }] of Object.entries(shapes())) {
  const record = { pipeline: 'bench', stage: 'stage', version: 1, offset: 0, checkpointId: 'c', createdAt: 0, state: { value: state } };
  const bytes = jsonCodec.encode(record).length;
  const encodes: Array<{ name: string; run: () => unknown }> = [
    { name: 'JSON.stringify + UTF-8 (before)', run: () => textEncoder.encode(JSON.stringify(record)) },
    { name: 'jsonCodec.encode', run: () => jsonCodec.encode(record) },
  ];
  const baseline = encodes[0]!.name;
  // Warm-up: 5 encodes of each variant; then rounds alternating the order of the two, no forced GC.
  const variants: Variant[] = encodes.map((e) => ({
    name: e.name,
    warm: () => {
      for (let i = 0; i < 5; i++) e.run();
    },
    run: () => cpuNs(e.run),
  }));
  const samples = await measure(variants, { label: id, rounds: ROUNDS, warmup: 1, collect: 'none', unit: 'ms/encode', format: (ns) => (ns / 1e6).toFixed(2) });
  const results = variantResults(samples, baseline);
  const slowdown = (results[1]!.nsPerEvent / results[0]!.nsPerEvent - 1) * 100;
  const comparisons: Comparison[] = [{ label: 'encode time added by the plain-value walk, %', value: Math.round(slowdown * 10) / 10 }];
  log(`${id}: ${(bytes / 1e6).toFixed(2)} MB, before ${(results[0]!.nsPerEvent / 1e6).toFixed(2)} ms, now ${(results[1]!.nsPerEvent / 1e6).toFixed(2)} ms (+${slowdown.toFixed(1)} %)`);
  scenarios.push(
    scenarioResult({
      id: `codec-${id}`,
      title: `json codec encode: ${title}`,
      description: `One encode of a stage snapshot of ${(bytes / 1e6).toFixed(2)} MB of plain JSON; an "event" is one encode. See bench/codec.bench.ts for the method.`,
      parameters: { bytes, rounds: ROUNDS, repeat: REPEAT },
      baseline,
      samples,
      comparisons,
    }),
  );
}
finish('codec', scenarios);
