import { describe, expect, it } from 'vitest';
import { createPipeline, defineStage, fromIterable, isSteadfastError, toArray, type SteadfastError } from '../../src/index.js';

interface Out {
  n: number;
  by: string;
}

const main = defineStage({ name: 'score', process: (n: number) => ({ emit: [{ n, by: 'main' }] }) });
const candidate = (failOn: (n: number) => boolean = () => false) =>
  defineStage({
    name: 'score-v2',
    process: (n: number) => {
      if (failOn(n)) throw new Error(`v2 cannot score ${n}`);
      return { emit: [{ n, by: 'v2' }] };
    },
  });
const input = Array.from({ length: 10_000 }, (_, i) => i);

describe('variants', () => {
  it('send about their share of the events to the experimental stage, and every event is handled once', async () => {
    const sink = toArray<Out>();
    const pipeline = createPipeline({
      name: 'ab',
      source: fromIterable(input),
      graph: { score: { stage: main, from: 'source', variants: [{ stage: candidate(), share: 0.2 }] } },
      sink,
      logLevel: 'silent',
    });
    const stats = await pipeline.run();
    expect(sink.items.map((o) => o.n).sort((a, b) => a - b)).toEqual(input);
    const v2 = sink.items.filter((o) => o.by === 'v2').length;
    expect(v2).toBeGreaterThanOrEqual(1_950);
    expect(v2).toBeLessThanOrEqual(2_050);
    expect(stats.stages['score:score-v2']?.eventsIn).toBe(v2);
    expect(stats.stages.score?.eventsIn).toBe(10_000 - v2);
  });

  it('keep each key on one side when assigned by key', async () => {
    const sink = toArray<Out>();
    await createPipeline({
      name: 'sticky',
      source: fromIterable(input),
      graph: { score: { stage: main, from: 'source', variants: [{ stage: candidate(), share: 0.3, by: (n: number) => n % 50 }] } },
      sink,
      logLevel: 'silent',
    }).run();
    const sideOf = new Map<number, string>();
    for (const o of sink.items) {
      const key = o.n % 50;
      expect(sideOf.get(key) ?? o.by, `key ${key}`).toBe(o.by);
      sideOf.set(key, o.by);
    }
    expect(new Set(sideOf.values())).toEqual(new Set(['main', 'v2']));
  });

  it('fall back to the main stage for the events the variant fails on, without reporting them as errors', async () => {
    const errors: SteadfastError[] = [];
    const sink = toArray<Out>();
    const stats = await createPipeline({
      name: 'fallback',
      source: fromIterable(input),
      graph: { score: { stage: main, from: 'source', variants: [{ stage: candidate((n) => n % 7 === 0), share: 0.5 }] } },
      sink,
      onError: (e) => errors.push(e),
      logLevel: 'silent',
    }).run();
    expect(sink.items.map((o) => o.n).sort((a, b) => a - b)).toEqual(input);
    expect(sink.items.filter((o) => o.n % 7 === 0).every((o) => o.by === 'main')).toBe(true);
    expect(errors).toEqual([]);
    const fallbacks = stats.stages['score:score-v2']?.fallbacks ?? 0;
    expect(fallbacks).toBeGreaterThan(0);
    expect(stats.stages['score:score-v2']?.restarts).toBe(0);
  });

  it('keep the main stage open until the variant has sent back its last failed event', async () => {
    // A slow variant that fails everything: its failures reach the main stage long after the source ended.
    const slow = defineStage({
      name: 'slow-v2',
      process: async (n: number): Promise<{ emit: Out[] }> => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        throw new Error(`v2 cannot score ${n}`);
      },
    });
    const sink = toArray<Out>();
    const stats = await createPipeline({
      name: 'late-fallback',
      source: fromIterable(input.slice(0, 300)),
      graph: { score: { stage: main, from: 'source', variants: [{ stage: slow, share: 0.5 }] } },
      sink,
      onError: () => {},
      logLevel: 'silent',
    }).run();
    expect(sink.items.map((o) => o.n).sort((a, b) => a - b)).toEqual(input.slice(0, 300));
    expect(sink.items.every((o) => o.by === 'main')).toBe(true);
    expect(stats.stages['score:slow-v2']?.fallbacks).toBeGreaterThan(100);
  });

  it('are checked when the pipeline is created', () => {
    const build = (variants: unknown) => () =>
      createPipeline({ name: 'bad', source: fromIterable([1]), graph: { score: { stage: main, from: 'source', variants: variants as never } } });
    const fieldOf = (run: () => unknown) => {
      try {
        run();
      } catch (e) {
        expect(isSteadfastError(e, 'CONFIG_INVALID')).toBe(true);
        return (e as { field: string }).field;
      }
      throw new Error('expected CONFIG_INVALID');
    };
    expect(fieldOf(build([{ stage: candidate(), share: 1.5 }]))).toBe('graph.score.variants[0].share');
    expect(fieldOf(build([{ stage: candidate(), share: 0.6 }, { stage: defineStage({ name: 'v3', process: () => ({}) }), share: 0.6 }]))).toBe(
      'graph.score.variants[1].share',
    );
    expect(fieldOf(build([{ stage: main, share: 0.1 }]))).toBe('graph.score.variants[0].stage');
    expect(fieldOf(build([]))).toBe('graph.score.variants');
  });
});
