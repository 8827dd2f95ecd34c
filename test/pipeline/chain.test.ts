import { describe, expect, it } from 'vitest';
import { createPipeline, defineStage, fromIterable, toArray, type StageContext } from '../../src/index.js';
import { activeResources, leakedSince, settle } from '../helpers/leaks.js';

const double = defineStage({ name: 'double', process: (n: number) => ({ state: undefined, emit: [n * 2] }) });
const count = defineStage({
  name: 'count',
  initialState: () => ({ seen: 0, sum: 0 }),
  process: (n: number, s: { seen: number; sum: number }) => ({ state: { seen: s.seen + 1, sum: s.sum + n }, emit: [n + 1] }),
});

describe('a chain of stages', () => {
  it('runs every event through every stage, in order, and keeps each stage state', async () => {
    const sink = toArray<number>();
    const input = Array.from({ length: 10_000 }, (_, i) => i);
    const pipeline = createPipeline({ name: 'chain', source: fromIterable(input), stages: [double, count], sink, logLevel: 'silent' });
    const stats = await pipeline.run();
    expect(sink.items).toEqual(input.map((n) => n * 2 + 1));
    expect(sink.offsets).toEqual(input.map((_, i) => i));
    expect(pipeline.stageState('count')).toEqual({ seen: 10_000, sum: input.reduce((a, n) => a + n * 2, 0) });
    // The stage itself names its node in a chain, and types the answer.
    const typed: { seen: number; sum: number } = pipeline.stageState(count);
    expect(typed.seen).toBe(10_000);
    expect(() => pipeline.stageState('nope')).toThrow(/must name a stage instance \(double, count, sink\)/);
    expect(stats.status).toBe('stopped');
    expect(stats.source.events).toBe(10_000);
    expect(stats.source.lastOffset).toBe(9_999);
    expect(stats.stages.double?.eventsIn).toBe(10_000);
    expect(stats.stages.count?.eventsOut).toBe(10_000);
    expect(stats.stages.sink?.eventsIn).toBe(10_000);
    expect(stats.stages.sink?.status).toBe('stopped');
    expect(pipeline.status).toBe('stopped');
  });

  it('supports several outputs per event, none, and processBatch', async () => {
    const explode = defineStage({ name: 'explode', process: (n: number) => ({ state: undefined, emit: Array.from({ length: n % 3 }, () => n) }) });
    const sum = defineStage({
      name: 'sum',
      initialState: 0,
      processBatch: (ns: readonly number[], s: number) => ({ state: s + ns.reduce((a, b) => a + b, 0), emit: [ns.length] }),
    });
    const sink = toArray<number>();
    const input = Array.from({ length: 3000 }, (_, i) => i);
    const pipeline = createPipeline({ name: 'shapes', source: fromIterable(input), stages: [explode, sum], sink, logLevel: 'silent' });
    await pipeline.run();
    const exploded = input.flatMap((n) => Array.from({ length: n % 3 }, () => n));
    expect(pipeline.stageState('sum')).toBe(exploded.reduce((a, b) => a + b, 0));
    // processBatch emits one output per call: the batch sizes add up to every exploded event.
    expect(sink.items.reduce((a, b) => a + b, 0)).toBe(exploded.length);
    // Outputs of a batch call carry the offset of the batch's last event, so offsets still increase.
    expect([...sink.offsets].sort((a, b) => a - b)).toEqual(sink.offsets);
  });

  it('awaits async stages and keeps order', async () => {
    const slow = defineStage({
      name: 'slow',
      process: async (n: number) => {
        if (n % 7 === 0) await new Promise((resolve) => setImmediate(resolve));
        return { state: undefined, emit: [n] };
      },
    });
    const sink = toArray<number>();
    const input = Array.from({ length: 500 }, (_, i) => i);
    await createPipeline({ name: 'async', source: fromIterable(input), stages: [slow], sink, logLevel: 'silent' }).run();
    expect(sink.items).toEqual(input);
  });

  it('gives each call the event offset, the batch offsets, an abort signal and a logger', async () => {
    const seen: Array<{ offset: number; inBatch: boolean; aborted: boolean; hasLog: boolean; stage: string }> = [];
    const probe = defineStage({
      name: 'probe',
      process: (n: number, _s: undefined, ctx: StageContext) => {
        seen.push({
          offset: ctx.offset,
          inBatch: ctx.offsets.includes(ctx.offset),
          aborted: ctx.signal.aborted,
          hasLog: typeof ctx.log.info === 'function',
          stage: ctx.stage,
        });
        return { state: undefined, emit: [n] };
      },
    });
    await createPipeline({ name: 'ctx', source: fromIterable(['a', 'b', 'c']), stages: [probe], logLevel: 'silent' }).run();
    expect(seen).toEqual([0, 1, 2].map((offset) => ({ offset, inBatch: true, aborted: false, hasLog: true, stage: 'probe' })));
  });

  it('runs without a sink, counting the outputs', async () => {
    const pipeline = createPipeline({ name: 'nosink', source: fromIterable([1, 2, 3]), stages: [double], logLevel: 'silent' });
    const stats = await pipeline.run();
    expect(stats.stages.double?.eventsOut).toBe(3);
    expect(Object.keys(stats.stages)).toEqual(['double']);
  });

  it('accepts a plain function as the sink', async () => {
    const got: Array<[number, number]> = [];
    await createPipeline({
      name: 'fnsink',
      source: fromIterable([5, 6]),
      stages: [double],
      sink: (value: number, offset: number) => {
        got.push([value, offset]);
      },
      logLevel: 'silent',
    }).run();
    expect(got).toEqual([
      [10, 0],
      [12, 1],
    ]);
  });

  it('handles an empty source', async () => {
    const sink = toArray();
    const stats = await createPipeline({ name: 'empty', source: fromIterable([]), stages: [double], sink, logLevel: 'silent' }).run();
    expect(sink.items).toEqual([]);
    expect(stats.source.events).toBe(0);
    expect(stats.status).toBe('stopped');
  });

  it('leaves no timers, handles or actors behind once done', async () => {
    const before = activeResources();
    const pipeline = createPipeline({
      name: 'leaks',
      source: fromIterable(Array.from({ length: 50_000 }, (_, i) => i)),
      stages: [double, count],
      sink: toArray(),
      logLevel: 'silent',
    });
    await pipeline.run();
    await settle();
    expect(leakedSince(before)).toEqual({});
    expect(Object.values(pipeline.stats().stages).map((s) => s.status)).toEqual(['stopped', 'stopped', 'stopped']);
  });
});
