// A thread stage's timeout or crash in the middle of a batch fails the event that hung or crashed
// the worker, alone: the other events of the batch run again in a fresh worker, from the state
// the batch started from (issue 10, item 2, in the default mode where batches hold many events).
import { describe, expect, it } from 'vitest';
import { createCheckpointStore } from '../../src/checkpoint/create-store.js';
import { createPipeline, pushSource, toArray, type AnyStage, type StageCallError, type SteadfastError } from '../../src/index.js';
import { countExiting, countSpinning, countSpinningRestart, countThrowingLater } from './fixtures/counting.js';
import { spinsOnTwo, spinsOnTwoRestarting } from './fixtures/runaway.js';

const report = (errors: SteadfastError[]) => errors.map((e) => [e.code, (e as StageCallError).offsets]);
const numbers = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

/**
 * Runs `events` through `stage` in the default mode, all pushed before the start. With a long
 * `targetBatchMs` (`pinned` below, and the counting fixtures) the batches are then always the same:
 * the first call is a probe of one event (batch sizes adapt from it), the second takes all the
 * others. Without it the batch sizes depend on how fast the probe was.
 */
async function runOver(stage: AnyStage, events: unknown[], extra: { checkpoint?: object } = {}) {
  const errors: SteadfastError[] = [];
  const sink = toArray<unknown>();
  const source = pushSource<unknown>();
  const pushed = Promise.all(events.map((event) => source.push(event)));
  source.end();
  const pipeline = createPipeline({
    name: 'iso-batch',
    source,
    stages: [stage],
    sink,
    onError: (e) => errors.push(e),
    logLevel: 'silent',
    supervision: { backoff: { minMs: 1, maxMs: 1, factor: 1, jitter: 0 } },
    ...extra,
  });
  const stats = await pipeline.run();
  await pushed;
  return { errors, items: sink.items, stats: stats.stages[stage.name], state: pipeline.stageState(stage.name) };
}

/** The same stage with a long `targetBatchMs`, so that the batches do not depend on how fast the probe call was. */
const pinned = (stage: AnyStage): AnyStage => ({ ...stage, targetBatchMs: 10_000 });

describe('a thread stage whose event hangs in the middle of a batch (default mode)', () => {
  it.each([
    ['resume', spinsOnTwo, 0],
    ['restart', spinsOnTwoRestarting, 1],
  ] as const)("issue 10: with onFailure '%s', [1..6] with 2 spinning gives [1, 3, 4, 5, 6] and one STAGE_TIMEOUT, for offset 1", async (_, stage, restarts) => {
    const { errors, items, stats } = await runOver(stage, numbers(6));
    expect(items).toEqual([1, 3, 4, 5, 6]);
    expect(report(errors)).toEqual([['STAGE_TIMEOUT', [1]]]);
    expect(stats).toMatchObject({ eventsIn: 6, eventsOut: 5, failedEvents: 1, restarts });
  });

  it.each([
    ['resume', spinsOnTwo, 0],
    ['restart', spinsOnTwoRestarting, 1],
  ] as const)("with onFailure '%s', the events after the one that hung in its batch run again in a new worker", async (_, stage, restarts) => {
    const { errors, items, stats } = await runOver(pinned(stage), numbers(6));
    expect(items).toEqual([1, 3, 4, 5, 6]);
    expect(report(errors)).toEqual([['STAGE_TIMEOUT', [1]]]);
    // Event 2 hung in a call over 2..6: 3..6 were given back.
    expect(errors[0]?.message).toBe(`stage "${stage.name}" took longer than 200 ms at offset 1 (event 1 of 5 of its call); its worker thread was terminated`);
    expect(stats).toMatchObject({ eventsIn: 6, eventsOut: 5, failedEvents: 1, restarts });
  });

  it('a counting stage ends with the exact count: nothing counted twice, nothing lost but the event that hung', async () => {
    const { errors, items, stats, state } = await runOver(countSpinning, numbers(10));
    expect(report(errors)).toEqual([['STAGE_TIMEOUT', [4]]]);
    // Event 5 hung in a call over 2..10: 2..4 (counted in the dead worker) and 6..10 ran again from the state before the call.
    expect(errors[0]?.message).toContain('at offset 4 (event 4 of 9 of its call)');
    expect(state).toEqual({ n: 9, sum: 50 });
    expect(items).toEqual([1, 2, 3, 4, 6, 7, 8, 9, 10]);
    expect(stats).toMatchObject({ eventsIn: 10, failedEvents: 1 });
  });

  it('the same under restart with checkpoints: the restarted stage replays from its snapshot and counts each event once', async () => {
    const { errors, items, stats, state } = await runOver(countSpinningRestart, numbers(10), {
      checkpoint: { store: createCheckpointStore({ kind: 'memory' }), everyEvents: 0, everyMs: 0 },
    });
    expect(report(errors)).toEqual([['STAGE_TIMEOUT', [4]]]);
    expect(errors[0]?.message).toContain('at offset 4 (event 4 of 9 of its call)');
    expect(state).toEqual({ n: 9, sum: 50 });
    expect(items).toEqual([1, 2, 3, 4, 6, 7, 8, 9, 10]);
    expect(stats?.restarts).toBe(1);
  });
});

describe('a thread stage whose worker dies in the middle of a batch (default mode)', () => {
  it('process.exit() in event 5: only that event fails (STAGE_CRASHED), the count is exact', async () => {
    const { errors, items, state } = await runOver(countExiting, numbers(10));
    expect(report(errors)).toEqual([['STAGE_CRASHED', [4]]]);
    expect(errors[0]?.message).toBe('stage "count-exiting" crashed at offset 4 (event 4 of 9 of its call): its worker thread exited with code 5');
    expect(state).toEqual({ n: 9, sum: 50 });
    expect(items).toEqual([1, 2, 3, 4, 6, 7, 8, 9, 10]);
  });

  it('an uncaught error in the worker while event 5 waits: only that event fails (STAGE_CRASHED), the count is exact', async () => {
    const { errors, items, state } = await runOver(countThrowingLater, numbers(10));
    expect(report(errors)).toEqual([['STAGE_CRASHED', [4]]]);
    expect(errors[0]?.message).toBe('stage "count-throwing-later" crashed at offset 4 (event 4 of 9 of its call): uncaught error in its worker thread: boom in a timer of event 5');
    expect(state).toEqual({ n: 9, sum: 50 });
    expect(items).toEqual([1, 2, 3, 4, 6, 7, 8, 9, 10]);
  });
});
