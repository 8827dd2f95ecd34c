// Replaying dead letters (issue 10, item 7 and item 10): a replay waits for a breaker restored open
// instead of sending every letter straight back without a call; it fills a mailbox only as far as
// its capacity; a letter leaves the store only once a checkpoint that came after it completed.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCheckpointStore } from '../../src/checkpoint/create-store.js';
import { createPipeline, defineStage, fromIterable, pushSource, type StageStats } from '../../src/index.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'steadfast-dlq-replay-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const LETTERS = 300;

/** Calls a dependency that is down until `up.now`; dead-letters what fails; counts its calls. */
function caller(up: { now: boolean; calls: number }, mailbox?: number) {
  return defineStage({
    name: 'call',
    ...(mailbox === undefined ? {} : { mailbox }),
    initialState: () => ({ done: 0 }),
    breaker: { consecutiveFailures: 2, openMs: 300 },
    degraded: 'deadLetter',
    process: (e: number, state: { done: number }) => {
      up.calls++;
      if (!up.now) throw new Error('dependency down');
      return { state: { done: state.done + 1 }, emit: [e] };
    },
  });
}

describe('dead-letter replay', () => {
  it('waits for a breaker restored open, then calls for every replayed letter (no ping-pong), and saves it closed', async () => {
    const up = { now: false, calls: 0 };
    const events = Array.from({ length: LETTERS }, (_, i) => i);
    const first = createPipeline({ name: 'pingpong', source: fromIterable(events), stages: [caller(up)], logLevel: 'silent', checkpoint: { dir } });
    const s1 = await first.run();
    expect(s1.stages.call?.resilience?.breaker).toBe('open');
    expect(s1.stages.call?.resilience?.deadLetters).toBe(LETTERS);
    expect(s1.deadLetters).toEqual({ stored: LETTERS, altered: 0, notStored: 0, pending: 0 });
    // As `steadfast dlq replay <dir>` does: mark every letter for replay at the next start.
    const store = createCheckpointStore({ dir });
    const keys: string[] = [];
    for (const read of await store.deadLetters('pingpong')) if (read.ok) keys.push(read.key);
    expect(keys).toHaveLength(LETTERS);
    await store.markForReplay(keys);
    await store.close();

    up.now = true;
    up.calls = 0;
    const source = pushSource<number>();
    const second = createPipeline({ name: 'pingpong', source, stages: [caller(up)], logLevel: 'silent', checkpoint: { dir, everyEvents: 0, everyMs: 0 } });
    await second.start();
    expect(second.stats().stages.call?.resilience?.breaker).toBe('open');
    for (let i = 0; i < 400 && second.stageState<{ done: number }>('call').done < LETTERS; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(second.stageState<{ done: number }>('call').done).toBe(LETTERS);
    expect(up.calls).toBe(LETTERS);
    expect(second.stats().stages.call?.resilience).toMatchObject({ breaker: 'closed', deadLetters: LETTERS });
    source.end();
    const s2 = await second.done;
    expect(s2.stages.call?.resilience?.deadLetters).toBe(LETTERS); // counters come back with the checkpoint: no new ones
    // The final checkpoint covers the replay: no letter is left.
    expect(await second.deadLetters()).toEqual([]);
  });

  it('fills the mailbox no further than its capacity while replaying many letters', async () => {
    const up = { now: false, calls: 0 };
    const source = pushSource<number>();
    const mailboxes: Array<StageStats['mailbox']> = [];
    const pipeline = createPipeline({ name: 'room', source, stages: [caller(up, 8)], logLevel: 'silent', checkpoint: { dir, everyEvents: 0, everyMs: 0 } });
    await pipeline.start();
    await Promise.all(Array.from({ length: 60 }, (_, i) => pipeline.push(i)));
    for (let i = 0; i < 300 && (pipeline.stats().stages.call?.resilience?.deadLetters ?? 0) < 60; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await pipeline.deadLetters()).toHaveLength(60);
    up.now = true;
    await new Promise((resolve) => setTimeout(resolve, 350)); // the breaker half-opens
    const watch = setInterval(() => mailboxes.push(pipeline.stats().stages.call!.mailbox), 1);
    expect(await pipeline.replay()).toBe(60);
    clearInterval(watch);
    for (let i = 0; i < 300 && pipeline.stageState<{ done: number }>('call').done < 60; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(pipeline.stageState<{ done: number }>('call').done).toBe(60);
    for (const m of mailboxes) expect(m.depth).toBeLessThanOrEqual(8);
    expect(pipeline.stats().stages.call?.mailbox.peak).toBeLessThanOrEqual(8);
    // Still stored: no checkpoint after the replay has completed yet.
    expect(await pipeline.deadLetters()).toHaveLength(60);
    await pipeline.checkpoint();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await pipeline.deadLetters()).toEqual([]);
    source.end();
    await pipeline.done;
  });
});
