// Throughput that means work done (issue 12, item 5): stats() reports what each stage and the sink
// process per second, beside the source's read rate, on a simulated clock.
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../src/core/simulated-clock.js';
import { createPipeline, defineStage, fromIterable, toArray } from '../../src/index.js';

const EVENTS = 300;
const STEP_MS = 100; // the slow stage's call per event: 10 events/s

function slowPipeline() {
  const clock = new SimulatedClock();
  const parse = defineStage({ name: 'parse', mailbox: 16, process: (e: number) => ({ emit: [e] }) });
  const slow = defineStage({
    name: 'slow',
    mailbox: 16,
    process: async (e: number) => {
      await new Promise<void>((resolve) => clock.setTimer(STEP_MS, resolve));
      return { emit: [e] };
    },
  });
  const sink = toArray<number>();
  const pipeline = createPipeline({ name: 'rates', source: fromIterable(Array.from({ length: EVENTS }, (_, i) => i)), stages: [parse, slow], sink, clock, logLevel: 'silent' });
  return { clock, pipeline, sink };
}

describe('throughput in stats()', () => {
  it('shows the sink doing what the slow last stage does, while the source reads ahead faster', async () => {
    const { clock, pipeline, sink } = slowPipeline();
    await pipeline.start();
    for (let s = 0; s < 15; s++) {
      await clock.advance(1_000);
      pipeline.stats(); // the status line reads often; the recent windows are sampled on reads
    }
    const stats = pipeline.stats();
    const delivered = sink.items.length;
    expect(delivered).toBeGreaterThanOrEqual(140);
    expect(delivered).toBeLessThanOrEqual(151);
    expect(stats.uptimeMs).toBe(15_000);

    // over the run: events done ÷ 15 s at the sink and at the slow stage; the source has read ahead
    const sinkStats = Object.values(stats.stages).find((s) => s.kind === 'sink');
    expect(sinkStats?.eventsIn).toBe(delivered);
    expect(stats.sinkPerSecond).toBeCloseTo((delivered * 1000) / 15_000, 9);
    expect(stats.sinkPerSecond).toBeGreaterThan(9);
    expect(stats.sinkPerSecond).toBeLessThanOrEqual(10.1);
    expect(stats.stages.slow?.processedPerSecond).toBeGreaterThan(9);
    expect(stats.stages.slow?.processedPerSecond).toBeLessThanOrEqual(10.1);
    expect(stats.eventsPerSecond).toBeGreaterThan(stats.sinkPerSecond + 1.5); // the mailboxes' worth read ahead
    expect(stats.stages.parse?.processedPerSecond).toBeGreaterThan(stats.sinkPerSecond);

    // over the last 10 s: every node runs at the slow stage's pace, the read rate included (backpressure)
    expect(stats.recent.windowMs).toBe(10_000);
    expect(stats.recent.sinkPerSecond).toBeGreaterThanOrEqual(9.5);
    expect(stats.recent.sinkPerSecond).toBeLessThanOrEqual(10.5);
    expect(stats.stages.slow?.recentPerSecond).toBeCloseTo(stats.recent.sinkPerSecond, 0);
    expect(stats.recent.sourcePerSecond).toBeGreaterThanOrEqual(9);
    expect(stats.recent.sourcePerSecond).toBeLessThanOrEqual(11);

    // the source done and everything delivered, the run has ended: its rates stay those of its end
    while (sink.items.length < EVENTS) await clock.advance(1_000);
    await pipeline.done;
    const ended = pipeline.stats();
    expect(ended.status).toBe('stopped');
    await clock.advance(60_000);
    const after = pipeline.stats();
    expect(after.uptimeMs).toBe(ended.uptimeMs);
    expect(after.sinkPerSecond).toBeCloseTo((EVENTS * 1000) / after.uptimeMs, 9);
    expect(after.eventsPerSecond).toBeCloseTo(after.sinkPerSecond, 9); // everything read was delivered
    expect(after.recent).toEqual(ended.recent);
    expect(after.recent.sinkPerSecond).toBeGreaterThanOrEqual(9);
    expect(after.recent.sinkPerSecond).toBeLessThanOrEqual(10.5);
    await pipeline.stop();
  });

  it('counts every sink in the sink rate: a graph sink node and the pipeline’s sink', async () => {
    const clock = new SimulatedClock();
    const slow = defineStage({
      name: 'slow',
      process: async (e: number) => {
        await new Promise<void>((resolve) => clock.setTimer(STEP_MS, resolve));
        return { emit: [e] };
      },
    });
    const copy = defineStage({ name: 'copy', process: (e: number) => ({ emit: [e] }) });
    const archive = toArray<number>();
    const sink = toArray<number>();
    const pipeline = createPipeline({
      name: 'two-sinks',
      source: fromIterable(Array.from({ length: 50 }, (_, i) => i)),
      graph: { slow: { stage: slow, from: 'source' }, copy: { stage: copy, from: 'source' }, archive: { sink: archive, from: 'copy' } },
      sink,
      clock,
      logLevel: 'silent',
    });
    await pipeline.start();
    while (sink.items.length < 50) await clock.advance(1_000);
    const stats = await pipeline.done;
    expect(archive.items).toHaveLength(50);
    const sinks = Object.values(stats.stages).filter((s) => s.kind === 'sink');
    expect(sinks).toHaveLength(2);
    expect(stats.uptimeMs).toBeGreaterThanOrEqual(5_000);
    expect(stats.sinkPerSecond).toBeCloseTo((100 * 1000) / stats.uptimeMs, 9);
    expect(stats.sinkPerSecond).toBeCloseTo(sinks.reduce((sum, s) => sum + s.processedPerSecond, 0), 9);
    expect(stats.eventsPerSecond).toBeCloseTo(stats.sinkPerSecond / 2, 9); // each event read reaches both sinks
  });

  it('reports no rate before the run starts', () => {
    const { pipeline } = slowPipeline();
    const stats = pipeline.stats();
    expect(stats.sinkPerSecond).toBe(0);
    expect(stats.recent).toEqual({ windowMs: 10_000, sourcePerSecond: 0, sinkPerSecond: 0 });
    expect(stats.stages.slow).toMatchObject({ processedPerSecond: 0, recentPerSecond: 0 });
  });
});
