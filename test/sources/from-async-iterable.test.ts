import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { fromAsyncIterable } from '../../src/sources/from-async-iterable.js';
import type { SourceOpenOptions, SourceReader } from '../../src/sources/source.js';

const from = (fromOffset: number): SourceOpenOptions => ({
  fromOffset,
  onError: (error) => {
    throw error;
  },
});

/** A promise the test resolves when it chooses. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** Lets every pending promise callback and I/O callback run. */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Tracks whether a promise has settled, without awaiting it. */
function track<T>(promise: Promise<T>): { settled: boolean; value: T | undefined } {
  const state: { settled: boolean; value: T | undefined } = { settled: false, value: undefined };
  promise.then((value) => {
    state.settled = true;
    state.value = value;
  }, () => {
    state.settled = true;
  });
  return state;
}

async function readAll<T>(reader: SourceReader<T>, max: number): Promise<{ values: T[]; offsets: number[] }> {
  const values: T[] = [];
  const offsets: number[] = [];
  for (;;) {
    const batch = await reader.read(max);
    if (batch === null) return { values, offsets };
    values.push(...batch.values);
    offsets.push(...batch.offsets);
  }
}

async function* count(n: number): AsyncGenerator<number> {
  for (let i = 0; i < n; i++) yield i * 10;
}

describe('fromAsyncIterable', () => {
  it('gives the i-th value offset i and ends with null', async () => {
    const reader = await fromAsyncIterable(count(5)).open(from(0));
    expect(await readAll(reader, 2)).toEqual({ values: [0, 10, 20, 30, 40], offsets: [0, 1, 2, 3, 4] });
    expect(await reader.read(2)).toBeNull();
  });

  it('never hands out more than max values in one read', async () => {
    const reader = await fromAsyncIterable(count(7)).open(from(0));
    for (let batch = await reader.read(3); batch !== null; batch = await reader.read(3)) {
      expect(batch.values.length).toBeGreaterThanOrEqual(1);
      expect(batch.values.length).toBeLessThanOrEqual(3);
    }
  });

  it('skips values before fromOffset and keeps their original offsets', async () => {
    const reader = await fromAsyncIterable(count(6)).open(from(4));
    expect(await readAll(reader, 10)).toEqual({ values: [40, 50], offsets: [4, 5] });
  });

  it('hands over the values a hand-written iterator has already resolved, without waiting for a full batch', async () => {
    const held = gate();
    let i = 0;
    const iterable: AsyncIterable<number> = {
      [Symbol.asyncIterator]: () => ({
        next: async (): Promise<IteratorResult<number>> => {
          if (i === 3) await held.promise;
          return i < 4 ? { done: false, value: i++ } : { done: true, value: undefined };
        },
      }),
    };
    const reader = await fromAsyncIterable(iterable).open(from(0));
    expect(await reader.read(100)).toEqual({ values: [0, 1, 2], offsets: [0, 1, 2] });
    held.open();
    expect(await reader.read(100)).toEqual({ values: [3], offsets: [3] });
    expect(await reader.read(100)).toBeNull();
  });

  it('hands over the 3 values an async generator yields before it blocks, in one read', async () => {
    const held = gate();
    async function* produce(): AsyncGenerator<string> {
      yield 'a';
      yield 'b';
      yield 'c';
      await held.promise;
      yield 'd';
    }
    const reader = await fromAsyncIterable(produce()).open(from(0));
    const first = await reader.read(100);
    held.open();
    const rest = await readAll(reader, 100);
    expect(first).toEqual({ values: ['a', 'b', 'c'], offsets: [0, 1, 2] });
    expect(rest).toEqual({ values: ['d'], offsets: [3] });
  });

  it('waits for the first value when none is ready yet', async () => {
    const held = gate();
    async function* late(): AsyncGenerator<number> {
      await held.promise;
      yield 7;
    }
    const reader = await fromAsyncIterable(late()).open(from(0));
    const read = reader.read(10) as Promise<unknown>;
    const state = track(read);
    await turn();
    expect(state.settled).toBe(false);
    held.open();
    expect(await read).toEqual({ values: [7], offsets: [0] });
  });

  it('resolves a pending read with null when closed, and reads null afterwards', async () => {
    const held = gate();
    async function* blocked(): AsyncGenerator<number> {
      await held.promise;
      yield 1;
    }
    const reader = await fromAsyncIterable(blocked()).open(from(0));
    const read = reader.read(10) as Promise<unknown>;
    const state = track(read);
    await turn();
    expect(state.settled).toBe(false);
    await reader.close();
    expect(await read).toBeNull();
    expect(await reader.read(10)).toBeNull();
    held.open();
  });

  it('calls return on the iterator when closed, so the generator runs its finally block', async () => {
    let cleanedUp = false;
    async function* endless(): AsyncGenerator<number> {
      try {
        for (let i = 0; ; i++) yield i;
      } finally {
        cleanedUp = true;
      }
    }
    const reader = await fromAsyncIterable(endless()).open(from(0));
    expect(await reader.read(1)).toEqual({ values: [0], offsets: [0] });
    await reader.close();
    await turn();
    expect(cleanedUp).toBe(true);
  });

  it('does not call return on an iterator that has finished', async () => {
    let returns = 0;
    const iterable: AsyncIterable<number> = {
      [Symbol.asyncIterator]: () => ({
        next: async (): Promise<IteratorResult<number>> => ({ done: true, value: undefined }),
        return: async (): Promise<IteratorResult<number>> => {
          returns++;
          return { done: true, value: undefined };
        },
      }),
    };
    const reader = await fromAsyncIterable(iterable).open(from(0));
    expect(await reader.read(5)).toBeNull();
    await reader.close();
    expect(returns).toBe(0);
  });

  it('hands over the values read before an error, rejects the next read with it, then ends', async () => {
    const broken = new Error('upstream broke');
    let i = 0;
    const iterable: AsyncIterable<number> = {
      [Symbol.asyncIterator]: () => ({
        next: (): Promise<IteratorResult<number>> => {
          if (i < 2) return Promise.resolve({ done: false, value: i++ });
          if (i++ === 2) return Promise.reject(broken);
          return Promise.resolve({ done: true, value: undefined });
        },
      }),
    };
    const reader = await fromAsyncIterable(iterable).open(from(0));
    expect(await reader.read(10)).toEqual({ values: [0, 1], offsets: [0, 1] });
    await expect(reader.read(10)).rejects.toBe(broken);
    expect(await reader.read(10)).toBeNull();
  });

  it('rejects a read with the error an async generator throws', async () => {
    async function* failing(): AsyncGenerator<number> {
      yield 1;
      throw new Error('generator broke');
    }
    const reader = await fromAsyncIterable(failing()).open(from(0));
    await expect(readAll(reader, 10)).rejects.toThrow('generator broke');
  });

  it('rejects a value that is not async-iterable with a ConfigError naming it', () => {
    for (const value of [null, [1, 2], 'abc', {}]) {
      let caught: unknown;
      try {
        fromAsyncIterable(value as unknown as AsyncIterable<number>);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ConfigError);
      expect((caught as ConfigError).field).toBe('fromAsyncIterable(iterable)');
      expect((caught as ConfigError).value).toBe(value);
      expect((caught as ConfigError).message).toContain('must be an async iterable');
    }
  });
});
