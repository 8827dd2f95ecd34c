import type { Batch } from '../core/batch-queue.js';
import { ConfigError } from '../core/errors.js';
import type { Source, SourceOpenOptions, SourceReader } from './source.js';

/**
 * A source over a synchronous iterable (an array, a Set, a generator). The i-th value gets offset i.
 * Replaying from an offset iterates again from the start and skips, so replay needs an iterable that
 * can be iterated more than once (an array, not a generator object).
 *
 * @example
 * createPipeline({ name: 'p', source: fromIterable([1, 2, 3]), stages: [double] });
 */
export function fromIterable<T>(iterable: Iterable<T>): Source<T> {
  if (iterable === null || typeof (iterable as { [Symbol.iterator]?: unknown })?.[Symbol.iterator] !== 'function') {
    throw new ConfigError('fromIterable(iterable)', iterable, 'must be an iterable');
  }
  return {
    kind: 'source',
    name: 'iterable',
    open: (options: SourceOpenOptions) =>
      Array.isArray(iterable) ? new ArrayReader(iterable as T[], options.fromOffset) : new IterableReader(iterable[Symbol.iterator](), options.fromOffset),
  };
}

class IterableReader<T> implements SourceReader<T> {
  private next = 0;
  private done = false;

  constructor(
    private readonly iterator: Iterator<T>,
    private readonly fromOffset: number,
  ) {}

  read(max: number): Batch<T> | null {
    if (this.done) return null;
    const values: T[] = [];
    const offsets: number[] = [];
    while (values.length < max) {
      const step = this.iterator.next();
      if (step.done === true) {
        this.done = true;
        break;
      }
      const offset = this.next++;
      if (offset < this.fromOffset) continue;
      values.push(step.value);
      offsets.push(offset);
    }
    return values.length === 0 ? null : { values, offsets };
  }

  close(): void {
    if (!this.done) {
      this.done = true;
      this.iterator.return?.();
    }
  }
}

/** Reads an array by slices: one copy per batch instead of one iterator step per event. */
class ArrayReader<T> implements SourceReader<T> {
  private next: number;

  constructor(
    private readonly array: T[],
    fromOffset: number,
  ) {
    this.next = Math.max(0, fromOffset);
  }

  read(max: number): Batch<T> | null {
    const start = this.next;
    const end = Math.min(this.array.length, start + max);
    if (start >= end) return null;
    this.next = end;
    const offsets = new Array<number>(end - start);
    for (let i = 0; i < offsets.length; i++) offsets[i] = start + i;
    return { values: this.array.slice(start, end), offsets };
  }

  close(): void {
    this.next = this.array.length;
  }
}
