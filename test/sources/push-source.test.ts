import { describe, expect, it } from 'vitest';
import { ConfigError, SteadfastError, isSteadfastError, type SteadfastErrorCode } from '../../src/core/errors.js';
import type { PushJournal } from '../../src/sources/push-journal.js';
import { ATTACH_JOURNAL, pushSource, type JournalledSource } from '../../src/sources/push-source.js';
import type { SourceOpenOptions } from '../../src/sources/source.js';

const options: SourceOpenOptions = {
  fromOffset: 0,
  onError: (error) => {
    throw error;
  },
};

/** Lets every pending promise callback run. */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Tracks how a promise settles, without awaiting it (and so without leaving a rejection unhandled). */
function track(promise: Promise<unknown>): { settled: 'no' | 'resolved' | 'rejected'; error: unknown } {
  const state: { settled: 'no' | 'resolved' | 'rejected'; error: unknown } = { settled: 'no', error: undefined };
  promise.then(
    () => {
      state.settled = 'resolved';
    },
    (error: unknown) => {
      state.settled = 'rejected';
      state.error = error;
    },
  );
  return state;
}

async function rejectionCode(promise: Promise<unknown>): Promise<SteadfastErrorCode | 'resolved' | 'foreign'> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    return isSteadfastError(error) ? error.code : 'foreign';
  }
}

describe('pushSource', () => {
  it('resolves a push only once read() takes the event', async () => {
    const source = pushSource<string>();
    const reader = await source.open(options);
    const pushed = track(source.push('a'));
    await turn();
    expect(pushed.settled).toBe('no');
    expect(source.pending).toBe(1);
    expect(await reader.read(10)).toEqual({ values: ['a'], offsets: [0] });
    await turn();
    expect(pushed.settled).toBe('resolved');
    expect(source.pending).toBe(0);
  });

  it('resolves only the pushes a read took when the read is smaller than the queue', async () => {
    const source = pushSource<number>();
    const reader = await source.open(options);
    const pushes = [1, 2, 3].map((n) => track(source.push(n)));
    expect(await reader.read(2)).toEqual({ values: [1, 2], offsets: [0, 1] });
    await turn();
    expect(pushes.map((p) => p.settled)).toEqual(['resolved', 'resolved', 'no']);
    expect(source.pending).toBe(1);
    expect(await reader.read(2)).toEqual({ values: [3], offsets: [2] });
    await turn();
    expect(pushes[2]?.settled).toBe('resolved');
  });

  it('counts offsets from 0 across reads', async () => {
    const source = pushSource<string>();
    const reader = await source.open(options);
    void source.push('a');
    expect(await reader.read(5)).toEqual({ values: ['a'], offsets: [0] });
    void source.push('b');
    void source.push('c');
    expect(await reader.read(5)).toEqual({ values: ['b', 'c'], offsets: [1, 2] });
  });

  it('wakes a waiting read when an event is pushed', async () => {
    const source = pushSource<string>();
    const reader = await source.open(options);
    const read = Promise.resolve(reader.read(10));
    const reading = track(read);
    await turn();
    expect(reading.settled).toBe('no');
    const pushed = source.push('late');
    expect(await read).toEqual({ values: ['late'], offsets: [0] });
    await expect(pushed).resolves.toBeUndefined();
  });

  it('refuses a push beyond maxPending with PUSH_OVERFLOW, and accepts again once read', async () => {
    const source = pushSource<number>({ maxPending: 2 });
    const reader = await source.open(options);
    const first = source.push(1);
    const second = source.push(2);
    expect(await rejectionCode(source.push(3))).toBe('PUSH_OVERFLOW');
    expect(source.pending).toBe(2);
    expect(await reader.read(10)).toEqual({ values: [1, 2], offsets: [0, 1] });
    await Promise.all([first, second]);
    const third = source.push(4);
    expect(await reader.read(10)).toEqual({ values: [4], offsets: [2] });
    await third;
  });

  it('names the limit in the overflow message', async () => {
    const source = pushSource<number>({ maxPending: 1 });
    source.open(options);
    const queued = track(source.push(1));
    await expect(source.push(2)).rejects.toThrow(/maxPending 1/);
    expect(queued.settled).toBe('no');
  });

  it('hands out events pushed before end(), then reads null', async () => {
    const source = pushSource<string>();
    const reader = await source.open(options);
    const pushed = source.push('last');
    source.end();
    expect(await reader.read(10)).toEqual({ values: ['last'], offsets: [0] });
    await pushed;
    expect(await reader.read(10)).toBeNull();
  });

  it('rejects a push after end() with SOURCE_ENDED', async () => {
    const source = pushSource<string>();
    source.open(options);
    source.end();
    expect(await rejectionCode(source.push('too late'))).toBe('SOURCE_ENDED');
    expect(source.pending).toBe(0);
  });

  it('resolves a waiting read with null on end()', async () => {
    const source = pushSource<string>();
    const reader = await source.open(options);
    const read = Promise.resolve(reader.read(10));
    await turn();
    source.end();
    expect(await read).toBeNull();
  });

  it('rejects pending pushes with PIPELINE_STOPPED on close(), and later pushes with SOURCE_ENDED', async () => {
    const source = pushSource<string>();
    const reader = await source.open(options);
    const a = source.push('a');
    const b = source.push('b');
    await reader.close();
    expect(await rejectionCode(a)).toBe('PIPELINE_STOPPED');
    expect(await rejectionCode(b)).toBe('PIPELINE_STOPPED');
    expect(source.pending).toBe(0);
    expect(await reader.read(10)).toBeNull();
    expect(await rejectionCode(source.push('c'))).toBe('SOURCE_ENDED');
  });

  it('resolves a waiting read with null on close()', async () => {
    const source = pushSource<string>();
    const reader = await source.open(options);
    const read = Promise.resolve(reader.read(10));
    await turn();
    await reader.close();
    expect(await read).toBeNull();
  });

  it('leaves accepted pushes resolved when closed afterwards', async () => {
    const source = pushSource<string>();
    const reader = await source.open(options);
    const accepted = source.push('a');
    const waiting = source.push('b');
    expect(await reader.read(1)).toEqual({ values: ['a'], offsets: [0] });
    await reader.close();
    await expect(accepted).resolves.toBeUndefined();
    expect(await rejectionCode(waiting)).toBe('PIPELINE_STOPPED');
  });

  it('throws PIPELINE_STATE_INVALID when opened a second time', () => {
    const source = pushSource<string>();
    source.open(options);
    let caught: unknown;
    try {
      source.open(options);
    } catch (error) {
      caught = error;
    }
    expect(isSteadfastError(caught, 'PIPELINE_STATE_INVALID')).toBe(true);
  });

  it('keeps events in push order across many pushes and partial reads', async () => {
    const source = pushSource<number>({ maxPending: 10_000 });
    const reader = await source.open(options);
    const pushes: Promise<void>[] = [];
    for (let i = 0; i < 9_000; i++) pushes.push(source.push(i));
    const seen: number[] = [];
    const offsets: number[] = [];
    while (seen.length < 9_000) {
      const batch = await reader.read(7);
      if (batch === null) break;
      seen.push(...batch.values);
      offsets.push(...batch.offsets);
    }
    await Promise.all(pushes);
    expect(seen).toEqual(Array.from({ length: 9_000 }, (_, i) => i));
    expect(offsets).toEqual(seen);
  });

  it('rejects invalid options with a ConfigError naming the field and value', () => {
    const cases: Array<[unknown, string, unknown]> = [
      [{ maxPending: 0 }, 'pushSource.maxPending', 0],
      [{ maxPending: 2.5 }, 'pushSource.maxPending', 2.5],
      [{ maxPendng: 10 }, 'pushSource.maxPendng', 10],
      [null, 'pushSource options', null],
    ];
    for (const [given, field, value] of cases) {
      let caught: unknown;
      try {
        pushSource(given as Parameters<typeof pushSource>[0]);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ConfigError);
      expect((caught as ConfigError).field).toBe(field);
      expect((caught as ConfigError).value).toBe(value);
      expect((caught as ConfigError).message).toContain(`got ${String(value)}`);
    }
  });
});

/** A journal in memory whose appends can be held (`holding`) or made to fail. */
function memoryJournal(stored: Array<{ offset: number; event: unknown }> = []) {
  const waiting: Array<() => void> = [];
  const control = { fail: false, holding: true };
  const journal: PushJournal = {
    async open(fromOffset) {
      const kept = stored.filter((e) => e.offset >= fromOffset);
      const last = stored.reduce((max, e) => Math.max(max, e.offset), -1);
      return { values: kept.map((e) => e.event), offsets: kept.map((e) => e.offset), nextOffset: Math.max(fromOffset, last + 1) };
    },
    async append(values, offsets) {
      if (control.holding) await new Promise<void>((resolve) => waiting.push(resolve));
      if (control.fail) throw new SteadfastError('CHECKPOINT_STORE_FAILED', 'disk full');
      values.forEach((event, i) => stored.push({ offset: offsets[i] as number, event }));
    },
  };
  /** Lets the held appends finish, and the later ones run at once. */
  const release = () => {
    control.holding = false;
    for (const resolve of waiting.splice(0)) resolve();
  };
  return { journal, stored, control, release };
}

describe('pushSource with a journal (a pipeline with checkpoints)', () => {
  it('delivers the journalled events after the checkpoint first, then new pushes after the last journalled offset', async () => {
    const { journal, release } = memoryJournal([
      { offset: 3, event: 'covered' },
      { offset: 4, event: 'd' },
      { offset: 5, event: 'e' },
    ]);
    release();
    const source = pushSource<string>();
    (source as unknown as JournalledSource)[ATTACH_JOURNAL](journal);
    const reader = await source.open({ ...options, fromOffset: 4 });
    expect(await reader.read(10)).toEqual({ values: ['d', 'e'], offsets: [4, 5] });
    const pushed = source.push('f');
    expect(await reader.read(10)).toEqual({ values: ['f'], offsets: [6] });
    await pushed;
  });

  it('resolves a push only once it is journalled and taken; a failed append refuses its pushes and later ones go on', async () => {
    const { journal, stored, control, release } = memoryJournal();
    const source = pushSource<string>();
    (source as unknown as JournalledSource)[ATTACH_JOURNAL](journal);
    const early = track(source.push('early')); // before open: journalled once the journal is read
    const reader = await source.open(options);
    const read = Promise.resolve(reader.read(10));
    await turn();
    expect(early.settled).toBe('no');
    expect(stored).toEqual([]); // the append is held
    release();
    expect(await read).toEqual({ values: ['early'], offsets: [0] });
    await turn();
    expect(early.settled).toBe('resolved');

    control.fail = true;
    expect(await rejectionCode(source.push('lost'))).toBe('CHECKPOINT_STORE_FAILED');
    control.fail = false;
    const next = source.push('next');
    const batch = await reader.read(10);
    expect(batch?.values).toEqual(['next']);
    await next;
    expect(stored.map((e) => e.event)).toEqual(['early', 'next']);
  });

  it('on close resolves the pushes that are journalled (delivered after the next start) and refuses the others', async () => {
    const { journal, control, release } = memoryJournal();
    release();
    const source = pushSource<string>();
    (source as unknown as JournalledSource)[ATTACH_JOURNAL](journal);
    const reader = await source.open(options);
    const stored = track(source.push('stored'));
    await turn();
    control.holding = true; // hold the next append
    const staged = [track(source.push('in flight')), track(source.push('staged'))];
    await turn();
    await reader.close();
    release();
    await turn();
    expect(stored.settled).toBe('resolved');
    expect(staged[0]?.settled).toBe('resolved');
    expect(staged[1]?.settled).toBe('rejected');
    expect((staged[1]?.error as SteadfastError).code).toBe('PIPELINE_STOPPED');
  });
});
