import { describe, expect, it } from 'vitest';
import { createPipeline, defineStage, pushSource, toArray, type SteadfastError } from '../../src/index.js';

interface Ev {
  key: number;
  seq: number;
}

/** Counts events per key in a plain object; emits each event with the replica's count so far. */
const perKey = defineStage({
  name: 'perKey',
  initialState: (): Record<string, number> => ({}),
  process: async (e: Ev, s: Record<string, number>) => {
    if (e.seq % 17 === 0) await Promise.resolve(); // some async calls, so that calls are in flight when reshaping
    const next = { ...s, [e.key]: (s[e.key] ?? 0) + 1 };
    return { state: next, emit: [e] };
  },
});

async function pushAll(push: (e: Ev) => Promise<void>, from: number, to: number, keys = 13): Promise<void> {
  for (let seq = from; seq < to; seq++) await push({ key: seq % keys, seq });
}

function byKey(items: readonly Ev[]): Map<number, number[]> {
  const map = new Map<number, number[]>();
  for (const e of items) (map.get(e.key) ?? map.set(e.key, []).get(e.key))?.push(e.seq);
  return map;
}

function setup() {
  const source = pushSource<Ev>();
  const sink = toArray<Ev>();
  const pipeline = createPipeline({
    name: 'reshape',
    source,
    graph: { work: { stage: perKey, from: 'source', partition: { by: (e: Ev) => e.key } } },
    sink,
    logLevel: 'silent',
  });
  return { source, sink, pipeline };
}

describe('scaling a running stage', () => {
  it('adds replicas without losing an event or reordering any key', async () => {
    const { source, sink, pipeline } = setup();
    await pipeline.start();
    const pushing = pushAll((e) => pipeline.push(e), 0, 3_000);
    await pushAll((e) => pipeline.push(e), 3_000, 3_000); // nothing: lets the first pushes start
    const result = await pipeline.scale('work', 4);
    await pushing;
    await pushAll((e) => pipeline.push(e), 3_000, 6_000);
    source.end();
    const stats = await pipeline.done;
    expect(result).toEqual({ replicas: 4, removed: [] });
    expect(sink.items.map((e) => e.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 6_000 }, (_, i) => i));
    for (const [key, seqs] of byKey(sink.items)) {
      expect(seqs, `key ${key}`).toEqual([...seqs].sort((a, b) => a - b));
    }
    expect(Object.keys(stats.stages).sort()).toEqual(['sink', 'work', 'work#1', 'work#2', 'work#3']);
    expect(['work#1', 'work#2', 'work#3'].some((name) => (stats.stages[name]?.eventsIn ?? 0) > 0)).toBe(true);
  });

  it('removes replicas and hands back their state', async () => {
    const source = pushSource<Ev>();
    const sink = toArray<Ev>();
    const pipeline = createPipeline({
      name: 'down',
      source,
      graph: { work: { stage: perKey, from: 'source', replicas: 4, partition: { by: (e: Ev) => e.key } } },
      sink,
      logLevel: 'silent',
    });
    await pipeline.start();
    await pushAll((e) => pipeline.push(e), 0, 2_000);
    const result = await pipeline.scale('work', 2);
    await pushAll((e) => pipeline.push(e), 2_000, 4_000);
    source.end();
    await pipeline.done;
    expect(result.replicas).toBe(2);
    expect(result.removed.map((r) => r.name)).toEqual(['work#3', 'work#2']);
    const handedBack = result.removed.reduce((sum, r) => sum + Object.values(r.state as Record<string, number>).reduce((a, b) => a + b, 0), 0);
    expect(handedBack).toBeGreaterThan(0);
    expect(sink.items).toHaveLength(4_000);
    for (const seqs of byKey(sink.items).values()) expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  });

  it('rebalances per-key state so that each key is counted whole by the replica that now owns it', async () => {
    const { source, sink, pipeline } = setup();
    await pipeline.start();
    await pushAll((e) => pipeline.push(e), 0, 2_600);
    const owner = (key: number, replicas: number) => key % replicas; // the partition of non-negative integer keys
    await pipeline.scale('work', 3, {
      rebalance: (states, replicas) => {
        const merged: Record<string, number> = {};
        for (const state of states as Array<Record<string, number>>) for (const [k, n] of Object.entries(state)) merged[k] = (merged[k] ?? 0) + n;
        const next: Array<Record<string, number>> = Array.from({ length: replicas }, () => ({}));
        for (const [k, n] of Object.entries(merged)) (next[owner(Number(k), replicas)] as Record<string, number>)[k] = n;
        return next;
      },
    });
    await pushAll((e) => pipeline.push(e), 2_600, 5_200);
    source.end();
    await pipeline.done;
    expect(sink.items).toHaveLength(5_200);
    const names = ['work', 'work#1', 'work#2'];
    for (let key = 0; key < 13; key++) {
      const holders = names.filter((n) => (pipeline.stageState<Record<string, number>>(n)[key] ?? 0) > 0);
      expect(holders, `key ${key}`).toEqual([names[owner(key, 3)]]);
      expect(pipeline.stageState<Record<string, number>>(names[owner(key, 3)] as string)[key]).toBe(400);
    }
  });

  it('refuses bad requests with typed errors and keeps running', async () => {
    const { source, sink, pipeline } = setup();
    await expect(pipeline.scale('work', 2)).rejects.toMatchObject({ code: 'PIPELINE_STATE_INVALID' });
    await pipeline.start();
    await expect(pipeline.scale('nope', 2)).rejects.toMatchObject({ code: 'CONFIG_INVALID', field: 'scale(node)' });
    await expect(pipeline.scale('sink', 2)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(pipeline.scale('work', 0)).rejects.toMatchObject({ code: 'CONFIG_INVALID', field: 'scale(replicas)' });
    await pushAll((e) => pipeline.push(e), 0, 100);
    const error = await pipeline.scale('work', 2, { rebalance: () => [] }).then(
      () => undefined,
      (e: SteadfastError) => e,
    );
    expect(error?.code).toBe('CONFIG_INVALID');
    await pushAll((e) => pipeline.push(e), 100, 200);
    source.end();
    await pipeline.done;
    expect(sink.items).toHaveLength(200);
  });
});

describe('swapping the logic of a running stage', () => {
  it('hands the waiting events to the new logic with the migrated state, losing none', async () => {
    const v1 = defineStage({
      name: 'scorer',
      initialState: () => ({ count: 0 }),
      process: (n: number, s: { count: number }) => ({ state: { count: s.count + 1 }, emit: [{ n, score: n * 2, by: 'v1' }] }),
    });
    const v2 = defineStage({
      name: 'scorer-v2',
      initialState: () => ({ total: 0, version: 2 }),
      process: (n: number, s: { total: number; version: number }) => ({ state: { ...s, total: s.total + 1 }, emit: [{ n, score: n * 3, by: 'v2' }] }),
    });
    const source = pushSource<number>();
    const sink = toArray<{ n: number; score: number; by: string }>();
    const pipeline = createPipeline({ name: 'swap', source, stages: [v1], sink, logLevel: 'silent' });
    await pipeline.start();
    for (let n = 0; n < 1_000; n++) await pipeline.push(n);
    await pipeline.swap(v1, v2, { migrate: (state) => ({ total: (state as { count: number }).count, version: 2 }) });
    for (let n = 1_000; n < 2_000; n++) await pipeline.push(n);
    source.end();
    await pipeline.done;
    expect(sink.items.map((o) => o.n)).toEqual(Array.from({ length: 2_000 }, (_, i) => i));
    for (const o of sink.items) expect(o.score).toBe(o.by === 'v1' ? o.n * 2 : o.n * 3);
    const firstV2 = sink.items.findIndex((o) => o.by === 'v2');
    expect(firstV2).toBeGreaterThan(0);
    expect(sink.items.slice(firstV2).every((o) => o.by === 'v2')).toBe(true);
    expect(pipeline.stageState('scorer')).toEqual({ total: 2_000, version: 2 });
  });
});
