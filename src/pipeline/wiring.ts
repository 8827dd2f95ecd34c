import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import type { SteadfastError } from '../core/errors.js';
import { ThreadRunner } from '../isolation/thread-runner.js';
import type { BreakerRegistry } from '../resilience/breaker-registry.js';
import { circuitBreaker, type BreakerSnapshot, type CircuitBreaker } from '../resilience/circuit-breaker.js';
import type { Policy } from '../resilience/policy.js';
import { retry } from '../resilience/retry.js';
import { timeout } from '../resilience/timeout.js';
import { wrap } from '../resilience/wrap.js';
import { resilientRunner, type StageGuards } from './resilient-runner.js';
import { SOURCE, type CompiledGraph, type NodeDef } from './graph.js';
import type { ModePreset } from './modes.js';
import { NodeCell, type CellConfig, type CellHooks } from './node-cell.js';
import { Outlet, type Route } from './outlet.js';
import { sinkRunner, stageRunner } from '../stage/run-call.js';
import type { Producer } from './producer.js';
import type { SourcePump } from './source-pump.js';
import type { AnyStage } from '../stage.js';

/** The runtime of one graph node: its instances (the array its producers' routes point at) and its outlet. */
export interface Group {
  node: NodeDef;
  /** The replicas, in order; shared with the routes of the producers that feed the node. */
  cells: NodeCell[];
  outlet: Outlet;
  /** Everything that feeds the node: the pump, or the cells of other groups. */
  producers: Producer[];
  /** Other outlets routing into the node (its variants' fallbacks): recomputed when it is scaled. */
  fallbacks: Outlet[];
}

/** A wired graph: every cell in graph order, each node's group, and how to make one more replica. */
export interface Wiring {
  cells: NodeCell[];
  groups: Map<string, Group>;
  /** A new, unstarted cell for `group` (a replica added by `pipeline.scale()`), with the group's settings. */
  newReplica(group: Group, index: number): NodeCell;
  /** The settings of a node running `stage` (for `pipeline.swap()`). */
  stageLifecycle(stage: AnyStage, cellName: string): Lifecycle;
}

/**
 * Builds the runtime of a compiled graph: one cell per node instance (replicas included), each
 * with its settings from the stage or the mode, and the outlets that route every producer's
 * outputs (the pump's included) to the cells reading it.
 */
export function wireGraph(
  graph: CompiledGraph,
  preset: ModePreset,
  hooks: CellHooks,
  pump: SourcePump,
  report: (error: SteadfastError) => void,
  env: LifecycleEnv,
): Wiring {
  const all: NodeCell[] = [];
  const groups = new Map<string, Group>();
  const makeCell = (node: NodeDef, r: number, replicas: number): NodeCell => {
    const cellName = replicas > 1 || r > 0 ? `${node.name}#${r}` : node.name;
    const own = node.kind === 'stage' ? node.stage : undefined;
    const capacity = own?.mailbox ?? preset.mailbox;
    return new NodeCell(
      {
        name: cellName,
        group: node.name,
        replica: replicas > 1 || r > 0 ? r : undefined,
        kind: node.kind,
        capacity,
        maxBatch: Math.min(own?.maxBatch ?? preset.maxBatch, capacity),
        targetBatchMs: own?.targetBatchMs ?? preset.targetBatchMs,
        ...lifecycle(node, cellName, env),
      },
      hooks,
    );
  };
  for (const node of graph) {
    const cells: NodeCell[] = [];
    for (let r = 0; r < node.replicas; r++) cells.push(makeCell(node, r, node.replicas));
    all.push(...cells);
    groups.set(node.name, { node, cells, outlet: undefined as unknown as Outlet, producers: [], fallbacks: [] });
  }
  const routesFrom = (producer: string): Route[] => {
    const routes: Route[] = [];
    for (const node of graph) {
      for (const input of node.inputs) {
        if (input.from === producer) routes.push({ inlets: (groups.get(node.name) as Group).cells, when: input.when, partition: node.partition });
      }
    }
    return routes;
  };
  for (const node of graph) {
    const group = groups.get(node.name) as Group;
    group.outlet = new Outlet(node.name, routesFrom(node.name), report);
    for (const input of node.inputs) {
      if (input.from === SOURCE) group.producers.push(pump);
      else group.producers.push(...(groups.get(input.from) as Group).cells);
    }
    for (const cell of group.cells) connect(cell, group);
  }
  pump.outlet = new Outlet(SOURCE, routesFrom(SOURCE), report);
  for (const group of groups.values()) {
    const node = group.node;
    if (node.kind !== 'stage' || node.fallbackTo === undefined) continue;
    // A variant's failed events go to the main node's replicas, by the main node's partition.
    const main = groups.get(node.fallbackTo) as Group;
    const back = new Outlet(node.name, [{ inlets: main.cells, when: undefined, partition: main.node.partition }], report);
    main.fallbacks.push(back);
    for (const cell of group.cells) {
      cell.fallBackTo((values, offsets) => back.route(values, offsets), main.cells);
      // The main node takes the variant's failed events: it finishes its input after the variant has.
      for (const target of main.cells) target.inputs++;
    }
  }
  return {
    cells: all,
    groups,
    newReplica: (group, index) => {
      const cell = makeCell(group.node, index, index + 1);
      connect(cell, group);
      return cell;
    },
    stageLifecycle: (stage, cellName) => stageLifecycle(stage, cellName, env),
  };
}

/** Gives a cell its group's outlet and producers. */
function connect(cell: NodeCell, group: Group): void {
  cell.outlet = group.outlet;
  for (const producer of group.producers) {
    cell.producers.push(producer);
    cell.inputs++;
  }
}

/** The source reads batches as large as the largest batch its first nodes take. */
export function sourceBatch(graph: CompiledGraph, fallback: number): number {
  let size = 0;
  for (const node of graph) {
    if (!node.inputs.some((input) => input.from === SOURCE)) continue;
    size = Math.max(size, (node.kind === 'stage' ? node.stage.maxBatch : undefined) ?? fallback);
  }
  return size || fallback;
}

/** What a node does when it opens, runs a call and closes, and what a failed call does to it. */
export type Lifecycle = Pick<CellConfig, 'initialState' | 'runner' | 'open' | 'close' | 'onFailure' | 'restartAfterFailures' | 'guards' | 'concurrency' | 'ordered'>;

/** What a node's settings need from its pipeline. */
export interface LifecycleEnv {
  /** The pipeline's name: stage breakers are named `<pipeline>.<node>`. */
  pipeline: string;
  log: Logger;
  /** The pipeline's clock: a stage's deadlines run on it. */
  clock: Clock;
  /** The pipeline's own breaker registry. */
  breakers: BreakerRegistry;
  /** Reports an event sent to the dead letters. */
  report: (error: SteadfastError) => void;
}

function lifecycle(node: NodeDef, cellName: string, env: LifecycleEnv): Lifecycle {
  if (node.kind === 'stage') return stageLifecycle(node.stage, cellName, env);
  const sink = node.sink;
  return {
    initialState: () => undefined,
    runner: sinkRunner(sink, cellName),
    open: () => sink.open?.(),
    close: () => sink.close?.(),
    // A sink reports the values it could not write and goes on; restarting it would reopen its target.
    onFailure: 'resume',
    restartAfterFailures: 0,
    concurrency: 1,
    ordered: true,
  };
}

function stageLifecycle(stage: AnyStage, cellName: string, env: LifecycleEnv): Lifecycle {
  return { ...stageCalls(stage, cellName, env), concurrency: stage.concurrency, ordered: stage.ordered };
}

function stageCalls(stage: AnyStage, cellName: string, env: LifecycleEnv): Omit<Lifecycle, 'concurrency' | 'ordered'> {
  if (stage.isolation === 'thread') {
    // Calls run in a worker thread, started when the stage opens and ended when it closes or crashes.
    const thread = new ThreadRunner({ stage, node: cellName, log: env.log.child({ stage: cellName }) });
    return {
      initialState: () => stage.initialState(),
      runner: thread.call,
      open: () => thread.start(),
      close: () => thread.stop(),
      onFailure: stage.onFailure,
      restartAfterFailures: stage.restartAfterFailures,
    };
  }
  if (stage.retry !== undefined || stage.breaker !== undefined) {
    const guards = stageGuards(stage, cellName, env);
    return {
      initialState: () => stage.initialState(),
      runner: resilientRunner(stage, cellName, guards, env.clock),
      open: () => undefined,
      close: () => undefined,
      onFailure: stage.onFailure,
      restartAfterFailures: stage.restartAfterFailures,
      guards,
    };
  }
  return {
    initialState: () => stage.initialState(),
    runner: stageRunner(stage, cellName, env.clock),
    open: () => undefined,
    close: () => undefined,
    onFailure: stage.onFailure,
    restartAfterFailures: stage.restartAfterFailures,
  };
}


/** A stage's retry, breaker and timeout as one policy (retry outermost), with its degraded mode and counters. */
function stageGuards(stage: AnyStage, cellName: string, env: LifecycleEnv): StageGuards {
  const counters = { retries: 0, degraded: 0, deadLetters: 0 };
  const policies: Policy[] = [];
  const given = stage.retry;
  if (given !== undefined) {
    policies.push(
      retry({
        ...given,
        onRetry: (info) => {
          counters.retries++;
          given.onRetry?.(info);
        },
      }),
    );
  }
  const newBreaker = (initialState?: BreakerSnapshot): CircuitBreaker | undefined => {
    if (stage.breaker === undefined) return undefined;
    const name = `${env.pipeline}.${cellName}`;
    env.breakers.get(name)?.dispose(); // a swap or a restore replaces the stage's breaker
    return circuitBreaker({ clock: env.clock, ...stage.breaker, name, registry: env.breakers, ...(initialState === undefined ? {} : { initialState }) });
  };
  const compose = (breaker: CircuitBreaker | undefined): Policy => {
    const all = [...policies];
    if (breaker !== undefined) all.push(breaker);
    if (stage.timeoutMs !== undefined) all.push(timeout(stage.timeoutMs));
    return all.length === 1 ? (all[0] as Policy) : wrap(...all);
  };
  const breaker = newBreaker();
  const guards: StageGuards = {
    policy: compose(breaker),
    breaker,
    degraded: stage.degraded,
    counters,
    deadLetter: env.report,
    save: () => ({ counters: { ...counters }, ...(guards.breaker === undefined ? {} : { breaker: guards.breaker.toJSON() }) }),
    load: (saved) => {
      Object.assign(counters, saved.counters);
      if (saved.breaker === undefined || stage.breaker === undefined) return;
      guards.breaker = newBreaker(saved.breaker);
      guards.policy = compose(guards.breaker);
    },
  };
  return guards;
}
