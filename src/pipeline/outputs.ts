import type { Batch } from '../core/batch-queue.js';

/**
 * Collects the outputs of one call over a batch, with the source offset of the input each came
 * from, allocating as little as it can: the values array is sized for one output per input up
 * front, and while every input has produced exactly one output the offsets are the input's own
 * array, shared instead of copied (offset arrays are never changed once made).
 */
export class Outputs {
  readonly values: unknown[];
  private offsets: number[] | undefined;
  private count = 0;

  constructor(private readonly input: Batch) {
    this.values = new Array<unknown>(input.values.length);
  }

  /** Adds what input `i` emitted; inputs are added in order (one that emitted nothing need not be). */
  add(i: number, emit: readonly unknown[]): void {
    const k = emit.length;
    if (this.offsets === undefined) {
      if (k === 1 && this.count === i) {
        this.values[this.count++] = emit[0];
        return;
      }
      this.offsets = this.input.offsets.slice(0, this.count);
    }
    const offset = this.input.offsets[i] as number;
    for (let j = 0; j < k; j++) {
      this.values[this.count++] = emit[j];
      this.offsets.push(offset);
    }
  }

  /**
   * The outputs so far, as a batch. Without a deviation, output j came from input j (inputs at the
   * end that emitted nothing do not break that), so the offsets are a prefix of the input's.
   */
  finish(): Batch {
    this.values.length = this.count;
    if (this.offsets !== undefined) return { values: this.values, offsets: this.offsets };
    const all = this.input.offsets;
    return { values: this.values, offsets: this.count === all.length ? all : all.slice(0, this.count) };
  }
}
