import { ConfigError } from '../core/errors.js';
import type { Policy, Work } from './policy.js';
import { RUN, forwarding, isStoppable, signalOf, type StopSource } from './signals.js';

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
    const holder = (typeof policy === 'object' || typeof policy === 'function') && policy !== null;
    const execute: unknown = holder ? (policy as { execute?: unknown }).execute : undefined;
    if (typeof execute !== 'function') {
      throw new ConfigError(`wrap.policies[${i}]`, policy, 'must be a policy (an object with an execute(work, signal?) method)');
    }
  });
  const chain = Object.freeze([...policies]);
  const runners = chain.map(runnerOf);
  const run = <T>(work: Work<T>, source: StopSource | undefined): Promise<T> => {
    let inner = work;
    for (let i = runners.length - 1; i > 0; i--) inner = layer(runners[i] as Runner, inner);
    try {
      return (runners[0] as Runner)(inner, source);
    } catch (error) {
      return Promise.reject(error);
    }
  };
  const execute = <T>(work: Work<T>, signal?: AbortSignal): Promise<T> => run(work, signal);
  const bind = <T>(work: Work<T>) => (signal?: AbortSignal): Promise<T> => run(work, signal);
  // Stoppable itself, so a wrap inside a wrap passes Stops through like any policy of ours.
  return Object.assign(bind, { execute, policies: chain, [RUN]: run });
}

type Runner = <T>(work: Work<T>, source: StopSource | undefined) => Promise<T>;

// Our own policies take a Stop as it is; a foreign one gets an AbortSignal (made only if a Stop must become one).
function runnerOf(policy: Policy): Runner {
  if (isStoppable(policy)) return (work, source) => policy[RUN](work, source);
  return (work, source) => policy.execute(work, signalOf(source));
}

function layer<T>(run: Runner, work: Work<T>): Work<T> {
  return forwarding((source) => {
    try {
      return run(work, source);
    } catch (error) {
      // A foreign policy that throws instead of rejecting still fails only this call.
      return Promise.reject(error);
    }
  });
}
