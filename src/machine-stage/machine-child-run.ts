import type { AnyActorRef } from 'xstate';
import type { CheckpointStore } from '../checkpoint/types.js';
import { createCheckpointWriter, type CheckpointWriter } from '../checkpoint/writer.js';
import type { Clock } from '../core/clock.js';
import type { Child, ChildStartContext } from '../supervision/child.js';
import type { ExitKind } from '../../supervisors/restart-decision.js';
import { TreeSaver } from './tree-saver.js';

/** Where and how a running machine child saves its tree. */
export interface MachineChildSaving {
  store: CheckpointStore;
  /** The child opened the store: it closes it when it ends. */
  owned: boolean;
  pipeline: string;
  version: number;
  keep: number;
}

/** A running machine child's lifecycle: one way out, whichever comes first. */
type Phase = 'running' | 'ending' | 'ended';

/**
 * Starts `actor` as a supervisor child: saves its tree after each change, reports an actor error
 * as an `'error'` exit and a final state as `'normal'`, and ends (last write, store closed) once;
 * `cleanup` gets the promise of that end, so that the next incarnation waits for it.
 */
export function runMachineChild(
  actor: AnyActorRef,
  ctx: ChildStartContext,
  options: { clock: Clock; saving: MachineChildSaving | undefined; watch(changed: (() => void) | undefined): void; cleanup(done: Promise<void>): void },
): Child {
  const { saving } = options;
  let phase: Phase = 'running';
  let writer: CheckpointWriter | undefined;
  let saver: TreeSaver | undefined;
  const end = (save: boolean): Promise<void> => {
    const done = (async () => {
      phase = 'ending';
      options.watch(undefined);
      subscription.unsubscribe();
      try {
        // Persisted before the actor stops: a stopped tree would restore as stopped.
        if (save) await saver?.saveNow();
        else await saver?.settled();
      } finally {
        saver?.halt();
        actor.stop();
        await writer?.close();
        if (saving?.owned === true) await saving.store.close();
        phase = 'ended';
      }
    })();
    options.cleanup(done.catch(() => undefined));
    return done;
  };
  const exit = (kind: ExitKind, error?: unknown): void => {
    if (phase !== 'running') return;
    // The store is closed in the background; the next start waits for it (see `cleanup`).
    end(kind === 'normal').catch((cause: unknown) => ctx.log.warn({ err: cause }, 'machine child could not save its last tree'));
    ctx.exited(kind, error);
  };
  if (saving !== undefined) {
    writer = createCheckpointWriter({ store: saving.store, pipeline: saving.pipeline, stage: ctx.id, logger: ctx.log, clock: options.clock });
    saver = new TreeSaver(actor, { writer, pipeline: saving.pipeline, stage: ctx.id, version: saving.version, keep: saving.keep, clock: options.clock, onError: (error) => exit('error', error) });
    const tree = saver;
    options.watch(() => tree.changed());
  }
  const subscription = actor.subscribe({
    error: (error) => exit('error', error),
    complete: () => exit('normal'),
  });
  actor.start();
  saver?.changed();
  return {
    stop: async () => {
      if (phase === 'running') await end(true);
    },
    kill: () => {
      if (phase !== 'running') return;
      end(false).catch((cause: unknown) => ctx.log.warn({ err: cause }, 'machine child killed: its store did not close cleanly'));
    },
    describe: () => ({ id: ctx.id, type: 'worker', state: describeValue(actor), restarts: 0 }),
  };
}

function describeValue(actor: AnyActorRef): string {
  const snapshot = actor.getSnapshot() as { status: string; value?: unknown };
  if (snapshot.status !== 'active') return snapshot.status;
  return typeof snapshot.value === 'string' ? snapshot.value : JSON.stringify(snapshot.value);
}
