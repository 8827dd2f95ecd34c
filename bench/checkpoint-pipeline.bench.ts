/**
 * Checkpoint overhead on the pipeline bench: the parse → enrich → aggregate chain of
 * bench/pipeline.bench.ts over N events with `checkpoint: { dir, everyEvents: 1000 }` against the
 * same pipeline without checkpoints, in throughput and standard mode, variants alternating.
 *
 *   npm run bench -- checkpoint-pipeline   (through the runner: builds dist/, writes docs/benchmarks.md)
 *   npm run build && TSX_TSCONFIG_PATH=bench/tsconfig.json node --import tsx --expose-gc bench/checkpoint-pipeline.bench.ts
 *
 * Env: BENCH_EVENTS (pipeline events, default 1,000,000), BENCH_ROUNDS (default 7), BENCH_WARMUP
 * (warm-up runs of each variant, default 2).
 *
 * Method (bench/harness.ts): warm-up runs, then rounds running every variant once in an order
 * rotated each round, each after a full GC and one untimed run of the same variant (steady heap);
 * medians.
 */
import { rmSync } from 'node:fs';
// The package as it ships (dist/, built by bench/run.ts first), not the TypeScript sources.
import { createPipeline, fromIterable, type PipelineMode } from 'steadfast';
import { aggregateStage, enrichStage, KEYS, parseStage, type RawEvent } from './chain.js';
import { byName, finish, log, measure, median, noteGc, scenarioResult, target, variantResults, type Variant } from './harness.js';
import { scratchDirs } from './scratch.js';
import { keepPipelinesSilent, positiveInt, warmupPasses } from './settings.js';

const N = positiveInt('BENCH_EVENTS', 1_000_000);
const ROUNDS = positiveInt('BENCH_ROUNDS', 7);
const WARMUP = warmupPasses(2);
const EVERY_EVENTS = 1_000;

keepPipelinesSilent(log);
noteGc();
const freshDir = scratchDirs();

const events: RawEvent[] = [];
for (let i = 0; i < N; i++) events.push({ id: i, key: i % KEYS, value: i });
const expectedSums = new Float64Array(KEYS);
for (const e of events) expectedSums[e.key] += e.value * 2;
/** Completed checkpoints of each run, by variant name; bytes per checkpoint of every run. */
const completedPerRun = new Map<string, number[]>();
const bytesPerCheckpoint: number[] = [];

const FINAL_ONLY = 'final only';
const NO_REPLAY = ', replayLimit 0';

/**
 * `every`: checkpoint every that many events, or only the final one (the store's fixed costs), or
 * none; `noReplay`: with `replayLimit: 0` (no per-edge replay buffer), to see what that buffer costs.
 */
function pipelineVariant(mode: PipelineMode, every: number | typeof FINAL_ONLY | undefined, noReplay = false): Variant {
  const checkpointed = every !== undefined;
  const name = `steadfast (${mode})${every === undefined ? '' : every === FINAL_ONLY ? ', checkpoint option, final checkpoint only' : `, checkpoint every ${every.toLocaleString('en-US')} events`}${noReplay ? NO_REPLAY : ''}`;
  const checkpoint = {
    ...(every === FINAL_ONLY ? { everyEvents: 0, everyMs: 0 } : { everyEvents: every ?? 0 }),
    ...(noReplay ? { replayLimit: 0 } : {}),
  };
  return {
    name,
    run: async () => {
      const dir = freshDir();
      const start = performance.now();
      const pipeline = createPipeline({
        name: 'bench',
        source: fromIterable(events),
        stages: [parseStage, enrichStage, aggregateStage],
        mode,
        logLevel: 'silent',
        ...(checkpointed ? { checkpoint: { dir, ...checkpoint } } : {}),
      });
      const failures: string[] = [];
      pipeline.observe((event) => {
        if (event.type === 'steadfast.checkpoint.failed') failures.push((event.error as Error).message);
      });
      const stats = await pipeline.run();
      const ms = performance.now() - start;
      const sums = pipeline.stageState<Float64Array>('aggregate');
      for (let k = 0; k < KEYS; k++) if (sums[k] !== expectedSums[k]) throw new Error(`${name}: sum of key ${k} is ${sums[k]}, expected ${expectedSums[k]}`);
      if (stats.errors !== 0 || stats.source.events !== N) throw new Error(`${name}: ${stats.errors} errors, ${stats.source.events} of ${N} events read`);
      if (checkpointed) {
        const c = stats.checkpoint;
        // A checkpoint whose snapshot a newer one replaced in the writer's queue is reported as failed
        // (the final one right after a periodic one): nothing failed, so those are let through.
        const real = failures.filter((message) => !/was replaced by version/.test(message));
        if (c === undefined || real.length > 0 || c.completed < 1) throw new Error(`${name}: checkpoints ${JSON.stringify(c)}: ${real.join('; ')}`);
        completedPerRun.set(name, [...(completedPerRun.get(name) ?? []), c.completed]);
        if (every !== FINAL_ONLY && c.lastBytes !== null) bytesPerCheckpoint.push(c.lastBytes);
      }
      rmSync(dir, { recursive: true, force: true });
      return (ms * 1e6) / N;
    },
  };
}

const base = 'steadfast (throughput)';
const variants = [
  pipelineVariant('throughput', undefined),
  pipelineVariant('throughput', EVERY_EVENTS),
  pipelineVariant('throughput', FINAL_ONLY),
  pipelineVariant('standard', undefined),
  pipelineVariant('standard', EVERY_EVENTS),
  pipelineVariant('standard', EVERY_EVENTS, true),
];
log(`checkpoint-pipeline: ${N.toLocaleString('en-US')} events, ${variants.length} variants`);
const samples = await measure(variants, { label: 'pipeline', rounds: ROUNDS, warmup: WARMUP, settle: true, unit: 'ns/event' });
const results = variantResults(samples, base);
const every = `checkpoint every ${EVERY_EVENTS.toLocaleString('en-US')} events`;
const ratio = (mode: PipelineMode) => byName(results, `steadfast (${mode})`).nsPerEvent / byName(results, `steadfast (${mode}), ${every}`).nsPerEvent;
const completedOf = (mode: PipelineMode) => median(completedPerRun.get(`steadfast (${mode}), ${every}`) ?? []);
const completed = completedOf('throughput');
const completedStandard = completedOf('standard');

finish('checkpoint-pipeline', [
  scenarioResult({
    id: 'checkpoint-pipeline',
    title: 'Checkpoint overhead on the pipeline bench',
    description: [
      `${N.toLocaleString('en-US')} events through the chain of bench/pipeline.bench.ts (parse → enrich → aggregate into a \`Float64Array(100)\` updated in place), \`logLevel: 'silent'\`,`,
      `with \`checkpoint: { dir, everyEvents: ${EVERY_EVENTS} }\` (LevelDB in a fresh temp directory per run; defaults otherwise: everyMs 5,000, keep 3, sync 'checkpoint', json codec) and without, in throughput and standard mode;`,
      'and, in throughput mode, with `checkpoint: { dir, everyEvents: 0, everyMs: 0 }`, which takes only the final checkpoint: the fixed cost of a checkpointed run (store open, empty restore search, one checkpoint, close), so that the difference to the row above is the cost of the periodic checkpoints themselves;',
      'and, in standard mode, with `replayLimit: 0` as well (diagnostic: no per-edge buffer of the events since the last snapshot, which a stage restarted in-process replays; with it, each edge may hold up to 100,000 events between two checkpoints).',
      'A run is timed from `createPipeline()` to `run()` resolving, so the checkpointed runs include opening the store, the restore search (empty), the final checkpoint and closing the store; the final sums are checked, and every checkpointed run must complete a checkpoint and report no failed one other than a periodic checkpoint that the final one replaced in the writer\'s queue (reported as failed although no write failed; a known misreport).',
      `Only one checkpoint is in flight at a time, so \`everyEvents\` is the least spacing: the checkpointed runs completed a median of ${completed} checkpoints per run in throughput mode and ${completedStandard} in standard mode (the final one included), not ${Math.floor(N / EVERY_EVENTS).toLocaleString('en-US')}; each checkpoint stored ${bytesPerCheckpoint.length > 0 ? `${Math.round(median(bytesPerCheckpoint)).toLocaleString('en-US')} bytes` : 'an unknown number of bytes'} (two stateless stages and the aggregate's 100 sums as JSON).`,
      `Method: ${WARMUP} warm-up runs of each variant, then ${ROUNDS} rounds running every variant once, the order rotated each round; before each timed run a full GC and one untimed run of the same variant (steady heap, as in bench/pipeline.bench.ts); medians; ratio = ns/event ÷ steadfast (throughput) without checkpoints.`,
    ].join(' '),
    parameters: { events: N, everyEvents: EVERY_EVENTS, rounds: ROUNDS, warmupRuns: WARMUP, checkpointsPerRunThroughput: completed, checkpointsPerRunStandard: completedStandard },
    baseline: base,
    samples,
    comparisons: [
      target('throughput mode: events/s with checkpoints ÷ without (≥ 0.99 ⇔ overhead ≤ 1 %)', ratio('throughput'), 0.99),
      target('standard mode: events/s with checkpoints ÷ without (≥ 0.99 ⇔ overhead ≤ 1 %)', ratio('standard'), 0.99),
      {
        label: 'throughput mode: events/s with the final checkpoint only ÷ without (the fixed cost)',
        value: byName(results, base).nsPerEvent / byName(results, `${base}, checkpoint option, final checkpoint only`).nsPerEvent,
      },
      {
        label: `throughput mode: events/s with a checkpoint every ${EVERY_EVENTS.toLocaleString('en-US')} events ÷ final checkpoint only (the periodic cost)`,
        value: byName(results, `${base}, checkpoint option, final checkpoint only`).nsPerEvent / byName(results, `${base}, ${every}`).nsPerEvent,
      },
    ],
  }),
]);
