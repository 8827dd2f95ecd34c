import type { Batch } from '../core/batch-queue.js';
import type { StageCallError } from '../core/errors.js';

/** An event of a call that failed while the stage went on with the next (`onFailure: 'resume'`). */
export interface CallFailure {
  /** Its index in the call's batch. */
  index: number;
  error: StageCallError;
}

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
  /** Events that failed while the call went on (resume); undefined while none did. */
  failures: CallFailure[] | undefined;
  /** Failed events in a row, as of the last failure (counting those before the call when it began with failures). */
  private inRow: number;
  private lastFailed = -1;

  /** `failuresInRow`: failed events in a row before this call (the stage machine keeps the count). */
  constructor(
    private readonly input: Batch,
    private readonly failuresBefore = 0,
  ) {
    this.values = new Array<unknown>(input.values.length);
    this.inRow = failuresBefore;
  }

  /** Input `i` failed and the call goes on without it; returns the failed events in a row now. */
  fail(i: number, error: StageCallError): number {
    this.inRow = this.lastFailed === i - 1 ? this.inRow + 1 : 1;
    this.lastFailed = i;
    (this.failures ??= []).push({ index: i, error });
    return this.inRow;
  }

  /** Failed events in a row at the end of the call (0 when its last event succeeded). */
  failuresInRow(): number {
    const n = this.input.values.length;
    if (n === 0) return this.failuresBefore;
    return this.lastFailed === n - 1 ? this.inRow : 0;
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
