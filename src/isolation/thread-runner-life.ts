// The lifecycle of a thread stage's runner, as an explicit union of phases with per-phase data:
// `down` (no worker: not started yet, stopped, failed to start, or dead after a timeout or a
// crash), `starting` (a worker spawned, its `ready` awaited), `up` (the worker takes calls).
import type { CancelTimer } from '../core/clock.js';
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
