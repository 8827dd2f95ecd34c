// A pipeline on a simulated clock (issue 11, item 4): the restart's backoff and the checkpoint
// schedule move only when the test moves time.
import { describe, expect, it } from 'vitest';
import { createCheckpointStore } from '../../src/checkpoint/create-store.js';
import { SimulatedClock } from '../../src/core/simulated-clock.js';
import { createPipeline, defineStage, pushSource } from '../../src/index.js';

describe('a pipeline on a simulated clock', () => {
  it('restarts a crashed stage when its backoff has elapsed on the clock, and checkpoints every everyMs of it', async () => {
    const clock = new SimulatedClock();
    const seen: number[] = [];
    const stage = defineStage({
      name: 'count',
      onFailure: 'restart',
      initialState: () => ({ n: 0 }),
      process: (e: number, s: { n: number }) => {
        if (e === 3 && !seen.includes(3)) {
          seen.push(3);
          throw new Error('three, once');
        }
        seen.push(e);
        return { state: { n: s.n + 1 }, emit: [] };
      },
    });
    const source = pushSource<number>();
    const pipeline = createPipeline({
      name: 'sim',
      source,
      stages: [stage],
      clock,
      logLevel: 'silent',
      onError: () => {},
      supervision: { backoff: { minMs: 500, maxMs: 500, factor: 1, jitter: 0 } },
      checkpoint: { store: createCheckpointStore({ kind: 'memory' }), everyEvents: 0, everyMs: 1_000 },
    });
    await pipeline.start();
    for (const e of [1, 2, 3]) await pipeline.push(e);
    const fourth = pipeline.push(4);
    await clock.advance(0);
    expect(pipeline.stats().stages.count).toMatchObject({ status: 'crashed', restarts: 0 });
    await clock.advance(499);
    expect(pipeline.stats().stages.count?.restarts).toBe(0);
    await clock.advance(1);
    await fourth;
    await clock.advance(0);
    expect(pipeline.stats().stages.count?.restarts).toBe(1);
    // The new incarnation replays what the crashed one had processed since its last snapshot (1, 2), then goes on.
    expect(seen).toEqual([1, 2, 3, 1, 2, 4]);
    expect(pipeline.stats().checkpoint?.completed).toBe(0);
    await clock.advance(500); // 1,000 ms since the start: the schedule's first tick
    expect(pipeline.stats().checkpoint?.completed).toBe(1);
    expect(pipeline.stats().checkpoint?.last?.offset).toBe(3);
    source.end();
    await pipeline.done;
    expect(pipeline.stageState('count')).toEqual({ n: 3 });
  });
});
