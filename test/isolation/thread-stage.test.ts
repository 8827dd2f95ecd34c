import { describe, expect, it, vi } from 'vitest';
import { createPipeline, fromIterable, isSteadfastError, pushSource, toArray, type StageCallError, type SteadfastError } from '../../src/index.js';
import { BREAK_FRAGILE, fragile } from './fixtures/fragile.js';
import { spinsOnTwo } from './fixtures/runaway.js';
import { activeResources, leakedSince, settle } from '../helpers/leaks.js';

const report = (errors: SteadfastError[]) => errors.map((e) => [e.code, (e as StageCallError).offsets]);

describe("a thread stage with onFailure: 'resume' in a pipeline", () => {
  it('reports the call that timed out and goes on in a fresh worker: [1..6] with 2 spinning gives [1, 3, 4, 5, 6]', async () => {
    const errors: SteadfastError[] = [];
    const sink = toArray<number>();
    const stats = await createPipeline({
      name: 'iso',
      source: fromIterable([1, 2, 3, 4, 5, 6]),
      stages: [spinsOnTwo],
      sink,
      mode: 'debug',
      onError: (e) => errors.push(e),
      logLevel: 'silent',
    }).run();
    expect(sink.items).toEqual([1, 3, 4, 5, 6]);
    expect(report(errors)).toEqual([['STAGE_TIMEOUT', [1]]]);
    expect(errors[0]?.message).toBe('stage "spins-on-two" took longer than 200 ms at offset 1; its worker thread was terminated');
    expect(stats.stages['spins-on-two']?.restarts).toBe(0);
  });

  it('goes on after a timeout and after a crash, each error naming its own offset, and leaves no worker behind', async () => {
    await settle();
    const before = activeResources();
    const errors: SteadfastError[] = [];
    const sink = toArray<string>();
    await createPipeline({
      name: 'iso',
      source: fromIterable(['a', 'spin', 'b', 'exit', 'c', 'spin', 'd']),
      stages: [fragile],
      sink,
      mode: 'debug',
      onError: (e) => errors.push(e),
      logLevel: 'silent',
    }).run();
    expect(sink.items).toEqual(['a', 'b', 'c', 'd']);
    expect(report(errors)).toEqual([
      ['STAGE_TIMEOUT', [1]],
      ['STAGE_CRASHED', [3]],
      ['STAGE_TIMEOUT', [5]],
    ]);
    expect(errors.map((e) => e.message)).toEqual([
      expect.stringContaining('at offset 1;'),
      'stage "fragile" crashed at offset 3: its worker thread exited with code 3',
      expect.stringContaining('at offset 5;'),
    ]);
    await settle();
    expect(leakedSince(before)).toEqual({});
  });

  it('reports a call whose new worker cannot start (STAGE_CRASHED, its offset) and starts one for the next call', async () => {
    const errors: SteadfastError[] = [];
    const sink = toArray<string>();
    const source = pushSource<string>();
    const pipeline = createPipeline({ name: 'iso', source, stages: [fragile], sink, mode: 'debug', onError: (e) => errors.push(e), logLevel: 'silent' });
    await pipeline.start();
    await source.push('spin');
    await vi.waitFor(() => expect(errors).toHaveLength(1), { timeout: 10_000 });
    process.env[BREAK_FRAGILE] = '1';
    try {
      await source.push('b');
      await vi.waitFor(() => expect(errors).toHaveLength(2), { timeout: 10_000 });
    } finally {
      delete process.env[BREAK_FRAGILE];
    }
    await source.push('c');
    source.end();
    await pipeline.done;
    await pipeline.stop();
    expect(sink.items).toEqual(['c']);
    expect(report(errors)).toEqual([
      ['STAGE_TIMEOUT', [0]],
      ['STAGE_CRASHED', [1]],
    ]);
    expect(errors[1]?.message).toMatch(/^stage "fragile" could not start a new worker thread for the call at offsets 1: /);
    expect(isSteadfastError((errors[1] as StageCallError).cause, 'STAGE_OPEN_FAILED')).toBe(true);
  });
});
