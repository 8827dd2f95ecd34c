import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { isSteadfastError } from '../../src/core/errors.js';
import type { CancelTimer, Clock } from '../../src/core/clock.js';
import type { LeaseEvent } from '../../src/redis/lease-events.js';
import { PartitionLeases } from '../../src/redis/partition-leases.js';
import type { PartitionLeasesOptions } from '../../src/redis/partition-leases-options.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

/** The clock of a process that can be paused: while paused nothing runs; on resume its time has jumped, and what fell due runs once. */
class PausableClock implements Clock {
  private time = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();
  private seq = 0;
  now(): number {
    return 1_700_000_000_000 + this.time;
  }
  monotonic(): number {
    return this.time;
  }
  setTimer(ms: number, fn: () => void): CancelTimer {
    const id = this.seq++;
    this.timers.set(id, { at: this.time + ms, fn });
    return () => void this.timers.delete(id);
  }
  resume(after: number): void {
    this.time += after;
    for (const [id, timer] of [...this.timers]) {
      if (timer.at > this.time) continue;
      this.timers.delete(id);
      timer.fn();
    }
  }
}

let server: RedisServer;
let groups = 0;

beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server.stop();
});

describe('PartitionLeases', () => {
  const started: PartitionLeases[] = [];
  /** Every member's events, in the order they happened. */
  let log: LeaseEvent[] = [];
  let group = '';
  afterEach(async () => {
    await Promise.all(started.splice(0).map((m) => m.stop()));
    log = [];
  });
  const member = (id: string, options: Partial<PartitionLeasesOptions> = {}): PartitionLeases => {
    const leases = new PartitionLeases({ url: server.url, group, partitions: 8, member: id, leaseMs: 400, renewMs: 40, ...options });
    leases.subscribe((event) => log.push(event));
    started.push(leases);
    return leases;
  };
  const all = [0, 1, 2, 3, 4, 5, 6, 7];
  const of = (type: LeaseEvent['type'], id: string): number[] => log.filter((e) => e.type === type && e.member === id).map((e) => (e as { partition: number }).partition);
  const indexOf = (type: LeaseEvent['type'], id: string, partition: number): number =>
    log.findIndex((e) => e.type === type && e.member === id && (e as { partition: number }).partition === partition);

  const fresh = (): void => {
    group = `g${++groups}`;
  };

  it('splits 8 partitions 4 and 4 between two members; the joiner takes each only after the owner released it', async () => {
    fresh();
    let revoked: () => void = () => {};
    const gate = new Promise<void>((resolve) => (revoked = resolve));
    const a = member('a', { onRevoke: () => gate });
    await a.start();
    expect(a.owned()).toEqual(all);
    const b = member('b');
    await b.start();
    // a is checkpointing (onRevoke pending): b waits, taking nothing a still holds
    await vi.waitFor(() => expect(a.members()).toEqual(['a', 'b']), { timeout: 3_000, interval: 10 });
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(b.owned()).toEqual([]);
    expect(a.owned()).toEqual(all);
    revoked();
    await vi.waitFor(() => expect(b.owned()).toHaveLength(4), { timeout: 3_000, interval: 10 });
    expect(a.owned()).toHaveLength(4);
    expect([...a.owned(), ...b.owned()].sort()).toEqual(all);
    for (const p of b.owned()) {
      const released = indexOf('steadfast.lease.released', 'a', p);
      expect(released).toBeGreaterThanOrEqual(0);
      expect(indexOf('steadfast.lease.acquired', 'b', p)).toBeGreaterThan(released);
    }
    expect(of('steadfast.lease.lost', 'a')).toEqual([]);
  });

  it('hands every partition over at once when a member stops gracefully, long before its leases would expire', async () => {
    fresh();
    const a = member('a', { leaseMs: 20_000, renewMs: 40 });
    const b = member('b', { leaseMs: 20_000, renewMs: 40 });
    await a.start();
    await b.start();
    await vi.waitFor(() => expect(b.owned()).toHaveLength(4), { timeout: 3_000, interval: 10 });
    const mine = a.owned();
    const t0 = performance.now();
    await a.stop();
    expect(of('steadfast.lease.released', 'a').slice(-4).sort()).toEqual(mine);
    await vi.waitFor(() => expect(b.owned()).toEqual(all), { timeout: 3_000, interval: 10 });
    expect(performance.now() - t0).toBeLessThan(3_000);
  });

  it('lets the others take the partitions of a paused member once its leases expired; the paused one learns it lost them', async () => {
    fresh();
    // a's process is paused after its first round: its renewals do not run
    const frozen = new PausableClock();
    const a = member('a', { clock: frozen });
    await a.start();
    expect(a.owned()).toEqual(all);
    const b = member('b');
    await b.start();
    await vi.waitFor(() => expect(b.owned()).toEqual(all), { timeout: 5_000, interval: 20 });
    expect(b.members()).toEqual(['b']);
    // a wakes up a second later: its leases' time is up by its own clock before it talks to Redis
    frozen.resume(1_000);
    await vi.waitFor(() => expect(of('steadfast.lease.lost', 'a').sort()).toEqual(all), { timeout: 3_000, interval: 10 });
    expect(a.owned()).toEqual([]);
    expect(log.filter((e) => e.type === 'steadfast.lease.lost' && e.member === 'a').every((e) => (e as { reason: string }).reason === 'expired')).toBe(true);
    // and it rejoins: the two share again, without a partition owned twice
    for (let i = 0; i < 100 && a.owned().length < 4; i++) {
      frozen.resume(40);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(a.owned()).toHaveLength(4);
    await vi.waitFor(() => expect(b.owned()).toHaveLength(4), { timeout: 3_000, interval: 10 });
    expect([...a.owned(), ...b.owned()].sort()).toEqual(all);
  });

  it('lets a member restarted under the same id take back the leases still in its name', async () => {
    fresh();
    // the first process dies without a word: its timers never run again
    const dead = member('a', { clock: new PausableClock(), leaseMs: 20_000 });
    await dead.start();
    const restarted = member('a', { leaseMs: 20_000 });
    await restarted.start();
    expect(restarted.owned()).toEqual(all);
    expect(of('steadfast.lease.acquired', 'a')).toEqual([...all, ...all]);
    // stop the new one first: the dead one's stop would free leases held in the same name
    started.splice(started.indexOf(restarted), 1);
    await restarted.stop();
  });

  it('fails start with one REDIS_UNAVAILABLE naming the server when Redis is down', async () => {
    fresh();
    const down = new PartitionLeases({ url: 'redis://127.0.0.1:1', group, partitions: 8 });
    const error = await down.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isSteadfastError(error, 'REDIS_UNAVAILABLE')).toBe(true);
    expect((error as Error).message).toBe(`partition leases of "${group}": Redis at redis://127.0.0.1:1 is unavailable: connect ECONNREFUSED 127.0.0.1:1`);
    await down.stop();
  });

  it('refuses bad options with CONFIG_INVALID naming the field', () => {
    const field = (options: Partial<PartitionLeasesOptions>): string | undefined => {
      try {
        new PartitionLeases({ url: server.url, group: 'g', partitions: 8, ...options } as PartitionLeasesOptions);
      } catch (error) {
        return isSteadfastError(error, 'CONFIG_INVALID') ? (error as unknown as { field: string }).field : 'other';
      }
      return undefined;
    };
    expect(field({ partitions: 0 })).toBe('PartitionLeases.partitions');
    expect(field({ group: 'a b' })).toBe('PartitionLeases.group');
    expect(field({ leaseMs: 100, renewMs: 100 })).toBe('PartitionLeases.renewMs');
    expect(field({ url: 'localhost' })).toBe('PartitionLeases.url');
    expect(field({ onRevoke: 3 as never })).toBe('PartitionLeases.onRevoke');
    expect(field({})).toBeUndefined();
  });
});
