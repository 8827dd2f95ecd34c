/**
 * Pipeline throughput: N events `{ id, key: i % 100, value: i }` through
 * parse (literal copy + `ts`) → enrich (literal copy + `score = value * 2`) → aggregate (sum of
 * `score` per key), with steadfast and with its peers, in one process.
 *
 *   npm run bench -- pipeline     (through the runner: builds dist/, writes docs/benchmarks.md)
 *   npm run build && TSX_TSCONFIG_PATH=bench/tsconfig.json node --import tsx --expose-gc bench/pipeline.bench.ts
 *                                 (alone: prints the table and the JSON result; steadfast is
 *                                 imported from dist/, as the package ships)
 *
 * Env: BENCH_EVENTS (default 1,000,000), BENCH_ROUNDS (default 5), BENCH_WARMUP (warm-up passes,
 * default 2), BENCH_WARMUP_MS (least time each variant runs in a warm-up pass, default 1000),
 * BENCH_VARIANTS (run only the variants whose names contain one of these comma-separated parts).
 *
 * Method: the input array is built once and shared (read-only) by every variant; BENCH_WARMUP
 * warm-up passes run every variant repeatedly (see WARMUP below), then BENCH_ROUNDS rounds run
 * every variant once, the order rotated by one each round. A run is timed with performance.now()
 * from creating the variant's objects (pipeline, actors, streams) to its final sums being ready.
 * Then, with --expose-gc, the rounds are repeated with a full GC before each run (a second
 * scenario; see `measure`). Every run's per-key sums are checked against the plain loop's; a
 * mismatch fails the bench.
 */
import { Readable, Transform, Writable, type TransformCallback } from 'node:stream';
import { pipeline as streamPipeline } from 'node:stream/promises';
import { from, lastValueFrom, map, scan } from 'rxjs';
import { createActor, setup } from 'xstate';
// The package as it ships (dist/, built by bench/run.ts first), not the TypeScript sources.
import { createPipeline, fromIterable, type PipelineMode } from 'steadfast';
import { aggregateStage, enrichStage, KEYS, parseStage, TS, type EnrichedEvent, type ParsedEvent, type RawEvent } from './chain.js';
import { keepPipelinesSilent, positiveInt } from './settings.js';
import { RESULT_FORMAT, printResult, type Comparison, type VariantResult } from './result.js';

// The workload.

// Explicit object literals, not `{ ...e, ts }`: on this Node a spread-then-add makes a new hidden
// class per call, and the bench would measure V8 instead of the pipelines.
function parse(e: RawEvent): ParsedEvent {
  return { id: e.id, key: e.key, value: e.value, ts: TS };
}

function enrich(e: ParsedEvent): EnrichedEvent {
  return { id: e.id, key: e.key, value: e.value, ts: e.ts, score: e.value * 2 };
}

function aggregate(sums: Float64Array, e: EnrichedEvent): void {
  sums[e.key] += e.score;
}

// Variants. Each returns the per-key sums it computed.

type Variant = { name: string; run: (events: readonly RawEvent[]) => Promise<Float64Array> | Float64Array };

function plainLoop(events: readonly RawEvent[]): Float64Array {
  const sums = new Float64Array(KEYS);
  for (let i = 0; i < events.length; i++) aggregate(sums, enrich(parse(events[i] as RawEvent)));
  return sums;
}

async function nodeStreams(events: readonly RawEvent[]): Promise<Float64Array> {
  const sums = new Float64Array(KEYS);
  await streamPipeline(
    Readable.from(events),
    new Transform({
      objectMode: true,
      transform(e: RawEvent, _encoding: BufferEncoding, callback: TransformCallback) {
        callback(null, parse(e));
      },
    }),
    new Transform({
      objectMode: true,
      transform(e: ParsedEvent, _encoding: BufferEncoding, callback: TransformCallback) {
        callback(null, enrich(e));
      },
    }),
    new Writable({
      objectMode: true,
      write(e: EnrichedEvent, _encoding: BufferEncoding, callback: (error?: Error | null) => void) {
        aggregate(sums, e);
        callback();
      },
    }),
  );
  return sums;
}

function rxjs(events: readonly RawEvent[]): Promise<Float64Array> {
  return lastValueFrom(
    from(events).pipe(
      map(parse),
      map(enrich),
      scan((sums, e) => {
        aggregate(sums, e);
        return sums;
      }, new Float64Array(KEYS)),
    ),
  );
}

/** Three bare XState actors; each stage forwards its output to the next with one `send` per event. */
function xstatePerEvent(events: readonly RawEvent[]): Float64Array {
  const sums = new Float64Array(KEYS);
  const aggregator = createActor(
    setup({ types: { events: {} as { type: 'event'; event: EnrichedEvent } } }).createMachine({
      on: { event: { actions: ({ event }) => aggregate(sums, event.event) } },
    }),
  ).start();
  const enricher = createActor(
    setup({ types: { events: {} as { type: 'event'; event: ParsedEvent } } }).createMachine({
      on: { event: { actions: ({ event }) => aggregator.send({ type: 'event', event: enrich(event.event) }) } },
    }),
  ).start();
  const parser = createActor(
    setup({ types: { events: {} as { type: 'event'; event: RawEvent } } }).createMachine({
      on: { event: { actions: ({ event }) => enricher.send({ type: 'event', event: parse(event.event) }) } },
    }),
  ).start();
  for (let i = 0; i < events.length; i++) parser.send({ type: 'event', event: events[i] as RawEvent });
  parser.stop();
  enricher.stop();
  aggregator.stop();
  return sums;
}

const XSTATE_BATCH = 256;

/** The same three bare actors, each `send` carrying a batch of 256 events. */
function xstateBatched(events: readonly RawEvent[]): Float64Array {
  const sums = new Float64Array(KEYS);
  const aggregator = createActor(
    setup({ types: { events: {} as { type: 'batch'; events: EnrichedEvent[] } } }).createMachine({
      on: {
        batch: {
          actions: ({ event }) => {
            const batch = event.events;
            for (let i = 0; i < batch.length; i++) aggregate(sums, batch[i] as EnrichedEvent);
          },
        },
      },
    }),
  ).start();
  const enricher = createActor(
    setup({ types: { events: {} as { type: 'batch'; events: ParsedEvent[] } } }).createMachine({
      on: {
        batch: {
          actions: ({ event }) => {
            const batch = event.events;
            const out = new Array<EnrichedEvent>(batch.length);
            for (let i = 0; i < batch.length; i++) out[i] = enrich(batch[i] as ParsedEvent);
            aggregator.send({ type: 'batch', events: out });
          },
        },
      },
    }),
  ).start();
  const parser = createActor(
    setup({ types: { events: {} as { type: 'batch'; events: RawEvent[] } } }).createMachine({
      on: {
        batch: {
          actions: ({ event }) => {
            const batch = event.events;
            const out = new Array<ParsedEvent>(batch.length);
            for (let i = 0; i < batch.length; i++) out[i] = parse(batch[i] as RawEvent);
            enricher.send({ type: 'batch', events: out });
          },
        },
      },
    }),
  ).start();
  for (let i = 0; i < events.length; i += XSTATE_BATCH) parser.send({ type: 'batch', events: events.slice(i, i + XSTATE_BATCH) });
  parser.stop();
  enricher.stop();
  aggregator.stop();
  return sums;
}

// steadfast's stages (bench/chain.ts) hold the same literal copies inline rather than calls to
// parse/enrich/aggregate above. Calling the functions the plain loop also runs made steadfast ~25%
// slower in this process (about 350 vs 275 ns/event, reproducible, in a two-variant test), while
// RxJS and Node streams were unaffected by the same sharing: an artefact of V8 feedback on code
// shared with the baseline's loop, not a cost a real program would pay.
function steadfast(mode: PipelineMode): Variant['run'] {
  return async (events) => {
    const pipeline = createPipeline({
      name: `bench-${mode}`,
      source: fromIterable(events),
      stages: [parseStage, enrichStage, aggregateStage],
      mode,
      logLevel: 'silent',
    });
    const stats = await pipeline.run();
    if (stats.errors !== 0 || stats.source.events !== events.length) {
      throw new Error(`steadfast (${mode}): ${stats.errors} errors, ${stats.source.events} of ${events.length} events read`);
    }
    const sums = pipeline.stageState('aggregate');
    if (!(sums instanceof Float64Array)) throw new Error(`steadfast (${mode}): stageState('aggregate') is not a Float64Array`);
    return sums;
  };
}

const BASELINE = 'plain loop';
const STREAMS = 'Node stream.pipeline';
const RXJS = 'RxJS map/scan';
const STEADFAST = 'steadfast (throughput)';

const ALL_VARIANTS: readonly Variant[] = [
  { name: BASELINE, run: plainLoop },
  { name: STREAMS, run: nodeStreams },
  { name: RXJS, run: rxjs },
  { name: 'XState, send per event', run: xstatePerEvent },
  { name: `XState, send per ${XSTATE_BATCH} events`, run: xstateBatched },
  { name: STEADFAST, run: steadfast('throughput') },
  { name: 'steadfast (standard)', run: steadfast('standard') },
];

// Measurement.

const N = positiveInt('BENCH_EVENTS', 1_000_000);
const ROUNDS = positiveInt('BENCH_ROUNDS', 5);
/**
 * Warm-up: BENCH_WARMUP passes over all variants; in each pass a variant runs again and again until
 * it has run for BENCH_WARMUP_MS (at least once). A single run is not enough, for two reasons seen
 * with --trace-opt/--trace-deopt on the plain loop: a function that is called once per run and
 * loops 1M times first gets on-stack-replacement code, several times slower than the code V8
 * compiles after a few more calls (RxJS's array loop is in the same case); and a later variant's
 * first run (steadfast's runtime, pino, XState) generalises field representations that earlier
 * variants' optimised code depends on and deoptimises it ("code dependencies"), hence a second pass.
 */
const WARMUP = positiveInt('BENCH_WARMUP', 2);
const WARMUP_MS = positiveInt('BENCH_WARMUP_MS', 1000);
const gc = (globalThis as { gc?: () => void }).gc;
/**
 * BENCH_VARIANTS: comma-separated, case-insensitive parts of variant names to run (the plain loop
 * always runs: it is the baseline and the reference sums). For investigating one variant; the
 * published figures run them all, since variants sharing a process affect each other (JIT feedback).
 */
const FILTER = (process.env.BENCH_VARIANTS ?? '')
  .split(',')
  .map((part) => part.trim().toLowerCase())
  .filter((part) => part !== '');
const VARIANTS = ALL_VARIANTS.filter(
  (v) => v.name === BASELINE || FILTER.length === 0 || FILTER.some((part) => v.name.toLowerCase().includes(part)),
);

keepPipelinesSilent((line) => process.stderr.write(`${line}\n`));
if (gc === undefined) process.stderr.write('note: run node with --expose-gc to collect garbage between timed runs\n');

// Built with push so that the array is packed (`new Array(n)` would stay holey).
const events: RawEvent[] = [];
for (let i = 0; i < N; i++) events.push({ id: i, key: i % KEYS, value: i });
const expected = plainLoop(events);

function check(variant: string, sums: Float64Array): void {
  if (sums.length !== KEYS) throw new Error(`${variant}: ${sums.length} sums, expected ${KEYS}`);
  for (let k = 0; k < KEYS; k++) {
    if (sums[k] !== expected[k]) throw new Error(`${variant}: sum of key ${k} is ${sums[k]}, the plain loop's is ${expected[k]}`);
  }
}

/**
 * One timed run. 'steady': the previous variant's garbage is collected and one untimed run of this
 * variant lets the heap settle to its size for it (as in a long-running process), so no variant
 * pays for another's garbage. 'after-gc': a full GC right before the timed run. 'plain': neither
 * (warm-up).
 */
async function timed(variant: Variant, mode: 'steady' | 'after-gc' | 'plain'): Promise<number> {
  if (mode !== 'plain' && gc !== undefined) {
    gc();
    if (mode === 'steady') check(variant.name, await variant.run(events));
  }
  const start = performance.now();
  const sums = await variant.run(events);
  const ms = performance.now() - start;
  check(variant.name, sums);
  return (ms * 1e6) / N;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const fmtNs = (ns: number) => (ns < 10 ? ns.toFixed(2) : ns < 100 ? ns.toFixed(1) : ns.toFixed(0));
const log = (line: string) => process.stderr.write(`${line}\n`);

log(`pipeline bench: ${N.toLocaleString('en-US')} events, ${WARMUP} warm-up passes, ${ROUNDS} rounds, ${VARIANTS.length} variants`);
for (let pass = 1; pass <= WARMUP; pass++) {
  const parts: string[] = [];
  for (const variant of VARIANTS) {
    const start = performance.now();
    let runs = 0;
    let ns: number;
    do {
      ns = await timed(variant, 'plain');
      runs++;
    } while (performance.now() - start < WARMUP_MS);
    parts.push(`${variant.name} ${fmtNs(ns)} (${runs}×)`);
  }
  log(`  warm-up ${pass}/${WARMUP}, last run (ns/event): ${parts.join(' · ')}`);
}

/**
 * Two measurements. Steady heap: runs follow each other as in a long-running process, whose young
 * generation has grown to fit its live data. After a full GC: a forced full collection before each
 * run, which also shrinks the young generation; a runtime that keeps batches in flight then pays
 * for many small scavenges at the start of each run, so steadfast is shown both ways.
 */
async function measure(collectFirst: boolean, variants: readonly Variant[]): Promise<Map<string, number[]>> {
  const samples = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const parts: string[] = [];
    for (let j = 0; j < variants.length; j++) {
      const variant = variants[(j + round) % variants.length] as Variant;
      const ns = await timed(variant, collectFirst ? 'after-gc' : 'steady');
      samples.get(variant.name)?.push(ns);
      parts.push(`${variant.name} ${fmtNs(ns)}`);
    }
    log(`  ${collectFirst ? 'after-GC ' : ''}round ${round + 1}/${ROUNDS} (ns/event): ${parts.join(' · ')}`);
  }
  return samples;
}

const eventsPerSecondOf = (medians: Map<string, number>, name: string) => 1e9 / (medians.get(name) as number);
const target = (label: string, value: number, atLeast: number): Comparison => ({ label, value, atLeast, met: value >= atLeast });

function summarise(samples: Map<string, number[]>): { variants: VariantResult[]; comparisons: Comparison[] } {
  const names = [...samples.keys()];
  const medians = new Map(names.map((name) => [name, median(samples.get(name) ?? [])]));
  const baselineNs = medians.get(BASELINE) as number;
  const variants: VariantResult[] = names.map((name) => {
    const ns = medians.get(name) as number;
    return { name, nsPerEvent: ns, eventsPerSecond: 1e9 / ns, ratio: ns / baselineNs, samplesNsPerEvent: samples.get(name) ?? [] };
  });
  const comparisons: Comparison[] = [];
  if (medians.has(STEADFAST) && medians.has(STREAMS)) {
    comparisons.push(target(`${STEADFAST} events/s ÷ ${STREAMS} events/s`, eventsPerSecondOf(medians, STEADFAST) / eventsPerSecondOf(medians, STREAMS), 2));
  }
  if (medians.has(STEADFAST) && medians.has(RXJS)) {
    comparisons.push(target(`${STEADFAST} events/s ÷ ${RXJS} events/s`, eventsPerSecondOf(medians, STEADFAST) / eventsPerSecondOf(medians, RXJS), 0.5));
  }
  return { variants, comparisons };
}

const steady = summarise(await measure(false, VARIANTS));
// The per-event XState variant takes seconds per run and is far off either way: left out here.
const AFTER_GC_VARIANTS = VARIANTS.filter((v) => !v.name.includes('send per event'));
const afterGc = gc === undefined ? undefined : summarise(await measure(true, AFTER_GC_VARIANTS));
const { variants, comparisons } = steady;

// Human-readable summary (the runner prints its own tables from the JSON line instead).
const width = Math.max(...variants.map((v) => v.name.length));
console.log(`\n${'variant'.padEnd(width)}  ${'ns/event'.padStart(9)}  ${'events/s'.padStart(12)}  ratio to ${BASELINE}`);
for (const v of variants) {
  console.log(
    `${v.name.padEnd(width)}  ${fmtNs(v.nsPerEvent).padStart(9)}  ${Math.round(v.eventsPerSecond).toLocaleString('en-US').padStart(12)}  ${v.ratio.toFixed(2)}×`,
  );
}
for (const c of comparisons) console.log(`${c.label}: ${c.value.toFixed(2)} (target ≥ ${c.atLeast}: ${c.met === true ? 'met' : 'NOT met'})`);

printResult({
  format: RESULT_FORMAT,
  bench: 'pipeline',
  scenarios: [
    {
      id: 'pipeline',
      title: 'Pipeline throughput: parse → enrich → aggregate',
      description: [
        `${N.toLocaleString('en-US')} events \`{ id: i, key: i % 100, value: i }\` through parse (explicit object-literal copy, adds \`ts\`) →`,
        'enrich (literal copy, `score = value * 2`) → aggregate (sum of `score` per key into a `Float64Array(100)`), in one process.',
        'Every variant runs the same three functions (steadfast\'s stages hold the same literal copies inline, as the issue specifies: calling the very functions the baseline loop also runs slowed steadfast by ~25% through shared V8 feedback, an artefact that RxJS and Node streams do not show)',
        'and its final per-key sums are checked against the plain loop\'s.',
        'Variants: a plain synchronous loop (the baseline); Node `stream.pipeline` with objectMode Transforms (default highWaterMark) into a Writable;',
        `RxJS \`from\` → \`map\` → \`map\` → \`scan\`; three bare XState v5 actors forwarding with one \`actor.send\` per event, and the same forwarding batches of ${XSTATE_BATCH};`,
        'steadfast `createPipeline({ source: fromIterable(events), stages: [parse, enrich, aggregate], logLevel: \'silent\' })` awaited with `run()`, in `throughput` and `standard` mode.',
        'Method: the input array is built once; two warm-up passes run every variant repeatedly for at least 1 s each',
        '(V8 replaces the on-stack-replacement code of a loop run once per call only after a few calls, and a later variant\'s first run deoptimises earlier ones\' code),',
        'then measured rounds run every variant once, in an order rotated each round;',
        'a run is timed with `performance.now()` from creating the pipeline/actors/streams to the final sums; before it, a full GC clears the previous variant\'s garbage and one untimed run of the same variant lets the heap settle to its size for it, as in a long-running process (the next section shows runs right after a full GC).',
        'Figures are medians over the rounds; ratio = variant ns/event ÷ plain-loop ns/event (lower is faster).',
        'The plain loop is a floor, not an allocating equivalent: V8 inlines the three functions there and escape analysis removes both intermediate objects',
        '(running it with `--no-turbo-escape` roughly triples its ns/event).',
      ].join(' '),
      parameters: {
        events: N,
        rounds: ROUNDS,
        warmupPasses: WARMUP,
        warmupMsPerVariant: WARMUP_MS,
        forcedGc: false,
        ...(FILTER.length > 0 ? { variants: FILTER.join(',') } : {}),
      },
      baseline: BASELINE,
      variants,
      comparisons,
    },
    ...(afterGc === undefined
      ? []
      : [
          {
            id: 'pipeline-after-gc',
            title: 'Pipeline throughput, with a full GC before each run',
            description: [
              'The same runs as above, each preceded by a forced full garbage collection (`--expose-gc`), which also shrinks V8\'s young generation.',
              'A run then starts with a small young generation: every scavenge copies the events in flight, and a pipeline that batches keeps thousands in flight',
              '(steadfast throughput mode: up to 4096 per call), while a push-through pipeline (RxJS, streams) holds a handful.',
              'So this is the cost for a short job in a fresh or just-collected heap; the section above is the steady state of a long-running process.',
            ].join(' '),
            parameters: { events: N, rounds: ROUNDS, forcedGc: true, ...(FILTER.length > 0 ? { variants: FILTER.join(',') } : {}) },
            baseline: BASELINE,
            variants: afterGc.variants,
            comparisons: afterGc.comparisons,
          },
        ]),
  ],
});
