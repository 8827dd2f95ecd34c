import type { Logger } from 'pino';
import type { SteadfastError } from '../core/errors.js';
import { ThreadRunner } from '../isolation/thread-runner.js';
import { SOURCE, type CompiledGraph, type NodeDef } from './graph.js';
import type { ModePreset } from './modes.js';
import { NodeCell, type CellHooks } from './node-cell.js';
import { Outlet, type Route } from './outlet.js';
import { sinkRunner, stageRunner } from './run-call.js';
import type { SourcePump } from './source-pump.js';

/**
 * Builds the runtime of a compiled graph: one cell per node instance (replicas included), each
 * with its settings from the stage or the mode, and the outlets that route every producer's
 * outputs (the pump's included) to the cells reading it. Returns the cells in graph order.
 */
export function wireGraph(
  graph: CompiledGraph,
  preset: ModePreset,
  hooks: CellHooks,
  pump: SourcePump,
  report: (error: SteadfastError) => void,
): NodeCell[] {
  const all: NodeCell[] = [];
  const groups = new Map<string, NodeCell[]>();
  for (const node of graph) {
    const cells: NodeCell[] = [];
    for (let r = 0; r < node.replicas; r++) {
      const cellName = node.replicas > 1 ? `${node.name}#${r}` : node.name;
      const own = node.kind === 'stage' ? node.stage : undefined;
      const capacity = own?.mailbox ?? preset.mailbox;
      const cell = new NodeCell(
        {
          name: cellName,
          group: node.name,
          replica: node.replicas > 1 ? r : undefined,
          kind: node.kind,
          capacity,
          maxBatch: Math.min(own?.maxBatch ?? preset.maxBatch, capacity),
          targetBatchMs: own?.targetBatchMs ?? preset.targetBatchMs,
          ...lifecycle(node, cellName, hooks.log),
        },
        hooks,
      );
      cells.push(cell);
      all.push(cell);
    }
    groups.set(node.name, cells);
  }
  const routesFrom = (producer: string): Route[] => {
    const routes: Route[] = [];
    for (const node of graph) {
      for (const input of node.inputs) {
        if (input.from === producer) routes.push({ inlets: groups.get(node.name) as NodeCell[], when: input.when, partition: node.partition });
      }
    }
    return routes;
  };
  for (const node of graph) {
    const outlet = new Outlet(node.name, routesFrom(node.name), report);
    for (const cell of groups.get(node.name) as NodeCell[]) {
      cell.outlet = outlet;
      for (const input of node.inputs) {
        const producers = input.from === SOURCE ? [pump] : (groups.get(input.from) as NodeCell[]);
        for (const producer of producers) {
          cell.producers.push(producer);
          cell.inputs++;
        }
      }
    }
  }
  pump.outlet = new Outlet(SOURCE, routesFrom(SOURCE), report);
  return all;
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

/** What a node does when it opens, runs a call and closes. */
function lifecycle(node: NodeDef, cellName: string, log: Logger) {
  if (node.kind === 'sink') {
    const sink = node.sink;
    return {
      initialState: () => undefined,
      runner: sinkRunner(sink, cellName),
      open: () => sink.open?.(),
      close: () => sink.close?.(),
      // A sink reports the values it could not write and goes on; restarting it would reopen its target.
      onFailure: 'resume' as const,
    };
  }
  const stage = node.stage;
  if (stage.isolation === 'thread') {
    // Calls run in a worker thread, started when the stage opens and ended when it closes or crashes.
    const thread = new ThreadRunner({ stage, node: cellName, log: log.child({ stage: cellName }) });
    return {
      initialState: () => stage.initialState(),
      runner: thread.call,
      open: () => thread.start(),
      close: () => thread.stop(),
      onFailure: stage.onFailure,
    };
  }
  return {
    initialState: () => stage.initialState(),
    runner: stageRunner(stage, cellName),
    open: () => undefined,
    close: () => undefined,
    onFailure: stage.onFailure,
  };
}
