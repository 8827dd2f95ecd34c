import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCheckpointStore } from '../../src/checkpoint/create-store.js';
import { createPipeline, defineStage, fromIterable, pushSource } from '../../src/index.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'steadfast-shared-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const count = () =>
  defineStage({
    name: 'count',
    initialState: () => ({ n: 0 }),
    process: (e: number, state: { n: number }) => ({ state: { n: state.n + 1 }, emit: [e] }),
  });

describe('pipelines sharing one checkpoint store object', () => {
  it('refuses a second live pipeline of the same name with CONFIG_INVALID, and leaves the first alone', async () => {
    const store = createCheckpointStore({ kind: 'memory' });
    const source = pushSource<number>();
    const first = createPipeline({ name: 'orders', source, stages: [count()], logLevel: 'silent', checkpoint: { store, everyEvents: 1 } });
    await first.start();
    await first.push(1);
    const second = createPipeline({ name: 'orders', source: fromIterable([1, 2]), stages: [count()], logLevel: 'silent', checkpoint: { store } });
    await expect(second.start()).rejects.toMatchObject({ code: 'CONFIG_INVALID', field: 'pipeline.name', message: expect.stringContaining('another pipeline of that name is running on it') });
    await first.push(2);
    source.end();
    const stats = await first.done;
    expect(stats.checkpoint?.last?.offset).toBe(1);
    expect(first.stageState('count')).toEqual({ n: 2 });

    // Once the first has ended the name is free again, and the memory store still holds its checkpoints.
    const third = createPipeline({ name: 'orders', source: fromIterable([0, 1, 2, 3]), stages: [count()], logLevel: 'silent', checkpoint: { store } });
    const resumed = await third.run();
    expect(resumed.checkpoint?.restored?.offset).toBe(1);
    expect(third.stageState('count')).toEqual({ n: 4 });
  });

  it('keeps a LevelDB store open until the last pipeline on it has ended', async () => {
    const store = createCheckpointStore({ dir });
    const source = pushSource<number>();
    const long = createPipeline({ name: 'long', source, stages: [count()], logLevel: 'silent', checkpoint: { store, everyEvents: 0, everyMs: 0 } });
    const short = createPipeline({ name: 'short', source: fromIterable([1, 2, 3]), stages: [count()], logLevel: 'silent', checkpoint: { store } });
    await long.start();
    await short.run();
    expect(store.isOpen).toBe(true);
    await long.push(7);
    await expect(long.checkpoint()).resolves.toMatchObject({ offset: 0 });
    source.end();
    await long.done;
    expect(store.isOpen).toBe(false);
  });
});

describe('dead letters after the run', () => {
  it('reads them from the directory once the run closed its store', async () => {
    const poison = defineStage({
      name: 'poison',
      degraded: 'deadLetter',
      retry: { maxAttempts: 1 },
      process: (e: number) => {
        if (e % 2 === 1) throw new Error(`odd ${e}`);
        return { emit: [e] };
      },
    });
    const pipeline = createPipeline({ name: 'letters', source: fromIterable([0, 1, 2, 3]), stages: [poison], logLevel: 'silent', checkpoint: { dir } });
    await pipeline.run();
    const letters = await pipeline.deadLetters();
    expect(letters.map((l) => [l.offset, l.event])).toEqual([
      [1, 1],
      [3, 3],
    ]);
    // The read does not keep the directory: another store opens it at once.
    const again = createCheckpointStore({ dir });
    await again.open();
    await again.close();
  });
});
