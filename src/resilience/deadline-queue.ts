import { setTimer, systemClock, type CancelTimer } from '../core/clock.js';

/** Something to be told when its deadline passes; `expire` must not throw. */
export interface DeadlineTask {
  expire(): void;
}

declare const HANDLE: unique symbol;

/** Where a task waits, as {@link DeadlineQueue.add} returns it, for {@link DeadlineQueue.cancel}. */
export interface DeadlineHandle {
  readonly [HANDLE]: true;
}

/** The longest delay setTimeout takes (about 24.8 days); a later deadline is reached in steps. */
const MAX_TIMER_MS = 2_147_483_647;

/** How many emptied buckets an idle queue keeps for reuse. */
const KEEP_IDLE_BUCKETS = 64;

/**
 * Deadlines of many calls behind one timer: tasks wait in buckets of one millisecond (a deadline is
 * rounded up, so a task never expires early), the bucket times sit in a min-heap, and a single
 * unref'd setTimeout is armed for the earliest bucket that holds a task. Adding or cancelling a
 * task costs a Set operation (calls started in the same millisecond share a bucket); the timer is
 * re-armed only for a deadline earlier than the armed one, and cleared as soon as no task is
 * pending, so an idle queue holds no timer.
 */
export class DeadlineQueue {
  private readonly buckets = new Map<number, Set<DeadlineTask>>();
  // Bucket times, each once: a bucket emptied by cancellations stays (empty) until its time comes,
  // so that a busy queue does not push the same millisecond again and again.
  private readonly heap: number[] = [];
  private count = 0;
  private timer: CancelTimer | undefined;
  private armedAt = Infinity;
  private firing = false;
  // The bucket of the latest add: calls close together share it, and skip the Map lookup.
  private lastKey = Number.NaN;
  private lastBucket: Set<DeadlineTask> | undefined;
  private readonly onTimer = (): void => this.fire();

  /** `now` is a monotonic clock in milliseconds (performance.now by default, which fake timers replace). */
  constructor(readonly now: () => number = () => performance.now()) {}

  /** How many tasks wait for their deadline. */
  get pending(): number {
    return this.count;
  }

  /** True while the queue's timer is set (never when nothing is pending). */
  get armed(): boolean {
    return this.timer !== undefined;
  }

  /** Calls `task.expire()` once the clock reaches `at` (ms on `now`'s scale); returns what {@link cancel} needs. */
  add(task: DeadlineTask, at: number): DeadlineHandle {
    const key = Math.ceil(at);
    let bucket = key === this.lastKey ? this.lastBucket : this.buckets.get(key);
    if (bucket === undefined) {
      bucket = new Set();
      this.buckets.set(key, bucket);
      push(this.heap, key);
    }
    this.lastKey = key;
    this.lastBucket = bucket;
    bucket.add(task);
    this.count++;
    if (key < this.armedAt && !this.firing) this.arm(key);
    return bucket as unknown as DeadlineHandle;
  }

  /** Forgets `task` (added with the returned `handle`); a no-op when it already expired or was cancelled. */
  cancel(task: DeadlineTask, handle: DeadlineHandle): void {
    if (!(handle as unknown as Set<DeadlineTask>).delete(task)) return;
    this.count--;
    if (this.count === 0 && !this.firing) this.idle();
  }

  private arm(key: number): void {
    this.timer?.();
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, Math.ceil(key - this.now())));
    this.armedAt = key;
    this.timer = setTimer(systemClock, delay, this.onTimer, { unref: true });
  }

  // Nothing pending: the timer goes at once. The (empty) buckets may stay for the next calls, which
  // often fall in the same millisecond; only a long list of them is dropped, to bound memory.
  private idle(): void {
    this.timer?.();
    this.timer = undefined;
    this.armedAt = Infinity;
    if (this.heap.length > KEEP_IDLE_BUCKETS) this.clear();
  }

  private clear(): void {
    this.timer?.();
    this.timer = undefined;
    this.armedAt = Infinity;
    this.buckets.clear();
    this.heap.length = 0;
    this.forgetLast();
  }

  private forgetLast(): void {
    this.lastKey = Number.NaN;
    this.lastBucket = undefined;
  }

  private fire(): void {
    this.timer = undefined;
    this.armedAt = Infinity;
    const now = this.now();
    this.firing = true;
    try {
      // Expire every due bucket, then drop the emptied ones at the top, so the timer is armed for
      // the next bucket that still holds a task.
      while (this.heap.length > 0) {
        const key = this.heap[0] as number;
        const bucket = this.buckets.get(key);
        if (key > now && bucket !== undefined && bucket.size > 0) break;
        pop(this.heap);
        if (bucket === undefined) continue;
        // Each task leaves the bucket before it expires, so that one cancelled by an earlier
        // task's expiry is skipped; a task added to the bucket meanwhile is due too, and expires here.
        if (key <= now) {
          for (const task of bucket) {
            bucket.delete(task);
            this.count--;
            task.expire();
          }
        }
        this.buckets.delete(key);
        if (key === this.lastKey) this.forgetLast();
      }
    } finally {
      this.firing = false;
    }
    if (this.count === 0) this.clear();
    else this.arm(this.heap[0] as number);
  }
}

/** The process-wide deadline queue shared by every timeout and bulkhead queue wait. */
export const deadlines = new DeadlineQueue();

function push(heap: number[], value: number): void {
  let i = heap.length;
  heap.push(value);
  while (i > 0) {
    const parent = (i - 1) >> 1;
    const above = heap[parent] as number;
    if (above <= value) break;
    heap[i] = above;
    i = parent;
  }
  heap[i] = value;
}

function pop(heap: number[]): void {
  const last = heap.pop() as number;
  const size = heap.length;
  if (size === 0) return;
  let i = 0;
  for (;;) {
    const left = 2 * i + 1;
    if (left >= size) break;
    const right = left + 1;
    const child = right < size && (heap[right] as number) < (heap[left] as number) ? right : left;
    if ((heap[child] as number) >= last) break;
    heap[i] = heap[child] as number;
    i = child;
  }
  heap[i] = last;
}
