/**
 * Supervisor scale: `startChild` and `stop()` of 1,000, 10,000 and 100,000 dynamic children of one
 * `simple_one_for_one` supervisor, in time and heap per idle child; against XState's own
 * `spawnChild` / `stopChild` for 1,000 and 10,000 children (100,000 is left out: XState copies its
 * children on every spawn and stop, so it would take tens of minutes).
 *
 *   npm run bench -- supervisor-scale   (through the runner: builds dist/, writes docs/benchmarks.md)
 *   npm run build && TSX_TSCONFIG_PATH=bench/tsconfig.json node --import tsx --expose-gc bench/supervisor-scale.bench.ts
 *                                 (alone: prints the tables and the JSON result; steadfast is
 *                                 imported from dist/, as the package ships)
 *
 * Env: BENCH_ROUNDS (default 5), BENCH_WARMUP (warm-up runs of every variant, default 2),
 * BENCH_CHILDREN (comma-separated supervisor sizes, default 1000,10000,100000), BENCH_XSTATE_MAX
 * (largest size run with XState, default 10000), BENCH_XSTATE_ROUNDS (rounds that run XState,
 * default 3: its 10,000-children run takes ~30 s).
 *
 * Method: for each size n a fresh supervisor is started, then timed:
 * `await sup.startChild(i)` n times, then `await sup.stop()`; before it, a full GC and one untimed
 * run of the same size (steady heap, see `steadfastScale`). With --expose-gc, a separate untimed
 * run gives the heap per idle child: heapUsed after a full GC before the n starts and after them.
 * XState: a parent actor (`setup({ actors: { child } })`, child = an empty machine) gets one
 * `{ type: 'spawn' }` event per child (a `spawnChild` action with the id from the event), then one
 * `{ type: 'stop' }` event per child (`stopChild`), timed; a full GC before the spawns and another
 * between the two phases give its heap per child. Every size of every variant runs once per round
 * (XState in the first BENCH_XSTATE_ROUNDS rounds only; bench/harness.ts alternates which library
 * goes first); the figures are medians over the rounds.
 *
 * Until the benches were split into one file per scenario, this ran after the restart scenario in
 * bench/restart.bench.ts; it now runs alone in its process.
 */
import { pino } from 'pino';
import { createActor, createMachine, setup, spawnChild, stopChild } from 'xstate';
// The package as it ships (dist/, built by bench/run.ts first), not the TypeScript sources.
// createSupervisor is exported from the package root (src/index.ts), so no deep import into dist/ is needed.
import { createSupervisor } from 'steadfast';
import { canCollect, collectGarbage, finish, fmtInt, info, log, measure, median, noteGc, scenarioResult, target, type Variant } from './harness.js';
import type { Comparison, ScenarioResult } from './result.js';
import { positiveInt, positiveInts, warmupPasses } from './settings.js';

const ROUNDS = positiveInt('BENCH_ROUNDS', 5);
const WARMUP = warmupPasses(2);
const SIZES = positiveInts('BENCH_CHILDREN', [1_000, 10_000, 100_000]);
const XSTATE_MAX = positiveInt('BENCH_XSTATE_MAX', 10_000);
/** XState at 10,000 children takes about 30 s a run (spawn + stop): it runs in the first rounds only. */
const XSTATE_ROUNDS = Math.min(ROUNDS, positiveInt('BENCH_XSTATE_ROUNDS', 3));
const XSTATE_SIZES = SIZES.filter((n) => n <= XSTATE_MAX);

noteGc('measure the heap per child and collect garbage between runs');

/** Two full collections in a row (with --expose-gc), before each heap reading and each steady run. */
const collect = () => collectGarbage(2);
const fmtUs = (ns: number) => (ns / 1e3).toFixed(ns < 1e4 ? 2 : 1);

interface ScaleSample {
  startNs: number;
  stopNs: number;
  /** Heap growth per idle child (NaN without --expose-gc). */
  bytesPerChild: number;
  /** heapUsed with the n children idle, after a full GC (NaN without --expose-gc). */
  heapWithChildren: number;
}

const silent = pino({ level: 'silent' });
const heapUsed = () => (canCollect ? process.memoryUsage().heapUsed : Number.NaN);

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
  const heap = canCollect ? await steadfastHeap(n) : { bytesPerChild: Number.NaN, heapWithChildren: Number.NaN };
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
  const runs: ScaleRuns = { steadfast: new Map(SIZES.map((n) => [n, []])), xstate: new Map(XSTATE_SIZES.map((n) => [n, []])) };
  const startStop = (sample: ScaleSample) => `${fmtUs(sample.startNs)}/${fmtUs(sample.stopNs)}`;
  /** A library as the harness runs it: one run is every size in turn; the run keeps its samples in `runs` itself. */
  const library = (lib: keyof ScaleRuns, sizes: readonly number[], scale: (n: number) => ScaleSample | Promise<ScaleSample>, warmSize: number): Variant => ({
    name: lib,
    warm: async () => ({ detail: startStop(await scale(warmSize)) }),
    run: async () => {
      const parts: string[] = [];
      for (const n of sizes) {
        const sample = await scale(n);
        runs[lib].get(n)?.push(sample);
        const bytes = Number.isNaN(sample.bytesPerChild) ? '' : `, ${Math.round(sample.bytesPerChild)} B`;
        parts.push(`${fmtInt(n)}: ${startStop(sample)} µs${bytes}`);
      }
      return { detail: parts.join(', ') };
    },
  });
  const libraries = [library('steadfast', SIZES, steadfastScale, warmN)];
  // XState in the first rounds only (its 10,000-children run takes ~30 s). The harness's rotation
  // alternates which library goes first, so that neither always runs in the other's garbage.
  if (XSTATE_SIZES.length > 0) libraries.push({ ...library('xstate', XSTATE_SIZES, xstateScale, Math.min(warmN, XSTATE_MAX)), rounds: XSTATE_ROUNDS });
  // No GC from the harness: steadfastScale collects and settles by itself, xstateScale collects around its spawns.
  await measure(libraries, { label: 'supervisor-scale', rounds: ROUNDS, warmup: WARMUP, collect: 'none', unit: 'start/stop µs per child' });

  const of = (lib: keyof ScaleRuns, n: number) => runs[lib].get(n) ?? [];
  const samples = new Map<string, number[]>();
  for (const n of SIZES) samples.set(SF_START(n), of('steadfast', n).map((s) => s.startNs));
  for (const n of SIZES) samples.set(SF_STOP(n), of('steadfast', n).map((s) => s.stopNs));
  for (const n of XSTATE_SIZES) samples.set(X_START(n), of('xstate', n).map((s) => s.startNs));
  for (const n of XSTATE_SIZES) samples.set(X_STOP(n), of('xstate', n).map((s) => s.stopNs));

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
  if (canCollect) {
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

  return scenarioResult({
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
    samples,
    comparisons,
  });
}

finish('supervisor-scale', [await scaleScenario()]);
