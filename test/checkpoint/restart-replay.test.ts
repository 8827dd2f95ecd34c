// A stage restarted in-process replays, from its last snapshot, the events it had handled since:
// those replays are not mailbox input (issue 10, item 10: a mailbox showed 38/32) and a replay that
// fails is not a failed event (item 10: onError reported offset 81 as failed after its output had
// been delivered).
import { describe, expect, it } from 'vitest';
import { createCheckpointStore } from '../../src/checkpoint/create-store.js';
import { createPipeline, defineStage, fromIterable, toArray, type Pipeline, type SteadfastError, type StageStats } from '../../src/index.js';

describe('a stage restarted with checkpoints', () => {
  it('keeps replayed events apart from its mailbox: depth never passes capacity', async () => {
    const ref: { pipeline?: Pipeline } = {};
    const seen = new Map<number, number>();
    const mailboxes: Array<StageStats['mailbox']> = [];
    const stage = defineStage({
      name: 'tally',
      onFailure: 'restart',
      mailbox: 32,
      initialState: () => ({ n: 0 }),
      process: (e: number, state: { n: number }, ctx) => {
        const times = (seen.get(ctx.offset) ?? 0) + 1;
        seen.set(ctx.offset, times);
        if (ctx.offset === 300 && times === 1) throw new Error('once');
        if (times === 2 && ctx.offset % 50 === 0) mailboxes.push(ref.pipeline!.stats().stages.tally!.mailbox);
        return { state: { n: state.n + 1 }, emit: [e] };
      },
    });
    const pipeline = (ref.pipeline = createPipeline({
      name: 'replays',
      source: fromIterable(Array.from({ length: 400 }, (_, i) => i)),
      stages: [stage],
      logLevel: 'silent',
      onError: () => {},
      checkpoint: { store: createCheckpointStore({ kind: 'memory' }), everyEvents: 0, everyMs: 0 },
    }));
    await pipeline.run();
    expect(pipeline.stageState('tally')).toEqual({ n: 399 });
    // During the replay (offsets 0..299 again) the replays are counted apart, and the mailbox stays within 32.
    expect(mailboxes.length).toBeGreaterThan(3);
    expect(mailboxes.some((m) => m.replaying > 32)).toBe(true);
    for (const m of mailboxes) expect(m.depth).toBeLessThanOrEqual(32);
    expect(pipeline.stats().stages.tally?.mailbox.peak).toBeLessThanOrEqual(32);
  });

  it('reports a replay that fails as STAGE_REPLAY_FAILED, not as a failed event, and delivers every output once', async () => {
    const seen = new Map<number, number>();
    const stage = defineStage({
      name: 'flaky',
      onFailure: 'restart',
      initialState: () => ({ n: 0 }),
      process: (e: number, state: { n: number }, ctx) => {
        const times = (seen.get(ctx.offset) ?? 0) + 1;
        seen.set(ctx.offset, times);
        if (ctx.offset === 50 && times === 1) throw new Error('poison once');
        if (ctx.offset === 30 && times === 2) throw new Error('flaky on replay');
        return { state: { n: state.n + 1 }, emit: [e] };
      },
    });
    const errors: SteadfastError[] = [];
    const sink = toArray<number>();
    const pipeline = createPipeline({
      name: 'replay-fails',
      source: fromIterable(Array.from({ length: 60 }, (_, i) => i)),
      stages: [stage],
      sink,
      logLevel: 'silent',
      onError: (error) => errors.push(error),
      checkpoint: { store: createCheckpointStore({ kind: 'memory' }), everyEvents: 0, everyMs: 0 },
    });
    const stats = await pipeline.run();
    expect(errors.map((e) => [e.code, (e as unknown as { offsets: number[] }).offsets])).toEqual([
      ['STAGE_CALL_FAILED', [50]],
      ['STAGE_REPLAY_FAILED', [30]],
    ]);
    expect(errors[1]?.message).toMatch(/while replaying after a restart/);
    // Output 30 was delivered the first time; 50 failed; nothing twice.
    expect(sink.items).toEqual(Array.from({ length: 60 }, (_, i) => i).filter((i) => i !== 50));
    expect(stats.stages.flaky?.failedEvents).toBe(1);
    expect(stats.stages.flaky?.eventsIn).toBe(60);
  });
});
