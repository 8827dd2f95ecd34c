// A found restore point applied: each node of the pipeline gets its state (and its guards) back;
// and what the pipeline is told of its restore (or that there was none to make).
import type { Logger } from 'pino';
import type { CompletedCheckpoint } from '../checkpoint/types.js';
import type { RestoreSearch } from '../checkpoint/restore.js';
import type { CheckpointedNode, CoordinatorEnv } from './coordinator-env.js';
import type { StoredStageState } from './stored-stage-state.js';

/**
 * Puts every node back at checkpoint `done`, whose snapshots are `states` (by stage instance). A
 * stage of the checkpoint the pipeline no longer runs, or a stage with no snapshot in it, is logged.
 */
export function restoreNodes(done: CompletedCheckpoint, states: ReadonlyMap<string, unknown>, nodes: readonly CheckpointedNode[], log: Logger): void {
  const running = new Set(nodes.map((n) => n.name));
  const gone = done.stages.filter((name) => !running.has(name));
  if (gone.length > 0) {
    // e.g. replicas added by scale() in the last run: the graph as defined now decides what runs.
    log.warn({ stages: gone, version: done.version }, `checkpoint ${done.version} holds stages this pipeline no longer runs (${gone.join(', ')}): their state is not restored`);
  }
  for (const node of nodes) {
    const saved = states.get(node.name) as StoredStageState | undefined;
    if (saved === undefined) {
      if (node.kind === 'stage') log.warn({ stage: node.name, version: done.version }, `stage "${node.name}" has no snapshot in checkpoint ${done.version}: it starts from its initial state`);
      continue;
    }
    node.restoreFrom(saved.value);
    if (saved.guards !== undefined) node.guards()?.load(saved.guards);
  }
}

/** No checkpoint to restore: an error (observed) when some were there but none is valid, else the first run's note. */
export function reportNoCheckpoint(found: Pick<RestoreSearch, 'corrupt' | 'sawCompleted'>, env: Pick<CoordinatorEnv, 'pipeline' | 'log' | 'emit'>): void {
  if (found.corrupt.length > 0 || found.sawCompleted) {
    env.log.error({ corrupt: found.corrupt.length }, 'no valid checkpoint: every stage starts from its initial state and the source from its beginning');
    env.emit({ type: 'steadfast.checkpoint.none_valid', pipeline: env.pipeline, corrupt: found.corrupt.map(({ key, reason }) => ({ key, reason })) });
  } else {
    env.log.info('no checkpoint yet: starting from the beginning');
  }
}

/** The pipeline starts from checkpoint `done`: logged and observed. */
export function reportRestored(done: CompletedCheckpoint, env: Pick<CoordinatorEnv, 'log' | 'emit'>): void {
  env.log.info({ version: done.version, offset: done.offset, checkpointId: done.checkpointId }, `restored checkpoint ${done.version}: the source replays after offset ${done.offset}`);
  env.emit({ type: 'steadfast.checkpoint.restored', version: done.version, offset: done.offset });
}
