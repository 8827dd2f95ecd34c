import type { Batch } from '../core/batch-queue.js';
import { ConfigError } from '../core/errors.js';
import type { Source, SourceOpenOptions, SourceReader } from './source.js';

/**
 * A source over an async iterable (an async generator, a readable stream in object mode).
 * The i-th value gets offset i. A read hands over what has already arrived instead of waiting for
 * a full batch, so a slow producer does not delay the events it has already produced.
 *
 * @example
 * createPipeline({ name: 'p', source: fromAsyncIterable(messages()), stages: [handle] });
 */
export function fromAsyncIterable<T>(iterable: AsyncIterable<T>): Source<T> {
  if (iterable === null || typeof (iterable as { [Symbol.asyncIterator]?: unknown })?.[Symbol.asyncIterator] !== 'function') {
    throw new ConfigError('fromAsyncIterable(iterable)', iterable, 'must be an async iterable');
  }
  return {
    kind: 'source',
    name: 'async-iterable',
    open: (options: SourceOpenOptions) => new AsyncIterableReader(iterable[Symbol.asyncIterator](), options.fromOffset),
  };
}

const PENDING = Symbol('pending');
const CLOSED = Symbol('closed');

class AsyncIterableReader<T> implements SourceReader<T> {
  private next = 0;
  private done = false;
  private pending: Promise<IteratorResult<T>> | undefined;
  private readonly closed: Promise<typeof CLOSED>;
  private signalClosed: () => void = () => {};

  constructor(
    private readonly iterator: AsyncIterator<T>,
    private readonly fromOffset: number,
  ) {
    this.closed = new Promise((resolve) => {
      this.signalClosed = () => resolve(CLOSED);
    });
  }

  async read(max: number): Promise<Batch<T> | null> {
    const values: T[] = [];
    const offsets: number[] = [];
    let turnEnds: Promise<typeof PENDING> | undefined;
    while (!this.done && values.length < max) {
      const step = this.pending ?? this.iterator.next();
      this.pending = step;
      // Once something is in hand, take only what the producer yields before the event loop turns:
      // an async generator settles each next() a few microtasks later, so a resolved promise
      // would win every race and hand over one event at a time.
      if (values.length > 0) turnEnds ??= new Promise((resolve) => setImmediate(resolve, PENDING));
      let result: IteratorResult<T> | typeof PENDING | typeof CLOSED;
      try {
        result = await Promise.race(turnEnds === undefined ? [step, this.closed] : [step, this.closed, turnEnds]);
      } catch (error) {
        // Hand over what was read first; the failed step stays pending and fails the next read.
        if (values.length > 0) break;
        this.pending = undefined;
        throw error;
      }
      if (result === PENDING) break;
      if (result === CLOSED) return null;
      this.pending = undefined;
      if (result.done === true) {
        this.done = true;
        break;
      }
      const offset = this.next++;
      if (offset < this.fromOffset) continue;
      values.push(result.value);
      offsets.push(offset);
    }
    return values.length === 0 ? null : { values, offsets };
  }

  close(): void {
    if (this.done) return;
    this.done = true;
    this.signalClosed();
    // A generator suspended at an await only sees return() once it resumes, so do not wait for it.
    this.iterator.return?.()?.catch(() => {});
    this.pending?.catch(() => {});
  }
}
