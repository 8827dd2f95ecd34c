import type { Batch } from '../core/batch-queue.js';
import type { SteadfastError } from '../core/errors.js';

/** How a pipeline opens a source. */
export interface SourceOpenOptions {
  /** First offset to deliver; earlier events are skipped (replay from a committed offset). */
  fromOffset: number;
  /** Reports an event-level problem (a malformed line) without ending the source. */
  onError: (error: SteadfastError) => void;
}

/** An open source: hands out batches of events with increasing offsets. */
export interface SourceReader<T> {
  /**
   * Up to `max` (>= 1) events, at least one; `null` once the source has ended. May answer
   * synchronously, which lets a pipeline over an in-memory source avoid a promise per batch.
   */
  read(max: number): Batch<T> | null | Promise<Batch<T> | null>;
  /** Releases what the reader holds; a pending `read` then resolves `null`. */
  close(): void | Promise<void>;
}

/** Where a pipeline's events come from; every event gets an offset, increasing, from the source. */
export interface Source<T = unknown> {
  readonly kind: 'source';
  /** Describes the source in logs and stats, e.g. `ndjson:orders.ndjson`. */
  readonly name: string;
  open(options: SourceOpenOptions): SourceReader<T> | Promise<SourceReader<T>>;
}

/** True when `value` is a source made by one of the `from*` functions or shaped like one. */
export function isSource(value: unknown): value is Source {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { kind?: unknown }).kind === 'source' &&
    typeof (value as { open?: unknown }).open === 'function'
  );
}
