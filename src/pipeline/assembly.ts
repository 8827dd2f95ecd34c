import type { Logger } from 'pino';
import type { SteadfastError } from '../core/errors.js';
import { StorePushJournal } from '../sources/push-journal.js';
import { ATTACH_JOURNAL, isJournallable } from '../sources/push-source.js';
import { CheckpointCoordinator } from '../checkpointing/coordinator.js';
import { createCheckpointStore } from '../checkpoint/create-store.js';
import { DeadLetterBox } from '../checkpoint/dead-letters.js';
import type { Escalation } from '../../supervisors/supervisor.machine.js';
import { createSupervisor, type Supervisor } from '../supervision/supervisor.js';
import type { BreakerRegistry } from '../resilience/breaker-registry.js';
import { MODES } from './modes.js';
import type { CellHooks, NodeCell } from './node-cell.js';
import type { ResolvedPipelineOptions } from './options.js';
import type { FlowCounter } from './producer.js';
import { SourcePump } from './source-pump.js';
import type { Observers } from './observer.js';
import type { Inspection } from './inspection.js';
import { stageChild } from './reshape.js';
import { sourceBatch, wireGraph, type Wiring } from './wiring.js';

/** What a run reports to, and is asked by, the parts it is made of. */
export interface AssemblyHooks {
  readonly flow: FlowCounter;
  readonly observers: Observers;
  readonly inspection: Inspection;
  readonly breakers: BreakerRegistry;
  report(error: SteadfastError, log?: Logger): void;
  cellCompleted(cell: NodeCell): void;
  escalated(escalation: Escalation): void;
}

/** The parts of one pipeline run. */
export interface Assembly {
  pump: SourcePump;
  checkpoints: CheckpointCoordinator | undefined;
  /** The journal of a push source under checkpoints. */
  journal: StorePushJournal | undefined;
  letters: DeadLetterBox;
  wiring: Wiring;
  cells: NodeCell[];
  byName: Map<string, NodeCell>;
  supervisor: Supervisor;
}

/**
 * Builds a run from its checked options: the source pump, the checkpoint coordinator with its
 * store (and a push source's journal), the dead-letter box, one cell per node instance wired by
 * the graph, and the supervisor whose children the cells are.
 */
export function assemble(resolved: ResolvedPipelineOptions, hooks: AssemblyHooks): Assembly {
  const { name, clock, log } = resolved;
  const preset = MODES[resolved.mode];
  const pump = new SourcePump(resolved.source, sourceBatch(resolved.graph, preset.maxBatch), clock);
  const ckpt = resolved.checkpoint;
  const store = ckpt === undefined ? createCheckpointStore({ kind: 'memory' }) : (ckpt.store ?? createCheckpointStore({ dir: ckpt.dir as string, codec: ckpt.codec }));
  let checkpoints: CheckpointCoordinator | undefined;
  let journal: StorePushJournal | undefined;
  let cells: NodeCell[] = [];
  const letters = new DeadLetterBox(store, name, log, clock, ckpt !== undefined, (error) => hooks.report(error));
  if (ckpt !== undefined) {
    checkpoints = new CheckpointCoordinator(ckpt, store, {
      pipeline: name,
      log,
      clock,
      nodes: () => cells,
      events: () => pump.events,
      nudge: () => pump.nudge(),
      emit: (event) => {
        if (event.type === 'steadfast.checkpoint.completed') {
          void letters.checkpointCompleted(event.version);
          void journal?.prune(event.offset);
        }
        if (hooks.observers.size > 0) hooks.observers.emit(event);
      },
    });
    pump.barriers = checkpoints;
    // A push source cannot replay by itself: under checkpoints it is journalled in the store.
    if (isJournallable(resolved.source)) {
      const coordinator = checkpoints;
      journal = new StorePushJournal(store, name, ckpt.sync === 'always', {
        log,
        corrupt: (key, reason) => coordinator.reportCorrupt({ key, reason }),
      });
      resolved.source[ATTACH_JOURNAL](journal);
    }
  }
  const cellHooks: CellHooks = {
    clock,
    flow: hooks.flow,
    observers: hooks.observers,
    log,
    report: (error, from) => hooks.report(error, from),
    onComplete: (cell) => hooks.cellCompleted(cell),
    inspection: hooks.inspection,
    ...(checkpoints === undefined ? {} : { barriers: checkpoints }),
  };
  const report = (error: SteadfastError) => hooks.report(error);
  const wiring = wireGraph(resolved.graph, preset, cellHooks, pump, report, { pipeline: name, clock, log, breakers: hooks.breakers, report });
  cells = [...wiring.cells];
  const byName = new Map(cells.map((cell) => [cell.name, cell] as const));
  const { exitOnEscalate: _exit, ...supervision } = resolved.supervision;
  // Stages are transient children: one that finishes (end of input) is not restarted, one that crashes is.
  const supervisor = createSupervisor({
    ...supervision,
    name,
    logger: log,
    clock,
    onEscalate: (escalation) => hooks.escalated(escalation),
    children: cells.map(stageChild),
    inspect: hooks.inspection.emit,
  });
  return { pump, checkpoints, journal, letters, wiring, cells, byName, supervisor };
}
