import type { Batch } from '../core/batch-queue.js';
import { SteadfastError } from '../core/errors.js';
import { integerIn, knownKeys, record } from '../core/validate.js';
import type { Source, SourceReader } from './source.js';

/** A source fed by the program: `push()` resolves once the pipeline has taken the event in. */
export interface PushSource<T> extends Source<T> {
  /** Queues an event; resolves when the pipeline accepts it (so awaiting it is backpressure). */
  push(value: T): Promise<void>;
  /** No more events: the pipeline drains what it has and finishes (`done` resolves). */
  end(): void;
  /** Events pushed and not yet accepted. */
  readonly pending: number;
}

/** Options of {@link pushSource}. */
export interface PushSourceOptions {
  /** Most events waiting to be accepted; a push beyond it rejects with PUSH_OVERFLOW (default 65536). */
  maxPending?: number;
}

/**
 * A source the program pushes into, for events that arrive from outside (HTTP requests, queue
 * consumers). Offsets count pushes from 0. Await each push so that a slow pipeline slows the
 * producer instead of filling memory; pushes beyond `maxPending` are refused, never dropped.
 *
 * @example
 * const source = pushSource<Order>();
 * const pipeline = createPipeline({ name: 'orders', source, stages: [validate] });
 * await pipeline.start();
 * await pipeline.push(order);
 */
export function pushSource<T>(options: PushSourceOptions = {}): PushSource<T> {
  const opts = record('pushSource options', options);
  knownKeys('pushSource', opts, ['maxPending']);
  const maxPending = opts.maxPending === undefined ? 65_536 : integerIn('pushSource.maxPending', opts.maxPending, 1);
  return new PushQueue<T>(maxPending);
}

class PushQueue<T> implements PushSource<T>, SourceReader<T> {
  readonly kind = 'source' as const;
  readonly name = 'push';
  private values: T[] = [];
  private resolvers: Array<{ resolve: () => void; reject: (error: unknown) => void }> = [];
  private head = 0;
  private nextOffset = 0;
  private ended = false;
  private closed = false;
  private opened = false;
  private wakeReader: (() => void) | undefined;

  constructor(private readonly maxPending: number) {}

  get pending(): number {
    return this.values.length - this.head;
  }

  push(value: T): Promise<void> {
    if (this.ended || this.closed) {
      return Promise.reject(new SteadfastError('SOURCE_ENDED', 'push() after the push source ended or its pipeline stopped'));
    }
    if (this.pending >= this.maxPending) {
      return Promise.reject(
        new SteadfastError('PUSH_OVERFLOW', `push() refused: ${this.pending} events already wait (maxPending ${this.maxPending}); await push()`),
      );
    }
    return new Promise<void>((resolve, reject) => {
      this.values.push(value);
      this.resolvers.push({ resolve, reject });
      this.wake();
    });
  }

  end(): void {
    this.ended = true;
    this.wake();
  }

  open(): SourceReader<T> {
    if (this.opened) throw new SteadfastError('PIPELINE_STATE_INVALID', 'a push source feeds one pipeline run; create another pushSource()');
    this.opened = true;
    return this;
  }

  read(max: number): Batch<T> | null | Promise<Batch<T> | null> {
    if (this.pending > 0) return this.take(max);
    if (this.ended || this.closed) return null;
    return new Promise((resolve) => {
      this.wakeReader = () => {
        this.wakeReader = undefined;
        resolve(this.pending > 0 && !this.closed ? this.take(max) : null);
      };
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const refused = new SteadfastError('PIPELINE_STOPPED', 'the pipeline stopped before this pushed event was accepted');
    for (let i = this.head; i < this.resolvers.length; i++) this.resolvers[i]?.reject(refused);
    this.values = [];
    this.resolvers = [];
    this.head = 0;
    this.wake();
  }

  private take(max: number): Batch<T> {
    const n = Math.min(max, this.pending);
    const values = this.values.slice(this.head, this.head + n);
    const offsets = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      offsets[i] = this.nextOffset++;
      this.resolvers[this.head + i]?.resolve();
    }
    this.head += n;
    if (this.head === this.values.length) {
      this.values = [];
      this.resolvers = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.values.length) {
      this.values = this.values.slice(this.head);
      this.resolvers = this.resolvers.slice(this.head);
      this.head = 0;
    }
    return { values, offsets };
  }

  private wake(): void {
    this.wakeReader?.();
  }
}
