// A scale() or swap() accepted while a checkpoint is in flight waits for it; the race to find
// (issue 10, item 11) was the input ending meanwhile, or the final checkpoint starting in the
// middle of the reshape.
import { describe, expect, it } from 'vitest';
import { createPipeline, defineStage, pushSource, toArray } from '../../src/index.js';
import { faultyStore } from '../helpers/faulty-store.js';

const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 5));

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !check(); i++) await tick();
  expect(check()).toBe(true);
}

const work = defineStage({ name: 'work', initialState: () => ({ n: 0 }), process: (e: number, s: { n: number }) => ({ state: { n: s.n + 1 }, emit: [e] }) });
const tally = defineStage({ name: 'tally', initialState: () => ({ n: 0, sum: 0 }), process: (e: number, s: { n: number; sum: number }) => ({ state: { n: s.n + 1, sum: s.sum + e }, emit: [e] }) });

function scaled(store: ReturnType<typeof faultyStore>['store']) {
  const source = pushSource<number>();
  const sink = toArray<number>();
  const pipeline = createPipeline({
    name: 'scaled',
    source,
    graph: { work: { stage: work, from: 'source', partition: 'roundRobin' }, tally: { stage: tally, from: 'work' } },
    sink,
    logLevel: 'silent',
    checkpoint: { store, everyEvents: 0, everyMs: 0 },
  });
  return { source, sink, pipeline };
}

describe('a reshape during a checkpoint', () => {
  it('still scales when the input ends while it waits for the checkpoint in flight', async () => {
    const { store, control } = faultyStore();
    const { source, sink, pipeline } = scaled(store);
    await pipeline.start();
    for (let i = 1; i <= 10; i++) await pipeline.push(i);
    control.hold();
    const first = pipeline.checkpoint();
    await until(() => control.writes.length > 0);
    const scaling = pipeline.scale('work', 3);
    // The input goes on and ends while the scale waits for its turn.
    const pushed = [11, 12, 13].map((n) => pipeline.push(n));
    source.end();
    await tick();
    control.release();
    await expect(scaling).resolves.toEqual({ replicas: 3, removed: [] });
    await first;
    await Promise.all(pushed);
    const stats = await pipeline.done;
    expect(Object.keys(stats.stages)).toEqual(expect.arrayContaining(['work', 'work#1', 'work#2']));
    expect(pipeline.stageState('tally')).toEqual({ n: 13, sum: 91 });
    expect([...sink.items].sort((a, b) => a - b)).toEqual(Array.from({ length: 13 }, (_, i) => i + 1));
    // The final checkpoint came after the scale and covers every event.
    expect(stats.checkpoint?.last?.offset).toBe(12);
    expect(stats.checkpoint?.failed).toBe(0);
  });

  it('lets a stop() during the wait fail the scale with PIPELINE_STATE_INVALID, and stops', async () => {
    const { store, control } = faultyStore();
    const { pipeline } = scaled(store);
    await pipeline.start();
    await pipeline.push(1);
    control.hold();
    void pipeline.checkpoint().catch(() => {});
    await until(() => control.writes.length > 0);
    const scaling = pipeline.scale('work', 2);
    const stopping = pipeline.stop();
    control.release();
    await expect(scaling).rejects.toMatchObject({ code: 'PIPELINE_STATE_INVALID' });
    await stopping;
    expect(pipeline.status).toBe('stopped');
  });
});
