/**
 * Supervision costs, two scenarios:
 *
 * - `restart`: restart latency of a crashed stage, the time from a stage's throw to the next event
 *   that stage processes (its next incarnation's first call), with backoff 0; against the same
 *   pipeline with `onFailure: 'resume'` (the next event after the throw, without a restart).
 * - `supervisor-scale`: `startChild` and `stop()` of 1,000, 10,000 and 100,000 dynamic children of
 *   one `simple_one_for_one` supervisor, in time and heap per idle child; against XState's own
 *   `spawnChild` / `stopChild` for 1,000 and 10,000 children (100,000 is left out: XState copies
 *   its children on every spawn and stop, so it would take tens of minutes).
 *
 *   npm run bench -- restart      (through the runner: builds dist/, writes docs/benchmarks.md)
 *   npm run build && TSX_TSCONFIG_PATH=bench/tsconfig.json node --import tsx --expose-gc bench/restart.bench.ts
 *                                 (alone: prints the tables and the JSON result; steadfast is
 *                                 imported from dist/, as the package ships)
 *
 * Env: BENCH_RESTARTS (restarts per measured run, default 1,000), BENCH_FAIL_EVERY (the stage
 * throws on one event in this many, default 100), BENCH_ROUNDS (default 5), BENCH_WARMUP (warm-up
 * runs of every variant, default 2), BENCH_CHILDREN (comma-separated supervisor sizes, default
 * 1000,10000,100000), BENCH_XSTATE_MAX (largest size run with XState, default 10000),
 * BENCH_XSTATE_ROUNDS (rounds that run XState, default 3: its 10,000-children run takes ~30 s).
 *
 * Method (restart): the stage is `process(i)`: it reads performance.now() first thing and, if the
 * previous call threw, records now − the time of that throw; it throws on every event
 * i ≡ FAIL_EVERY/2 (mod FAIL_EVERY), reading performance.now() right before the throw (the Error is
 * made before that read). So a sample is the runtime's whole path from the throw to the stage's
 * code running again on the event after the failing one: error wrapping and reporting, the crash
 * of the stage actor, the supervisor's decision and backoff timer, the new actor's start and open,
 * and the next call. A run is one pipeline over `fromIterable` of RESTARTS × FAIL_EVERY numbers
 * (standard mode, log level silent); it checks that the stage saw every event once and that the
 * pipeline counted RESTARTS errors and, for `restart`, RESTARTS restarts. Rounds alternate the two
 * variants; a round's figure is the median of its run's samples; the table shows the median of the
 * round medians, and the comparisons the median and p95 over every measured sample pooled. A third
 * variant times Node's `setTimeout(fn, 0)` alone (schedule → callback, one after the other), the
 * floor of any path that waits for a timer, since Node runs a 0 ms timer after at least 1 ms.
 *
 * Method (supervisor-scale): for each size n a fresh supervisor is started, then timed:
 * `await sup.startChild(i)` n times, then `await sup.stop()`; before it, a full GC and one untimed
 * run of the same size (steady heap, see `steadfastScale`). With --expose-gc, a separate untimed
 * run gives the heap per idle child: heapUsed after a full GC before the n starts and after them.
 * XState: a parent actor (`setup({ actors: { child } })`, child = an empty machine) gets one
 * `{ type: 'spawn' }` event per child (a `spawnChild` action with the id from the event), then one
 * `{ type: 'stop' }` event per child (`stopChild`), timed; a full GC before the spawns and another
 * between the two phases give its heap per child. Every size of every variant runs once per round
 * (XState in the first BENCH_XSTATE_ROUNDS rounds only); the figures are medians over the rounds.
 */
import { pino } from 'pino';
import { createActor, createMachine, setup, spawnChild, stopChild } from 'xstate';
// The package as it ships (dist/, built by bench/run.ts first), not the TypeScript sources.
// createSupervisor is exported from the package root (src/index.ts), so no deep import into dist/ is needed.
import { createPipeline, createSupervisor, defineStage, fromIterable, type StageFailurePolicy } from 'steadfast';
import { keepPipelinesSilent, positiveInt, positiveInts } from './settings.js';
import { RESULT_FORMAT, printResult, type Comparison, type ScenarioResult, type VariantResult } from './result.js';

// Settings.

const RESTARTS = positiveInt('BENCH_RESTARTS', 1_000);
const FAIL_EVERY = positiveInt('BENCH_FAIL_EVERY', 100);
const ROUNDS = positiveInt('BENCH_ROUNDS', 5);
const WARMUP = positiveInt('BENCH_WARMUP', 2);
const SIZES = positiveInts('BENCH_CHILDREN', [1_000, 10_000, 100_000]);
const XSTATE_MAX = positiveInt('BENCH_XSTATE_MAX', 10_000);
/** XState at 10,000 children takes about 30 s a run (spawn + stop): it runs in the first rounds only. */
const XSTATE_ROUNDS = Math.min(ROUNDS, positiveInt('BENCH_XSTATE_ROUNDS', 3));
const XSTATE_SIZES = SIZES.filter((n) => n <= XSTATE_MAX);
if (FAIL_EVERY < 2) throw new Error('BENCH_FAIL_EVERY must be at least 2 (the stage must process an event between two failures)');

const gc = (globalThis as { gc?: () => void }).gc;
const log = (line: string) => process.stderr.write(`${line}\n`);
if (gc === undefined) log('note: run node with --expose-gc to measure the heap per child and collect garbage between runs');
keepPipelinesSilent(log);

// Statistics.

function sorted(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

function median(values: readonly number[]): number {
  const s = sorted(values);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Nearest-rank percentile (p in (0, 100]). */
function percentile(values: readonly number[], p: number): number {
  const s = sorted(values);
  return s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)] as number;
}

function collect(): void {
  if (gc === undefined) return;
  gc();
  gc();
}

const fmtNs = (ns: number) => (ns < 10 ? ns.toFixed(2) : ns < 100 ? ns.toFixed(1) : ns.toFixed(0));
const fmtUs = (ns: number) => (ns / 1e3).toFixed(ns < 1e4 ? 2 : 1);
const fmtInt = (n: number) => n.toLocaleString('en-US');
const info = (label: string, value: number): Comparison => ({ label, value });
/** A target `value >= atLeast`; an upper bound is given as bound ÷ actual with atLeast 1. */
const target = (label: string, value: number, atLeast: number): Comparison => ({ label, value, atLeast, met: value >= atLeast });

function variant(name: string, samples: readonly number[], baselineNs: number): VariantResult {
  const ns = median(samples);
  return { name, nsPerEvent: ns, eventsPerSecond: 1e9 / ns, ratio: ns / baselineNs, samplesNsPerEvent: [...samples] };
}

// Scenario 1: restart latency.

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

async function restartScenario(): Promise<ScenarioResult> {
  log(`restart: ${fmtInt(RESTARTS)} failures per run (1 event in ${FAIL_EVERY} throws), ${WARMUP} warm-up runs, ${ROUNDS} rounds`);
  for (let pass = 1; pass <= WARMUP; pass++) {
    const parts: string[] = [];
    for (const { name, policy } of POLICIES) parts.push(`${name} ${fmtUs(median(await restartRun(policy)))}`);
    log(`  warm-up ${pass}/${WARMUP}, median µs: ${parts.join(' · ')}`);
  }
  const names = [...POLICIES.map((p) => p.name), TIMER];
  const roundMedians = new Map<string, number[]>(names.map((name) => [name, []]));
  const pooled = new Map<string, number[]>(names.map((name) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const parts: string[] = [];
    for (let j = 0; j < POLICIES.length; j++) {
      const { name, policy } = POLICIES[(j + round) % POLICIES.length] as (typeof POLICIES)[number];
      collect();
      const gaps = await restartRun(policy);
      roundMedians.get(name)?.push(median(gaps));
      pooled.get(name)?.push(...gaps);
      parts.push(`${name} median ${fmtUs(median(gaps))} p95 ${fmtUs(percentile(gaps, 95))}`);
    }
    const timer = await timerRun();
    roundMedians.get(TIMER)?.push(median(timer));
    pooled.get(TIMER)?.push(...timer);
    parts.push(`${TIMER} median ${fmtUs(median(timer))}`);
    log(`  round ${round + 1}/${ROUNDS}, µs: ${parts.join(' · ')}`);
  }
  const resumeNs = median(roundMedians.get(RESUME) ?? []);
  const variants = names.map((name) => variant(name, roundMedians.get(name) ?? [], resumeNs));
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
  return {
    id: 'restart',
    title: 'Restart latency: from a stage crash to its next processed event',
    description: [
      `One stage \`process(i)\` over \`fromIterable\` of ${fmtInt(inputs.length)} numbers, throwing on one event in ${FAIL_EVERY}`,
      `(${fmtInt(RESTARTS)} failures per run), in a pipeline in standard mode with log level silent and`,
      '`supervision: { backoff: { minMs: 0, maxMs: 0, factor: 1, jitter: 0, resetAfterMs: 60_000 }, maxRestarts: 1_000_000, withinMs: 60_000 }`.',
      'A sample is the time, by `performance.now()` inside the stage, from right before the throw to the start of the stage\'s next call',
      '(the event after the failing one): with `onFailure: \'restart\'` (the default) that is the whole restart path (the failure is wrapped and reported, the stage actor',
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
    variants,
    comparisons,
  };
}

// Scenario 2: supervisor scale.

interface ScaleSample {
  startNs: number;
  stopNs: number;
  /** Heap growth per idle child (NaN without --expose-gc). */
  bytesPerChild: number;
  /** heapUsed with the n children idle, after a full GC (NaN without --expose-gc). */
  heapWithChildren: number;
}

const silent = pino({ level: 'silent' });
const heapUsed = () => (gc === undefined ? Number.NaN : process.memoryUsage().heapUsed);

function scaleSupervisor() {
  return createSupervisor({
    name: 'scale',
    strategy: 'simple_one_for_one',
    child: { id: 'w', start: () => ({ stop() {}, kill() {} }) },
    logger: silent,
  });
}

/** Timed: n startChild, then stop(); no forced GC inside (see `steadfastScale`). */
async function steadfastTimed(n: number): Promise<{ startNs: number; stopNs: number }> {
  const sup = scaleSupervisor();
  await sup.start();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await sup.startChild(i);
  const t1 = performance.now();
  const stats = sup.stats();
  if (stats.children !== n || stats.running !== n) throw new Error(`steadfast: ${stats.children} children, ${stats.running} running, expected ${n}`);
  const t2 = performance.now();
  await sup.stop();
  const t3 = performance.now();
  if (sup.status !== 'stopped') throw new Error(`steadfast: supervisor is ${sup.status} after stop()`);
  return { startNs: ((t1 - t0) * 1e6) / n, stopNs: ((t3 - t2) * 1e6) / n };
}

/** Untimed: heapUsed after a full GC before the n starts and with the n children idle. */
async function steadfastHeap(n: number): Promise<{ bytesPerChild: number; heapWithChildren: number }> {
  const sup = scaleSupervisor();
  await sup.start();
  collect();
  const before = heapUsed();
  for (let i = 0; i < n; i++) await sup.startChild(i);
  collect();
  const after = heapUsed();
  await sup.stop();
  return { bytesPerChild: (after - before) / n, heapWithChildren: after };
}

/**
 * One size, steadfast. The forced GC that a heap figure needs also shrinks V8's young generation,
 * and a run right after it pays for many small scavenges (see the pipeline bench): at 1,000
 * children, whose run lasts a few ms, that alone made the run up to 3 times slower and moved the
 * 10k/1k time ratio from ~5-6 to 7-12.4 in trial runs.
 * So, as the pipeline bench's steady state: a full GC, one untimed run that lets the heap settle,
 * the timed run; the heap is measured in a separate, untimed run.
 */
async function steadfastScale(n: number): Promise<ScaleSample> {
  collect();
  await steadfastTimed(n);
  const timed = await steadfastTimed(n);
  const heap = gc === undefined ? { bytesPerChild: Number.NaN, heapWithChildren: Number.NaN } : await steadfastHeap(n);
  return { ...timed, ...heap };
}

const xstateParent = setup({
  types: { events: {} as { type: 'spawn'; id: string } | { type: 'stop'; id: string } },
  actors: { child: createMachine({}) },
}).createMachine({
  on: {
    spawn: { actions: spawnChild('child', { id: ({ event }) => event.id }) },
    stop: { actions: stopChild(({ event }) => event.id) },
  },
});

function xstateScale(n: number): ScaleSample {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(`w#${i}`);
  const parent = createActor(xstateParent).start();
  // No settling run here (at 10,000 children it would add ~30 s per round): XState's cost per child
  // is 100 to 1,000 times steadfast's, copying its children record, which GC effects do not change.
  collect();
  const before = heapUsed();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) parent.send({ type: 'spawn', id: ids[i] as string });
  const t1 = performance.now();
  collect();
  const after = heapUsed();
  const spawned = Object.keys(parent.getSnapshot().children).length;
  if (spawned !== n) throw new Error(`XState: ${spawned} children, expected ${n}`);
  const t2 = performance.now();
  for (let i = 0; i < n; i++) parent.send({ type: 'stop', id: ids[i] as string });
  const t3 = performance.now();
  const left = Object.keys(parent.getSnapshot().children).length;
  if (left !== 0) throw new Error(`XState: ${left} children left after ${n} stopChild`);
  parent.stop();
  return { startNs: ((t1 - t0) * 1e6) / n, stopNs: ((t3 - t2) * 1e6) / n, bytesPerChild: (after - before) / n, heapWithChildren: after };
}

const sizeName = (n: number) => `${fmtInt(n)} children`;
const SF_START = (n: number) => `steadfast startChild, ${sizeName(n)}`;
const SF_STOP = (n: number) => `steadfast stop(), ${sizeName(n)}`;
const X_START = (n: number) => `XState spawnChild, ${sizeName(n)}`;
const X_STOP = (n: number) => `XState stopChild, ${sizeName(n)}`;

interface ScaleRuns {
  steadfast: Map<number, ScaleSample[]>;
  xstate: Map<number, ScaleSample[]>;
}

async function scaleScenario(): Promise<ScenarioResult> {
  log(`supervisor-scale: steadfast ${SIZES.map(fmtInt).join(' / ')} children, XState ${XSTATE_SIZES.map(fmtInt).join(' / ')}; ${WARMUP} warm-up runs at ${fmtInt(SIZES[0] as number)}, ${ROUNDS} rounds`);
  const warmN = SIZES[0] as number;
  for (let pass = 1; pass <= WARMUP; pass++) {
    const s = await steadfastScale(warmN);
    const x = XSTATE_SIZES.length > 0 ? xstateScale(Math.min(warmN, XSTATE_MAX)) : undefined;
    log(`  warm-up ${pass}/${WARMUP}, µs/child start/stop: steadfast ${fmtUs(s.startNs)}/${fmtUs(s.stopNs)}${x === undefined ? '' : ` · XState ${fmtUs(x.startNs)}/${fmtUs(x.stopNs)}`}`);
  }
  const runs: ScaleRuns = { steadfast: new Map(SIZES.map((n) => [n, []])), xstate: new Map(XSTATE_SIZES.map((n) => [n, []])) };
  for (let round = 0; round < ROUNDS; round++) {
    const parts: string[] = [];
    // Alternate which library goes first, so that neither always runs in the other's garbage.
    const order: Array<'steadfast' | 'xstate'> = round % 2 === 0 ? ['steadfast', 'xstate'] : ['xstate', 'steadfast'];
    for (const lib of order) {
      if (lib === 'xstate' && round >= XSTATE_ROUNDS) continue;
      for (const n of lib === 'steadfast' ? SIZES : XSTATE_SIZES) {
        const sample = lib === 'steadfast' ? await steadfastScale(n) : xstateScale(n);
        runs[lib].get(n)?.push(sample);
        const bytes = Number.isNaN(sample.bytesPerChild) ? '' : `, ${Math.round(sample.bytesPerChild)} B`;
        parts.push(`${lib} ${fmtInt(n)}: ${fmtUs(sample.startNs)}/${fmtUs(sample.stopNs)} µs${bytes}`);
      }
    }
    log(`  round ${round + 1}/${ROUNDS} (start/stop µs per child): ${parts.join(' · ')}`);
  }

  const of = (lib: keyof ScaleRuns, n: number) => runs[lib].get(n) ?? [];
  const baselineNs = median(of('steadfast', SIZES[0] as number).map((s) => s.startNs));
  const variants: VariantResult[] = [];
  for (const n of SIZES) variants.push(variant(SF_START(n), of('steadfast', n).map((s) => s.startNs), baselineNs));
  for (const n of SIZES) variants.push(variant(SF_STOP(n), of('steadfast', n).map((s) => s.stopNs), baselineNs));
  for (const n of XSTATE_SIZES) variants.push(variant(X_START(n), of('xstate', n).map((s) => s.startNs), baselineNs));
  for (const n of XSTATE_SIZES) variants.push(variant(X_STOP(n), of('xstate', n).map((s) => s.stopNs), baselineNs));

  /** Median time (ms) of start + stop of all n children. */
  const totalMs = (lib: keyof ScaleRuns, n: number) => (median(of(lib, n).map((s) => s.startNs + s.stopNs)) * n) / 1e6;
  const comparisons: Comparison[] = [];
  const ratioOf = (lib: keyof ScaleRuns, small: number, large: number) => totalMs(lib, large) / totalMs(lib, small);
  const has = (lib: keyof ScaleRuns, ...sizes: number[]) => sizes.every((n) => runs[lib].has(n));
  if (has('steadfast', 1_000, 10_000)) comparisons.push(info('steadfast: time for 10,000 children ÷ time for 1,000 (startChild + stop)', ratioOf('steadfast', 1_000, 10_000)));
  if (has('steadfast', 10_000, 100_000)) comparisons.push(info('steadfast: time for 100,000 children ÷ time for 10,000', ratioOf('steadfast', 10_000, 100_000)));
  if (has('xstate', 1_000, 10_000)) {
    comparisons.push(info('XState: time for 10,000 children ÷ time for 1,000 (spawnChild + stopChild)', ratioOf('xstate', 1_000, 10_000)));
    const phaseRatio = (phase: 'startNs' | 'stopNs') => (10 * median(of('xstate', 10_000).map((s) => s[phase]))) / median(of('xstate', 1_000).map((s) => s[phase]));
    comparisons.push(info('XState: time for 10,000 ÷ time for 1,000, spawnChild alone', phaseRatio('startNs')));
    comparisons.push(info('XState: time for 10,000 ÷ time for 1,000, stopChild alone', phaseRatio('stopNs')));
  }
  if (has('steadfast', 1_000, 10_000)) {
    comparisons.push(target('target steadfast 10k/1k time ratio ≤ 12: value = 12 ÷ that ratio', 12 / ratioOf('steadfast', 1_000, 10_000), 1));
  }
  const worstStart = Math.max(...SIZES.map((n) => median(of('steadfast', n).map((s) => s.startNs))));
  const worstStop = Math.max(...SIZES.map((n) => median(of('steadfast', n).map((s) => s.stopNs))));
  comparisons.push(target('target steadfast startChild ≤ 50 µs per child at every size: value = 50 µs ÷ the worst size\'s median', 50_000 / worstStart, 1));
  comparisons.push(target('target steadfast stop() ≤ 50 µs per child at every size: value = 50 µs ÷ the worst size\'s median', 50_000 / worstStop, 1));
  if (gc !== undefined) {
    for (const n of SIZES) comparisons.push(info(`steadfast heap bytes per idle child, ${sizeName(n)}`, median(of('steadfast', n).map((s) => s.bytesPerChild))));
    for (const n of XSTATE_SIZES) comparisons.push(info(`XState heap bytes per idle child, ${sizeName(n)}`, median(of('xstate', n).map((s) => s.bytesPerChild))));
    const largest = SIZES[SIZES.length - 1] as number;
    const bytes = median(of('steadfast', largest).map((s) => s.bytesPerChild));
    comparisons.push(target(`target steadfast ≤ 5 KB (5,000 bytes) per idle child, at ${sizeName(largest)}: value = 5,000 ÷ bytes per child`, 5_000 / bytes, 1));
    if (runs.steadfast.has(100_000)) {
      const heap = Math.max(...of('steadfast', 100_000).map((s) => s.heapWithChildren));
      comparisons.push(info('steadfast: whole heapUsed (MiB) with 100,000 idle children, after a full GC, largest of the rounds', heap / 2 ** 20));
      comparisons.push(target('target 100,000 idle children fit in 1 GiB of heap: value = 1 GiB ÷ that heapUsed', 2 ** 30 / heap, 1));
    }
  }

  return {
    id: 'supervisor-scale',
    title: 'Supervisor scale: dynamic children of one supervisor, against XState spawnChild',
    description: [
      'Here an "event" is a child: ns/event is ns per child, events/s children per second.',
      `steadfast: \`createSupervisor({ name, strategy: 'simple_one_for_one', child: { id: 'w', start: () => ({ stop() {}, kill() {} }) }, logger: pino({ level: 'silent' }) })\`,`,
      `started, then timed: \`await sup.startChild(i)\` n times (startChild), then \`await sup.stop()\` (stop()), for n = ${SIZES.map(fmtInt).join(', ')};`,
      'before the timed run, a full GC and one untimed run of the same size, so that the heap has settled as in a long-running process',
      '(a run right after a forced GC, which shrinks V8\'s young generation, pays for many small scavenges: timed that way in trial runs, the 1,000-children run, which lasts a few ms, was up to 3 times slower and the 10k/1k ratio came out between 7 and 12.4).',
      'XState v5 peer: a parent actor whose machine has `spawn: spawnChild(\'child\', { id: ({ event }) => event.id })` and `stop: stopChild(({ event }) => event.id)`,',
      `child = \`createMachine({})\`; one \`spawn\` event per child (spawnChild), then one \`stop\` event per child (stopChild), for n = ${XSTATE_SIZES.map(fmtInt).join(', ')} only:`,
      'XState copies the parent\'s `children` record on every spawn and stop, so its cost per child grows with n, and 100,000 children would take tens of minutes (left out).',
      'Heap per idle child: `process.memoryUsage().heapUsed` after a full GC (`--expose-gc`) before the n starts and after them, divided by n (noisy at 1,000, where the growth is a few hundred KB),',
      'in a separate untimed run for steadfast; for XState around its timed spawns (no settling run either: at 10,000 children each run takes ~30 s, and its cost is dominated by copying, not GC).',
      `Method: ${WARMUP} warm-up runs of both at ${fmtInt(SIZES[0] as number)} children, then ${ROUNDS} rounds; a round runs every size of each library once (the library that goes first alternates; XState in the first ${XSTATE_ROUNDS} rounds only, its ${fmtInt(XSTATE_SIZES[XSTATE_SIZES.length - 1] ?? 0)}-children run taking tens of seconds), each run with a fresh supervisor or parent;`,
      `figures are medians over the rounds; ratio = ns per child ÷ that of steadfast startChild at ${fmtInt(SIZES[0] as number)} children.`,
      'Time ratios in the comparisons are of the whole start + stop time (e.g. 10,000 children ÷ 1,000: 10 for a flat cost per child).',
      'Targets with an upper bound ("≤") are written as bound ÷ measured, met when ≥ 1.',
    ].join(' '),
    parameters: { sizes: SIZES.join(' / '), xstateSizes: XSTATE_SIZES.join(' / '), rounds: ROUNDS, xstateRounds: XSTATE_ROUNDS, warmupRuns: WARMUP },
    baseline: SF_START(SIZES[0] as number),
    variants,
    comparisons,
  };
}

// Run both, print a human-readable summary on stdout, then the JSON result as the last line.

const scenarios = [await restartScenario(), await scaleScenario()];

for (const s of scenarios) {
  const width = Math.max(...s.variants.map((v) => v.name.length));
  console.log(`\n${s.title}\n${'variant'.padEnd(width)}  ${'ns/each'.padStart(12)}  ratio to ${s.baseline}`);
  for (const v of s.variants) console.log(`${v.name.padEnd(width)}  ${fmtNs(v.nsPerEvent).padStart(12)}  ${v.ratio.toFixed(2)}×`);
  for (const c of s.comparisons) {
    console.log(`${c.label}: ${c.value.toFixed(2)}${c.atLeast === undefined ? '' : ` (target ≥ ${c.atLeast}: ${c.met === true ? 'met' : 'NOT met'})`}`);
  }
}

printResult({ format: RESULT_FORMAT, bench: 'restart', scenarios });
