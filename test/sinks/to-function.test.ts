import { describe, expect, it } from 'vitest';
import { ConfigError, SinkWriteError } from '../../src/core/errors.js';
import { toFunction } from '../../src/sinks/to-function.js';

/** Lets I/O callbacks and every pending promise callback run, so that an async call really yields. */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Awaits `write(...)` and returns what it threw, or undefined. */
async function failureOf(run: () => void | Promise<void>): Promise<unknown> {
  try {
    await run();
    return undefined;
  } catch (error) {
    return error;
  }
}

describe('toFunction', () => {
  it('calls the function for every value with its offset, in order', async () => {
    const calls: Array<[string, number]> = [];
    const sink = toFunction<string>((value, offset) => {
      calls.push([value, offset]);
    });
    await sink.write(['a', 'b', 'c'], [4, 5, 9]);
    expect(calls).toEqual([
      ['a', 4],
      ['b', 5],
      ['c', 9],
    ]);
  });

  it('writes synchronously when the function is synchronous', () => {
    const seen: number[] = [];
    const sink = toFunction<number>((n) => {
      seen.push(n);
    });
    expect(sink.write([1, 2], [0, 1])).toBeUndefined();
    expect(seen).toEqual([1, 2]);
  });

  it('awaits each async call before starting the next', async () => {
    const log: string[] = [];
    let running = 0;
    const sink = toFunction<number>(async (n) => {
      running++;
      expect(running).toBe(1);
      log.push(`start ${n}`);
      await turn();
      log.push(`end ${n}`);
      running--;
    });
    const written = sink.write([1, 2, 3], [0, 1, 2]);
    expect(written).toBeInstanceOf(Promise);
    await written;
    expect(log).toEqual(['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3']);
  });

  it('reports a throwing call as SinkWriteError listing only the failed values and offsets, and writes the others', async () => {
    const written: number[] = [];
    const boom = new Error('odd value');
    const sink = toFunction<number>((n) => {
      if (n % 2 === 1) throw boom;
      written.push(n);
    });
    const error = await failureOf(() => sink.write([0, 1, 2, 3, 4], [10, 11, 12, 13, 14]));
    expect(written).toEqual([0, 2, 4]);
    expect(error).toBeInstanceOf(SinkWriteError);
    const failure = error as SinkWriteError;
    expect(failure.code).toBe('SINK_WRITE_FAILED');
    expect(failure.events).toEqual([1, 3]);
    expect(failure.offsets).toEqual([11, 13]);
    expect(failure.cause).toBe(boom);
    expect(failure.message).toContain('2 values');
    expect(failure.message).toContain('odd value');
  });

  it('reports rejected async calls the same way, after writing the rest in order', async () => {
    const written: string[] = [];
    const sink = toFunction<string>(async (value) => {
      await turn();
      if (value.startsWith('bad')) throw new Error(`refused ${value}`);
      written.push(value);
    });
    const error = await failureOf(() => sink.write(['ok1', 'bad1', 'ok2', 'bad2', 'ok3'], [1, 2, 3, 4, 5]));
    expect(written).toEqual(['ok1', 'ok2', 'ok3']);
    expect(error).toBeInstanceOf(SinkWriteError);
    expect((error as SinkWriteError).events).toEqual(['bad1', 'bad2']);
    expect((error as SinkWriteError).offsets).toEqual([2, 4]);
    expect((error as SinkWriteError).message).toContain('refused bad1');
  });

  it('keeps failures from synchronous calls made before the first async one', async () => {
    const written: number[] = [];
    const sink = toFunction<number>((n) => {
      if (n === 0) throw new Error('sync failure');
      if (n === 1) {
        written.push(n);
        return undefined;
      }
      return turn().then(() => {
        if (n === 3) throw new Error('async failure');
        written.push(n);
      });
    });
    const error = await failureOf(() => sink.write([0, 1, 2, 3, 4], [0, 1, 2, 3, 4]));
    expect(written).toEqual([1, 2, 4]);
    expect((error as SinkWriteError).offsets).toEqual([0, 3]);
    expect((error as SinkWriteError).events).toEqual([0, 3]);
    expect((error as SinkWriteError).message).toContain('sync failure');
  });

  it('names the offset when a single call fails, and describes non-Error throws', async () => {
    const sink = toFunction<string>((value) => {
      if (value === 'x') throw 'not an Error object';
    });
    const error = await failureOf(() => sink.write(['a', 'x'], [41, 42]));
    expect((error as SinkWriteError).message).toBe('sink function failed for offset 42: "not an Error object"');
    expect((error as SinkWriteError).cause).toBe('not an Error object');
  });

  it('takes its name from the function', () => {
    function insertOrder(): void {}
    expect(toFunction(insertOrder).name).toBe('function:insertOrder');
    expect(toFunction(Object.defineProperty(() => {}, 'name', { value: '' })).name).toBe('function');
    expect(toFunction(insertOrder).kind).toBe('sink');
  });

  it('rejects a value that is not a function with a ConfigError naming it', () => {
    let caught: unknown;
    try {
      toFunction('insert' as unknown as () => void);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).field).toBe('toFunction(fn)');
    expect((caught as ConfigError).value).toBe('insert');
    expect((caught as ConfigError).message).toContain('got "insert"');
  });
});
