import { nanoid } from 'nanoid';
import type { BackoffOptions } from '../core/backoff.js';
import { systemClock, type Clock } from '../core/clock.js';
import { ConfigError } from '../core/errors.js';
import { fn, integerIn, knownKeys, name, record } from '../core/validate.js';
import { reconnectOptions, redisUrl } from './connection.js';

/** Options of `PartitionLeases`. */
export interface PartitionLeasesOptions {
  /** The server, `redis://host:port`. */
  url: string;
  /** The group sharing the partitions (e.g. the consumer group); its keys are `<prefix><group>:…`. */
  group: string;
  /** How many partitions, 0 … partitions − 1. */
  partitions: number;
  /** This member's id, unique among live members (default: a random id). */
  member?: string;
  /** How long a lease and a membership last without renewal (default 10,000 ms). */
  leaseMs?: number;
  /** How often to heartbeat, renew and rebalance (default a third of `leaseMs`). */
  renewMs?: number;
  /** Prepended to every key (default `steadfast:`). */
  prefix?: string;
  /** Drives the renewals and the local expiry of leases (default: the process clock). */
  clock?: Clock;
  /** Delay between reconnect attempts after the connection was lost (partial backoff). */
  reconnect?: Partial<BackoffOptions>;
  /**
   * Called before a partition is given back (to rebalance, or at stop): checkpoint it here. The
   * lease is renewed until the returned promise settles; a rejection is an error event, and the
   * partition is released all the same.
   */
  onRevoke?: (partition: number) => void | Promise<void>;
}

const KNOWN = ['url', 'group', 'partitions', 'member', 'leaseMs', 'renewMs', 'prefix', 'clock', 'reconnect', 'onRevoke'] as const;

/** Partition lease options after validation, defaults filled in. */
export interface ResolvedLeaseOptions {
  url: string;
  group: string;
  partitions: number;
  member: string;
  leaseMs: number;
  renewMs: number;
  prefix: string;
  clock: Clock;
  reconnect: BackoffOptions;
  onRevoke: ((partition: number) => void | Promise<void>) | undefined;
}

/** Checks the options of `PartitionLeases`; a mistake is a CONFIG_INVALID naming the field. */
export function resolveLeaseOptions(options: PartitionLeasesOptions): ResolvedLeaseOptions {
  const opts = record('PartitionLeases options', options);
  knownKeys('PartitionLeases', opts, KNOWN);
  const leaseMs = opts.leaseMs === undefined ? 10_000 : integerIn('PartitionLeases.leaseMs', opts.leaseMs, 10, 2_147_483_647);
  const prefix = opts.prefix === undefined ? 'steadfast:' : opts.prefix;
  if (typeof prefix !== 'string' || prefix.length > 256 || /\s/.test(prefix)) throw new ConfigError('PartitionLeases.prefix', prefix, 'must be a string of up to 256 characters without whitespace');
  const clock = opts.clock === undefined ? systemClock : (opts.clock as Clock);
  if (typeof clock !== 'object' || clock === null || typeof clock.monotonic !== 'function') throw new ConfigError('PartitionLeases.clock', opts.clock, 'must be a Clock');
  return {
    url: redisUrl('PartitionLeases.url', opts.url),
    group: name('PartitionLeases.group', opts.group),
    partitions: integerIn('PartitionLeases.partitions', opts.partitions, 1, 65_536),
    member: opts.member === undefined ? nanoid() : name('PartitionLeases.member', opts.member),
    leaseMs,
    renewMs: opts.renewMs === undefined ? Math.max(1, Math.floor(leaseMs / 3)) : integerIn('PartitionLeases.renewMs', opts.renewMs, 1, leaseMs - 1),
    prefix,
    clock,
    reconnect: reconnectOptions('PartitionLeases.reconnect', opts.reconnect),
    onRevoke: opts.onRevoke === undefined ? undefined : fn<(partition: number) => void | Promise<void>>('PartitionLeases.onRevoke', opts.onRevoke),
  };
}
