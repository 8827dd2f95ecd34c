import { ConfigError, SinkWriteError, messageOf } from '../core/errors.js';
import type { Sink } from './sink.js';

/** Receives one output and the source offset it came from; may return a promise, which is awaited. */
export type SinkFunction<T> = (value: T, offset: number) => void | Promise<void>;

/**
 * A sink calling `fn` for every output, in order, awaiting it when it returns a promise. A call that
 * throws is reported (SINK_WRITE_FAILED, with the value and offset) and the next value is written.
 * A plain function given as a pipeline's `sink` is wrapped with this.
 *
 * @example
 * createPipeline({ name: 'p', source, stages: [enrich], sink: toFunction((order) => db.insert(order)) });
 */
export function toFunction<T = unknown>(fn: SinkFunction<T>): Sink<T> {
  if (typeof fn !== 'function') throw new ConfigError('toFunction(fn)', fn, 'must be a function');
  return {
    kind: 'sink',
    name: fn.name ? `function:${fn.name}` : 'function',
    write: (values, offsets) => writeAll(fn, values, offsets),
  };
}

function writeAll<T>(fn: SinkFunction<T>, values: readonly T[], offsets: readonly number[]): void | Promise<void> {
  const failed = new Failures();
  for (let i = 0; i < values.length; i++) {
    try {
      const result = fn(values[i] as T, offsets[i] as number);
      if (result !== undefined && typeof (result as Promise<void>).then === 'function') {
        return writeRestAsync(fn, values, offsets, i, result, failed);
      }
    } catch (error) {
      failed.add(values[i], offsets[i] as number, error);
    }
  }
  failed.throwIfAny();
  return undefined;
}

async function writeRestAsync<T>(
  fn: SinkFunction<T>,
  values: readonly T[],
  offsets: readonly number[],
  at: number,
  pending: Promise<void>,
  failed: Failures,
): Promise<void> {
  try {
    await pending;
  } catch (error) {
    failed.add(values[at], offsets[at] as number, error);
  }
  for (let i = at + 1; i < values.length; i++) {
    try {
      await fn(values[i] as T, offsets[i] as number);
    } catch (error) {
      failed.add(values[i], offsets[i] as number, error);
    }
  }
  failed.throwIfAny();
}

class Failures {
  private events: unknown[] = [];
  private offsets: number[] = [];
  private first: unknown;

  add(value: unknown, offset: number, error: unknown): void {
    if (this.events.length === 0) this.first = error;
    this.events.push(value);
    this.offsets.push(offset);
  }

  throwIfAny(): void {
    if (this.events.length === 0) return;
    const where = this.offsets.length === 1 ? `offset ${this.offsets[0]}` : `${this.offsets.length} values`;
    throw new SinkWriteError(`sink function failed for ${where}: ${messageOf(this.first)}`, { events: this.events, offsets: this.offsets }, this.first);
  }
}
