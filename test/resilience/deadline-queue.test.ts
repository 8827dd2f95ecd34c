import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DeadlineQueue, type DeadlineHandle, type DeadlineTask } from '../../src/resilience/deadline-queue.js';

let queue: DeadlineQueue;
let log: string[];

function task(name: string, onExpire?: () => void): DeadlineTask {
  return {
    expire: () => {
      log.push(`${name}@${performance.now()}`);
      onExpire?.();
    },
  };
}

beforeEach(() => {
  vi.useFakeTimers();
  queue = new DeadlineQueue();
  log = [];
});

afterEach(() => {
  vi.useRealTimers();
});

describe('DeadlineQueue', () => {
  it('expires each task at its deadline, in deadline order, behind one timer', () => {
    queue.add(task('c'), 300);
    queue.add(task('a'), 100);
    queue.add(task('b'), 200);
    expect(vi.getTimerCount()).toBe(1);
    expect(queue.pending).toBe(3);
    vi.advanceTimersByTime(99);
    expect(log).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(log).toEqual(['a@100']);
    vi.advanceTimersByTime(200);
    expect(log).toEqual(['a@100', 'b@200', 'c@300']);
    expect(queue.pending).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rounds a fractional deadline up, so a task never expires early', () => {
    queue.add(task('a'), 10.2);
    vi.advanceTimersByTime(10);
    expect(log).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(log).toEqual(['a@11']);
  });

  it('re-arms only for a deadline earlier than the armed one', () => {
    const set = vi.spyOn(globalThis, 'setTimeout');
    queue.add(task('a'), 500);
    queue.add(task('b'), 600);
    queue.add(task('c'), 500);
    expect(set).toHaveBeenCalledTimes(1);
    queue.add(task('d'), 100);
    expect(set).toHaveBeenCalledTimes(2);
    expect(vi.getTimerCount()).toBe(1);
    set.mockRestore();
    vi.advanceTimersByTime(600);
    expect(log).toEqual(['d@100', 'a@500', 'c@500', 'b@600']);
  });

  it('holds no timer once the last pending task is cancelled', () => {
    const a = task('a');
    const b = task('b');
    const keyA = queue.add(a, 100);
    const keyB = queue.add(b, 200);
    queue.cancel(a, keyA);
    expect(vi.getTimerCount()).toBe(1);
    queue.cancel(b, keyB);
    expect(queue.pending).toBe(0);
    expect(queue.armed).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(1_000);
    expect(log).toEqual([]);
  });

  it('ignores a second cancel and a cancel after expiry', () => {
    const a = task('a');
    const key = queue.add(a, 10);
    queue.add(task('b'), 20);
    vi.advanceTimersByTime(10);
    queue.cancel(a, key);
    queue.cancel(a, key);
    expect(queue.pending).toBe(1);
    vi.advanceTimersByTime(10);
    expect(log).toEqual(['a@10', 'b@20']);
  });

  it('skips cancelled buckets when it re-arms, so emptied milliseconds cost no wake-up', () => {
    const early = Array.from({ length: 50 }, (_, i) => task(`e${i}`));
    const keys = early.map((t, i) => queue.add(t, 100 + i));
    queue.add(task('last'), 1_000);
    early.forEach((t, i) => queue.cancel(t, keys[i] as DeadlineHandle));
    const set = vi.spyOn(globalThis, 'setTimeout');
    vi.advanceTimersByTime(1_000);
    // one wake-up at 100 (armed before the cancellations), then straight to 1000
    expect(set).toHaveBeenCalledTimes(1);
    expect(log).toEqual(['last@1000']);
    set.mockRestore();
  });

  it('skips a task that an earlier expiry in the same millisecond cancelled', () => {
    const b = task('b');
    const handles: { b?: DeadlineHandle } = {};
    queue.add(task('a', () => queue.cancel(b, handles.b as DeadlineHandle)), 50);
    handles.b = queue.add(b, 50);
    vi.advanceTimersByTime(50);
    expect(log).toEqual(['a@50']);
    expect(queue.pending).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('arms for tasks added while expiring', () => {
    queue.add(task('a', () => queue.add(task('b'), performance.now() + 30)), 10);
    vi.advanceTimersByTime(10);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(30);
    expect(log).toEqual(['a@10', 'b@40']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('expires a deadline already past on the next timer turn', () => {
    vi.advanceTimersByTime(100);
    queue.add(task('late'), 50);
    expect(log).toEqual([]);
    vi.advanceTimersByTime(0);
    expect(log).toEqual(['late@100']);
  });

  it('reaches a deadline beyond the longest setTimeout delay in steps', () => {
    const far = 2 ** 31 + 10_000;
    queue.add(task('far'), far);
    vi.advanceTimersByTime(2 ** 31 - 1);
    expect(log).toEqual([]);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(far - (2 ** 31 - 1));
    expect(log).toEqual([`far@${far}`]);
  });

  it('expires on time after idle spells that left emptied buckets behind, holding no timer while idle', () => {
    for (let i = 0; i < 200; i++) {
      const t = task(`t${i}`);
      const handle = queue.add(t, performance.now() + 50);
      queue.cancel(t, handle);
      expect(vi.getTimerCount()).toBe(0);
      vi.advanceTimersByTime(1);
    }
    queue.add(task('later'), performance.now() + 60);
    queue.add(task('late'), performance.now() + 30);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(59);
    expect(log).toEqual(['late@230']);
    vi.advanceTimersByTime(1);
    expect(log).toEqual(['late@230', 'later@260']);
  });

  it('expires only the tasks still pending in a steady stream of short-lived ones, then holds no timer', () => {
    for (let i = 0; i < 5_000; i++) {
      const t = task(`t${i}`);
      const key = queue.add(t, performance.now() + 2_000);
      vi.advanceTimersByTime(1);
      if (i % 100 !== 0) queue.cancel(t, key);
    }
    vi.advanceTimersByTime(2_000);
    expect(log).toHaveLength(50);
    expect(queue.pending).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});
