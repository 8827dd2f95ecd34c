import { describe, expect, it } from 'vitest';
import { createPipeline, defineStage, fromIterable, toArray } from '../../src/index.js';
import type { CallObserved, PipelineObservation } from '../../src/pipeline/observer.js';

const fast = { backoff: { minMs: 1, maxMs: 5, factor: 2, jitter: 0, resetAfterMs: 60_000 } };
const numbers = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('pipeline.observe()', () => {
  it('tells of every finished call, with its events and outcome, as stats() counts them', async () => {
    const picky = defineStage({
      name: 'picky',
      onFailure: 'resume',
      process: (n: number) => {
        if (n % 10 === 3) throw new Error('no threes');
        return { emit: [n] };
      },
    });
    const pipeline = createPipeline({ name: 'obs', source: fromIterable(numbers(100)), stages: [picky], sink: toArray(), onError: () => {}, logLevel: 'silent' });
    const calls: CallObserved[] = [];
    pipeline.observe((event) => {
      if (event.type === 'steadfast.stage.call') calls.push(event);
    });
    const stats = await pipeline.run();
    const of = (stage: string) => calls.filter((c) => c.stage === stage);
    expect(of('picky')).toHaveLength(stats.stages.picky?.calls ?? -1);
    expect(of('picky').filter((c) => !c.ok)).toHaveLength(stats.stages.picky?.failedCalls ?? -1);
    // The calls went on past the failed events, and say how many they had.
    expect(of('picky').reduce((n, c) => n + c.failed, 0)).toBe(stats.stages.picky?.failedEvents);
    expect(stats.stages.picky?.failedEvents).toBe(10);
    expect(calls.every((c) => c.ms >= 0 && c.group === c.stage)).toBe(true);
  });

  it('counts each event once in the calls of a stage that never fails', async () => {
    const pipeline = createPipeline({ name: 'sum', source: fromIterable(numbers(500)), stages: [defineStage({ name: 'id', process: (n: number) => ({ emit: [n] }) })], sink: toArray(), logLevel: 'silent' });
    let events = 0;
    pipeline.observe((event) => {
      if (event.type === 'steadfast.stage.call' && event.stage === 'id') events += event.events;
    });
    await pipeline.run();
    expect(events).toBe(500);
  });

  it('forwards breaker transitions, stops after unsubscribe, and survives a throwing listener', async () => {
    let crashed = false;
    const crashy = defineStage({
      name: 'crashy',
      onFailure: 'restart',
      breaker: { consecutiveFailures: 1, openMs: 60_000 },
      degraded: 'skip',
      process: (n: number) => {
        if (n === 3 && !crashed) {
          crashed = true;
          throw new Error('boom');
        }
        return { emit: [n] };
      },
    });
    const sink = toArray<number>();
    const pipeline = createPipeline({ name: 'fwd', source: fromIterable(numbers(10)), stages: [crashy], sink, supervision: fast, onError: () => {}, logLevel: 'silent' });
    const seen: PipelineObservation[] = [];
    pipeline.observe(() => {
      throw new Error('a buggy listener');
    });
    const off = pipeline.observe((event) => seen.push(event));
    const late: PipelineObservation[] = [];
    const offLate = pipeline.observe((event) => late.push(event));
    offLate();
    await pipeline.run();
    off();
    expect(seen.filter((e) => e.type !== 'steadfast.stage.call')).toEqual([{ type: 'steadfast.breaker.transition', breaker: 'fwd.crashy', state: 'open' }]);
    expect(late).toEqual([]);
    expect(sink.items).toHaveLength(10); // skipped while open: the throwing listener broke nothing
  });

  it('tells of a restart by the supervisor', async () => {
    let crashed = false;
    const once = defineStage({
      name: 'once',
      onFailure: 'restart',
      process: (n: number) => {
        if (n === 2 && !crashed) {
          crashed = true;
          throw new Error('boom');
        }
        return { emit: [n] };
      },
    });
    const pipeline = createPipeline({ name: 'rst', source: fromIterable(numbers(5)), stages: [once], sink: toArray(), supervision: fast, onError: () => {}, logLevel: 'silent' });
    const seen: PipelineObservation[] = [];
    pipeline.observe((event) => seen.push(event));
    await pipeline.run();
    expect(seen.filter((e) => e.type === 'steadfast.supervisor.restarting')).toEqual([{ type: 'steadfast.supervisor.restarting', supervisor: 'rst', stage: 'once', exit: 'error', error: expect.anything() }]);
  });
});
