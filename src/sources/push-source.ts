import type { Batch } from '../core/batch-queue.js';
import { SteadfastError, isSteadfastError, messageOf } from '../core/errors.js';
import { integerIn, knownKeys, record } from '../core/validate.js';
import type { PushJournal } from './push-journal.js';
import type { Source, SourceOpenOptions, SourceReader } from './source.js';

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
 * In a pipeline with checkpoints the source is journalled: each event is written to the
 * checkpoint store before the pipeline takes it, so a push that resolved is never lost. After a
 * crash the events pushed since the last checkpoint are delivered again, with their offsets, and
 * new pushes continue after them (see docs/sources-and-sinks.md).
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

/** The hook a pipeline with checkpoints uses to journal a push source (not part of the public API). */
export const ATTACH_JOURNAL = Symbol('steadfast.pushSource.attachJournal');

/** A push source a journal can be attached to. */
export interface JournalledSource {
  [ATTACH_JOURNAL](journal: PushJournal): void;
}

/** True for a push source made by {@link pushSource}. */
export function isJournallable(source: unknown): source is JournalledSource {
  return typeof source === 'object' && source !== null && ATTACH_JOURNAL in source;
}

/** A push waiting to be journalled, read or refused. */
interface Waiting<T> {
  value: T;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** Most events journalled in one write: pushes that come during a write go together in the next. */
const MAX_APPEND = 4_096;

class PushQueue<T> implements PushSource<T>, SourceReader<T>, JournalledSource {
  readonly kind = 'source' as const;
  readonly name = 'push';
  /** Readable events, their offsets, and the pushes to resolve when they are taken (none for journalled replays). */
  private values: T[] = [];
  private offsets: number[] = [];
  private resolvers: Array<Waiting<T> | undefined> = [];
  private head = 0;
  private nextOffset = 0;
  private ended = false;
  private closed = false;
  private opened = false;
  /** Journal mode (a pipeline with checkpoints): pushes become readable once journalled. */
  private journal: PushJournal | undefined;
  /** Pushed, not yet journalled; and the write in flight. */
  private staged: Array<Waiting<T>> = [];
  private journalling = 0;
  private ready = false;
  private wakeReader: (() => void) | undefined;

  constructor(private readonly maxPending: number) {}

  get pending(): number {
    return this.values.length - this.head + this.staged.length + this.journalling;
  }

  [ATTACH_JOURNAL](journal: PushJournal): void {
    if (this.opened) throw new SteadfastError('PIPELINE_STATE_INVALID', 'a push source feeds one pipeline run; create another pushSource()');
    this.journal = journal;
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
      const waiting = { value, resolve, reject };
      if (this.journal === undefined) {
        this.append(value, this.nextOffset++, waiting);
        this.wake();
      } else {
        this.staged.push(waiting);
        this.flush();
      }
    });
  }

  end(): void {
    this.ended = true;
    this.wake();
  }

  open(options: SourceOpenOptions): SourceReader<T> | Promise<SourceReader<T>> {
    if (this.opened) throw new SteadfastError('PIPELINE_STATE_INVALID', 'a push source feeds one pipeline run; create another pushSource()');
    this.opened = true;
    const journal = this.journal;
    if (journal === undefined) {
      this.ready = true;
      return this;
    }
    return journal.open(options.fromOffset).then(({ values, offsets, nextOffset }) => {
      // What was journalled after the last checkpoint comes first, with its offsets.
      for (let i = 0; i < values.length; i++) this.append(values[i] as T, offsets[i] as number, undefined);
      this.nextOffset = nextOffset;
      this.ready = true;
      this.flush();
      return this;
    });
  }

  read(max: number): Batch<T> | null | Promise<Batch<T> | null> {
    if (this.values.length > this.head) return this.take(max);
    if (this.drained()) return null;
    return new Promise((resolve) => {
      this.wakeReader = () => {
        if (this.values.length > this.head && !this.closed) {
          this.wakeReader = undefined;
          // The reader hears of the batch before the pushers do, so that once a push resolves its
          // event is in the pipeline (a checkpoint asked for then covers it).
          const taken = this.resolvers.slice(this.head, this.head + Math.min(max, this.values.length - this.head));
          resolve(this.take(max, false));
          for (const waiting of taken) waiting?.resolve();
        } else if (this.drained()) {
          this.wakeReader = undefined;
          resolve(null);
        }
      };
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const refused = new SteadfastError('PIPELINE_STOPPED', 'the pipeline stopped before this pushed event was accepted');
    // A journalled event is safe: it is delivered after the next start. Others are refused.
    for (let i = this.head; i < this.resolvers.length; i++) {
      const waiting = this.resolvers[i];
      if (this.journal === undefined) waiting?.reject(refused);
      else waiting?.resolve();
    }
    for (const waiting of this.staged) waiting.reject(refused);
    this.values = [];
    this.offsets = [];
    this.resolvers = [];
    this.staged = [];
    this.head = 0;
    this.wake();
  }

  /** Nothing more will become readable. */
  private drained(): boolean {
    return this.closed || (this.ended && this.staged.length === 0 && this.journalling === 0);
  }

  private append(value: T, offset: number, waiting: Waiting<T> | undefined): void {
    this.values.push(value);
    this.offsets.push(offset);
    this.resolvers.push(waiting);
  }

  /** Journals the staged pushes (one write at a time, in push order); they become readable once stored. */
  private flush(): void {
    const journal = this.journal;
    if (journal === undefined || !this.ready || this.closed || this.journalling > 0 || this.staged.length === 0) return;
    const batch = this.staged.splice(0, MAX_APPEND);
    const offsets = batch.map(() => this.nextOffset++);
    this.journalling = batch.length;
    journal
      .append(
        batch.map((w) => w.value),
        offsets,
      )
      .then(
        () => {
          this.journalling = 0;
          if (this.closed) {
            for (const waiting of batch) waiting.resolve(); // stored: delivered after the next start
          } else {
            for (let i = 0; i < batch.length; i++) this.append((batch[i] as Waiting<T>).value, offsets[i] as number, batch[i]);
          }
          this.wake();
          this.flush();
        },
        (error: unknown) => {
          this.journalling = 0;
          // Not stored, not taken: the caller hears it and may push again.
          const refused = isSteadfastError(error) ? error : new SteadfastError('CHECKPOINT_STORE_FAILED', `push() not journalled: ${messageOf(error)}`, { cause: error });
          for (const waiting of batch) waiting.reject(refused);
          this.wake();
          this.flush();
        },
      );
  }

  private take(max: number, accept = true): Batch<T> {
    const n = Math.min(max, this.values.length - this.head);
    const values = this.values.slice(this.head, this.head + n);
    const offsets = this.offsets.slice(this.head, this.head + n);
    if (accept) for (let i = 0; i < n; i++) this.resolvers[this.head + i]?.resolve();
    this.head += n;
    if (this.head === this.values.length) {
      this.values = [];
      this.offsets = [];
      this.resolvers = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.values.length) {
      this.values = this.values.slice(this.head);
      this.offsets = this.offsets.slice(this.head);
      this.resolvers = this.resolvers.slice(this.head);
      this.head = 0;
    }
    return { values, offsets };
  }

  private wake(): void {
    this.wakeReader?.();
  }
}
