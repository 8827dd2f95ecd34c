import { describe, expect, it } from 'vitest';
import { createCheckpointStore } from '../../src/checkpoint/create-store.js';
import { faultyStore } from '../helpers/faulty-store.js';
import { createPipeline, defineStage, pushSource, type PipelineObservation } from '../../src/index.js';

interface Tally {
  n: number;
}

const tally = defineStage({
  name: 'tally',
  initialState: (): Tally => ({ n: 0 }),
  process: (e: number, state: Tally) => ({ state: { n: state.n + 1 }, emit: [e] }),
});

const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 5));

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !check(); i++) await tick();
  expect(check()).toBe(true);
}

describe('a checkpoint that fails', () => {
  it('settles the older checkpoint it superseded, rejects `done` for the failed final checkpoint, and lets go of the store', async () => {
    const { store, control } = faultyStore();
    const source = pushSource<number>();
    const pipeline = createPipeline({ name: 'full', source, stages: [tally], logLevel: 'silent', checkpoint: { store, everyEvents: 0, everyMs: 0 } });
    const seen: PipelineObservation[] = [];
    pipeline.observe((event) => seen.push(event));
    await pipeline.start();
    await pipeline.push(1);
    control.hold();
    const first = pipeline.checkpoint();
    await until(() => control.writes.includes(1));
    await pipeline.push(2);
    // Queued behind the first write; the final checkpoint below replaces it in the writer's queue.
    const second = pipeline.checkpoint();
    second.catch(() => {});
    await until(() => pipeline.stats().checkpoint?.inFlight === 2);
    await pipeline.push(3);
    control.failFrom = 3;
    source.end();
    await tick();
    control.release();

    await expect(first).resolves.toMatchObject({ version: 1 });
    await expect(second).rejects.toMatchObject({ code: 'CHECKPOINT_STORE_FAILED' });
    await expect(pipeline.done).rejects.toMatchObject({ code: 'CHECKPOINT_STORE_FAILED', message: expect.stringContaining('final checkpoint') });
    expect(pipeline.status).toBe('failed');
    const stats = pipeline.stats();
    expect(stats.checkpoint?.failed).toBeGreaterThanOrEqual(1);
    expect(stats.checkpoint?.last?.version).toBe(1);
    expect(seen.some((e) => e.type === 'steadfast.checkpoint.failed')).toBe(true);
    // The run let go of the store: the next run of the pipeline starts on it from checkpoint 1.
    control.failFrom = Number.POSITIVE_INFINITY;
    const next = createPipeline({ name: 'full', source: pushSource<number>(), stages: [tally], logLevel: 'silent', checkpoint: { store, everyEvents: 0, everyMs: 0 } });
    await next.start();
    expect(next.stats().checkpoint?.restored).toEqual({ version: 1, offset: 0 });
    await next.stop();
  });

  it('retries at the next barrier: after a failed checkpoint the next one completes', async () => {
    const { store, control } = faultyStore();
    const source = pushSource<number>();
    const pipeline = createPipeline({ name: 'retry', source, stages: [tally], logLevel: 'silent', checkpoint: { store, everyEvents: 0, everyMs: 0 } });
    await pipeline.start();
    await pipeline.push(1);
    control.failFrom = 1;
    await expect(pipeline.checkpoint()).rejects.toMatchObject({ code: 'CHECKPOINT_STORE_FAILED' });
    control.failFrom = Number.POSITIVE_INFINITY;
    await pipeline.push(2);
    await expect(pipeline.checkpoint()).resolves.toMatchObject({ version: 2, offset: 1 });
    source.end();
    const stats = await pipeline.done;
    expect(stats.checkpoint).toMatchObject({ failed: 1, completed: 2 });
  });

  it('keeps stop() within its budget while a snapshot write never returns', async () => {
    const { store, control } = faultyStore();
    const source = pushSource<number>();
    const pipeline = createPipeline({ name: 'hung', source, stages: [tally], logLevel: 'silent', checkpoint: { store, everyEvents: 0, everyMs: 0 } });
    await pipeline.start();
    await pipeline.push(1);
    control.hold(); // never released: a write that hangs
    pipeline.checkpoint().catch(() => {});
    await until(() => control.writes.includes(1));
    const started = Date.now();
    await expect(pipeline.stop({ timeoutMs: 300 })).rejects.toMatchObject({ code: 'STOP_TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(600);
    await expect(pipeline.done).rejects.toMatchObject({ code: 'STOP_TIMEOUT' });
    control.release();
  });

  it('reports a state the codec cannot encode as CHECKPOINT_ENCODE_FAILED', async () => {
    const inner = createCheckpointStore({ kind: 'memory' });
    const stage = defineStage({
      name: 'odd',
      initialState: (): object => ({}),
      // A getter that throws: no codec can read the value.
      process: (e: number) => ({
        state: {
          get broken(): never {
            throw new Error('unreadable');
          },
        },
        emit: [e],
      }),
    });
    const source = pushSource<number>();
    const pipeline = createPipeline({ name: 'enc', source, stages: [stage], logLevel: 'silent', checkpoint: { store: inner, everyEvents: 0, everyMs: 0 } });
    await pipeline.start();
    await pipeline.push(1);
    await expect(pipeline.checkpoint()).rejects.toMatchObject({ code: 'CHECKPOINT_ENCODE_FAILED' });
    source.end();
    await expect(pipeline.done).rejects.toMatchObject({ code: 'CHECKPOINT_ENCODE_FAILED' });
  });
});
