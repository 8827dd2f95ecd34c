/** A batch of events as two parallel arrays: the values and their source offsets. */
export interface Batch<T = unknown> {
  values: T[];
  offsets: number[];
}

const EMPTY: never[] = [];

interface Segment<T> {
  values: T[];
  offsets: number[];
  start: number;
  /** A marker between events (a checkpoint barrier): a segment holding no events. */
  mark?: unknown;
}

/**
 * A FIFO of events stored as the batches they arrived in, so that enqueueing a batch is O(1) and
 * taking a whole batch back out copies nothing. Taking across batch boundaries merges them: this is
 * how arrivals that accumulate while a stage is busy become one larger call.
 */
export class BatchQueue<T = unknown> {
  private segments: Segment<T>[] = [];
  private head = 0;
  /** Number of events queued (markers are not events). */
  length = 0;
  /** Number of markers queued. */
  marks = 0;

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

  /** Appends a marker after everything queued; `take` never crosses it. */
  pushMark(mark: unknown): void {
    this.segments.push({ values: EMPTY as T[], offsets: EMPTY as number[], start: 0, mark });
    this.marks++;
  }

  /** The marker at the front, if the next thing queued is a marker. */
  headMark(): unknown {
    if (this.marks === 0) return undefined;
    return this.segments[this.head]?.mark;
  }

  /** Removes the marker at the front (see {@link headMark}). */
  shiftMark(): unknown {
    const seg = this.segments[this.head];
    if (seg?.mark === undefined) return undefined;
    const { mark } = seg;
    this.marks--;
    this.dropHead();
    return mark;
  }

  /** Events queued before the first marker (all of them with no marker). */
  beforeMark(): number {
    if (this.marks === 0) return this.length;
    let n = 0;
    for (let i = this.head; i < this.segments.length; i++) {
      const seg = this.segments[i] as Segment<T>;
      if (seg.mark !== undefined) return n;
      n += seg.values.length - seg.start;
    }
    return n;
  }

  /** Removes and returns up to `max` events from the front, in order, never past a marker. */
  take(max: number): Batch<T> {
    const n = Math.min(max, this.marks === 0 ? this.length : this.beforeMark());
    const first = this.segments[this.head];
    if (n === 0 || first === undefined) return { values: [], offsets: [] };
    const firstLeft = first.values.length - first.start;
    if (firstLeft >= n) {
      // Within one arrived batch: hand it over whole, or a slice of it (a block copy).
      const start = first.start;
      let taken: Batch<T>;
      if (start === 0 && firstLeft === n) taken = { values: first.values, offsets: first.offsets };
      else taken = { values: first.values.slice(start, start + n), offsets: first.offsets.slice(start, start + n) };
      first.start += n;
      if (first.start === first.values.length) this.dropHead();
      this.length -= n;
      return taken;
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

  /** Removes and returns every event queued before the first marker. */
  drain(): Batch<T> {
    return this.take(this.length);
  }

  private dropHead(): void {
    // A dropped segment object may sit in the old generation until the next full GC; cut its links
    // to the arrays so that it does not keep them (and the events in them) alive until then.
    const seg = this.segments[this.head] as Segment<T>;
    seg.values = EMPTY as T[];
    seg.offsets = EMPTY as number[];
    seg.mark = undefined;
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
