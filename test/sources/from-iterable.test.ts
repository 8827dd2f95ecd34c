import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { fromIterable } from '../../src/sources/from-iterable.js';
import type { SourceOpenOptions } from '../../src/sources/source.js';

const errors: unknown[] = [];
const from = (fromOffset: number): SourceOpenOptions => ({ fromOffset, onError: (error) => errors.push(error) });

describe('fromIterable', () => {
  it('gives the i-th value offset i, in batches of at most max', async () => {
    const reader = await fromIterable(['a', 'b', 'c', 'd', 'e']).open(from(0));
    expect(reader.read(2)).toEqual({ values: ['a', 'b'], offsets: [0, 1] });
    expect(reader.read(2)).toEqual({ values: ['c', 'd'], offsets: [2, 3] });
    expect(reader.read(2)).toEqual({ values: ['e'], offsets: [4] });
    expect(errors).toEqual([]);
  });

  it('answers reads synchronously, without a promise', async () => {
    const reader = await fromIterable([1, 2]).open(from(0));
    const batch = reader.read(10);
    expect(batch).not.toBeInstanceOf(Promise);
    expect(batch).toEqual({ values: [1, 2], offsets: [0, 1] });
  });

  it('returns null once the iterable is exhausted, and on every read after', async () => {
    const reader = await fromIterable([1]).open(from(0));
    expect(reader.read(5)).toEqual({ values: [1], offsets: [0] });
    expect(reader.read(5)).toBeNull();
    expect(reader.read(5)).toBeNull();
    const empty = await fromIterable([]).open(from(0));
    expect(empty.read(1)).toBeNull();
  });

  it('skips values before fromOffset and keeps their original offsets', async () => {
    const reader = await fromIterable(['a', 'b', 'c', 'd', 'e']).open(from(3));
    expect(reader.read(10)).toEqual({ values: ['d', 'e'], offsets: [3, 4] });
    expect(reader.read(10)).toBeNull();
  });

  it('fills a batch after skipping, rather than returning a short or empty one', async () => {
    const reader = await fromIterable([0, 1, 2, 3, 4, 5]).open(from(2));
    expect(reader.read(3)).toEqual({ values: [2, 3, 4], offsets: [2, 3, 4] });
  });

  it('returns null when fromOffset is past the end', async () => {
    const reader = await fromIterable([1, 2]).open(from(5));
    expect(reader.read(10)).toBeNull();
  });

  it('iterates afresh on every open, so an array replays from any offset', async () => {
    const source = fromIterable(['a', 'b', 'c']);
    const first = await source.open(from(0));
    expect((await first.read(10))?.values).toEqual(['a', 'b', 'c']);
    const replay = await source.open(from(1));
    expect(replay.read(10)).toEqual({ values: ['b', 'c'], offsets: [1, 2] });
  });

  it('calls return on an unfinished iterator when closed, and reads null afterwards', async () => {
    let cleanedUp = false;
    function* numbers(): Generator<number> {
      try {
        for (let i = 0; ; i++) yield i;
      } finally {
        cleanedUp = true;
      }
    }
    const reader = await fromIterable(numbers()).open(from(0));
    expect(reader.read(3)).toEqual({ values: [0, 1, 2], offsets: [0, 1, 2] });
    await reader.close();
    expect(cleanedUp).toBe(true);
    expect(reader.read(3)).toBeNull();
  });

  it('does not call return on an iterator that already finished, nor twice', async () => {
    let returns = 0;
    const once = (values: number[]): Iterable<number> => ({
      [Symbol.iterator]: () => {
        let i = 0;
        return {
          next: () => (i < values.length ? { done: false, value: values[i++] as number } : { done: true, value: undefined }),
          return: () => {
            returns++;
            return { done: true, value: undefined };
          },
        };
      },
    });
    const finished = await fromIterable(once([1])).open(from(0));
    finished.read(5);
    await finished.close();
    expect(returns).toBe(0);

    const unfinished = await fromIterable(once([1, 2, 3])).open(from(0));
    unfinished.read(1);
    await unfinished.close();
    await unfinished.close();
    expect(returns).toBe(1);
  });

  it('rejects a value that is not iterable with a ConfigError naming it', () => {
    for (const value of [null, undefined, 42, { length: 2 }]) {
      let caught: unknown;
      try {
        fromIterable(value as unknown as Iterable<number>);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ConfigError);
      expect((caught as ConfigError).field).toBe('fromIterable(iterable)');
      expect((caught as ConfigError).value).toBe(value);
      expect((caught as ConfigError).message).toContain('must be an iterable');
    }
  });
});
