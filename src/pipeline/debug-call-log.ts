import type { Logger } from 'pino';
import type { Observers } from './observer.js';

/**
 * Logs each stage call at debug level (the `steadfast.stage.call` observations) when `log` writes
 * debug lines, as in `mode: 'debug'`; returns the unsubscribe function. Otherwise subscribes
 * nothing, so a pipeline that does not log calls emits no observation per call.
 */
export function logCallsAtDebug(observers: Observers, log: Logger): () => void {
  if (!log.isLevelEnabled('debug')) return () => {};
  return observers.add((event) => {
    if (event.type !== 'steadfast.stage.call') return;
    const { stage, group, events, ms, ok, failed } = event;
    log.debug({ stage, group, events, ms, ok, failed }, `stage ${stage} ${ok ? 'called' : 'failed'} with ${events} event${events === 1 ? '' : 's'}${failed > 0 ? ` (${failed} failed)` : ''}`);
  });
}
