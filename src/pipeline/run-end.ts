import type { Logger } from 'pino';
import { CheckpointStoreError, messageOf, type CheckpointStoreErrorCode, type SteadfastError } from '../core/errors.js';
import type { CheckpointCoordinator } from '../checkpointing/coordinator.js';
import type { DeadLetterBox } from '../checkpoint/dead-letters.js';
import type { BreakerRegistry } from '../resilience/breaker-registry.js';
import type { Supervisor } from '../supervision/supervisor.js';
import type { NodeCell } from './node-cell.js';
import type { SourcePump } from './source-pump.js';

/** What a run's end works with. */
export interface RunEndEnv {
  readonly log: Logger;
  readonly pump: SourcePump;
  readonly cells: readonly NodeCell[];
  readonly supervisor: Supervisor;
  readonly breakers: BreakerRegistry;
  readonly checkpoints: CheckpointCoordinator | undefined;
  readonly letters: DeadLetterBox;
  /** Resolves when a stop timed out: the end no longer waits for closes that hang. */
  readonly abandoned: Promise<void>;
  /** The run's failure so far. */
  failure(): SteadfastError | undefined;
  /** Records a failure (the first one stands). */
  fail(error: SteadfastError): void;
  /** Everything is closed: the run ends (stopped or failed). */
  ended(): void;
}

/**
 * How a run drains to its end: the source finishes (its first nodes' input ends), each node
 * finishes in turn (the nodes it feeds lose an input), and once all have, the supervisor stops,
 * closes after kills are awaited, the final checkpoint settles, dead letters are stored and the
 * store closes. A crashed stage actor stops the rest: upstream would block on it for ever.
 */
export class RunEnd {
  private completed = 0;
  private sourceDone = false;
  private finishing = false;

  constructor(private readonly env: RunEndEnv) {}

  /** The source finished (ended, stopped or failed): its first nodes' input ends. */
  sourceFinished(): void {
    const { env } = this;
    this.sourceDone = true;
    const failure = env.pump.failure;
    if (failure !== undefined) {
      env.fail(failure);
      env.log.error({ err: failure }, 'source failed; draining what was read');
    }
    for (const cell of env.cells) {
      for (let i = 0; i < cell.producers.length; i++) if (cell.producers[i] === env.pump) cell.inputEnded();
    }
    this.maybeFinish();
  }

  /** A start failed before the source ran: it counts as finished. */
  noSource(): void {
    this.sourceDone = true;
  }

  /** A node finished for good. */
  cellCompleted(cell: NodeCell): void {
    const { env } = this;
    this.completed++;
    if (cell.failure !== undefined) env.fail(cell.failure);
    if (cell.failure?.code === 'STAGE_CRASHED') {
      env.log.fatal({ err: cell.failure }, 'stage actor crashed; stopping the pipeline');
      env.pump.stop();
      for (const other of env.cells) if (other !== cell) other.kill();
    }
    for (const target of cell.outlet.inlets) (target as NodeCell).inputEnded();
    for (const target of cell.fallbackTargets) target.inputEnded();
    this.maybeFinish();
  }

  /** A stop timed out and every node was killed: end now, whether the source finished or not. */
  forceFinish(): void {
    if (!this.sourceDone) this.finish();
  }

  private maybeFinish(): void {
    if (this.completed === this.env.cells.length && this.sourceDone) this.finish();
  }

  private finish(): void {
    if (this.finishing) return;
    this.finishing = true;
    const { env } = this;
    // After a stop timed out, what still hangs (a sink's close, a write that never returns) is left to finish on its own.
    const unlessAbandoned = (work: Promise<unknown>) => Promise.race([work, env.abandoned]);
    void unlessAbandoned(Promise.all([env.supervisor.stop(), ...env.cells.map((cell) => cell.closed())])).then(async () => {
      for (const breaker of env.breakers.list()) breaker.dispose();
      await unlessAbandoned(this.closeCheckpoints());
      env.ended();
    });
  }

  /**
   * The final checkpoint completes (unless the run failed), dead letters are stored, then the store
   * closes. A final checkpoint that failed fails the run: its state is not saved.
   */
  private async closeCheckpoints(): Promise<void> {
    const { env } = this;
    try {
      if (env.failure() === undefined && env.checkpoints !== undefined) {
        await env.checkpoints.settled();
        const failed = env.checkpoints.finalError;
        if (failed !== undefined) {
          env.fail(failed instanceof CheckpointStoreError ? new CheckpointStoreError(failed.code as CheckpointStoreErrorCode, failed.location, `final checkpoint failed: ${failed.message}`, failed) : failed);
        }
      }
      await env.letters.flushed();
      // Without checkpoints the letters live in memory and stay readable after the run: nothing to release.
      await env.checkpoints?.close();
    } catch (error) {
      env.log.error({ err: error }, `closing the checkpoint store failed: ${messageOf(error)}`);
    }
  }
}
