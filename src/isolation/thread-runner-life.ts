// The lifecycle of a thread stage's runner, as an explicit union of phases with per-phase data:
// `down` (no worker: not started yet, stopped, failed to start, or dead after a timeout or a
// crash), `starting` (a worker spawned, its `ready` awaited), `up` (the worker takes calls).
import { setTimer, systemClock, type CancelTimer } from '../core/clock.js';
import type { Down } from './down-failure.js';
import type { ThreadWorker } from './thread-worker.js';

/** A start waiting for the worker's `ready`: how to settle it, and its open timeout. */
export interface Opening {
  resolve: () => void;
  reject: (error: Error) => void;
  timer: CancelTimer;
}

/** Where a thread runner is. */
export type ThreadRunnerLife =
  | { phase: 'down'; down: Down }
  /** `down`: what a call gets meanwhile (refused, or waiting for the start when `respawn`). */
  | { phase: 'starting'; worker: ThreadWorker; opening: Opening; down: Down }
  | { phase: 'up'; worker: ThreadWorker };

/** A start that `onTimeout` fails when the worker is not ready within `ms` (on the process clock), and the promise it settles. */
export function openingWithin(ms: number, onTimeout: () => void): { opening: Opening; opened: Promise<void> } {
  let opening: Opening | undefined;
  const opened = new Promise<void>((resolve, reject) => {
    opening = { resolve, reject, timer: setTimer(systemClock, ms, onTimeout) };
  });
  return { opening: opening as Opening, opened };
}
