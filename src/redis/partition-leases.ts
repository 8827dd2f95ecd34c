// Partition leases in Redis: each live member heartbeats into a membership set, computes the same
// balanced, sticky assignment (assignPartitions), takes the free partitions it should own (SET NX
// PX), renews what it owns (compare-and-pexpire) and gives back, after its onRevoke hook, what it
// should no longer own (compare-and-delete). Every step runs on the Clock; Redis going away is an
// error event and, once a lease's time is up, a lost partition — never a crash or a silent stall.
import { assignPartitions } from '../core/assign-partitions.js';
import type { BackoffOptions } from '../core/backoff.js';
import { raceDeadline, setRepeating, type CancelTimer, type Clock } from '../core/clock.js';
import { RedisError, messageOf } from '../core/errors.js';
import { connectRedis, redactUrl, redisFailure, type RedisConnection } from './connection.js';
import type { LeaseEvent, LeaseListener } from './lease-events.js';
import { resolveLeaseOptions, type PartitionLeasesOptions } from './partition-leases-options.js';
import { HEARTBEAT, RELEASE_LEASES, RENEW_LEASES } from './lease-scripts.js';
import { runScript } from './script.js';

type Phase = { status: 'idle' } | { status: 'running'; stopTimer: CancelTimer } | { status: 'stopping' | 'stopped' };

/**
 * One member's share of a group's partitions, kept by leases in Redis.
 *
 * @example
 * const leases = new PartitionLeases({ url, group: 'orders', partitions: 8, onRevoke: (p) => checkpoint(p) });
 * leases.subscribe((e) => { if (e.type === 'steadfast.lease.acquired') startReading(e.partition); });
 * await leases.start();
 * await leases.stop();   // revokes and releases at once: the others take over without waiting for expiry
 */
export class PartitionLeases {
  readonly member: string;
  readonly group: string;
  readonly partitions: number;
  readonly #url: string;
  readonly #shownUrl: string;
  readonly #leaseMs: number;
  readonly #renewMs: number;
  readonly #clock: Clock;
  readonly #reconnect: BackoffOptions;
  readonly #onRevoke: ((partition: number) => void | Promise<void>) | undefined;
  readonly #membersKey: string;
  readonly #leaseKeys: string[];
  readonly #listeners = new Set<LeaseListener>();
  /** Owned partitions and until when (monotonic ms) each lease surely holds. */
  readonly #owned = new Map<number, number>();
  readonly #revoking = new Map<number, Promise<void>>();
  #members: string[] = [];
  #connection: RedisConnection | undefined;
  #phase: Phase = { status: 'idle' };
  #ticking: Promise<void> | undefined;

  constructor(options: PartitionLeasesOptions) {
    const o = resolveLeaseOptions(options);
    this.#url = o.url;
    this.#shownUrl = redactUrl(o.url);
    this.group = o.group;
    this.partitions = o.partitions;
    this.member = o.member;
    this.#leaseMs = o.leaseMs;
    this.#renewMs = o.renewMs;
    this.#clock = o.clock;
    this.#reconnect = o.reconnect;
    this.#onRevoke = o.onRevoke;
    this.#membersKey = `${o.prefix}${this.group}:members`;
    this.#leaseKeys = Array.from({ length: this.partitions }, (_, p) => `${o.prefix}${this.group}:lease:${p}`);
  }

  /** Listens to acquired / released / lost partitions and errors; returns the unsubscribe. */
  subscribe(listener: LeaseListener): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /** The partitions this member owns now, ascending. */
  owned(): number[] {
    return [...this.#owned.keys()].sort((a, b) => a - b);
  }

  /** The live members as last seen in Redis, sorted. */
  members(): string[] {
    return [...this.#members];
  }

  /** Connects (REDIS_UNAVAILABLE when Redis cannot be reached), joins the group, takes a first share, then keeps it on the clock. */
  async start(): Promise<void> {
    if (this.#phase.status !== 'idle') throw new RedisError('REDIS_FAILED', this.#shownUrl, `partition leases of "${this.group}" can be started once`);
    this.#connection = await connectRedis(this.#url, { what: `partition leases of "${this.group}"`, reconnect: this.#reconnect });
    this.#phase = { status: 'running', stopTimer: () => {} };
    await this.#tick();
    if (this.#phase.status !== 'running') return;
    const every = (): void => {
      // Before the round, and whether or not the last one came back: a round stuck on a server
      // that does not answer must not keep partitions alive past their time.
      this.#expireLocally();
      void this.#tick();
    };
    this.#phase = { status: 'running', stopTimer: setRepeating(this.#clock, this.#renewMs, every, { unref: true }) };
  }

  /** Leaves the group: revokes (onRevoke) and releases every lease at once, then disconnects. Never rejects. */
  async stop(): Promise<void> {
    const phase = this.#phase;
    if (phase.status !== 'running') {
      this.#phase = { status: 'stopped' };
      return;
    }
    this.#phase = { status: 'stopping' };
    phase.stopTimer();
    const connection = this.#connection as RedisConnection;
    let answered = true;
    try {
      // A server that does not answer gets a lease's time, no more: stop() must end.
      answered = await this.#within(this.#ticking);
      await Promise.allSettled([...this.#revoking.values()]);
      const owned = this.owned();
      for (const partition of owned) await this.#revoke(partition);
      answered = answered && (await this.#within(this.#release(connection, owned, 'stop')));
      answered = answered && (await this.#within(connection.run('ZREM', () => connection.client.zRem(this.#membersKey, this.member))));
      if (!answered) throw new RedisError('REDIS_UNAVAILABLE', this.#shownUrl, `Redis at ${this.#shownUrl} did not answer within ${this.#leaseMs} ms`);
    } catch (error) {
      this.#emit({ type: 'steadfast.lease.error', member: this.member, error: this.#failure('stop', error) });
    }
    // What could not be released expires by itself; either way this member owns nothing now.
    for (const partition of this.owned()) this.#lose(partition, 'stopped');
    if (answered) await connection.close();
    else connection.destroy();
    this.#phase = { status: 'stopped' };
  }

  /** One round: heartbeat, renew, rebalance. One at a time: a round still running skips the next. */
  #tick(): Promise<void> {
    if (this.#ticking !== undefined) return this.#ticking;
    const round = this.#round()
      .catch((error: unknown) => {
        this.#emit({ type: 'steadfast.lease.error', member: this.member, error: this.#failure('renewal', error) });
        this.#expireLocally();
      })
      .finally(() => {
        this.#ticking = undefined;
      });
    this.#ticking = round;
    return round;
  }

  async #round(): Promise<void> {
    const connection = this.#connection;
    if (connection === undefined || this.#phase.status !== 'running') return;
    this.#expireLocally();
    const started = this.#clock.monotonic();
    const reply = (await runScript(connection.client, HEARTBEAT, [this.#membersKey, ...this.#leaseKeys], [this.member, String(this.#leaseMs)])) as [string[], string[]];
    const [members, owners] = reply;
    this.#members = [...members].sort();
    // Renew what this member holds: a lease it no longer holds in Redis is lost.
    const mine = this.owned();
    if (mine.length > 0) {
      const renewed = (await runScript(connection.client, RENEW_LEASES, mine.map((p) => this.#leaseKeys[p] as string), [this.member, String(this.#leaseMs)])) as number[];
      mine.forEach((partition, i) => {
        // Given up meanwhile (its time ran out while this round waited): the next round adopts it again.
        if (renewed[i] === 1) {
          if (this.#owned.has(partition)) this.#owned.set(partition, started + this.#leaseMs);
        }
        else this.#lose(partition, owners[partition] === '' ? 'expired' : 'taken');
      });
    }
    if (this.#phase.status !== 'running') return;
    const current = owners.map((owner) => (owner === '' ? undefined : owner));
    const target = assignPartitions({ members: this.#members.includes(this.member) ? this.#members : [...this.#members, this.member], partitions: this.partitions, current });
    for (let partition = 0; partition < this.partitions; partition++) {
      const owner = current[partition];
      const wanted = target[partition] === this.member;
      if (this.#owned.has(partition)) {
        if (!wanted && !this.#revoking.has(partition)) this.#startRevoking(partition);
      } else if (wanted && owner === undefined) {
        await this.#acquire(connection, partition, started);
      } else if (owner === this.member) {
        // Held in Redis under this member's id but not known here (a restart with the same id, or a
        // lease given up locally after a failed renewal): take it back if wanted, else free it.
        if (wanted) await this.#adopt(connection, partition, started);
        else await this.#release(connection, [partition], undefined);
      }
    }
  }

  async #acquire(connection: RedisConnection, partition: number, started: number): Promise<void> {
    const key = this.#leaseKeys[partition] as string;
    const taken = await connection.client.set(key, this.member, { condition: 'NX', expiration: { type: 'PX', value: this.#leaseMs } });
    if (taken === null) return;
    this.#owned.set(partition, started + this.#leaseMs);
    this.#emit({ type: 'steadfast.lease.acquired', member: this.member, partition });
  }

  async #adopt(connection: RedisConnection, partition: number, started: number): Promise<void> {
    const [renewed] = (await runScript(connection.client, RENEW_LEASES, [this.#leaseKeys[partition] as string], [this.member, String(this.#leaseMs)])) as number[];
    if (renewed !== 1) return;
    this.#owned.set(partition, started + this.#leaseMs);
    this.#emit({ type: 'steadfast.lease.acquired', member: this.member, partition });
  }

  /** Runs onRevoke, then releases the lease; the partition stays owned (and renewed) until then. */
  #startRevoking(partition: number): void {
    const revoking = (async () => {
      await this.#revoke(partition);
      const connection = this.#connection;
      if (connection === undefined || !this.#owned.has(partition) || this.#phase.status !== 'running') return;
      try {
        await this.#release(connection, [partition], 'rebalance');
      } catch (error) {
        this.#emit({ type: 'steadfast.lease.error', member: this.member, error: this.#failure('release', error) });
      }
    })().finally(() => this.#revoking.delete(partition));
    this.#revoking.set(partition, revoking);
  }

  async #revoke(partition: number): Promise<void> {
    if (this.#onRevoke === undefined) return;
    try {
      await this.#onRevoke(partition);
    } catch (error) {
      this.#emit({ type: 'steadfast.lease.error', member: this.member, error: new RedisError('REDIS_FAILED', this.#shownUrl, `onRevoke of partition ${partition} failed: ${messageOf(error)}`, error) });
    }
  }

  /** Compare-and-delete of these partitions' leases; those released (or no longer held) leave `owned`. */
  async #release(connection: RedisConnection, partitions: number[], reason: 'rebalance' | 'stop' | undefined): Promise<void> {
    if (partitions.length === 0) return;
    await runScript(connection.client, RELEASE_LEASES, partitions.map((p) => this.#leaseKeys[p] as string), [this.member]);
    for (const partition of partitions) {
      const had = this.#owned.delete(partition);
      if (had && reason !== undefined) this.#emit({ type: 'steadfast.lease.released', member: this.member, partition, reason });
    }
  }

  /** Waits for `work` up to a lease's time on the clock; false when it did not settle by then. */
  async #within(work: Promise<unknown> | undefined): Promise<boolean> {
    if (work === undefined) return true;
    const raced = await raceDeadline(work, this.#leaseMs, this.#clock, { unref: true });
    return raced.done;
  }

  /** Leases whose time is up by this member's clock are lost, whatever Redis says later. */
  #expireLocally(): void {
    const now = this.#clock.monotonic();
    for (const [partition, until] of this.#owned) if (now >= until) this.#lose(partition, 'expired');
  }

  #lose(partition: number, reason: 'expired' | 'taken' | 'stopped'): void {
    if (!this.#owned.delete(partition)) return;
    this.#emit({ type: 'steadfast.lease.lost', member: this.member, partition, reason });
  }

  #failure(step: string, error: unknown): RedisError {
    return redisFailure(this.#shownUrl, `partition leases of "${this.group}" (${step})`, step, error);
  }

  #emit(event: LeaseEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // A listener's failure is its own: the leases go on.
      }
    }
  }
}
