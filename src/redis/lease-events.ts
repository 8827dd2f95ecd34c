import type { RedisError } from '../core/errors.js';

/** What a member's partition leases report: namespaced as every steadfast event. */
export type LeaseEvent =
  /** This member took the partition: restore its state and read it. */
  | { type: 'steadfast.lease.acquired'; member: string; partition: number }
  /** This member gave the partition back (after its onRevoke): to rebalance, or at stop. */
  | { type: 'steadfast.lease.released'; member: string; partition: number; reason: 'rebalance' | 'stop' }
  /**
   * The partition is no longer this member's without it having given it back: the lease expired
   * (not renewed in time, e.g. Redis unreachable or the process paused), was taken by another
   * member, or could not be released at stop. Stop processing it at once.
   */
  | { type: 'steadfast.lease.lost'; member: string; partition: number; reason: 'expired' | 'taken' | 'stopped' }
  /** A round, release or onRevoke failed (REDIS_UNAVAILABLE while Redis is down); the leases go on trying. */
  | { type: 'steadfast.lease.error'; member: string; error: RedisError };

/** Receives lease events. */
export type LeaseListener = (event: LeaseEvent) => void;
