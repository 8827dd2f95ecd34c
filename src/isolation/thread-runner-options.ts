import type { Logger } from 'pino';
import { ConfigError, type StageCallError } from '../core/errors.js';
import type { AnyStage } from '../stage.js';

/** Options of {@link ThreadRunner}. */
export interface ThreadRunnerOptions {
  /** The stage to run; its `isolation` is `'thread'` and its `module` exports it. */
  stage: AnyStage;
  /** Name of the node running the calls (the stage name, or the graph key; replicas add `#i`). */
  node: string;
  /** Where the runner logs, and where the stage's `ctx.log` records go (with `stage` bound). */
  log: Logger;
  /** Longest `start()` may take (spawning the worker and importing the module) before it fails; default 30 000 ms. */
  openTimeoutMs?: number;
  /** Called once when the worker dies (timeout or crash) — also when no call was running. */
  onCrash?: (error: StageCallError) => void;
}

/** How long `start()` waits for the worker by default. */
export const DEFAULT_OPEN_TIMEOUT_MS = 30_000;

/** Checks that `stage` can run in a worker thread (`isolation: 'thread'` and a `module`); returns it. */
export function threadStage(stage: AnyStage): AnyStage {
  if (stage.isolation !== 'thread') {
    throw new ConfigError(`stage "${stage.name}".isolation`, stage.isolation, "must be 'thread' to run in a worker thread");
  }
  if (stage.module === undefined) {
    throw new ConfigError(`stage "${stage.name}".module`, stage.module, 'must name the module exporting the stage');
  }
  return stage;
}
