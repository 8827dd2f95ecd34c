/**
 * Where a thread stage's worker records which event of which call it is running, in memory shared
 * with the host (a `SharedArrayBuffer` made per worker, passed in `workerData`), so that the host
 * can read it while the worker is stuck, and after it died, without a message round trip. The
 * worker writes two 32-bit slots with `Atomics.store`: the call id when it starts a call, and the
 * index in the batch of the event it is about to run (`NO_EVENT` before the first, `CALL_DONE` once
 * the call has answered). That is one store per event: nothing is sent.
 */

/** Slot of the id of the call the worker last started (`id | 0`; 0: none yet). */
export const PROGRESS_CALL = 0;
/** Slot of the index in that call's batch of the event being run, or {@link NO_EVENT} / {@link CALL_DONE}. */
export const PROGRESS_INDEX = 1;
/** In the index slot: the call has not run an event yet. */
export const NO_EVENT = -1;
/** In the index slot: the call is over and its answer was posted (it reaches the host before the worker's `exit`). */
export const CALL_DONE = -2;

/** A fresh progress buffer for one worker: no call (id 0, as if done). */
export function createProgress(): Int32Array {
  const progress = new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT));
  progress[PROGRESS_INDEX] = CALL_DONE;
  return progress;
}

/** Where the worker is: the call (`id | 0`) and the index of its event, or {@link NO_EVENT} / {@link CALL_DONE}. */
export interface CallPosition {
  call: number;
  index: number;
}

/** Reads the worker's position (two loads: exact once the worker is stuck or dead, which is when it matters). */
export function readPosition(progress: Int32Array): CallPosition {
  return { call: Atomics.load(progress, PROGRESS_CALL), index: Atomics.load(progress, PROGRESS_INDEX) };
}
