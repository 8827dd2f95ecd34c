import { ConfigError } from '../core/errors.js';
import type { Policy, Work } from './policy.js';
import { forwarding } from './signals.js';

/** Policies run as one: callable as `wrapped(work)` (a function of an optional signal) and as a policy. */
export interface WrappedPolicy extends Policy {
  /** `work` bound to the policies: call it (with a signal, or none) to run it. */
  <T>(work: Work<T>): (signal?: AbortSignal) => Promise<T>;
  /** The policies, outermost first. */
  readonly policies: readonly Policy[];
}

/**
 * Composes policies, the first outermost: `wrap(retry, breaker, timeout).execute(fn)` is retry
 * around breaker around timeout around `fn`. Any object with `execute(work, signal?)` is a
 * policy (a WrappedPolicy too). The caller's signal reaches every policy; between two policies
 * no AbortController is made unless one of them (a timeout) needs to stop the inner ones.
 *
 * @example
 * const guarded = wrap(retry(presets.transient), breaker, timeout(2_000));
 * const geo = await guarded.execute((signal) => fetchGeo(id, signal));
 * const fetchGeoSafely = guarded((signal) => fetchGeo(id, signal));
 * await fetchGeoSafely(shutdown.signal);
 */
export function wrap(...policies: Policy[]): WrappedPolicy {
  if (policies.length === 0) throw new ConfigError('wrap.policies', policies, 'must hold at least one policy');
  policies.forEach((policy, i) => {
    const execute: unknown = typeof policy === 'object' && policy !== null ? (policy as { execute?: unknown }).execute : undefined;
    if (typeof execute !== 'function') {
      throw new ConfigError(`wrap.policies[${i}]`, policy, 'must be a policy (an object with an execute(work, signal?) method)');
    }
  });
  const chain = Object.freeze([...policies]);
  const execute = <T>(work: Work<T>, signal?: AbortSignal): Promise<T> => {
    let inner = work;
    for (let i = chain.length - 1; i > 0; i--) inner = layer(chain[i] as Policy, inner);
    try {
      return (chain[0] as Policy).execute(inner, signal);
    } catch (error) {
      return Promise.reject(error);
    }
  };
  const bind = <T>(work: Work<T>) => (signal?: AbortSignal): Promise<T> => execute(work, signal);
  return Object.assign(bind, { execute, policies: chain });
}

function layer<T>(policy: Policy, work: Work<T>): Work<T> {
  return forwarding((signal) => {
    try {
      return policy.execute(work, signal);
    } catch (error) {
      // A foreign policy that throws instead of rejecting still fails only this call.
      return Promise.reject(error);
    }
  });
}
