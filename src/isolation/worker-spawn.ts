// A thread stage's worker thread made: its module's URL, its progress buffer, its resource limits.
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { SteadfastError, messageOf } from '../core/errors.js';
import type { AnyStage } from '../stage.js';
import { createProgress } from './call-progress.js';
import type { WorkerInit } from './protocol.js';
import { workerUrl } from './worker-url.js';

/** A worker thread of stage node `node`, and the buffer where it records its progress. */
export interface SpawnedWorker {
  worker: Worker;
  progress: Int32Array;
}

/**
 * Creates the worker thread that imports `stage.module` and runs the stage (it answers `ready` or
 * `open-failed`); throws STAGE_OPEN_FAILED when the module has no URL or the thread cannot be made.
 */
export function spawnWorker(stage: AnyStage, node: string, levelValue: number): SpawnedWorker {
  const module = stage.module as string;
  let url: URL;
  try {
    url = workerUrl(module);
  } catch (error) {
    throw openFailure(stage, node, messageOf(error), error);
  }
  // A buffer per worker: a terminated worker still running for a moment cannot write into the next one's.
  const progress = createProgress();
  const init: WorkerInit = { module, stage: stage.name, node, levelValue, progress: progress.buffer as SharedArrayBuffer };
  const options: WorkerOptions = { workerData: init };
  if (stage.resourceLimits !== undefined) options.resourceLimits = { ...stage.resourceLimits };
  try {
    return { worker: new Worker(url, options), progress };
  } catch (error) {
    throw openFailure(stage, node, `its worker thread cannot be created: ${messageOf(error)}`, error);
  }
}

/** STAGE_OPEN_FAILED: stage node `node` cannot start in a worker thread, for `reason`. */
export function openFailure(stage: AnyStage, node: string, reason: string, cause: unknown): SteadfastError {
  return new SteadfastError('STAGE_OPEN_FAILED', `stage "${node}" (module ${stage.module}) cannot start in a worker thread: ${reason}`, cause === undefined ? undefined : { cause });
}
