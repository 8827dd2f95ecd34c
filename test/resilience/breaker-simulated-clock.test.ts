// The breaker's open timer on a simulated clock (issue 11, item 4): no real waiting, no fake timers.
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../src/core/simulated-clock.js';
import { circuitBreaker } from '../../src/resilience/circuit-breaker.js';

describe('a breaker on a simulated clock', () => {
  it('half-opens exactly openMs after it opened, then closes on a good probe', async () => {
    const clock = new SimulatedClock();
    const breaker = circuitBreaker({ name: 'sim', consecutiveFailures: 2, openMs: 1_000, registry: null, clock });
    const fail = () => Promise.reject(new Error('down'));
    for (let i = 0; i < 2; i++) await breaker.execute(fail).catch(() => {});
    expect(breaker.state).toBe('open');
    await clock.advance(999);
    expect(breaker.state).toBe('open');
    await clock.advance(1);
    expect(breaker.state).toBe('halfOpen');
    await breaker.execute(async () => 'ok');
    expect(breaker.state).toBe('closed');
    breaker.dispose();
    expect(clock.pending).toBe(0);
  });
});
