import { describe, expect, it } from 'vitest';
import { createPipeline, defineStage, fromIterable, pushSource, toArray, type Pipeline } from '../../src/index.js';
import { gatedStage } from '../helpers/gated-stage.js';

function* numbers(n: number): Generator<number> {
  for (let i = 0; i < n; i++) yield i;
}

const immediate = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('flow control', () => {
  it('bounds buffered events by the mailboxes when the last stage is slow and the source fast (1M events)', async () => {
    const N = 1_000_000;
    const ref: { pipeline?: Pipeline } = {};
    let worstLead = 0;
    const fast = (name: string) => defineStage({ name, process: (n: number) => ({ state: undefined, emit: [n] }) });
    const slow = defineStage({
      name: 'slow',
      initialState: 0,
      processBatch: async (ns: readonly number[], seen: number) => {
        await immediate();
        // How far the source has run ahead of what the slow stage has finished.
        const lead = (ref.pipeline?.stats().source.events ?? 0) - seen;
        if (lead > worstLead) worstLead = lead;
        return { state: seen + ns.length };
      },
    });
    const pipeline = createPipeline({ name: 'bounded', source: fromIterable(numbers(N)), stages: [fast('a'), fast('b'), slow], logLevel: 'silent' });
    ref.pipeline = pipeline;
    const stats = await pipeline.run();
    expect(pipeline.stageState('slow')).toBe(N);
    const mailboxes = Object.values(stats.stages).reduce((sum, s) => sum + s.mailbox.capacity, 0);
    expect(stats.buffered.capacity).toBe(mailboxes);
    expect(stats.buffered.peak).toBeGreaterThan(0);
    expect(stats.buffered.peak).toBeLessThanOrEqual(mailboxes);
    expect(worstLead).toBeLessThanOrEqual(mailboxes);
    for (const stage of Object.values(stats.stages)) expect(stage.mailbox.peak).toBeLessThanOrEqual(stage.mailbox.capacity);
    // The slow stage got batches, not single events: arrivals accumulated while it was busy.
    expect(stats.stages.slow?.meanBatch).toBeGreaterThan(50);
  });

  it('yields to the event loop during a long run of synchronous stages, so timers and I/O still run', async () => {
    const timerFiredAt: number[] = [];
    let processed = 0;
    const count = defineStage({
      name: 'count',
      process: (n: number) => {
        processed++;
        return { emit: [n] };
      },
    });
    const pipeline = createPipeline({ name: 'fair', source: fromIterable(numbers(2_000_000)), stages: [count], mode: 'throughput', logLevel: 'silent' });
    const timer = setInterval(() => timerFiredAt.push(processed), 5);
    try {
      await pipeline.run();
    } finally {
      clearInterval(timer);
    }
    // The interval fired while events were still flowing, not only after the run.
    expect(timerFiredAt.some((at) => at > 0 && at < 2_000_000)).toBe(true);
  });

  it('lets push() resolve only once the pipeline has taken the event in', async () => {
    const { stage: held, open } = gatedStage('held', 4);
    const source = pushSource<number>();
    const sink = toArray<number>();
    const pipeline = createPipeline({ name: 'push', source, stages: [held], sink, logLevel: 'silent' });
    await pipeline.start();
    let accepted = 0;
    const pushes = Array.from({ length: 20 }, (_, i) => pipeline.push(i).then(() => accepted++));
    for (let i = 0; i < 10; i++) await immediate();
    // One call in flight holding one event, plus a full mailbox: the rest wait.
    expect(accepted).toBe(4);
    expect(source.pending).toBe(16);
    open();
    await Promise.all(pushes);
    source.end();
    await pipeline.done;
    expect(sink.items).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('grows batches for a fast stage and shrinks them toward targetBatchMs for a slow one', async () => {
    const busyWait = (ms: number) => {
      const end = performance.now() + ms;
      while (performance.now() < end);
    };
    const slow = defineStage({
      name: 'slow',
      maxBatch: 256,
      targetBatchMs: 5,
      process: (n: number) => {
        busyWait(1);
        return { state: undefined, emit: [n] };
      },
    });
    const pipeline = createPipeline({ name: 'adaptive', source: fromIterable(numbers(300)), stages: [slow], logLevel: 'silent' });
    const stats = await pipeline.run();
    // About 1 ms per event and a 5 ms target: once measured, calls take about 5 events, never 256.
    expect(stats.stages.slow?.calls).toBeGreaterThan(300 / 10);
    expect(stats.stages.slow?.latency.perEventMs).toBeGreaterThanOrEqual(0.9);
  });
});
