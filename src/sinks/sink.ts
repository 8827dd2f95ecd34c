/** Where a pipeline's outputs go. Writes are called one at a time, in order. */
export interface Sink<T = unknown> {
  readonly kind: 'sink';
  /** Describes the sink in logs and stats, e.g. `ndjson:out.ndjson`. */
  readonly name: string;
  /** Called once before the first write (open files, connect). */
  open?(): void | Promise<void>;
  /**
   * Writes a batch; `offsets[i]` is the source offset the i-th value came from. A throw or rejection
   * reports the batch to the pipeline's error handler. To report only some values, throw a
   * SinkWriteError whose `events` and `offsets` are the ones that failed.
   */
  write(values: readonly T[], offsets: readonly number[]): void | Promise<void>;
  /** Called once after the last write on a graceful stop: flush and release. */
  close?(): void | Promise<void>;
}

/** True when `value` is shaped like a {@link Sink}. */
export function isSink(value: unknown): value is Sink {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { kind?: unknown }).kind === 'sink' &&
    typeof (value as { write?: unknown }).write === 'function'
  );
}
