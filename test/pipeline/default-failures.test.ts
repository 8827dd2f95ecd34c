// The default for a failed event (issue 10, item 20): reported and skipped, no restart per event;
// a stage that keeps failing is broken and restarted; bad options are refused.
import { describe, expect, it } from 'vitest';
import { createPipeline, defineStage, fromIterable, toArray, type SteadfastError } from '../../src/index.js';
import { expectConfigError } from '../helpers/config-error.js';

const numbers = (n: number) => Array.from({ length: n }, (_, i) => i);
const fast = { backoff: { minMs: 1, maxMs: 1, factor: 1, jitter: 0 } };

describe('a failed event, by default', () => {
  it('is reported and skipped, without a restart, even at 10 % poison events', async () => {
    const poison = (n: number) => n % 10 === 3;
    const stage = defineStage({
      name: 'count',
      initialState: () => ({ n: 0 }),
      process: (n: number, s: { n: number }) => {
        if (poison(n)) throw new Error(`poison ${n}`);
        return { state: { n: s.n + 1 }, emit: [n] };
      },
    });
    const errors: SteadfastError[] = [];
    const sink = toArray<number>();
    const pipeline = createPipeline({ name: 'poison', source: fromIterable(numbers(5_000)), stages: [stage], sink, onError: (e) => errors.push(e), logLevel: 'silent' });
    const started = performance.now();
    const stats = await pipeline.run();
    expect(performance.now() - started).toBeLessThan(10_000); // it crawled at ~1 event/s under restart backoff before
    expect(stats.supervision.restarts).toBe(0);
    expect(stats.stages.count?.failedEvents).toBe(500);
    expect(errors).toHaveLength(500);
    expect(errors.every((e) => e.code === 'STAGE_CALL_FAILED')).toBe(true);
    expect(sink.items).toEqual(numbers(5_000).filter((n) => !poison(n)));
    expect(pipeline.stageState('count')).toEqual({ n: 4_500 });
  });

  it('restarts a stage that fails restartAfterFailures events in a row, and the supervisor gives up on one that never recovers', async () => {
    let calls = 0;
    const broken = defineStage({
      name: 'broken',
      restartAfterFailures: 5,
      process: (): { emit: number[] } => {
        calls++;
        throw new Error('broken');
      },
    });
    const pipeline = createPipeline({
      name: 'broken',
      source: fromIterable(numbers(1_000)),
      stages: [broken],
      onError: () => {},
      logLevel: 'silent',
      supervision: { ...fast, maxRestarts: 3, withinMs: 60_000 },
    });
    await expect(pipeline.run()).rejects.toMatchObject({ code: 'RESTART_INTENSITY_EXCEEDED' });
    const stats = pipeline.stats();
    expect(stats.supervision.restarts).toBe(3);
    // 5 failures per incarnation, 4 incarnations: the rest of the input was never called.
    expect(calls).toBe(20);
  });

  it('counts failures in a row across calls and starts over after a success', async () => {
    // Runs of 4 failures between successes never reach 5 in a row, whatever the batch sizes.
    const flaky = defineStage({
      name: 'flaky',
      restartAfterFailures: 5,
      maxBatch: 3,
      process: (n: number) => {
        if (n % 5 !== 0) throw new Error(`no ${n}`);
        return { emit: [n] };
      },
    });
    const sink = toArray<number>();
    const stats = await createPipeline({ name: 'runs', source: fromIterable(numbers(200)), stages: [flaky], sink, onError: () => {}, logLevel: 'silent', supervision: fast }).run();
    expect(stats.supervision.restarts).toBe(0);
    expect(sink.items).toEqual(numbers(200).filter((n) => n % 5 === 0));

    const worse = defineStage({ name: 'worse', restartAfterFailures: 4, maxBatch: 3, process: flaky.process as never });
    const again = await createPipeline({ name: 'runs2', source: fromIterable(numbers(200)), stages: [worse], sink: toArray(), onError: () => {}, logLevel: 'silent', supervision: { ...fast, maxRestarts: 1_000 } }).run();
    expect(again.supervision.restarts).toBeGreaterThan(30);
  });

  it('never restarts with restartAfterFailures: 0, and restarts at every failure with onFailure: restart', async () => {
    const always = (name: string, options: object) =>
      defineStage({ name, ...options, process: (): { emit: number[] } => { throw new Error('no'); } });
    const never = await createPipeline({ name: 'never', source: fromIterable(numbers(100)), stages: [always('never', { restartAfterFailures: 0 })], onError: () => {}, logLevel: 'silent' }).run();
    expect(never.supervision.restarts).toBe(0);
    expect(never.stages.never?.failedEvents).toBe(100);

    const each = await createPipeline({
      name: 'each',
      source: fromIterable(numbers(5)),
      stages: [always('each', { onFailure: 'restart' })],
      onError: () => {},
      logLevel: 'silent',
      supervision: { ...fast, maxRestarts: 100 },
    }).run();
    expect(each.supervision.restarts).toBe(5);
  });

  it('counts a failed processBatch call as one failure in a row', async () => {
    const batches = defineStage({
      name: 'batches',
      restartAfterFailures: 2,
      maxBatch: 1,
      processBatch: (events: readonly number[]): { emit: number[] } => {
        if (events.some((n) => n >= 50)) throw new Error('late');
        return { emit: [...events] };
      },
    });
    const stats = await createPipeline({ name: 'b', source: fromIterable(numbers(60)), stages: [batches], onError: () => {}, logLevel: 'silent', supervision: { ...fast, maxRestarts: 100 } }).run();
    // One event per call: 10 failing calls, a restart after every second one.
    expect(stats.stages.batches?.failedEvents).toBe(10);
    expect(stats.supervision.restarts).toBe(5);
  });

  it('refuses a bad restartAfterFailures, and one given with onFailure: restart', () => {
    expectConfigError(() => defineStage({ name: 's', restartAfterFailures: -1, process: () => ({}) }), 'stage "s".restartAfterFailures', -1, '-1');
    expectConfigError(() => defineStage({ name: 's', restartAfterFailures: 1.5, process: () => ({}) }), 'stage "s".restartAfterFailures', 1.5, '1.5');
    expectConfigError(() => defineStage({ name: 's', onFailure: 'restart', restartAfterFailures: 3, process: () => ({}) }), 'stage "s".restartAfterFailures', 3, '3');
  });
});
