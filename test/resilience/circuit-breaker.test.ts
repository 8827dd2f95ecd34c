import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AbortedError, CircuitOpenError, isSteadfastError } from '../../src/core/errors.js';
import { BreakerRegistry } from '../../src/resilience/breaker-registry.js';
import { circuitBreaker, type CircuitBreaker } from '../../src/resilience/circuit-breaker.js';
import type { CircuitBreakerOptions } from '../../src/resilience/circuit-breaker-options.js';

let made: CircuitBreaker[] = [];
function breaker(options: Partial<CircuitBreakerOptions> = {}): CircuitBreaker {
  const b = circuitBreaker({ name: `b${made.length}`, registry: null, ...options });
  made.push(b);
  return b;
}

const ok = () => Promise.resolve('ok');
const boom = () => Promise.reject(new Error('boom'));
async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (error) {
    return isSteadfastError(error) ? error.code : 'error';
  }
}
async function fail(b: CircuitBreaker, times: number): Promise<void> {
  for (let i = 0; i < times; i++) await outcome(b.execute(boom));
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  for (const b of made) b.dispose();
  made = [];
  vi.useRealTimers();
});

describe('circuit breaker', () => {
  it('opens after N consecutive failures, and a success in between starts the count over', async () => {
    const b = breaker({ consecutiveFailures: 3 });
    await fail(b, 2);
    await b.execute(ok);
    await fail(b, 2);
    expect(b.state).toBe('closed');
    await fail(b, 1);
    expect(b.state).toBe('open');
    expect(b.stats().lastOpenReason).toBe('consecutive');
  });

  it('refuses calls while open with CircuitOpenError, without running them', async () => {
    const b = breaker({ consecutiveFailures: 1, openMs: 5_000 });
    await fail(b, 1);
    const work = vi.fn(ok);
    vi.advanceTimersByTime(1_000);
    const error = await b.execute(work).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect((error as CircuitOpenError).retryAfterMs).toBe(4_000);
    expect(work).not.toHaveBeenCalled();
    expect(b.stats().calls.rejected).toBe(1);
  });

  it('half-opens after openMs and lets exactly halfOpenMaxCalls probes through at once', async () => {
    const b = breaker({ consecutiveFailures: 1, openMs: 1_000, halfOpenMaxCalls: 2, successThreshold: 2 });
    await fail(b, 1);
    vi.advanceTimersByTime(1_000);
    expect(b.state).toBe('halfOpen');
    const releases: Array<() => void> = [];
    const slow = () => new Promise<string>((resolve) => releases.push(() => resolve('probe')));
    const probes = [b.execute(slow), b.execute(slow)];
    expect(await outcome(b.execute(slow))).toBe('CIRCUIT_OPEN');
    expect(releases).toHaveLength(2);
    releases.forEach((release) => release());
    await Promise.all(probes);
    expect(b.state).toBe('closed');
  });

  it('opens again on a failed probe, for longer each time (backoff), up to the maximum', async () => {
    const opens: number[] = [];
    const b = breaker({ consecutiveFailures: 1, openMs: 1_000, openBackoff: { factor: 2, maxMs: 3_000 } });
    b.on('steadfast.breaker.opened', (e) => opens.push(e.openForMs));
    await fail(b, 1);
    for (let i = 0; i < 3; i++) {
      vi.advanceTimersByTime(opens.at(-1) as number);
      expect(b.state).toBe('halfOpen');
      await fail(b, 1);
      expect(b.state).toBe('open');
    }
    expect(opens).toEqual([1_000, 2_000, 3_000, 3_000]);
    vi.advanceTimersByTime(3_000);
    await b.execute(ok);
    expect(b.state).toBe('closed');
    await fail(b, 1);
    expect(opens.at(-1)).toBe(1_000); // closing resets the backoff
  });

  it('trips on the failure rate over a count window once minimumCalls calls are in, and starts the window over on every transition', async () => {
    const b = breaker({ failureRate: 0.5, minimumCalls: 4, window: { kind: 'count', size: 4 }, openMs: 100 });
    await b.execute(ok);
    await fail(b, 2);
    expect(b.state).toBe('closed'); // 2 of 3: not enough calls yet
    await b.execute(ok);
    expect(b.state).toBe('open'); // 2 of 4 = 0.5
    expect(b.stats().window.calls).toBe(0);
    vi.advanceTimersByTime(100);
    await b.execute(ok);
    expect(b.state).toBe('closed');
    expect(b.stats().window.calls).toBe(0);
  });

  it('trips on the share of slow calls', async () => {
    const b = breaker({ slowCallMs: 100, slowCallRate: 0.5, minimumCalls: 2, window: { kind: 'count', size: 10 } });
    const takes = (ms: number) => () => new Promise<string>((resolve) => setTimeout(() => resolve('late'), ms));
    const first = b.execute(takes(150));
    await vi.advanceTimersByTimeAsync(150);
    await first;
    expect(b.state).toBe('closed');
    const second = b.execute(takes(200));
    await vi.advanceTimersByTimeAsync(200);
    await second;
    expect(b.state).toBe('open');
    expect(b.stats().lastOpenReason).toBe('slowCallRate');
  });

  it('holds while isolated until reset, and forceOpen opens at once', async () => {
    const b = breaker();
    b.isolate();
    vi.advanceTimersByTime(1_000_000);
    expect(await outcome(b.execute(ok))).toBe('CIRCUIT_OPEN');
    b.reset();
    expect(await outcome(b.execute(ok))).toBe('ok');
    b.forceOpen();
    expect(b.state).toBe('open');
    expect(b.stats().lastOpenReason).toBe('forced');
  });

  it('lets errors that are not failures through uncounted, and an aborted call never runs', async () => {
    const b = breaker({ consecutiveFailures: 1, isFailure: (e) => (e as Error).message !== 'not mine' });
    await outcome(b.execute(() => Promise.reject(new Error('not mine'))));
    expect(b.state).toBe('closed');
    expect(b.stats().calls.ignored).toBe(1);
    const controller = new AbortController();
    controller.abort();
    const work = vi.fn(ok);
    expect(await b.execute(work, controller.signal).catch((e: unknown) => e)).toBeInstanceOf(AbortedError);
    expect(work).not.toHaveBeenCalled();
  });

  it('stops waiting for a running call when the caller aborts, and counts its late outcome for nothing', async () => {
    const b = breaker({ consecutiveFailures: 1 });
    const controller = new AbortController();
    let finish!: (error?: Error) => void;
    const hanging = () => new Promise<string>((resolve, reject) => (finish = (e) => (e ? reject(e) : resolve('late'))));
    const call = b.execute(hanging, controller.signal);
    controller.abort(new Error('shutting down'));
    const error = await call.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortedError);
    expect((error as AbortedError).cause).toEqual(new Error('shutting down'));
    finish(new Error('dependency down')); // would trip a breaker with consecutiveFailures: 1
    await vi.advanceTimersByTimeAsync(0);
    expect(b.state).toBe('closed');
    expect(b.stats().calls).toMatchObject({ failed: 0, abandoned: 1 });
    expect(b.stats().window.calls).toBe(0);
  });

  it('holds an abandoned probe\'s place until its work settles, then frees it without deciding', async () => {
    const b = breaker({ consecutiveFailures: 1, openMs: 1_000, halfOpenMaxCalls: 1 });
    await fail(b, 1);
    vi.advanceTimersByTime(1_000);
    const controller = new AbortController();
    let finish!: () => void;
    const probe = b.execute(() => new Promise<string>((resolve) => (finish = () => resolve('late'))), controller.signal);
    controller.abort();
    expect(await outcome(probe)).toBe('ABORTED');
    expect(await outcome(b.execute(ok))).toBe('CIRCUIT_OPEN'); // the abandoned work still runs against the dependency
    finish();
    await vi.advanceTimersByTimeAsync(0);
    expect(b.state).toBe('halfOpen'); // a success nobody waited for does not close it
    expect(await outcome(b.execute(ok))).toBe('ok');
    expect(b.state).toBe('closed');
  });

  it('frees the probe place of a probe whose error is not a failure', async () => {
    const b = breaker({ consecutiveFailures: 1, openMs: 1_000, halfOpenMaxCalls: 1, isFailure: (e) => (e as Error).message !== 'not mine' });
    await fail(b, 1);
    vi.advanceTimersByTime(1_000);
    expect(await outcome(b.execute(() => Promise.reject(new Error('not mine'))))).toBe('error');
    expect(b.state).toBe('halfOpen');
    expect(await outcome(b.execute(ok))).toBe('ok');
    expect(b.state).toBe('closed');
  });

  it('ignores the result of a probe from an earlier half-open phase', async () => {
    const b = breaker({ consecutiveFailures: 1, openMs: 1_000, halfOpenMaxCalls: 1 });
    await fail(b, 1);
    vi.advanceTimersByTime(1_000);
    let finish!: () => void;
    const stale = b.execute(() => new Promise<string>((_resolve, reject) => (finish = () => reject(new Error('late')))));
    b.forceOpen();
    vi.advanceTimersByTime(10_000);
    expect(b.state).toBe('halfOpen'); // a new phase, with its own probe place
    const fresh = b.execute(() => new Promise<string>((resolve) => setTimeout(() => resolve('ok'), 10)));
    finish();
    expect(await outcome(stale)).toBe('error');
    expect(b.state).toBe('halfOpen'); // the stale failure did not re-open it
    await vi.advanceTimersByTimeAsync(10);
    expect(await fresh).toBe('ok');
    expect(b.state).toBe('closed');
  });

  it('backs off re-opens up to five minutes by default, or openMs when that is longer', async () => {
    const opens: number[] = [];
    const b = breaker({ consecutiveFailures: 1, openMs: 100_000, openBackoff: { factor: 2 } });
    b.on('steadfast.breaker.opened', (e) => opens.push(e.openForMs));
    await fail(b, 1);
    for (let i = 0; i < 3; i++) {
      vi.advanceTimersByTime(opens.at(-1) as number);
      await fail(b, 1);
    }
    expect(opens).toEqual([100_000, 200_000, 300_000, 300_000]);
    const long = breaker({ consecutiveFailures: 1, openMs: 600_000, openBackoff: { factor: 2 } });
    const longOpens: number[] = [];
    long.on('steadfast.breaker.opened', (e) => longOpens.push(e.openForMs));
    await fail(long, 1);
    vi.advanceTimersByTime(600_000);
    await fail(long, 1);
    expect(longOpens).toEqual([600_000, 600_000]);
  });

  it('saves and restores its state: an open breaker stays open for the time it had left', async () => {
    const b = breaker({ name: 'saved', consecutiveFailures: 2, openMs: 10_000 });
    await fail(b, 2);
    vi.advanceTimersByTime(4_000);
    const saved = JSON.parse(JSON.stringify(b.toJSON())) as ReturnType<CircuitBreaker['toJSON']>;
    expect(saved).toMatchObject({ version: 1, name: 'saved', state: 'open', openRemainingMs: 6_000 });
    b.dispose();
    made = made.filter((x) => x !== b);
    const restored = breaker({ name: 'saved', consecutiveFailures: 2, openMs: 10_000, initialState: saved });
    expect(restored.state).toBe('open');
    vi.advanceTimersByTime(5_999);
    expect(restored.state).toBe('open');
    vi.advanceTimersByTime(1);
    expect(restored.state).toBe('halfOpen');
    expect(restored.stats().opens).toBe(0); // it was opened before the restart, not by this instance
  });

  it('restores the windows of a closed breaker: one more failure trips it', async () => {
    const b = breaker({ name: 'w', consecutiveFailures: 3 });
    await fail(b, 2);
    const saved = b.toJSON();
    b.dispose();
    made = made.filter((x) => x !== b);
    const restored = breaker({ name: 'w', consecutiveFailures: 3, initialState: saved });
    await fail(restored, 1);
    expect(restored.state).toBe('open');
  });

  it('accounts for every one of 1,000,000 calls with 10 % random failures', async () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const b = breaker({ failureRate: 0.2, minimumCalls: 100, window: { kind: 'count', size: 100 }, openMs: 5 });
    const N = 1_000_000;
    let settled = 0;
    for (let i = 0; i < N; i++) {
      const failing = random() < 0.1;
      await b.execute(() => (failing ? Promise.reject(new Error('x')) : Promise.resolve(1))).then(
        () => settled++,
        () => settled++,
      );
      if (i % 1_000 === 0) vi.advanceTimersByTime(1);
    }
    const { succeeded, failed, rejected, ignored } = b.stats().calls;
    expect(settled).toBe(N);
    expect(succeeded + failed + rejected + ignored).toBe(N);
    expect(failed).toBeGreaterThan(0);
  }, 60_000);
});

describe('breaker registry', () => {
  it('holds breakers by name, refuses a duplicate, hears every transition, and forgets disposed breakers', async () => {
    const registry = new BreakerRegistry();
    const heard: string[] = [];
    registry.on((e) => heard.push(`${e.breaker}:${e.type.replace('steadfast.breaker.', '')}`));
    const a = circuitBreaker({ name: 'api', consecutiveFailures: 1, openMs: 10, registry });
    made.push(a);
    expect(() => circuitBreaker({ name: 'api', registry })).toThrow(/already registered/);
    await fail(a, 1);
    vi.advanceTimersByTime(10);
    await a.execute(ok);
    a.isolate();
    expect(heard).toEqual(['api:opened', 'api:halfOpened', 'api:closed', 'api:isolated']);
    expect(registry.get('api')).toBe(a);
    a.dispose();
    made = made.filter((x) => x !== a);
    expect(registry.list()).toEqual([]);
  });

  it('takes the names of stage breakers: "#" for replicas, up to 300 characters', () => {
    const long = `${'p'.repeat(128)}.${'n'.repeat(128)}#12`;
    expect(breaker({ name: 'orders.lookup#0' }).name).toBe('orders.lookup#0');
    expect(breaker({ name: long }).name).toBe(long);
    expect(breaker({ name: 'x'.repeat(300) }).name).toHaveLength(300);
    for (const bad of ['', 'x'.repeat(301), 'has space', 'a/b']) {
      expect(() => circuitBreaker({ name: bad, registry: null }), JSON.stringify(bad)).toThrow(/circuitBreaker.name must be 1-300 characters/);
    }
  });
});
