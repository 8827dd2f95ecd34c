import type { Actor, AnyStateMachine, InputFrom, InspectionEvent } from 'xstate';
import { createCheckpointStore } from '../checkpoint/create-store.js';
import type { CheckpointStore } from '../checkpoint/types.js';
import { systemClock, type Clock } from '../core/clock.js';
import { ConfigError } from '../core/errors.js';
import { keyName } from '../core/keys.js';
import { fn, integerIn, knownKeys, oneOf, record } from '../core/validate.js';
import type { ChildSpec, ChildStartContext } from '../supervision/child.js';
import type { RestartType } from '../../supervisors/restart-decision.js';
import { TIMER_POLICIES, type PersistedActorTree, type TimerPolicy } from './persisted-actor-tree.js';
import { restoreActorTree } from './restore-actor-tree.js';
import { assertRestorableLogic } from './restorable-logic.js';
import { runMachineChild } from './machine-child-run.js';

/** Where a machine child keeps its tree: a LevelDB directory it opens itself, or a store you own (never closed by it). */
export type MachineChildCheckpoint = { dir: string; keep?: number } | { store: CheckpointStore; keep?: number };

/** Options of {@link machineChild}. */
export interface MachineChildOptions<TMachine extends AnyStateMachine> {
  /** The child's id under its supervisor; its snapshots are stored as pipeline `machine:<id>`, stage `<id>`. */
  id: string;
  machine: TMachine;
  /** The machine's input when it starts fresh. */
  input?: InputFrom<TMachine>;
  /** `permanent` (default), `transient` or `temporary`, as for any child. */
  restart?: RestartType;
  /** Milliseconds a polite stop (which saves the tree) may take, or `'brutal'`. */
  shutdown?: number | 'brutal';
  /** What pending delayed events become on restart (default `'deadline'`). */
  timers?: TimerPolicy;
  /** Where the tree is saved after each change; without it, every start is fresh. */
  checkpoint?: MachineChildCheckpoint;
  /** Time and timers of the machine's delayed events (default: the process clock). */
  clock?: Clock;
  /** Called with each incarnation's actor before it starts: subscribe, listen to `emit()`s, keep it to send events. */
  onStart?: (actor: Actor<TMachine>) => void;
}

const KNOWN = ['id', 'machine', 'input', 'restart', 'shutdown', 'timers', 'checkpoint', 'clock', 'onStart'] as const;

/**
 * A supervisor child running your XState machine, checkpointed whole: each start restores the
 * last saved tree (children, pending delayed events, unsettled invocations) or starts fresh from
 * the machine's initial state; the tree is saved after each change (coalesced, one write in
 * flight); an XState actor error exits the child with `'error'` (the supervisor restarts it by its
 * strategy and backoff, from the last saved tree), a final state exits `'normal'` (a later start
 * begins afresh); `stop()` saves the tree and waits for the write.
 *
 * @example
 * const root = createSupervisor({ name: 'root', children: [
 *   machineChild({ id: 'scheduler', machine: scheduler, checkpoint: { dir: '.steadfast' } }),
 * ] });
 * await root.start();
 */
export function machineChild<TMachine extends AnyStateMachine>(options: MachineChildOptions<TMachine>): ChildSpec {
  const opts = record('machineChild options', options);
  knownKeys('machineChild options', opts, KNOWN);
  if (typeof opts.id !== 'string') throw new ConfigError('machineChild options.id', opts.id, 'must be a string');
  // Its snapshots are stored as pipeline `machine:<id>`: a name the store's keys can hold.
  keyName(`machineChild "${opts.id}" pipeline name`, `machine:${opts.id}`);
  const machine = options.machine;
  if (typeof (machine as { getStateNodeById?: unknown } | undefined)?.getStateNodeById !== 'function') {
    throw new ConfigError(`machineChild "${options.id}" machine`, machine, 'must be an XState machine (setup({...}).createMachine(...))');
  }
  assertRestorableLogic(machine, `machineChild "${options.id}" machine`);
  const timers = oneOf(`machineChild "${options.id}" timers`, options.timers ?? 'deadline', TIMER_POLICIES);
  const checkpoint = checkpointOption(options.id, options.checkpoint);
  if (options.onStart !== undefined) fn(`machineChild "${options.id}" onStart`, options.onStart);
  const clock = options.clock ?? systemClock;
  // The previous incarnation's cleanup (last write, store closed), per child instance id.
  const previous = new Map<string, Promise<void>>();
  const start = async (ctx: ChildStartContext) => {
    await previous.get(ctx.id);
    const store = checkpoint === undefined ? undefined : 'store' in checkpoint ? checkpoint.store : createCheckpointStore({ dir: checkpoint.dir });
    const owned = checkpoint !== undefined && !('store' in checkpoint);
    const pipeline = `machine:${options.id}`;
    try {
      const latest = store === undefined ? undefined : await readLatest(store, pipeline, ctx);
      const finished = latest !== undefined && (latest.tree.root as { status?: unknown }).status !== 'active';
      // Any actor of the tree changed (XState's inspection sees them all; the root's observers only the root).
      let changed: (() => void) | undefined;
      const inspect = store === undefined ? undefined : (event: InspectionEvent) => void (event.type === '@xstate.snapshot' && changed?.());
      const actor = restoreActorTree(machine, finished ? undefined : latest?.tree, {
        clock,
        timers,
        ...(options.input === undefined ? {} : { input: options.input }),
        ...(inspect === undefined ? {} : { inspect }),
      });
      options.onStart?.(actor);
      const saving = store === undefined ? undefined : { store, owned, pipeline, version: (latest?.version ?? 0) + 1, keep: checkpoint?.keep ?? 3 };
      return runMachineChild(actor, ctx, { clock, saving, watch: (fn) => (changed = fn), cleanup: (done) => previous.set(ctx.id, done) });
    } catch (error) {
      if (owned) await store?.close();
      throw error;
    }
  };
  return {
    id: options.id,
    start,
    ...(options.restart === undefined ? {} : { restart: options.restart }),
    ...(options.shutdown === undefined ? {} : { shutdown: options.shutdown }),
  };
}

async function readLatest(store: CheckpointStore, pipeline: string, ctx: ChildStartContext): Promise<{ version: number; tree: PersistedActorTree } | undefined> {
  for await (const read of store.snapshots(pipeline, ctx.id)) {
    if (read.ok) return { version: read.value.version, tree: read.value.state as PersistedActorTree };
    ctx.log.warn({ key: read.key, reason: read.reason }, 'machine child snapshot unreadable, trying the next older one');
  }
  return undefined;
}

function checkpointOption(id: string, value: unknown): MachineChildCheckpoint | undefined {
  if (value === undefined) return undefined;
  const field = `machineChild "${id}" checkpoint`;
  const opts = record(field, value);
  knownKeys(field, opts, ['dir', 'store', 'keep']);
  if (opts.keep !== undefined) integerIn(`${field}.keep`, opts.keep, 1);
  if ((opts.dir === undefined) === (opts.store === undefined)) throw new ConfigError(field, value, 'must have exactly one of dir or store');
  if (opts.dir !== undefined && (typeof opts.dir !== 'string' || opts.dir.length === 0)) throw new ConfigError(`${field}.dir`, opts.dir, 'must be a non-empty path');
  if (opts.store !== undefined && typeof (opts.store as { writeSnapshot?: unknown }).writeSnapshot !== 'function') {
    throw new ConfigError(`${field}.store`, opts.store, 'must be a checkpoint store (createCheckpointStore)');
  }
  return value as MachineChildCheckpoint;
}
