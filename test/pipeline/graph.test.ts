import { describe, expect, it } from 'vitest';
import { createPipeline, defineStage, fromIterable, isSteadfastError, toArray, type ConfigError } from '../../src/index.js';

interface Ev {
  id: number;
  key: number;
}

const pass = (name: string) => defineStage({ name, process: (e: Ev) => ({ state: undefined, emit: [e] }) });
const tag = (name: string) => defineStage({ name, process: (e: Ev) => ({ state: undefined, emit: [{ ...e, via: name }] }) });
const events = (n: number, keys = 10): Ev[] => Array.from({ length: n }, (_, i) => ({ id: i, key: i % keys }));

/** Per-key sequence of ids as seen by a stage instance: the replica records what it processed. */
const recorder = defineStage({
  name: 'recorder',
  initialState: () => ({ ids: {} as Record<number, number[]> }),
  process: (e: Ev, s: { ids: Record<number, number[]> }) => {
    (s.ids[e.key] ??= []).push(e.id);
    return { state: s, emit: [e] };
  },
});

describe('graph pipelines', () => {
  it('broadcasts every output to each node reading the same input (fan-out)', async () => {
    const a = toArray<Ev & { via: string }>();
    const b = toArray<Ev & { via: string }>();
    const pipeline = createPipeline({
      name: 'fanout',
      source: fromIterable(events(1000)),
      graph: {
        parse: { stage: pass('parse'), from: 'source' },
        left: { stage: tag('left'), from: 'parse' },
        right: { stage: tag('right'), from: 'parse' },
        leftOut: { sink: a, from: 'left' },
        rightOut: { sink: b, from: 'right' },
      },
      logLevel: 'silent',
    });
    await pipeline.run();
    expect(a.items.map((e) => e.id)).toEqual(events(1000).map((e) => e.id));
    expect(b.items.map((e) => e.id)).toEqual(events(1000).map((e) => e.id));
    expect(new Set(a.items.map((e) => e.via))).toEqual(new Set(['left']));
    expect(new Set(b.items.map((e) => e.via))).toEqual(new Set(['right']));
  });

  it('routes by predicate and counts outputs no route accepted', async () => {
    const sink = toArray<Ev & { via: string }>();
    const pipeline = createPipeline({
      name: 'routing',
      source: fromIterable(events(1000)),
      graph: {
        parse: { stage: pass('parse'), from: 'source' },
        small: { stage: tag('small'), from: { node: 'parse', when: (e: Ev) => e.key < 3 } },
        big: { stage: tag('big'), from: { node: 'parse', when: (e: Ev) => e.key >= 5 } },
      },
      sink,
      logLevel: 'silent',
    });
    const stats = await pipeline.run();
    const small = sink.items.filter((e) => e.via === 'small');
    const big = sink.items.filter((e) => e.via === 'big');
    expect(small.map((e) => e.id)).toEqual(events(1000).filter((e) => e.key < 3).map((e) => e.id));
    expect(big.map((e) => e.id)).toEqual(events(1000).filter((e) => e.key >= 5).map((e) => e.id));
    expect(stats.stages.parse?.unrouted).toBe(events(1000).filter((e) => e.key >= 3 && e.key < 5).length);
  });

  it('merges several inputs into one node (fan-in) and the pipeline sink reads every leaf', async () => {
    const sink = toArray<Ev & { via: string }>();
    const pipeline = createPipeline({
      name: 'fanin',
      source: fromIterable(events(2000)),
      graph: {
        even: { stage: tag('even'), from: { node: 'source', when: (e: Ev) => e.id % 2 === 0 } },
        odd: { stage: tag('odd'), from: { node: 'source', when: (e: Ev) => e.id % 2 === 1 } },
        merge: { stage: recorder, from: ['even', 'odd'] },
      },
      sink,
      logLevel: 'silent',
    });
    await pipeline.run();
    expect(sink.items.map((e) => e.id).sort((x, y) => x - y)).toEqual(events(2000).map((e) => e.id));
    // Each input keeps its own order through the merge.
    const evens = sink.items.filter((e) => e.via === 'even').map((e) => e.id);
    const odds = sink.items.filter((e) => e.via === 'odd').map((e) => e.id);
    expect(evens).toEqual([...evens].sort((x, y) => x - y));
    expect(odds).toEqual([...odds].sort((x, y) => x - y));
  });

  it('wakes a producer waiting for room that another producer reserved and then did not use', async () => {
    const dropAll = defineStage({ name: 'dropAll', process: () => ({ state: undefined }) });
    const sink = toArray<Ev>();
    const small = defineStage({ name: 'small', mailbox: 4, maxBatch: 4, process: (e: Ev) => ({ state: undefined, emit: [e] }) });
    const pipeline = createPipeline({
      name: 'reserved',
      source: fromIterable(events(5000)),
      graph: {
        drop: { stage: dropAll, from: 'source' },
        keep: { stage: pass('keep'), from: 'source' },
        merge: { stage: small, from: ['drop', 'keep'] },
      },
      sink,
      logLevel: 'silent',
    });
    await pipeline.run();
    expect(sink.items.map((e) => e.id)).toEqual(events(5000).map((e) => e.id));
  });

  it('keeps each key on one replica and its order, when partitioned by key', async () => {
    const sink = toArray<Ev>();
    const input = events(20_000, 97);
    const pipeline = createPipeline({
      name: 'bykey',
      source: fromIterable(input),
      graph: { work: { stage: recorder, from: 'source', replicas: 4, partition: { by: (e: Ev) => `k${e.key}` } } },
      sink,
      logLevel: 'silent',
    });
    const stats = await pipeline.run();
    const owners = new Map<number, string>();
    for (let r = 0; r < 4; r++) {
      const { ids } = pipeline.stageState(`work#${r}`) as { ids: Record<number, number[]> };
      for (const [key, list] of Object.entries(ids)) {
        expect(owners.has(Number(key))).toBe(false);
        owners.set(Number(key), `work#${r}`);
        expect(list).toEqual(input.filter((e) => e.key === Number(key)).map((e) => e.id));
      }
    }
    expect(owners.size).toBe(97);
    // Every replica got a share, and per key the sink sees ids in order.
    for (let r = 0; r < 4; r++) expect(stats.stages[`work#${r}`]?.eventsIn).toBeGreaterThan(0);
    const perKey = new Map<number, number[]>();
    for (const e of sink.items) (perKey.get(e.key) ?? perKey.set(e.key, []).get(e.key))?.push(e.id);
    for (const [key, ids] of perKey) expect(ids).toEqual(input.filter((e) => e.key === key).map((e) => e.id));
  });

  it('spreads events evenly over replicas round-robin', async () => {
    const pipeline = createPipeline({
      name: 'rr',
      source: fromIterable(events(3000)),
      graph: { work: { stage: pass('work'), from: 'source', replicas: 3 } },
      logLevel: 'silent',
    });
    const stats = await pipeline.run();
    expect([0, 1, 2].map((r) => stats.stages[`work#${r}`]?.eventsIn)).toEqual([1000, 1000, 1000]);
  });

  it('reports an exception thrown by a route predicate as ROUTE_FAILED and goes on', async () => {
    const errors: unknown[] = [];
    const sink = toArray<Ev>();
    const pipeline = createPipeline({
      name: 'badroute',
      source: fromIterable(events(10)),
      graph: {
        a: {
          stage: pass('a'),
          from: {
            node: 'source',
            when: (e: Ev) => {
              if (e.id === 4) throw new Error('bad predicate');
              return true;
            },
          },
        },
      },
      sink,
      onError: (e) => errors.push(e),
      logLevel: 'silent',
    });
    await pipeline.run();
    expect(sink.items.map((e) => e.id)).toEqual([0, 1, 2, 3, 5, 6, 7, 8, 9]);
    expect(errors).toHaveLength(1);
    expect(isSteadfastError(errors[0], 'ROUTE_FAILED')).toBe(true);
    expect((errors[0] as { offsets: number[] }).offsets).toEqual([4]);
  });
});

describe('graph validation', () => {
  const configError = (build: () => unknown): ConfigError => {
    try {
      build();
    } catch (error) {
      expect(isSteadfastError(error, 'CONFIG_INVALID')).toBe(true);
      return error as ConfigError;
    }
    throw new Error('expected a CONFIG_INVALID error');
  };
  const source = () => fromIterable([1]);

  it('rejects a cycle, naming it', () => {
    const error = configError(() =>
      createPipeline({
        name: 'cycle',
        source: source(),
        graph: { a: { stage: pass('a'), from: ['source', 'c'] }, b: { stage: pass('b'), from: 'a' }, c: { stage: pass('c'), from: 'b' } },
      }),
    );
    expect(error.message).toMatch(/cycle/);
    expect(String(error.value)).toMatch(/a -> b -> c -> a|b -> c -> a -> b|c -> a -> b -> c/);
  });

  it('rejects an input that names no node', () => {
    const error = configError(() => createPipeline({ name: 'g', source: source(), graph: { a: { stage: pass('a'), from: 'nope' } } }));
    expect(error.field).toBe('graph.a.from');
    expect(error.value).toBe('nope');
  });

  it('rejects reading from a sink node, the reserved name source, and a doubled input', () => {
    expect(
      configError(() =>
        createPipeline({ name: 'g', source: source(), graph: { out: { sink: toArray(), from: 'source' }, a: { stage: pass('a'), from: 'out' } } }),
      ).message,
    ).toMatch(/sink/);
    expect(configError(() => createPipeline({ name: 'g', source: source(), graph: { source: { stage: pass('a'), from: 'source' } } })).field).toBe(
      'graph.source',
    );
    expect(
      configError(() => createPipeline({ name: 'g', source: source(), graph: { a: { stage: pass('a'), from: ['source', 'source'] } } })).message,
    ).toMatch(/twice/);
  });

  it('rejects bad replicas and partition options', () => {
    expect(configError(() => createPipeline({ name: 'g', source: source(), graph: { a: { stage: pass('a'), from: 'source', replicas: 0 } } })).field).toBe(
      'graph.a.replicas',
    );
    expect(
      configError(() =>
        createPipeline({ name: 'g', source: source(), graph: { a: { stage: pass('a'), from: 'source', replicas: 2, partition: 'hash' as 'roundRobin' } } }),
      ).field,
    ).toBe('graph.a.partition');
  });

  it('rejects both or neither of stages and graph, and a non-unique chain', () => {
    expect(configError(() => createPipeline({ name: 'g', source: source() })).field).toBe('pipeline.stages');
    expect(configError(() => createPipeline({ name: 'g', source: source(), stages: [pass('a')], graph: {} })).field).toBe('pipeline.stages');
    expect(configError(() => createPipeline({ name: 'g', source: source(), stages: [pass('a'), pass('a')] })).field).toBe('stages[1].name');
  });
});
