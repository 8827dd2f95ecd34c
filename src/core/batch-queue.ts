/** A batch of events as two parallel arrays: the values and their source offsets. */
export interface Batch<T = unknown> {
  values: T[];
  offsets: number[];
}

interface Segment<T> {
  values: T[];
  offsets: number[];
  start: number;
}

/**
 * A FIFO of events stored as the batches they arrived in, so that enqueueing a batch is O(1) and
 * taking a whole batch back out copies nothing. Taking across batch boundaries merges them: this is
 * how arrivals that accumulate while a stage is busy become one larger call.
 */
export class BatchQueue<T = unknown> {
  private segments: Segment<T>[] = [];
  private head = 0;
  /** Number of events queued. */
  length = 0;

  /** Appends a batch; the queue takes ownership of both arrays. */
  push(values: T[], offsets: number[]): void {
    if (values.length === 0) return;
    this.segments.push({ values, offsets, start: 0 });
    this.length += values.length;
  }

  /** Puts a batch back at the front, ahead of everything queued (used to requeue unprocessed input). */
  unshift(values: T[], offsets: number[]): void {
    if (values.length === 0) return;
    const seg = { values, offsets, start: 0 };
    if (this.head > 0) this.segments[--this.head] = seg;
    else this.segments.unshift(seg);
    this.length += values.length;
  }

  /** Removes and returns up to `max` events from the front, in order. */
  take(max: number): Batch<T> {
    const n = Math.min(max, this.length);
    const first = this.segments[this.head];
    if (n === 0 || first === undefined) return { values: [], offsets: [] };
    const firstLeft = first.values.length - first.start;
    if (first.start === 0 && firstLeft === n) {
      this.dropHead();
      this.length -= n;
      return { values: first.values, offsets: first.offsets };
    }
    const values = new Array<T>(n);
    const offsets = new Array<number>(n);
    let filled = 0;
    while (filled < n) {
      const seg = this.segments[this.head] as Segment<T>;
      const count = Math.min(n - filled, seg.values.length - seg.start);
      for (let i = 0; i < count; i++) {
        values[filled + i] = seg.values[seg.start + i] as T;
        offsets[filled + i] = seg.offsets[seg.start + i] as number;
      }
      filled += count;
      seg.start += count;
      if (seg.start === seg.values.length) this.dropHead();
    }
    this.length -= n;
    return { values, offsets };
  }

  /** Removes and returns everything queued. */
  drain(): Batch<T> {
    return this.take(this.length);
  }

  private dropHead(): void {
    this.segments[this.head] = undefined as unknown as Segment<T>;
    this.head++;
    if (this.head === this.segments.length) {
      this.segments.length = 0;
      this.head = 0;
    } else if (this.head >= 64 && this.head * 2 >= this.segments.length) {
      this.segments = this.segments.slice(this.head);
      this.head = 0;
    }
  }
}
