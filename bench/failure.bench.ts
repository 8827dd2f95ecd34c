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
import { collectGarbage, finish, log, measure, median, scenarioResult, type Variant } from './harness.js';
import { keepPipelinesSilent, positiveInt, warmupPasses } from './settings.js';

const EVENTS = positiveInt('BENCH_EVENTS', 200_000);
const FAIL_EVERY = positiveInt('BENCH_FAIL_EVERY', 10);
const ROUNDS = positiveInt('BENCH_ROUNDS', 7);
const WARMUP = warmupPasses(2);
const TARGET_US = 20;

keepPipelinesSilent(log);
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
  collectGarbage();
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

const failures = events.filter((i) => i % FAIL_EVERY === FAIL_EVERY >> 1).length;
/** ms of each variant's last run, for the round's cost per failure. */
const lastMs = new Map<number | undefined, number>();
const perFailureUs: number[] = [];
const OK = 'every event succeeds';
const FAILING = `one in ${FAIL_EVERY} fails`;
const variant = (name: string, failEvery: number | undefined): Variant => ({
  name,
  run: async () => {
    const ms = await run(failEvery);
    lastMs.set(failEvery, ms);
    return (ms * 1e6) / EVENTS;
  },
});

// run() collects garbage itself, after building its pipeline and before timing it: no GC from the harness.
const samples = await measure([variant(OK, undefined), variant(FAILING, FAIL_EVERY)], {
  label: 'failure',
  rounds: ROUNDS,
  warmup: WARMUP,
  collect: 'none',
  unit: 'ns/event',
  afterRound: () => {
    const a = lastMs.get(undefined) as number;
    const b = lastMs.get(FAIL_EVERY) as number;
    perFailureUs.push(((b - a) * 1000) / failures);
    return `all good ${a.toFixed(1)} ms, ${failures} failures ${b.toFixed(1)} ms, ${(((b - a) * 1000) / failures).toFixed(2)} µs per failure`;
  },
});

const costUs = median(perFailureUs);
log(`a failed event costs ${costUs.toFixed(2)} µs more than a good one (target < ${TARGET_US} µs)`);
finish('failure', [
  scenarioResult({
    id: 'failure',
    title: 'Cost of a failed event (onFailure: resume, the default)',
    description:
      `One stage \`process(i)\` over \`fromIterable\` of ${EVENTS.toLocaleString('en-US')} numbers (standard mode, log level silent, \`onError\` counting), once with every event succeeding and once with one in ${FAIL_EVERY} throwing \`new Error()\`. ` +
      'A run is timed from `start()` to `done` and checks the counts (good events counted, each failure reported once, no restart). Rounds alternate the two variants after a full GC; figures are medians over the rounds. ' +
      'The cost of a failed event is (time with failures − time without) ÷ failures: the stage\'s own throw, the runtime\'s error and its report included.',
    parameters: { events: EVENTS, failEvery: FAIL_EVERY, failures, rounds: ROUNDS, warmup: WARMUP },
    baseline: OK,
    samples,
    comparisons: [
      { label: 'µs per failed event, beyond a successful one (median over rounds)', value: costUs },
      { label: `${TARGET_US} µs ÷ µs per failed event (target ≥ 1: under ${TARGET_US} µs)`, value: TARGET_US / costUs, atLeast: 1, met: costUs < TARGET_US },
    ],
  }),
]);
