import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCheckpointStore } from '../../src/checkpoint/create-store.js';
import { createPipeline, defineStage, fromIterable, pushSource, type Pipeline } from '../../src/index.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'steadfast-dlq-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Sums what it sees; fails on negative numbers until `fixed` says otherwise; dead-letters after 2 attempts. */
function summer(fixed: { now: boolean }) {
  return defineStage({
    name: 'sum',
    initialState: () => ({ total: 0, n: 0 }),
    retry: { maxAttempts: 2, backoff: 'constant', baseMs: 0 },
    degraded: 'deadLetter',
    process: (e: number, state: { total: number; n: number }) => {
      if (e < 0 && !fixed.now) throw new Error(`negative: ${e}`);
      return { state: { total: state.total + Math.abs(e), n: state.n + 1 }, emit: [] };
    },
  });
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('dead letters', () => {
  it('stores each event that exhausted its retries, lists it, and replays it into its stage', async () => {
    const fixed = { now: false };
    const source = pushSource<number>();
    const pipeline: Pipeline = createPipeline({ name: 'dlq', source, stages: [summer(fixed)], logLevel: 'silent', onError: () => {}, checkpoint: { dir, everyEvents: 0, everyMs: 0 } });
    await pipeline.start();
    for (const e of [1, 2, -3, 4, -5, 6]) await pipeline.push(e);
    await until(() => pipeline.stats().stages.sum!.eventsIn === 6, 'six events in');
    const letters = await pipeline.deadLetters();
    expect(letters.map((l) => [l.stage, l.offset, l.event, l.attempts])).toEqual([
      ['sum', 2, -3, 2],
      ['sum', 4, -5, 2],
    ]);
    expect(letters[0]!.error.message).toMatch(/negative: -3/);
    expect(letters[0]!.key).toMatch(/^dlq!dlq!sum!0+2$/);
    expect(pipeline.stageState<{ total: number }>('sum').total).toBe(13);

    fixed.now = true;
    expect(await pipeline.replay()).toBe(2);
    await until(() => pipeline.stageState<{ n: number }>('sum').n === 6, 'the replayed letters applied');
    expect(pipeline.stageState<{ total: number }>('sum').total).toBe(21);
    // Still stored until a checkpoint covers the replay: a crash now would not lose them.
    expect(await pipeline.deadLetters()).toHaveLength(2);
    await pipeline.checkpoint();
    let left = await pipeline.deadLetters();
    for (let i = 0; i < 100 && left.length > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      left = await pipeline.deadLetters();
    }
    expect(left).toEqual([]);
    source.end();
    await pipeline.done;
  });

  it('keeps dead letters in the store after the run, and re-injects those marked for replay at the next start', async () => {
    const broken = createPipeline({ name: 'later', source: fromIterable([5, -1, 7, -2]), stages: [summer({ now: false })], logLevel: 'silent', onError: () => {}, checkpoint: { dir } });
    await broken.run();
    expect(broken.stageState<{ total: number }>('sum').total).toBe(12);

    const store = createCheckpointStore({ dir });
    await store.open();
    const stored = await store.deadLetters('later');
    expect(stored.map((r) => (r.ok ? r.value.event : r.reason))).toEqual([-1, -2]);
    await store.markForReplay(stored.filter((r) => r.ok).map((r) => r.key));
    await store.close();

    const fixedRun = createPipeline({ name: 'later', source: fromIterable([5, -1, 7, -2]), stages: [summer({ now: true })], logLevel: 'silent', checkpoint: { dir } });
    await fixedRun.run();
    // The source replays nothing (its end was committed); the two letters went back into the stage.
    expect(fixedRun.stats().source.events).toBe(0);
    expect(fixedRun.stageState<{ total: number; n: number }>('sum')).toEqual({ total: 15, n: 4 });
    const after = createCheckpointStore({ dir, readOnly: true });
    await after.open();
    expect(await after.deadLetters('later')).toEqual([]);
    await after.close();
  });

  it('without checkpoints keeps dead letters in memory, readable after the run', async () => {
    const pipeline = createPipeline({ name: 'mem', source: fromIterable([-9, 1]), stages: [summer({ now: false })], logLevel: 'silent', onError: () => {} });
    await pipeline.run();
    const letters = await pipeline.deadLetters();
    expect(letters.map((l) => l.event)).toEqual([-9]);
    await expect(pipeline.replay()).rejects.toMatchObject({ code: 'PIPELINE_STATE_INVALID' });
  });
});
