import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCheckpointStore } from '../../src/checkpoint/create-store.js';
import {
  createPipeline,
  defineStage,
  fromAsyncIterable,
  fromIterable,
  pushSource,
  toArray,
  type Pipeline,
  type PipelineObservation,
  type SteadfastError,
} from '../../src/index.js';
import { activeResources, leakedSince, settle } from '../helpers/leaks.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'steadfast-ckpt-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const N = 5_000;
const numbers = (): number[] => Array.from({ length: N }, (_, i) => i);
const fullSum = (N * (N - 1)) / 2;

interface Tally {
  n: number;
  sum: number;
}

/** Doubles each number; keeps no state. */
const double = defineStage({ name: 'double', process: (e: number) => ({ emit: [e * 2] }) });

/** Counts and sums what it sees (halving it back), and passes each event on. */
function tally(options: { onEvent?: (e: number, offset: number) => void } = {}) {
  return defineStage({
    name: 'tally',
    onFailure: 'restart',
    initialState: (): Tally => ({ n: 0, sum: 0 }),
    process: (e: number, state: Tally, ctx) => {
      options.onEvent?.(e / 2, ctx.offset);
      return { state: { n: state.n + 1, sum: state.sum + e / 2 }, emit: [e / 2] };
    },
  });
}

function observe(pipeline: Pipeline): PipelineObservation[] {
  const seen: PipelineObservation[] = [];
  pipeline.observe((event) => seen.push(event));
  return seen;
}

/** Every value once: a sink keyed by value may receive a value twice only if exactly-once broke. */
function expectEachOnce(values: readonly number[], expected: readonly number[]): void {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  const twice = [...counts].filter(([, c]) => c > 1).map(([v]) => v);
  expect(twice).toEqual([]);
  expect([...counts.keys()].sort((a, b) => a - b)).toEqual([...expected].sort((a, b) => a - b));
}

describe('pipeline checkpoints on LevelDB', () => {
  it('resumes after a stop from the last complete checkpoint: every event counted once, none lost', async () => {
    const sink1 = toArray<number>();
    const ref: { pipeline?: Pipeline } = {};
    const stopAt = 2_345;
    const stage1 = tally({ onEvent: (_, offset) => (offset === stopAt ? void ref.pipeline?.stop() : undefined) });
    const first = (ref.pipeline = createPipeline({ name: 'resume', source: fromIterable(numbers()), stages: [double, stage1], sink: sink1, logLevel: 'silent', checkpoint: { dir, everyEvents: 500 } }));
    const stats1 = await first.run();
    const stopped = first.stageState<Tally>('tally');
    expect(stopped.n).toBeLessThan(N);
    expect(stats1.checkpoint?.completed).toBeGreaterThanOrEqual(2);
    expect(stats1.checkpoint?.last?.offset).toBe(stopped.n - 1);

    const sink2 = toArray<number>();
    const second = createPipeline({ name: 'resume', source: fromIterable(numbers()), stages: [double, tally()], sink: sink2, logLevel: 'silent', checkpoint: { dir, everyEvents: 500 } });
    const seen = observe(second);
    const stats2 = await second.run();
    expect(stats2.checkpoint?.restored).toEqual({ version: stats1.checkpoint?.last?.version, offset: stopped.n - 1 });
    expect(seen.find((e) => e.type === 'steadfast.checkpoint.restored')).toMatchObject({ offset: stopped.n - 1 });
    expect(stats2.source.events).toBe(N - stopped.n);
    expect(second.stageState<Tally>('tally')).toEqual({ n: N, sum: fullSum });
    expectEachOnce([...sink1.items, ...sink2.items], numbers());
  });

  it('restarts a stage that throws once from its last snapshot and replays what it had not covered (Flink StreamCheckpointingITCase)', async () => {
    const failAt = Math.floor(N * (0.4 + Math.random() * 0.3));
    let thrown = false;
    const flaky = defineStage({
      name: 'tally',
      onFailure: 'restart',
      initialState: (): Tally => ({ n: 0, sum: 0 }),
      process: (e: number, state: Tally) => {
        if (e / 2 === failAt && !thrown) {
          thrown = true;
          throw new Error(`boom at ${failAt}`);
        }
        return { state: { n: state.n + 1, sum: state.sum + e / 2 }, emit: [e / 2] };
      },
    });
    const errors: SteadfastError[] = [];
    const sink = toArray<number>();
    const pipeline = createPipeline({
      name: 'flaky',
      source: fromIterable(numbers()),
      stages: [double, flaky],
      sink,
      logLevel: 'silent',
      onError: (error) => errors.push(error),
      supervision: { backoff: { minMs: 0, maxMs: 0 } },
      checkpoint: { dir, everyEvents: 300 },
    });
    const stats = await pipeline.run();
    expect(stats.stages.tally?.restarts).toBe(1);
    expect(errors.map((e) => (e as SteadfastError & { offsets: number[] }).offsets)).toEqual([[failAt]]);
    // The failing event is reported, not applied; every other one is counted exactly once.
    expect(pipeline.stageState<Tally>('tally')).toEqual({ n: N - 1, sum: fullSum - failAt });
    expectEachOnce(sink.items, numbers().filter((i) => i !== failAt));
  });

  it('restarts from the last state when more events than replayLimit went by since the last snapshot', async () => {
    let thrown = false;
    const flaky = defineStage({
      name: 'tally',
      onFailure: 'restart',
      initialState: (): Tally => ({ n: 0, sum: 0 }),
      process: (e: number, state: Tally) => {
        if (e / 2 === 3_000 && !thrown) {
          thrown = true;
          throw new Error('once');
        }
        return { state: { n: state.n + 1, sum: state.sum + e / 2 }, emit: [e / 2] };
      },
    });
    const pipeline = createPipeline({
      name: 'overflow',
      source: fromIterable(numbers()),
      stages: [double, flaky],
      logLevel: 'silent',
      onError: () => {},
      supervision: { backoff: { minMs: 0, maxMs: 0 } },
      // No checkpoint before the end: the replay log overflows long before the failure.
      checkpoint: { dir, everyEvents: 0, everyMs: 0, replayLimit: 100 },
    });
    const stats = await pipeline.run();
    expect(stats.stages.tally?.restarts).toBe(1);
    expect(pipeline.stageState<Tally>('tally')).toEqual({ n: N - 1, sum: fullSum - 3_000 });
  });

  it('detects a flipped bit in the newest snapshot and restores the previous checkpoint', async () => {
    await runToEnd('bits', 1_000);
    const store = createCheckpointStore({ dir });
    await store.open();
    let newest: { key: string; value: Uint8Array } | undefined;
    for await (const entry of store.entries('ckpt!bits!tally!')) newest = entry;
    expect(newest).toBeDefined();
    const flipped = Uint8Array.from(newest!.value);
    const bit = Math.floor(Math.random() * flipped.length * 8);
    flipped[bit >> 3]! ^= 1 << (bit & 7);
    await store.putRaw(newest!.key, flipped);
    const versions: number[] = [];
    for await (const done of store.completed('bits')) if (done.ok) versions.push(done.value.version);
    await store.close();

    const again = createPipeline({ name: 'bits', source: fromIterable(numbers()), stages: [double, tally()], logLevel: 'silent', checkpoint: { dir, everyEvents: 1_000 } });
    const seen = observe(again);
    const stats = await again.run();
    expect(seen.filter((e) => e.type === 'steadfast.checkpoint.corrupt').map((e) => (e as { key: string }).key)).toEqual([newest!.key]);
    expect(stats.checkpoint?.corrupt).toBe(1);
    expect(stats.checkpoint?.restored?.version).toBe(versions[1]);
    // The source replays from the older offset; the state comes out exact all the same.
    expect(again.stageState<Tally>('tally')).toEqual({ n: N, sum: fullSum });
  });

  it('starts from the initial state with a none_valid event when every snapshot is corrupt', async () => {
    await runToEnd('allbad', 1_000);
    const store = createCheckpointStore({ dir });
    await store.open();
    const keys: string[] = [];
    for await (const entry of store.entries('ckpt!allbad!')) {
      keys.push(entry.key);
      const bad = Uint8Array.from(entry.value);
      bad[bad.length - 1]! ^= 0x40;
      await store.putRaw(entry.key, bad);
    }
    await store.close();
    expect(keys.length).toBeGreaterThan(0);

    const again = createPipeline({ name: 'allbad', source: fromIterable(numbers()), stages: [double, tally()], logLevel: 'silent', checkpoint: { dir, everyEvents: 1_000 } });
    const seen = observe(again);
    const stats = await again.run();
    const none = seen.find((e) => e.type === 'steadfast.checkpoint.none_valid');
    expect(none).toBeDefined();
    expect(stats.checkpoint?.restored).toBeNull();
    expect(stats.checkpoint?.corrupt).toBeGreaterThan(0);
    expect(stats.source.events).toBe(N);
    expect(again.stageState<Tally>('tally')).toEqual({ n: N, sum: fullSum });
  });

  it('aligns barriers across replicas, routing and fan-in: a crash, a stop and a restore still count each event once', async () => {
    const failAt = 1_500 + Math.floor(Math.random() * 1_000);
    let thrown = false;
    const work = defineStage({
      name: 'work',
      onFailure: 'restart',
      initialState: () => ({ n: 0 }),
      process: (e: number, state: { n: number }) => {
        if (e === failAt && !thrown) {
          thrown = true;
          throw new Error('replica down');
        }
        return { state: { n: state.n + 1 }, emit: [e] };
      },
    });
    const pass = (name: string) => defineStage({ name, initialState: () => ({ n: 0 }), process: (e: number, s: { n: number }) => ({ state: { n: s.n + 1 }, emit: [e * 2] }) });
    const graph = (stopper?: (offset: number) => void) => ({
      work: { stage: work, from: 'source', replicas: 3, partition: 'roundRobin' as const },
      evens: { stage: pass('evens'), from: { node: 'work', when: (e: number) => e % 2 === 0 } },
      odds: { stage: pass('odds'), from: { node: 'work', when: (e: number) => e % 2 === 1 } },
      tally: { stage: tally({ ...(stopper === undefined ? {} : { onEvent: (_: number, offset: number) => stopper(offset) }) }), from: ['evens', 'odds'] },
    });
    const errors: SteadfastError[] = [];
    const sink1 = toArray<number>();
    const ref: { pipeline?: Pipeline } = {};
    const first = (ref.pipeline = createPipeline({
      name: 'diamond',
      source: fromIterable(numbers()),
      graph: graph((offset) => (offset === 3_600 ? void ref.pipeline?.stop() : undefined)),
      sink: sink1,
      logLevel: 'silent',
      onError: (error) => errors.push(error),
      supervision: { backoff: { minMs: 0, maxMs: 0 } },
      checkpoint: { dir, everyEvents: 250 },
    }));
    const s1 = await first.run();
    expect(errors).toHaveLength(1);
    expect(Object.values(s1.stages).reduce((n, st) => n + st.restarts, 0)).toBe(1);
    const sink2 = toArray<number>();
    const second = createPipeline({ name: 'diamond', source: fromIterable(numbers()), graph: graph(), sink: sink2, logLevel: 'silent', checkpoint: { dir, everyEvents: 250 } });
    await second.run();
    expect(second.stageState<Tally>('tally')).toEqual({ n: N - 1, sum: fullSum - failAt });
    expectEachOnce([...sink1.items, ...sink2.items], numbers().filter((i) => i !== failAt));
  });

  it('keeps stage state exact across fan-in when a run dies between checkpoints (barriers aligned)', async () => {
    // Odds take a detour through a slow stage, so that the evens' barrier reaches the tally first:
    // without alignment the tally would snapshot evens from after the barrier and count them twice.
    const fast = defineStage({ name: 'fast', process: (e: number) => ({ emit: [e * 2] }) });
    // The poisoned run must have completed a checkpoint before its poison (at offset 3,600), however
    // slow the machine: past 3,000 the slow branch waits for one.
    let checkpointed = (): void => {};
    const firstCheckpoint = new Promise<void>((resolve) => (checkpointed = resolve));
    let poisoned = false;
    const slow = defineStage({
      name: 'slow',
      process: async (e: number) => {
        if (poisoned && e > 3_000) await firstCheckpoint;
        if (e % 64 === 1) await new Promise((resolve) => setTimeout(resolve, 1));
        return { emit: [e * 2] };
      },
    });
    const graph = (poison: boolean) => ({
      fast: { stage: fast, from: { node: 'source', when: (e: number) => e % 2 === 0 } },
      slow: { stage: slow, from: { node: 'source', when: (e: number) => e % 2 === 1 } },
      tally: {
        stage: tally({ onEvent: (_, offset) => {
          if (poison && offset === 3_600) throw new Error('poison');
        } }),
        from: ['fast', 'slow'],
      },
    });
    const first = createPipeline({
      name: 'fanin',
      source: fromIterable(numbers()),
      graph: graph(true),
      logLevel: 'silent',
      onError: () => {},
      supervision: { maxRestarts: 0 },
      checkpoint: { dir, everyEvents: 400 },
    });
    poisoned = true;
    first.observe((event) => (event.type === 'steadfast.checkpoint.completed' ? checkpointed() : undefined));
    await expect(first.run()).rejects.toMatchObject({ code: 'RESTART_INTENSITY_EXCEEDED' });
    poisoned = false;
    const restoredFrom = first.stats().checkpoint?.last?.offset ?? -1;
    expect(restoredFrom).toBeGreaterThan(0);
    expect(restoredFrom).toBeLessThan(3_600);
    const second = createPipeline({ name: 'fanin', source: fromIterable(numbers()), graph: graph(false), logLevel: 'silent', checkpoint: { dir, everyEvents: 400 } });
    const stats = await second.run();
    expect(stats.checkpoint?.restored?.offset).toBe(restoredFrom);
    expect(second.stageState<Tally>('tally')).toEqual({ n: N, sum: fullSum });
  });

  it('keeps checkpoints going across a scale() while running, with exact counts', async () => {
    const ref: { pipeline?: Pipeline; scaled?: Promise<unknown> } = {};
    const work = defineStage({ name: 'work', initialState: () => ({ n: 0 }), process: (e: number, s: { n: number }) => ({ state: { n: s.n + 1 }, emit: [e * 2] }) });
    const sink = toArray<number>();
    // A source that takes its time, so that the run is still going when the scale's turn comes.
    async function* slowly(): AsyncGenerator<number> {
      for (const i of numbers()) {
        if (i % 100 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
        yield i;
      }
    }
    const pipeline = (ref.pipeline = createPipeline({
      name: 'scaled',
      source: fromAsyncIterable(slowly()),
      graph: {
        work: { stage: work, from: 'source', partition: 'roundRobin' },
        tally: { stage: tally({ onEvent: (_, offset) => (offset === 1_000 ? (ref.scaled = ref.pipeline!.scale('work', 3)) : undefined) }), from: 'work' },
      },
      sink,
      logLevel: 'silent',
      checkpoint: { dir, everyEvents: 200 },
    }));
    const seen = observe(pipeline);
    const stats = await pipeline.run();
    await ref.scaled;
    expect(Object.keys(stats.stages)).toContain('work#2');
    expect(pipeline.stageState<Tally>('tally')).toEqual({ n: N, sum: fullSum });
    expectEachOnce(sink.items, numbers());
    const completed = seen.filter((e) => e.type === 'steadfast.checkpoint.completed').map((e) => (e as { offset: number }).offset);
    expect(completed.filter((offset) => offset > 1_000).length).toBeGreaterThan(2);
    expect(stats.checkpoint?.failed).toBe(0);
  });

  it('keeps the newest `keep` completed checkpoints and prunes older snapshots', async () => {
    await runToEnd('prune', 500, 2);
    const store = createCheckpointStore({ dir, readOnly: true });
    await store.open();
    const done: number[] = [];
    for await (const read of store.completed('prune')) if (read.ok) done.push(read.value.version);
    const snapshots: number[] = [];
    for await (const read of store.snapshots('prune', 'tally')) if (read.ok) snapshots.push(read.value.version);
    await store.close();
    expect(done).toHaveLength(2);
    expect(done[0]).toBeGreaterThan(done[1]!);
    // Exactly the snapshots of the kept checkpoints: an older one leaves with its marker.
    expect(snapshots).toEqual(done);
  });

  it('takes a checkpoint on demand and commits the offset read so far', async () => {
    const ref: { pipeline?: Pipeline } = {};
    let requested: Promise<unknown> | undefined;
    const stage = tally({ onEvent: (_, offset) => (offset === 1_234 ? (requested = ref.pipeline!.checkpoint()) : undefined) });
    const pipeline = (ref.pipeline = createPipeline({ name: 'demand', source: fromIterable(numbers()), stages: [stage], logLevel: 'silent', checkpoint: { dir, everyEvents: 0, everyMs: 0 } }));
    const stats = await pipeline.run();
    const done = (await requested) as { version: number; offset: number };
    expect(done.version).toBe(1);
    expect(done.offset).toBeGreaterThanOrEqual(1_234);
    // The on-demand one and the final one at the end of the source.
    expect(stats.checkpoint?.completed).toBe(2);
    expect(stats.checkpoint?.last?.offset).toBe(N - 1);
  });

  it('checkpoints an idle push source by time, and takes none while nothing new arrives', async () => {
    const source = pushSource<number>();
    const pipeline = createPipeline({ name: 'idle', source, stages: [tally()], logLevel: 'silent', checkpoint: { dir, everyEvents: 0, everyMs: 20 } });
    const completed = () => pipeline.stats().checkpoint?.completed ?? 0;
    const waitFor = async (check: () => boolean) => {
      for (let i = 0; i < 600 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(check()).toBe(true);
    };
    const lastOffset = () => pipeline.stats().checkpoint?.last?.offset;
    await pipeline.start();
    for (const n of [1, 2, 3]) await pipeline.push(n * 2);
    // The source waits for the next push; the timer's barrier goes in all the same. (On a loaded
    // machine a tick may also fall between two pushes: wait for the one that covers all three.)
    await waitFor(() => lastOffset() === 2);
    const idle = completed();
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(completed()).toBe(idle);
    await pipeline.push(8);
    await waitFor(() => completed() === idle + 1);
    expect(lastOffset()).toBe(3);
    source.end();
    await pipeline.done;
  });

  it('refuses checkpoint() without the option, and before start', async () => {
    const plain = createPipeline({ name: 'plain', source: fromIterable([1]), stages: [tally()], logLevel: 'silent' });
    await expect(plain.checkpoint()).rejects.toMatchObject({ code: 'PIPELINE_STATE_INVALID' });
    const withIt = createPipeline({ name: 'early', source: fromIterable([1]), stages: [tally()], logLevel: 'silent', checkpoint: { dir } });
    await expect(withIt.checkpoint()).rejects.toMatchObject({ code: 'PIPELINE_STATE_INVALID' });
  });

  it('fails start() with CHECKPOINT_STORE_LOCKED when another pipeline holds the directory, and leaves it running', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow = defineStage({ name: 'slow', process: async (e: number) => (e === 0 ? (await gate, { emit: [e] }) : { emit: [e] }) });
    const holder = createPipeline({ name: 'held', source: fromIterable([0, 1, 2]), stages: [slow], logLevel: 'silent', checkpoint: { dir } });
    await holder.start();
    const intruder = createPipeline({ name: 'held', source: fromIterable([0]), stages: [tally()], logLevel: 'silent', checkpoint: { dir } });
    await expect(intruder.start()).rejects.toMatchObject({ code: 'CHECKPOINT_STORE_LOCKED' });
    release();
    const stats = await holder.done;
    expect(stats.stages.slow?.eventsIn).toBe(3);
    expect(stats.checkpoint?.completed).toBe(1);
  });

  it('carries breaker state and retry counters with the stage state', async () => {
    const failing = (fail: boolean) =>
      defineStage({
        name: 'guarded',
        initialState: () => ({ seen: 0 }),
        retry: { maxAttempts: 2, backoff: 'constant', baseMs: 0 },
        breaker: { consecutiveFailures: 2, openMs: 60_000 },
        degraded: 'skip',
        process: (e: number, state: { seen: number }) => {
          if (fail) throw new Error('down');
          return { state: { seen: state.seen + 1 }, emit: [e] };
        },
      });
    const first = createPipeline({ name: 'guards', source: fromIterable([1, 2, 3]), stages: [failing(true)], logLevel: 'silent', checkpoint: { dir } });
    const s1 = await first.run();
    expect(s1.stages.guarded?.resilience?.breaker).toBe('open');
    const retries = s1.stages.guarded?.resilience?.retries ?? 0;
    expect(retries).toBeGreaterThan(0);

    const second = createPipeline({ name: 'guards', source: fromIterable([1, 2, 3, 4]), stages: [failing(false)], logLevel: 'silent', checkpoint: { dir } });
    await second.start();
    expect(second.stats().stages.guarded?.resilience?.breaker).toBe('open');
    expect(second.stats().stages.guarded?.resilience?.retries).toBe(retries);
    await second.stop();
  });

  it('leaves no handles, timers or locks behind', async () => {
    const before = activeResources();
    await runToEnd('clean', 250);
    await settle();
    expect(leakedSince(before)).toEqual({});
    // The directory is free again: a store can open it.
    const store = createCheckpointStore({ dir });
    await store.open();
    await store.close();
  });
});

async function runToEnd(name: string, everyEvents: number, keep = 3): Promise<void> {
  const pipeline = createPipeline({ name, source: fromIterable(numbers()), stages: [double, tally()], logLevel: 'silent', checkpoint: { dir, everyEvents, keep, everyMs: 60_000 } });
  await pipeline.run();
  expect(pipeline.stageState<Tally>('tally')).toEqual({ n: N, sum: fullSum });
}
