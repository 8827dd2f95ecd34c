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
    open: (options: SourceOpenOptions) => new IterableReader(iterable[Symbol.iterator](), options.fromOffset),
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
