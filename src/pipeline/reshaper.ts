import { ConfigError, SteadfastError } from '../core/errors.js';
import { integerIn } from '../core/validate.js';
import { isStage, type AnyStage } from '../stage.js';
import type { CheckpointCoordinator } from '../checkpointing/coordinator.js';
import { scaleGroup, swapGroup, type ReshapeEnv, type ScaleOptions, type ScaleResult, type SwapOptions } from './reshape.js';
import type { SourcePump } from './source-pump.js';
import type { Group } from './wiring.js';

/** What reshaping needs from its pipeline beyond the nodes: its name, state, source and checkpoints. */
export interface ReshaperEnv extends ReshapeEnv {
  readonly pipeline: string;
  /** The pipeline's lifecycle state now. */
  state(): string;
  readonly pump: SourcePump;
  readonly checkpoints: CheckpointCoordinator | undefined;
}

/**
 * `pipeline.scale()` and `pipeline.swap()`: checked, then run one after another while the pipeline
 * runs, with the source held (it neither reads nor ends meanwhile) and no checkpoint in flight.
 */
export class Reshaper {
  /** Reshapes run one after another. */
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly env: ReshaperEnv) {}

  async scale(node: string | AnyStage, replicas: number, options: ScaleOptions = {}): Promise<ScaleResult> {
    const group = this.stageGroup('scale', node);
    const count = integerIn('scale(replicas)', replicas, 1, 1024);
    this.checkInputOpen(group);
    return this.reshaping(() => {
      // Checked again when its turn comes: the input may have started to end meanwhile.
      this.checkInputOpen(group);
      return scaleGroup(this.env, group, count, options);
    });
  }

  async swap(node: string | AnyStage, stage: AnyStage, options: SwapOptions = {}): Promise<void> {
    const group = this.stageGroup('swap', node);
    if (!isStage(stage)) throw new ConfigError('swap(stage)', stage, 'must be a stage made by defineStage()');
    return this.reshaping(() => swapGroup(this.env, group, stage, options));
  }

  private checkInputOpen(group: Group): void {
    if ((group.cells[0]?.inputsEnded ?? 0) > 0) {
      throw new SteadfastError('PIPELINE_STATE_INVALID', `stage "${group.node.name}" has started to finish its input; it cannot be scaled any more`);
    }
  }

  private notRunning(): SteadfastError {
    return new SteadfastError('PIPELINE_STATE_INVALID', `pipeline "${this.env.pipeline}" is ${this.env.state()}; it can be reshaped while running only`);
  }

  /** One reshape at a time, and only while running. */
  private reshaping<T>(work: () => Promise<T>): Promise<T> {
    if (this.env.state() !== 'running') return Promise.reject(this.notRunning());
    const checkpoints = this.env.checkpoints;
    // From now until it is done, the source neither reads nor ends: the input of the nodes it
    // changes cannot end before its turn, and the final checkpoint cannot start in its middle.
    const release = this.env.pump.hold();
    // A reshape changes the nodes a checkpoint waits for: none may be in flight meanwhile.
    const turn = async (): Promise<T> => {
      if (this.env.state() !== 'running') throw this.notRunning();
      return work();
    };
    const run = this.queue.then(() => (checkpoints === undefined ? turn() : checkpoints.without(turn))).finally(release);
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private stageGroup(method: string, node: string | AnyStage): Group {
    const groups = this.env.wiring.groups;
    const name = typeof node === 'string' ? node : isStage(node) ? node.name : undefined;
    const group = name === undefined ? undefined : groups.get(name);
    if (group === undefined || group.node.kind !== 'stage') {
      const stages = [...groups.values()].filter((g) => g.node.kind === 'stage').map((g) => g.node.name);
      throw new ConfigError(`${method}(node)`, name ?? node, `must name a stage node (${stages.join(', ')})`);
    }
    return group;
  }
}
