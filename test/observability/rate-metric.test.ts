// The gauge steadfast_stage_events_per_second (issue 12, item 5): what each stage instance and the
// sink processed per second over the last 10 s, in a strictly parsed exposition.
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../src/core/simulated-clock.js';
import { createPipeline, defineStage, fromIterable, toArray } from '../../src/index.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { parseExposition, samplesOf, valueOf } from './exposition.js';

describe('steadfast_stage_events_per_second', () => {
  it('shows the recent rate of each stage instance and of the sink, the slow stage setting the pace', async () => {
    const clock = new SimulatedClock();
    const parse = defineStage({ name: 'parse', mailbox: 8, process: (e: number) => ({ emit: [e] }) });
    const slow = defineStage({
      name: 'slow',
      mailbox: 8,
      process: async (e: number) => {
        await new Promise<void>((resolve) => clock.setTimer(50, resolve)); // 20 events/s
        return { emit: [e] };
      },
    });
    const events = Array.from({ length: 400 }, (_, i) => i);
    const pipeline = createPipeline({ name: 'paced', source: fromIterable(events), stages: [parse, slow], sink: toArray(), clock, logLevel: 'silent' });
    const metrics = createMetrics();
    metrics.track(pipeline);
    await pipeline.start();
    let text = await metrics.expose();
    for (let s = 0; s < 12; s++) {
      await clock.advance(1_000);
      text = await metrics.expose(); // each scrape samples the windows
    }
    const families = parseExposition(text);
    expect(families.get('steadfast_stage_events_per_second')?.type).toBe('gauge');
    const sink = Object.values(pipeline.stats().stages).find((s) => s.kind === 'sink');
    expect(sink).toBeDefined();
    const rateOf = (stage: string) => valueOf(families, 'steadfast_stage_events_per_second', { pipeline: 'paced', stage });
    for (const stage of ['parse', 'slow', sink?.name ?? '']) {
      expect(rateOf(stage), stage).toBeGreaterThanOrEqual(19);
      expect(rateOf(stage), stage).toBeLessThanOrEqual(21);
    }
    expect(rateOf('slow')).toBe(pipeline.stats().stages.slow?.recentPerSecond);
    expect(samplesOf(families, 'steadfast_stage_events_per_second').map((s) => s.labels.stage).sort()).toEqual([sink?.name, 'parse', 'slow'].sort());

    await clock.advance(20_000); // the rest: 400 events at 20/s
    await pipeline.done;
    metrics.untrack(pipeline);
    expect(samplesOf(parseExposition(await metrics.expose()), 'steadfast_stage_events_per_second')).toEqual([]);
  });
});
