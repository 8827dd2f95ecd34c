import { describe, expect, it } from 'vitest';
import { resolveCheckpointOptions } from '../../src/checkpoint/options.js';

describe('checkpoint options', () => {
  it('keeps enough events for a replay across two checkpoints by default, so a default configuration never outruns its replay log', () => {
    expect(resolveCheckpointOptions({ dir: '/tmp/x' }).replayLimit).toBe(10_000);
    expect(resolveCheckpointOptions({ dir: '/tmp/x', everyEvents: 1_000 }).replayLimit).toBe(10_000);
    expect(resolveCheckpointOptions({ dir: '/tmp/x', everyEvents: 20_000 }).replayLimit).toBe(40_000);
  });

  it('takes an explicit replayLimit as it is, 0 included', () => {
    expect(resolveCheckpointOptions({ dir: '/tmp/x', everyEvents: 20_000, replayLimit: 500 }).replayLimit).toBe(500);
    expect(resolveCheckpointOptions({ dir: '/tmp/x', replayLimit: 0 }).replayLimit).toBe(0);
    expect(() => resolveCheckpointOptions({ dir: '/tmp/x', replayLimit: -1 })).toThrow(/replayLimit/);
  });
});
