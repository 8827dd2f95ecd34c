/**
 * What a failed event costs, with the default `onFailure` ('resume'): the same pipeline over the
 * same events, once with every event succeeding (the baseline) and once with one event in
 * FAIL_EVERY throwing; the difference in time, divided by the failures, is the cost of one failed
 * event (the stage's own `throw new Error()` included, as users pay it). Target: under 20 µs.
 *
 *   npm run bench -- failure      (through the runner: builds dist/, writes docs/benchmarks.md)
 *   npm run build && TSX_TSCONFIG_PATH=bench/tsconfig.json node --import tsx --expose-gc bench/failure.bench.ts
 *
 * Env: BENCH_EVENTS (default 200,000), BENCH_FAIL_EVERY (default 10: 10 % of the events fail),
 * BENCH_ROUNDS (default 7), BENCH_WARMUP (default 2).
 *
 * Method: one stage `process(i)` keeping a count in its state, over `fromIterable` of EVENTS
 * numbers, standard mode, log level silent, `onError` counting the reports. A run is timed from
 * `start()` to `done`; each checks that the stage counted every good event, that every failure was
 * reported once and that no restart happened. Rounds run both variants in alternating order, each
 * after a full GC; the figures are the medians over the rounds.
 */
import { createPipeline, defineStage, fromIterable, type SteadfastError } from 'steadfast';
import { keepPipelinesSilent, positiveInt } from './settings.js';
import { RESULT_FORMAT, printResult, type VariantResult } from './result.js';

const EVENTS = positiveInt('BENCH_EVENTS', 200_000);
const FAIL_EVERY = positiveInt('BENCH_FAIL_EVERY', 10);
const ROUNDS = positiveInt('BENCH_ROUNDS', 7);
const WARMUP = positiveInt('BENCH_WARMUP', 2);
const TARGET_US = 20;

keepPipelinesSilent((line) => process.stderr.write(`${line}\n`));
const gc = (globalThis as { gc?: () => void }).gc;
const events = Array.from({ length: EVENTS }, (_, i) => i);

async function run(failEvery: number | undefined): Promise<number> {
  const fails = (i: number) => failEvery !== undefined && i % failEvery === failEvery >> 1;
  const stage = defineStage({
    name: 'count',
    initialState: () => ({ n: 0 }),
    process: (i: number, state: { n: number }) => {
      if (fails(i)) throw new Error(`bad ${i}`);
      return { state: { n: state.n + 1 }, emit: [i] };
    },
  });
  let reported = 0;
  const pipeline = createPipeline({
    name: 'failures',
    source: fromIterable(events),
    stages: [stage],
    sink: () => {},
    logLevel: 'silent',
    onError: (_error: SteadfastError) => {
      reported++;
    },
  });
  gc?.();
  const started = performance.now();
  const stats = await pipeline.run();
  const ms = performance.now() - started;
  const failures = events.filter(fails).length;
  const counted = pipeline.stageState<{ n: number }>('count').n;
  if (counted !== EVENTS - failures || reported !== failures || stats.stages.count?.failedEvents !== failures || stats.supervision.restarts !== 0) {
    throw new Error(`wrong run: counted ${counted} of ${EVENTS - failures}, reported ${reported} of ${failures}, restarts ${stats.supervision.restarts}`);
  }
  return ms;
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

for (let i = 0; i < WARMUP; i++) {
  await run(undefined);
  await run(FAIL_EVERY);
}
const ok: number[] = [];
const failing: number[] = [];
const perFailureUs: number[] = [];
const failures = events.filter((i) => i % FAIL_EVERY === FAIL_EVERY >> 1).length;
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? [undefined, FAIL_EVERY] : [FAIL_EVERY, undefined];
  const times = new Map<number | undefined, number>();
  for (const variant of order) times.set(variant, await run(variant));
  const a = times.get(undefined) as number;
  const b = times.get(FAIL_EVERY) as number;
  ok.push(a);
  failing.push(b);
  perFailureUs.push(((b - a) * 1000) / failures);
  process.stderr.write(`round ${round + 1}: all good ${a.toFixed(1)} ms, ${failures} failures ${b.toFixed(1)} ms, ${(((b - a) * 1000) / failures).toFixed(2)} µs per failure\n`);
}

const variant = (name: string, samplesMs: number[], base: number): VariantResult => {
  const samples = samplesMs.map((ms) => (ms * 1e6) / EVENTS);
  const ns = median(samples);
  return { name, nsPerEvent: ns, eventsPerSecond: 1e9 / ns, ratio: ns / base, samplesNsPerEvent: samples };
};
const baseNs = median(ok.map((ms) => (ms * 1e6) / EVENTS));
const costUs = median(perFailureUs);
process.stderr.write(`a failed event costs ${costUs.toFixed(2)} µs more than a good one (target < ${TARGET_US} µs)\n`);
printResult({
  format: RESULT_FORMAT,
  bench: 'failure',
  scenarios: [
    {
      id: 'failure',
      title: 'Cost of a failed event (onFailure: resume, the default)',
      description:
        `One stage \`process(i)\` over \`fromIterable\` of ${EVENTS.toLocaleString('en-US')} numbers (standard mode, log level silent, \`onError\` counting), once with every event succeeding and once with one in ${FAIL_EVERY} throwing \`new Error()\`. ` +
        'A run is timed from `start()` to `done` and checks the counts (good events counted, each failure reported once, no restart). Rounds alternate the two variants after a full GC; figures are medians over the rounds. ' +
        'The cost of a failed event is (time with failures − time without) ÷ failures: the stage\'s own throw, the runtime\'s error and its report included.',
      parameters: { events: EVENTS, failEvery: FAIL_EVERY, failures, rounds: ROUNDS, warmup: WARMUP },
      baseline: 'every event succeeds',
      variants: [variant('every event succeeds', ok, baseNs), variant(`one in ${FAIL_EVERY} fails`, failing, baseNs)],
      comparisons: [
        { label: 'µs per failed event, beyond a successful one (median over rounds)', value: costUs },
        { label: `${TARGET_US} µs ÷ µs per failed event (target ≥ 1: under ${TARGET_US} µs)`, value: TARGET_US / costUs, atLeast: 1, met: costUs < TARGET_US },
      ],
    },
  ],
});
