import type { Sink } from './sink.js';

/** A sink keeping every output in memory, in arrival order. */
export interface ArraySink<T> extends Sink<T> {
  /** Every output, in arrival order. */
  readonly items: T[];
  /** `offsets[i]` is the source offset `items[i]` came from. */
  readonly offsets: number[];
}

/**
 * A sink collecting outputs into `items` (tests, small jobs).
 *
 * @example
 * const sink = toArray<number>();
 * await createPipeline({ name: 'p', source: fromIterable([1, 2]), stages: [double], sink }).run();
 * sink.items; // [2, 4]
 */
export function toArray<T = unknown>(): ArraySink<T> {
  const items: T[] = [];
  const offsets: number[] = [];
  return {
    kind: 'sink',
    name: 'array',
    items,
    offsets,
    write(values, batchOffsets) {
      for (let i = 0; i < values.length; i++) {
        items.push(values[i] as T);
        offsets.push(batchOffsets[i] as number);
      }
    },
  };
}
