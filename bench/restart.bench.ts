/**
 * Restart latency of a crashed stage: the time from a stage's throw to the next event that stage
 * processes (its next incarnation's first call), with backoff 0; against the same pipeline with
 * `onFailure: 'resume'` (the next event after the throw, without a restart).
 *
 *   npm run bench -- restart      (through the runner: builds dist/, writes docs/benchmarks.md)
 *   npm run build && TSX_TSCONFIG_PATH=bench/tsconfig.json node --import tsx --expose-gc bench/restart.bench.ts
 *                                 (alone: prints the tables and the JSON result; steadfast is
 *                                 imported from dist/, as the package ships)
 *
 * Env: BENCH_RESTARTS (restarts per measured run, default 1,000), BENCH_FAIL_EVERY (the stage
 * throws on one event in this many, default 100), BENCH_ROUNDS (default 5), BENCH_WARMUP (warm-up
 * runs of every variant, default 2).
 *
 * Method: the stage is `process(i)`: it reads performance.now() first thing and, if the
 * previous call threw, records now − the time of that throw; it throws on every event
 * i ≡ FAIL_EVERY/2 (mod FAIL_EVERY), reading performance.now() right before the throw (the Error is
 * made before that read). So a sample is the runtime's whole path from the throw to the stage's
 * code running again on the event after the failing one: error wrapping and reporting, the crash
 * of the stage actor, the supervisor's decision and backoff timer, the new actor's start and open,
 * and the next call. A run is one pipeline over `fromIterable` of RESTARTS × FAIL_EVERY numbers
 * (standard mode, log level silent); it checks that the stage saw every event once and that the
 * pipeline counted RESTARTS errors and, for `restart`, RESTARTS restarts. Rounds (bench/harness.ts)
 * alternate the two variants, each run after a full GC; a round's figure is the median of its
 * run's samples; the table shows the median of the round medians, and the comparisons the median
 * and p95 over every measured sample pooled. A third variant times Node's `setTimeout(fn, 0)`
 * alone (schedule → callback, one after the other) after the pipelines of each round, the floor of
 * any path that waits for a timer, since Node runs a 0 ms timer after at least 1 ms.
 *
 * Until the benches were split into one file per scenario, this file also held the supervisor
 * scale scenario, now bench/supervisor-scale.bench.ts.
 */
// The package as it ships (dist/, built by bench/run.ts first), not the TypeScript sources.
import { createPipeline, defineStage, fromIterable, type StageFailurePolicy } from 'steadfast';
import { finish, fmtInt, info, log, measure, median, noteGc, percentile, scenarioResult, type Variant } from './harness.js';
import type { Comparison, ScenarioResult } from './result.js';
import { keepPipelinesSilent, positiveInt, warmupPasses } from './settings.js';

const RESTARTS = positiveInt('BENCH_RESTARTS', 1_000);
const FAIL_EVERY = positiveInt('BENCH_FAIL_EVERY', 100);
const ROUNDS = positiveInt('BENCH_ROUNDS', 5);
const WARMUP = warmupPasses(2);
if (FAIL_EVERY < 2) throw new Error('BENCH_FAIL_EVERY must be at least 2 (the stage must process an event between two failures)');

noteGc();
keepPipelinesSilent(log);

const fmtUs = (ns: number) => (ns / 1e3).toFixed(ns < 1e4 ? 2 : 1);

/** What the probing stage records: when it last threw (-1: the last call did not throw), and the gaps. */
interface Probe {
  thrownAt: number;
  calls: number;
  /** ms from a throw to the stage's next call. */
  gaps: number[];
}

const MIDDLE = FAIL_EVERY >> 1;

function probeStage(policy: StageFailurePolicy, probe: Probe) {
  return defineStage<number, never>({
    name: 'probe',
    onFailure: policy,
    process: (i) => {
      const now = performance.now();
      if (probe.thrownAt >= 0) {
        probe.gaps.push(now - probe.thrownAt);
        probe.thrownAt = -1;
      }
      probe.calls++;
      if (i % FAIL_EVERY === MIDDLE) {
        const error = new Error(`planned failure at ${i}`);
        probe.thrownAt = performance.now();
        throw error;
      }
      return {};
    },
  });
}

const RESTART = 'restart (onFailure: restart, backoff 0)';
const TIMER = 'Node setTimeout(fn, 0) alone';
const RESUME = 'resume (onFailure: resume)';
const POLICIES: ReadonlyArray<{ name: string; policy: StageFailurePolicy }> = [
  { name: RESUME, policy: 'resume' },
  { name: RESTART, policy: 'restart' },
];

const inputs: number[] = [];
for (let i = 0; i < RESTARTS * FAIL_EVERY; i++) inputs.push(i);

/** RESTARTS `setTimeout(fn, 0)` one after the other; returns each one's delay from scheduling to callback, in ns. */
async function timerRun(): Promise<number[]> {
  const gaps: number[] = [];
  for (let i = 0; i < RESTARTS; i++) {
    const start = performance.now();
    gaps.push(await new Promise<number>((resolve) => setTimeout(() => resolve((performance.now() - start) * 1e6), 0)));
  }
  return gaps;
}

/** One pipeline run; returns the gaps from each throw to the next call, in ns. */
async function restartRun(policy: StageFailurePolicy): Promise<number[]> {
  const probe: Probe = { thrownAt: -1, calls: 0, gaps: [] };
  const pipeline = createPipeline({
    name: `bench-${policy}`,
    source: fromIterable(inputs),
    stages: [probeStage(policy, probe)],
    logLevel: 'silent',
    supervision: {
      backoff: { minMs: 0, maxMs: 0, factor: 1, jitter: 0, resetAfterMs: 60_000 },
      maxRestarts: 1_000_000,
      withinMs: 60_000,
    },
  });
  const stats = await pipeline.run();
  const restarts = stats.supervision.restarts;
  const expectedRestarts = policy === 'restart' ? RESTARTS : 0;
  if (probe.calls !== inputs.length || probe.gaps.length !== RESTARTS || stats.errors !== RESTARTS || restarts !== expectedRestarts) {
    throw new Error(
      `${policy}: ${probe.calls} calls for ${inputs.length} events, ${probe.gaps.length} gaps, ${stats.errors} errors and ${restarts} restarts (expected ${RESTARTS}, ${RESTARTS} and ${expectedRestarts})`,
    );
  }
  return probe.gaps.map((ms) => ms * 1e6);
}

/** One policy as the harness runs it: a run's sample is the median of its gaps; every gap is pooled too. */
function policyVariant(name: string, policy: StageFailurePolicy): Variant {
  return {
    name,
    warm: async () => ({ detail: fmtUs(median(await restartRun(policy))) }),
    run: async () => {
      const gaps = await restartRun(policy);
      pooled.get(name)?.push(...gaps);
      return { ns: median(gaps), detail: `median ${fmtUs(median(gaps))} p95 ${fmtUs(percentile(gaps, 95))}` };
    },
  };
}

const names = [...POLICIES.map((p) => p.name), TIMER];
const pooled = new Map<string, number[]>(names.map((name) => [name, []]));

async function restartScenario(): Promise<ScenarioResult> {
  log(`restart: ${fmtInt(RESTARTS)} failures per run (1 event in ${FAIL_EVERY} throws), ${WARMUP} warm-up runs, ${ROUNDS} rounds`);
  const timerMedians: number[] = [];
  // Each pipeline run after two full GCs; after the pipelines of a round, the timers alone.
  const samples = await measure(
    POLICIES.map(({ name, policy }) => policyVariant(name, policy)),
    {
      label: 'restart',
      rounds: ROUNDS,
      warmup: WARMUP,
      collect: 'gc-twice',
      unit: 'µs',
      afterRound: async () => {
        const timer = await timerRun();
        timerMedians.push(median(timer));
        pooled.get(TIMER)?.push(...timer);
        return `${TIMER} median ${fmtUs(median(timer))}`;
      },
    },
  );
  samples.set(TIMER, timerMedians);
  const all = (name: string) => pooled.get(name) ?? [];
  const comparisons: Comparison[] = [
    info(`${RESTART}: median µs over all ${fmtInt(all(RESTART).length)} measured restarts`, median(all(RESTART)) / 1e3),
    info(`${RESTART}: p95 µs`, percentile(all(RESTART), 95) / 1e3),
    info(`${RESUME}: median µs over all ${fmtInt(all(RESUME).length)} measured failures`, median(all(RESUME)) / 1e3),
    info(`${RESUME}: p95 µs`, percentile(all(RESUME), 95) / 1e3),
    info('restart median ÷ resume median (pooled)', median(all(RESTART)) / median(all(RESUME))),
    info(`${TIMER}: median µs`, median(all(TIMER)) / 1e3),
    info('restart median − setTimeout(fn, 0) median, µs (pooled): roughly the restart path beyond its one 0 ms timer', (median(all(RESTART)) - median(all(TIMER))) / 1e3),
  ];
  return scenarioResult({
    id: 'restart',
    title: 'Restart latency: from a stage crash to its next processed event',
    description: [
      `One stage \`process(i)\` over \`fromIterable\` of ${fmtInt(inputs.length)} numbers, throwing on one event in ${FAIL_EVERY}`,
      `(${fmtInt(RESTARTS)} failures per run), in a pipeline in standard mode with log level silent and`,
      '`supervision: { backoff: { minMs: 0, maxMs: 0, factor: 1, jitter: 0, resetAfterMs: 60_000 }, maxRestarts: 1_000_000, withinMs: 60_000 }`.',
      'A sample is the time, by `performance.now()` inside the stage, from right before the throw to the start of the stage\'s next call',
      '(the event after the failing one): with `onFailure: \'restart\'` that is the whole restart path (the failure is wrapped and reported, the stage actor',
      'crashes and closes, the supervisor counts the restart and arms its backoff timer, the new incarnation\'s actor starts, opens and takes the next batch);',
      'with `onFailure: \'resume\'`, the baseline, the same failure is reported and the stage goes on with its next batch, without a restart.',
      'Each run checks that the stage saw every event once and that the pipeline counted every failure (and, for restart, every restart).',
      `The third variant is no pipeline: ${fmtInt(RESTARTS)} \`setTimeout(fn, 0)\` one after the other, each timed from scheduling to its callback,`,
      'the floor of any path that waits for a timer, since Node runs a 0 ms timer after at least 1 ms.',
      `Method: ${WARMUP} warm-up runs of each pipeline variant, then ${ROUNDS} rounds running both, in alternating order, each after a full GC, then the timers;`,
      'ns/event is ns per restart (per failure for resume): the median of the rounds\' medians; the comparisons give the median and p95 over every measured sample.',
    ].join(' '),
    parameters: { restartsPerRun: RESTARTS, failEvery: FAIL_EVERY, events: inputs.length, rounds: ROUNDS, warmupRuns: WARMUP, mode: 'standard' },
    baseline: RESUME,
    samples,
    names,
    comparisons,
  });
}

finish('restart', [await restartScenario()]);
