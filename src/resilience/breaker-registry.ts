import type { CircuitBreakerEmitted } from '../../machines/circuit-breaker.machine.js';
import { ConfigError } from '../core/errors.js';
import type { CircuitBreaker } from './circuit-breaker.js';

type Listener = (event: CircuitBreakerEmitted) => void;

/**
 * All breakers by name, for metrics, health and the dashboard, and one place to hear every
 * transition (`steadfast.breaker.opened`, `halfOpened`, `closed`, `isolated`).
 */
export class BreakerRegistry {
  private readonly breakers = new Map<string, CircuitBreaker>();
  private readonly listeners = new Set<Listener>();
  private readonly unsubscribes = new Map<string, () => void>();

  /** Adds a breaker; a name already registered is a CONFIG_INVALID (dispose the old breaker first). */
  register(breaker: CircuitBreaker): void {
    if (this.breakers.has(breaker.name)) {
      throw new ConfigError('circuitBreaker.name', breaker.name, 'is already registered: breaker names are unique in a registry (dispose() the old one)');
    }
    this.breakers.set(breaker.name, breaker);
    this.unsubscribes.set(breaker.name, breaker.onAny((event) => this.emit(event)));
  }

  /** Removes a breaker (done by `breaker.dispose()`). */
  unregister(breaker: CircuitBreaker): void {
    if (this.breakers.get(breaker.name) !== breaker) return;
    this.breakers.delete(breaker.name);
    this.unsubscribes.get(breaker.name)?.();
    this.unsubscribes.delete(breaker.name);
  }

  get(name: string): CircuitBreaker | undefined {
    return this.breakers.get(name);
  }

  /** Every registered breaker, in registration order. */
  list(): CircuitBreaker[] {
    return [...this.breakers.values()];
  }

  /** Hears every transition of every registered breaker; returns the unsubscribe function. */
  on(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: CircuitBreakerEmitted): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // a listener's bug must not break the breaker
      }
    }
  }
}

/** The registry breakers join unless given another (or `registry: null`). */
export const breakers = new BreakerRegistry();
