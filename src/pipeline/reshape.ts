import type { Logger } from 'pino';
import { raceDeadline, type Clock } from '../core/clock.js';
import { ConfigError, SteadfastError, messageOf } from '../core/errors.js';
import type { ChildStartContext } from '../supervision/child.js';
import type { Supervisor } from '../supervision/supervisor.js';
import type { AnyStage } from '../stage.js';
import type { NodeCell } from './node-cell.js';
import type { Group, Wiring } from './wiring.js';

/** What reshaping a running pipeline needs from it. */
export interface ReshapeEnv {
  wiring: Wiring;
  cells: NodeCell[];
  byName: Map<string, NodeCell>;
  supervisor: Supervisor;
  log: Logger;
  clock: Clock;
}

/** What `pipeline.scale()` did; replicas it removed hand back their last state. */
export interface ScaleResult {
  replicas: number;
  removed: Array<{ name: string; state: unknown }>;
}

/** Options of `pipeline.scale()`. */
export interface ScaleOptions {
  /**
   * Redistributes per-key state: gets the states of the replicas before (drained, in order) and
   * returns the states of the replicas after (as many as asked). Without it, replicas keep their
   * state, new ones start from `initialState()` and removed ones hand theirs back.
   */
  rebalance?: (states: unknown[], replicas: number) => unknown[];
  /** How long to wait for the node to drain before giving up (default 30 s). */
  timeoutMs?: number;
}

/** Options of `pipeline.swap()`. */
export interface SwapOptions {
  /** Turns the old stage's state into the new stage's (default: kept as it is). */
  migrate?: (state: unknown) => unknown;
  /** How long to wait for the calls in flight to end (default 30 s). */
  timeoutMs?: number;
}

/** The child spec of a stage cell under the pipeline's supervisor: transient, started by the cell itself. */
export function stageChild(cell: NodeCell) {
  return { id: cell.name, restart: 'transient' as const, start: (ctx: ChildStartContext) => cell.launch(ctx) };
}

/**
 * Changes how many replicas run a stage node, losing no event and keeping the order per key: the
 * node's producers are held back (its mailboxes take nothing new) until every replica has drained,
 * then replicas are added or removed and the routes recomputed, then the flow goes on.
 */
export async function scaleGroup(env: ReshapeEnv, group: Group, replicas: number, options: ScaleOptions = {}): Promise<ScaleResult> {
  const before = group.cells.length;
  if (replicas === before) return { replicas, removed: [] };
  // Producers stop starting calls for the node (its mailboxes take nothing new), and what calls
  // already in flight deliver is held back: routed after the change, with the new layout.
  const producers = [...new Set(group.producers)];
  for (const producer of producers) producer.outlet.hold();
  for (const outlet of group.fallbacks) outlet.hold();
  for (const cell of group.cells) cell.gate(true);
  try {
    await until(group.cells, (cell) => cell.drained(), options.timeoutMs ?? 30_000, `stage "${group.node.name}" to drain`, env.clock);
    const states = group.cells.map((cell) => cell.stageState());
    const next = options.rebalance === undefined ? undefined : rebalanced(group, options.rebalance, states, replicas);
    for (let i = before; i < replicas; i++) await addReplica(env, group, i);
    const removed: ScaleResult['removed'] = [];
    while (group.cells.length > replicas) removed.push(await removeReplica(env, group));
    for (const producer of producers) producer.outlet.refresh();
    for (const outlet of group.fallbacks) outlet.refresh();
    if (next !== undefined) {
      for (const [i, cell] of group.cells.entries()) await cell.respawn({ state: next[i] });
    }
    env.log.info({ stage: group.node.name, from: before, to: replicas }, `scaled ${group.node.name} from ${before} to ${replicas} replicas`);
    return { replicas, removed };
  } finally {
    for (const cell of group.cells) cell.gate(false);
    for (const producer of producers) producer.outlet.flush();
    for (const outlet of group.fallbacks) outlet.flush();
  }
}

function rebalanced(group: Group, rebalance: NonNullable<ScaleOptions['rebalance']>, states: unknown[], replicas: number): unknown[] {
  let next: unknown;
  try {
    next = rebalance(states, replicas);
  } catch (error) {
    throw new SteadfastError('CONFIG_INVALID', `rebalance of stage "${group.node.name}" threw: ${messageOf(error)}`, { cause: error });
  }
  if (!Array.isArray(next) || next.length !== replicas) {
    throw new ConfigError(`scale(${group.node.name}).rebalance`, next, `must return an array of ${replicas} states`);
  }
  return next;
}

async function addReplica(env: ReshapeEnv, group: Group, index: number): Promise<void> {
  const cell = env.wiring.newReplica(group, index);
  cell.gate(true);
  // The routes of the node's producers share this array: they see the new replica from now on.
  group.cells.push(cell);
  for (const target of uniqueTargets(group)) {
    target.producers.push(cell);
    target.inputs++;
  }
  for (const reader of readersOf(env, group)) reader.producers.push(cell);
  env.cells.push(cell);
  env.byName.set(cell.name, cell);
  await env.supervisor.addChild(stageChild(cell));
}

async function removeReplica(env: ReshapeEnv, group: Group): Promise<ScaleResult['removed'][number]> {
  const cell = group.cells.pop() as NodeCell;
  const state = cell.stageState();
  for (const target of uniqueTargets(group)) {
    drop(target.producers, cell);
    target.inputs--;
  }
  for (const reader of readersOf(env, group)) drop(reader.producers, cell);
  drop(env.cells, cell);
  env.byName.delete(cell.name);
  await env.supervisor.terminateChild(cell.name);
  // Its breaker (`<pipeline>.<node>#<i>`) leaves the registry, so metrics and the dashboard drop it.
  cell.guards()?.breaker?.dispose();
  return { name: cell.name, state };
}

/** Changes the logic of a stage node, keeping its state (or migrating it) and the events in its mailboxes. */
export async function swapGroup(env: ReshapeEnv, group: Group, stage: AnyStage, options: SwapOptions = {}): Promise<void> {
  for (const cell of group.cells) cell.pause(true);
  try {
    await until(group.cells, (cell) => cell.settled(), options.timeoutMs ?? 30_000, `stage "${group.node.name}" to finish its calls`, env.clock);
    const states = group.cells.map((cell) => {
      const state = cell.stageState();
      if (options.migrate === undefined) return state;
      try {
        return options.migrate(state);
      } catch (error) {
        throw new SteadfastError('CONFIG_INVALID', `migrate for stage "${group.node.name}" threw: ${messageOf(error)}`, { cause: error });
      }
    });
    for (const [i, cell] of group.cells.entries()) await cell.respawn({ state: states[i] }, env.wiring.stageLifecycle(stage, cell.name));
    group.node = { ...group.node, kind: 'stage', stage } as Group['node'];
    env.log.info({ stage: group.node.name, with: stage.name }, `swapped the logic of ${group.node.name}`);
  } finally {
    for (const cell of group.cells) cell.pause(false);
  }
}

/** The cells that read this node's outputs (each once). */
function uniqueTargets(group: Group): NodeCell[] {
  return [...new Set(group.outlet.inlets as NodeCell[])];
}

/** The groups reading this node: their producer lists name its cells (for replicas they add later). */
function readersOf(env: ReshapeEnv, group: Group): Group[] {
  const readers: Group[] = [];
  for (const other of env.wiring.groups.values()) {
    if (other.node.inputs.some((input) => input.from === group.node.name)) readers.push(other);
  }
  return readers;
}

function drop<T>(list: T[], item: T): void {
  const i = list.indexOf(item);
  if (i !== -1) list.splice(i, 1);
}

/**
 * Resolves once `done(cell)` holds for every cell (each cell tells when it may have changed: no
 * polling), or rejects after `timeoutMs` on the pipeline's clock.
 */
async function until(cells: readonly NodeCell[], done: (cell: NodeCell) => boolean, timeoutMs: number, what: string, clock: Clock): Promise<void> {
  const all = Promise.all(cells.map((cell) => cell.whenTrue(() => done(cell))));
  const raced = await raceDeadline(all, timeoutMs, clock);
  if (!raced.done) throw new SteadfastError('PIPELINE_STATE_INVALID', `gave up waiting ${timeoutMs} ms for ${what}`);
}
