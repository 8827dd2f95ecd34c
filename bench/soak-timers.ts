// Counts every live timer of the process, unref'd ones too: `process.getActiveResourcesInfo()`
// lists only the timers that keep the event loop alive, and an unref'd interval left behind by
// each checkpoint or each scrape would never show there. Installed before the library is imported,
// so that its `setTimeout` / `setInterval` calls (all through the globals) are the wrapped ones.
import { promisify } from 'node:util';

/** The live timers: made and neither fired (one-shot) nor cleared. */
export interface TimerTracker {
  /** How many are live now. */
  live(): number;
  /** Where each live timer was made (the first lines of its creation stack), for a leak report. */
  sites(): string[];
}

type TimerFn = (callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => NodeJS.Timeout;

/** Wraps the global timer functions; the returned tracker counts what they made from now on. */
export function trackTimers(): TimerTracker {
  const live = new Map<NodeJS.Timeout, string>();
  const realSetTimeout = globalThis.setTimeout as unknown as TimerFn;
  const realSetInterval = globalThis.setInterval as unknown as TimerFn;
  const realClearTimeout = globalThis.clearTimeout;
  const realClearInterval = globalThis.clearInterval;
  const site = (): string => (new Error().stack ?? '').split('\n').slice(3, 6).join(' <- ').replace(/\s+/g, ' ');
  const forget = (timer: unknown): void => {
    if (timer === undefined || timer === null) return;
    if (typeof timer === 'object') {
      live.delete(timer as NodeJS.Timeout);
      return;
    }
    // A timer cleared by its numeric id.
    for (const t of live.keys()) if (Number(t) === Number(timer)) live.delete(t);
  };

  const setTimeoutTracked = function (callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]): NodeJS.Timeout {
    const made: { timer?: NodeJS.Timeout } = {};
    const fire =
      typeof callback === 'function'
        ? (...a: unknown[]) => {
            if (made.timer !== undefined) live.delete(made.timer);
            callback(...a);
          }
        : callback;
    made.timer = realSetTimeout(fire, ms, ...args);
    live.set(made.timer, site());
    return made.timer;
  };
  Object.defineProperty(setTimeoutTracked, promisify.custom, { value: (realSetTimeout as unknown as Record<symbol, unknown>)[promisify.custom] });
  const setIntervalTracked = function (callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]): NodeJS.Timeout {
    const timer = realSetInterval(callback, ms, ...args);
    live.set(timer, site());
    return timer;
  };
  const clearTracked = (real: (timer: never) => void) =>
    function (timer?: unknown): void {
      forget(timer);
      real(timer as never);
    };

  globalThis.setTimeout = setTimeoutTracked as unknown as typeof globalThis.setTimeout;
  globalThis.setInterval = setIntervalTracked as unknown as typeof globalThis.setInterval;
  globalThis.clearTimeout = clearTracked(realClearTimeout) as typeof globalThis.clearTimeout;
  globalThis.clearInterval = clearTracked(realClearInterval) as typeof globalThis.clearInterval;
  return { live: () => live.size, sites: () => [...live.values()] };
}
