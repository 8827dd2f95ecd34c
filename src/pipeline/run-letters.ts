import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import { SteadfastError, messageOf } from '../core/errors.js';
import type { CheckpointCoordinator } from '../checkpointing/coordinator.js';
import type { DeadLetterBox } from '../checkpoint/dead-letters.js';
import type { StoredDeadLetter } from '../checkpoint/types.js';
import type { NodeCell } from './node-cell.js';
import { ReplayedLetter } from './replayed-letter.js';
import { readDeadLetters } from './run-helpers.js';
import type { PipelineStatus } from './stats.js';

/** What a run's dead letters work with. */
export interface RunLettersEnv {
  readonly pipeline: string;
  readonly log: Logger;
  readonly clock: Clock;
  readonly letters: DeadLetterBox;
  readonly checkpoints: CheckpointCoordinator | undefined;
  readonly byName: ReadonlyMap<string, NodeCell>;
  state(): PipelineStatus;
}

/**
 * A run's dead letters: read (from the store, or after the run from its directory again), and
 * replayed into the stage instances they failed in, as room allows (`pipeline.replay()`, and the
 * letters `steadfast dlq replay` marked, at start).
 */
export class RunLetters {
  constructor(private readonly env: RunLettersEnv) {}

  list(): Promise<StoredDeadLetter[]> {
    const { env } = this;
    const store = env.checkpoints?.store;
    const state = env.state();
    if (store === undefined || store.isOpen || store.kind !== 'level' || (state !== 'stopped' && state !== 'failed')) return env.letters.list();
    // The run closed its store: read the letters from the directory again, read-only.
    return readDeadLetters(store.location, env.pipeline, env.log, env.clock);
  }

  async replay(letters?: ReadonlyArray<StoredDeadLetter | string>): Promise<number> {
    const { env } = this;
    if (env.state() !== 'running') throw new SteadfastError('PIPELINE_STATE_INVALID', `pipeline "${env.pipeline}" is ${env.state()}; replay() needs it running`);
    return env.letters.replay((stage, event, offset) => this.inject(stage, event, offset), letters, () => env.checkpoints?.latestVersion ?? 0);
  }

  /** Dead letters marked with `steadfast dlq replay` go back into their stages, ahead of the source. */
  async replayMarked(): Promise<void> {
    const { env } = this;
    try {
      const marked = await env.letters.marked();
      if (marked.length > 0) {
        const n = await env.letters.replay((stage, event, offset) => this.inject(stage, event, offset), marked, () => env.checkpoints?.latestVersion ?? 0);
        env.log.info({ replayed: n }, `replayed ${n} dead letters marked for replay`);
      }
    } catch (error) {
      env.log.error({ err: error }, `marked dead letters not replayed: ${messageOf(error)}`);
    }
  }

  /**
   * Puts a replayed dead letter into the mailbox of the stage instance it failed in, once there is
   * room (a replay respects the mailbox like any producer). Marked as a replay, it waits for the
   * stage's breaker to let calls through rather than going straight back to the dead letters.
   */
  private async inject(stage: string, event: unknown, offset: number): Promise<boolean> {
    const cell = this.env.byName.get(stage);
    const open = () => {
      const state = this.env.state();
      return cell !== undefined && cell.kind === 'stage' && (state === 'running' || state === 'starting') && cell.inputsEnded < cell.inputs;
    };
    if (!open()) return false;
    const target = cell as NodeCell;
    await target.whenRoom();
    if (!open()) return false;
    target.enqueue([target.guards()?.breaker === undefined ? event : new ReplayedLetter(event)], [offset]);
    return true;
  }
}
