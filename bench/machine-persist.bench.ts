/**
 * Persisting and restoring a whole XState actor tree (src/machine-stage/) against plain XState:
 * a machine with 1,000 spawned children, each waiting on an `after` timer (1,000 pending delayed
 * events), so that steadfast's persist carries what XState's leaves out.
 *
 *   npm run bench -- machine-persist
 *   TSX_TSCONFIG_PATH=bench/tsconfig.json node --import tsx --expose-gc bench/machine-persist.bench.ts
 *
 * Env: BENCH_ROUNDS (default 15), BENCH_CHILDREN (default 1000), BENCH_REPEAT_PERSIST (persists
 * per timed run, default 20), BENCH_REPEAT_RESTORE (restores per timed run, default 3).
 *
 * Method: persist: `JSON.stringify(actor.getPersistedSnapshot())` (baseline) against
 * `JSON.stringify(persistActorTree(actor))` and `jsonCodec.encode(persistActorTree(actor))` (what
 * a checkpoint stores) on the same tree. Restore: `createActor(machine, { snapshot:
 * JSON.parse(text) }).start()` (baseline; it restores no timer) against
 * `restoreActorTree(machine, JSON.parse(text)).start()` (children checked, timers re-armed), each
 * on its own simulated clock so that no timer fires; the restored actors are dropped, not stopped
 * (XState's stop of 1,000 children with timers takes seconds and is the same for both). Samples are
 * CPU time (process.cpuUsage) per operation; the figure is the median over the rounds, the order
 * of the variants rotating each round (bench/harness.ts).
 */
import { createActor, setup, spawnChild, type AnyActorRef } from 'xstate';
import { jsonCodec } from '../src/checkpoint/codec.js';
import { actorClock } from '../src/core/clock.js';
import { SimulatedClock } from '../src/core/simulated-clock.js';
import { persistActorTree } from '../src/machine-stage/persist-actor-tree.js';
import { restoreActorTree } from '../src/machine-stage/restore-actor-tree.js';
import type { PersistedActorTree } from '../src/machine-stage/persisted-actor-tree.js';
import { byName, finish, fmtRatio, info, log, measure, scenarioResult, target, type Variant } from './harness.js';
import type { ScenarioResult } from './result.js';
import { positiveInt, warmupPasses } from './settings.js';

const ROUNDS = positiveInt('BENCH_ROUNDS', 15);
const CHILDREN = positiveInt('BENCH_CHILDREN', 1_000);
const REPEAT_PERSIST = positiveInt('BENCH_REPEAT_PERSIST', 20);
const REPEAT_RESTORE = positiveInt('BENCH_REPEAT_RESTORE', 3);
const WARMUP = warmupPasses(1);

const job = setup({}).createMachine({
  context: ({ input }: { input: { key: string } }) => ({ key: input.key, attempts: 0, history: ['queued'] }),
  initial: 'waiting',
  states: { waiting: { after: { 60_000: 'expired' } }, expired: {} },
});
const jobs = setup({ actors: { job } }).createMachine({
  context: { spawned: 0 },
  on: {
    add: { actions: spawnChild('job', { id: ({ event }) => (event as unknown as { key: string }).key, input: ({ event }) => ({ key: (event as unknown as { key: string }).key }) }) },
  },
});

function fill(actor: AnyActorRef): AnyActorRef {
  for (let i = 0; i < CHILDREN; i++) actor.send({ type: 'add', key: `job-${i}` });
  return actor;
}

/** A sample: CPU time of `repeat` calls of `run`, in ns per call. */
function cpuNs(repeat: number, run: () => unknown): number {
  const started = process.cpuUsage();
  for (let i = 0; i < repeat; i++) run();
  const used = process.cpuUsage(started);
  return (used.user + used.system) * 1_000 / repeat;
}

const clock = new SimulatedClock();
const plain = fill(createActor(jobs, { clock: actorClock(clock)! }).start());
const tracked = fill(restoreActorTree(jobs, undefined, { clock }).start());
const plainText = JSON.stringify(plain.getPersistedSnapshot());
const treeText = JSON.stringify(persistActorTree(tracked));
log(`tree: ${CHILDREN} children; plain persisted ${(plainText.length / 1e3).toFixed(0)} kB, steadfast tree ${(treeText.length / 1e3).toFixed(0)} kB`);

const scenarios: ScenarioResult[] = [];
const ms = (ns: number) => (ns / 1e6).toFixed(2);

{
  const baseline = 'JSON.stringify(getPersistedSnapshot()) (XState)';
  const runs: Array<[string, () => unknown]> = [
    [baseline, () => JSON.stringify(plain.getPersistedSnapshot())],
    ['JSON.stringify(persistActorTree())', () => JSON.stringify(persistActorTree(tracked))],
    ['jsonCodec.encode(persistActorTree())', () => jsonCodec.encode(persistActorTree(tracked))],
  ];
  const variants: Variant[] = runs.map(([name, run]) => ({ name, warm: () => cpuNs(3, run), run: () => cpuNs(REPEAT_PERSIST, run) }));
  const samples = await measure(variants, { label: 'persist', rounds: ROUNDS, warmup: WARMUP, collect: 'gc', unit: 'ms/persist', format: ms });
  const result = scenarioResult({ id: 'machine-persist', title: `persist a machine with ${CHILDREN.toLocaleString('en-US')} spawned children`, description: '', parameters: {}, baseline, samples, comparisons: [] });
  const ratio = byName(result.variants, 'JSON.stringify(persistActorTree())').ratio;
  const stored = byName(result.variants, 'jsonCodec.encode(persistActorTree())').ratio;
  log(`persist: ${fmtRatio(ratio)} of XState's persist + JSON.stringify (target <= 2x); with the json codec ${fmtRatio(stored)}`);
  scenarios.push({
    ...result,
    description: `One persist of the tree (${CHILDREN} spawned children, each with a pending \`after\` timer) into JSON text or stored bytes; an "event" is one persist. See bench/machine-persist.bench.ts for the method.`,
    parameters: { children: CHILDREN, rounds: ROUNDS, repeat: REPEAT_PERSIST },
    comparisons: [target('2 ÷ (steadfast persist ÷ XState persist), JSON text', Math.round((2 / ratio) * 100) / 100, 1), info('steadfast persist ÷ XState persist, through the json codec', Math.round(stored * 100) / 100)],
  });
}

{
  const baseline = 'createActor(machine, { snapshot }).start() (XState)';
  const restorePlain = () => createActor(jobs, { snapshot: JSON.parse(plainText) as never, clock: actorClock(new SimulatedClock())! }).start();
  const restoreTree = () => restoreActorTree(jobs, JSON.parse(treeText) as PersistedActorTree, { clock: new SimulatedClock() }).start();
  const runs: Array<[string, () => unknown]> = [
    [baseline, restorePlain],
    ['restoreActorTree(machine, tree).start()', restoreTree],
  ];
  const variants: Variant[] = runs.map(([name, run]) => ({ name, warm: () => cpuNs(1, run), run: () => cpuNs(REPEAT_RESTORE, run) }));
  const samples = await measure(variants, { label: 'restore', rounds: ROUNDS, warmup: WARMUP, collect: 'gc', unit: 'ms/restore', format: ms });
  const result = scenarioResult({ id: 'machine-restore', title: `restore a machine with ${CHILDREN.toLocaleString('en-US')} spawned children`, description: '', parameters: {}, baseline, samples, comparisons: [] });
  const ratio = byName(result.variants, 'restoreActorTree(machine, tree).start()').ratio;
  log(`restore: ${fmtRatio(ratio)} of XState's createActor with the snapshot (target <= 3x)`);
  scenarios.push({
    ...result,
    description: `One restore of the tree from its JSON text, started; an "event" is one restore. XState's restores no pending timer; steadfast's re-arms ${CHILDREN}. See bench/machine-persist.bench.ts for the method.`,
    parameters: { children: CHILDREN, rounds: ROUNDS, repeat: REPEAT_RESTORE },
    comparisons: [target('3 ÷ (steadfast restore ÷ XState restore)', Math.round((3 / ratio) * 100) / 100, 1)],
  });
}

finish('machine-persist', scenarios);
// The two source actors hold 2,000 timers on a clock nobody advances: nothing keeps the process alive.
