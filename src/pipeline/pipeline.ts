import type { Logger } from 'pino';
import { raceDeadline, type Clock } from '../core/clock.js';
import { CheckpointStoreError, ConfigError, SteadfastError, messageOf, type CheckpointStoreErrorCode } from '../core/errors.js';
import { integerIn } from '../core/validate.js';
import { newId } from '../ids.js';
import { StorePushJournal } from '../sources/push-journal.js';
import { ATTACH_JOURNAL, isJournallable } from '../sources/push-source.js';
import type { Source } from '../sources/source.js';
import { isStage, type AnyStage, type Stage } from '../stage.js';
import { MODES, type PipelineMode } from './modes.js';
import type { Pipeline, StartOptions } from './pipeline-api.js';
import { deferred, readDeadLetters, startError } from './run-helpers.js';
import type { CellHooks, NodeCell } from './node-cell.js';
import { ReplayedLetter } from './replayed-letter.js';
import { resolvePipelineOptions, type PipelineOptions } from './options.js';
import type { FlowCounter } from './producer.js';
import { SourcePump } from './source-pump.js';
import { Observers, forwardSupervision, type PipelineObserver } from './observer.js';
import { Inspection, type InspectionListener } from './inspection.js';
import { CheckpointCoordinator } from '../checkpointing/coordinator.js';
import { createCheckpointStore } from '../checkpoint/create-store.js';
import { DeadLetterBox } from '../checkpoint/dead-letters.js';
import { startFrom } from '../checkpoint/restore-from.js';
import type { CompletedCheckpoint, StoredDeadLetter } from '../checkpoint/types.js';
import type { StageCallError } from '../core/errors.js';
import { BreakerRegistry } from '../resilience/breaker-registry.js';
import { stageStats, type PipelineStats, type PipelineStatus, type StageStats } from './stats.js';
import type { Escalation } from '../../supervisors/supervisor.machine.js';
import { escalationError } from '../supervision/escalation-error.js';
import { createSupervisor, type Supervisor } from '../supervision/supervisor.js';
import { sourceBatch, wireGraph, type Group, type Wiring } from './wiring.js';
import { scaleGroup, stageChild, swapGroup, type ReshapeEnv, type ScaleOptions, type ScaleResult, type SwapOptions } from './reshape.js';

export type { AnyStage, PipelineOptions };
export type { Pipeline };

/**
 * Creates a pipeline: a source, stages running as XState actors with bounded mailboxes and credit
 * between them, and a sink. Options are checked here; nothing runs until `start()`.
 *
 * @example
 * const sink = toArray();
 * const pipeline = createPipeline({ name: 'orders', source: fromIterable(orders), stages: [parse, enrich], sink });
 * await pipeline.start();
 * await pipeline.done;
 */
export function createPipeline<TIn>(options: PipelineOptions<TIn>): Pipeline {
  return new PipelineRun(options as PipelineOptions<unknown>);
}

class PipelineRun implements Pipeline {
  readonly name: string;
  readonly runId = newId();
  readonly done: Promise<PipelineStats>;
  private state: PipelineStatus = 'created';
  private readonly mode: PipelineMode;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly source: Source<unknown>;
  private readonly onError: ((error: SteadfastError) => void) | undefined;
  private readonly stopTimeoutMs: number;
  private readonly cells: NodeCell[];
  private readonly wiring: Wiring;
  private readonly byName = new Map<string, NodeCell>();
  private readonly pump: SourcePump;
  private readonly flow: FlowCounter = { buffered: 0, peak: 0 };
  /** The breakers of this pipeline's stages, by name (`<pipeline>.<node>`). */
  readonly breakers = new BreakerRegistry();
  private readonly observers = new Observers();
  private readonly inspection = new Inspection();
  private readonly checkpoints: CheckpointCoordinator | undefined;
  /** The journal of a push source under checkpoints. */
  private readonly journal: StorePushJournal | undefined;
  private readonly letters: DeadLetterBox;
  private readonly supervisor: Supervisor;
  private readonly onEscalate: ((escalation: Escalation) => void) | undefined;
  private finishing = false;
  /** Resolved when a stop timed out: the end no longer waits for closes that hang. */
  private readonly abandoned = deferred();
  /** Reshapes (scale, swap) run one after another. */
  private reshapes: Promise<void> = Promise.resolve();
  /** Exit code of the process after an escalation (`supervision.exitOnEscalate`), if asked. */
  private readonly exitCode: number | undefined;
  private escalation: Escalation | undefined;
  private errorCount = 0;
  private completed = 0;
  private pumpFinished = false;
  private failure: SteadfastError | undefined;
  private startedAt: number | null = null;
  private endedAt: number | null = null;
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private settle!: { resolve: (stats: PipelineStats) => void; reject: (error: unknown) => void };

  constructor(options: PipelineOptions<unknown>) {
    const resolved = resolvePipelineOptions(options, this.runId);
    this.name = resolved.name;
    this.source = resolved.source;
    this.mode = resolved.mode;
    this.onError = resolved.onError;
    this.stopTimeoutMs = resolved.stopTimeoutMs;
    this.clock = resolved.clock;
    this.log = resolved.log;
    if (resolved.inspect !== undefined) this.inspection.add(resolved.inspect);

    this.done = new Promise<PipelineStats>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    // `done` may be ignored by a program that only awaits stop(): never an unhandled rejection.
    this.done.catch(() => {});

    const preset = MODES[this.mode];
    this.pump = new SourcePump(this.source, sourceBatch(resolved.graph, preset.maxBatch), this.clock);
    const ckpt = resolved.checkpoint;
    const store = ckpt === undefined ? createCheckpointStore({ kind: 'memory' }) : (ckpt.store ?? createCheckpointStore({ dir: ckpt.dir as string, codec: ckpt.codec }));
    if (ckpt !== undefined) {
      this.checkpoints = new CheckpointCoordinator(ckpt, store, {
        pipeline: this.name,
        log: this.log,
        clock: this.clock,
        nodes: () => this.cells,
        events: () => this.pump.events,
        nudge: () => this.pump.nudge(),
        emit: (event) => {
          if (event.type === 'steadfast.checkpoint.completed') {
            void this.letters.checkpointCompleted(event.version);
            void this.journal?.prune(event.offset);
          }
          if (this.observers.size > 0) this.observers.emit(event);
        },
      });
      this.pump.barriers = this.checkpoints;
      // A push source cannot replay by itself: under checkpoints it is journalled in the store.
      if (isJournallable(this.source)) {
        const coordinator = this.checkpoints;
        this.journal = new StorePushJournal(store, this.name, ckpt.sync === 'always', {
          log: this.log,
          corrupt: (key, reason) => coordinator.reportCorrupt({ key, reason }),
        });
        this.source[ATTACH_JOURNAL](this.journal);
      }
    }
    this.letters = new DeadLetterBox(store, this.name, this.log, this.clock, ckpt !== undefined, (error) => this.report(error));
    const hooks: CellHooks = {
      clock: this.clock,
      flow: this.flow,
      observers: this.observers,
      log: this.log,
      report: (error, log) => this.report(error, log),
      onComplete: (cell) => this.cellCompleted(cell),
      inspection: this.inspection,
      ...(this.checkpoints === undefined ? {} : { barriers: this.checkpoints }),
    };
    this.wiring = wireGraph(resolved.graph, preset, hooks, this.pump, (error) => this.report(error), {
      pipeline: this.name,
      clock: this.clock,
      log: this.log,
      breakers: this.breakers,
      report: (error) => this.report(error),
    });
    this.cells = [...this.wiring.cells];
    for (const cell of this.cells) this.byName.set(cell.name, cell);
    const { exitOnEscalate, ...supervision } = resolved.supervision;
    this.onEscalate = supervision.onEscalate;
    this.exitCode = exitOnEscalate === true ? 1 : exitOnEscalate === false ? undefined : exitOnEscalate;
    // Stages are transient children: one that finishes (end of input) is not restarted, one that crashes is.
    this.supervisor = createSupervisor({
      ...supervision,
      name: this.name,
      logger: this.log,
      clock: this.clock,
      onEscalate: (escalation) => this.escalated(escalation),
      children: this.cells.map(stageChild),
      inspect: this.inspection.emit,
    });
    forwardSupervision(this.supervisor, this.breakers, this.observers);
  }

  get status(): PipelineStatus {
    return this.state;
  }

  // Lifecycle.

  start(options?: StartOptions): Promise<void> {
    if (this.state !== 'created') {
      return Promise.reject(
        new SteadfastError('PIPELINE_STATE_INVALID', `pipeline "${this.name}" is ${this.state}; start() runs a created pipeline once`),
      );
    }
    try {
      startFrom(options, this.checkpoints?.store, this.name); // `from`: the restore takes that checkpoint
    } catch (error) {
      return Promise.reject(error);
    }
    this.starting = this.startup();
    return this.starting;
  }

  async run(): Promise<PipelineStats> {
    await this.start();
    return this.done;
  }

  private async startup(): Promise<void> {
    this.state = 'starting';
    this.startedAt = this.clock.now();
    let failed: SteadfastError | undefined;
    let restored = false;
    try {
      // The newest complete checkpoint puts every stage back where it was, and says where the source resumes.
      const offset = this.checkpoints === undefined ? -1 : await this.checkpoints.restore();
      restored = true;
      // The supervisor starts every stage and sink in order; each resolves once it opened.
      await this.supervisor.start();
      this.pump.startOffset = offset;
      await this.pump.open(offset + 1, (error) => this.report(error));
      if (this.checkpoints !== undefined) await this.replayMarked();
    } catch (error) {
      failed = startError(error);
    }
    if (failed !== undefined) {
      this.failure = failed;
      this.state = 'stopping';
      this.pumpFinished = true;
      if (restored) await this.supervisor.stop(); // closes what opened
      for (const cell of this.cells) cell.kill();
      await this.done.catch(() => {});
      throw failed;
    }
    this.checkpoints?.start();
    this.state = 'running';
    this.log.info({ stages: this.cells.map((c) => c.name), source: this.source.name, mode: this.mode }, 'pipeline started');
    void this.pump.run(() => this.sourceFinished());
  }

  /** Dead letters marked with `steadfast dlq replay` go back into their stages, ahead of the source. */
  private async replayMarked(): Promise<void> {
    try {
      const marked = await this.letters.marked();
      if (marked.length > 0) {
        const n = await this.letters.replay((stage, event, offset) => this.inject(stage, event, offset), marked, () => this.checkpoints?.latestVersion ?? 0);
        this.log.info({ replayed: n }, `replayed ${n} dead letters marked for replay`);
      }
    } catch (error) {
      this.log.error({ err: error }, `marked dead letters not replayed: ${messageOf(error)}`);
    }
  }

  /**
   * Puts a replayed dead letter into the mailbox of the stage instance it failed in, once there is
   * room (a replay respects the mailbox like any producer). Marked as a replay, it waits for the
   * stage's breaker to let calls through rather than going straight back to the dead letters.
   */
  private async inject(stage: string, event: unknown, offset: number): Promise<boolean> {
    const cell = this.byName.get(stage);
    const open = () => cell !== undefined && cell.kind === 'stage' && (this.state === 'running' || this.state === 'starting') && cell.inputsEnded < cell.inputs;
    if (!open()) return false;
    const target = cell as NodeCell;
    await target.whenRoom();
    if (!open()) return false;
    target.enqueue([target.guards()?.breaker === undefined ? event : new ReplayedLetter(event)], [offset]);
    return true;
  }

  /** The supervisor gave up (restart intensity or flapping): the run fails, the stages are stopped. */
  private escalated(escalation: Escalation): void {
    if (this.state === 'starting') return; // startup() reports a failed start itself
    const error = escalationError(escalation, this.name);
    this.failure ??= error;
    this.escalation = escalation;
    const left = this.cells.filter((cell) => cell.depth() > 0).map((cell) => `${cell.name}: ${cell.depth()}`);
    this.log.error({ err: error, abandoned: left }, `supervisor gave up; stopping the pipeline${left.length > 0 ? ` (abandoned events: ${left.join(', ')})` : ''}`);
    if (this.onEscalate !== undefined) {
      try {
        this.onEscalate(escalation);
      } catch (hookError) {
        this.log.error({ err: hookError }, `onEscalate threw: ${messageOf(hookError)}`);
      }
    }
    this.state = 'stopping';
    this.pump.stop();
    for (const cell of this.cells) cell.kill();
  }

  stop(options: { timeoutMs?: number } = {}): Promise<void> {
    let timeoutMs: number;
    try {
      timeoutMs = options.timeoutMs === undefined ? this.stopTimeoutMs : integerIn('stop.timeoutMs', options.timeoutMs, 1);
    } catch (error) {
      return Promise.reject(error);
    }
    this.stopping ??= this.shutdown(timeoutMs);
    return this.stopping;
  }

  private async shutdown(timeoutMs: number): Promise<void> {
    if (this.state === 'created') {
      this.state = 'stopped';
      this.endedAt = this.clock.now();
      this.settle.resolve(this.stats());
      return;
    }
    if (this.starting !== undefined) await this.starting.catch(() => {});
    if (this.state === 'stopped' || this.state === 'failed') return;
    this.state = 'stopping';
    this.pump.stop();
    // Part of the budget is kept for stopping at once if draining takes all the rest.
    const killReserve = Math.min(1_000, Math.floor(timeoutMs / 10));
    const drained = await raceDeadline(
      this.done.catch(() => undefined),
      timeoutMs - killReserve,
      this.clock,
    );
    if (drained.done) return;
    const left = this.cells.filter((cell) => cell.depth() > 0).map((cell) => `${cell.name}: ${cell.depth()}`);
    const error = new SteadfastError(
      'STOP_TIMEOUT',
      `pipeline "${this.name}" did not drain within ${timeoutMs} ms; abandoned events (${left.join(', ') || 'none queued'})`,
    );
    this.failure ??= error;
    this.log.error({ err: error }, 'stop timed out; stopping stages at once');
    // Nothing may hold the end back now: checkpoints in flight are abandoned, stages killed.
    this.abandoned.resolve();
    this.checkpoints?.abandonAll('the stop timed out');
    for (const cell of this.cells) cell.kill();
    if (!this.pumpFinished) this.finish();
    // The kills and closes take moments; what hangs (a write that never returns) is left behind.
    await raceDeadline(this.done.catch(() => undefined), killReserve, this.clock);
    throw error;
  }

  private sourceFinished(): void {
    this.pumpFinished = true;
    if (this.pump.failure !== undefined) {
      this.failure ??= this.pump.failure;
      this.log.error({ err: this.pump.failure }, 'source failed; draining what was read');
    }
    for (const cell of this.cells) {
      if (cell.producers.includes(this.pump)) {
        for (let i = 0; i < cell.producers.length; i++) if (cell.producers[i] === this.pump) cell.inputEnded();
      }
    }
    this.maybeFinish();
  }

  private cellCompleted(cell: NodeCell): void {
    this.completed++;
    if (cell.failure !== undefined) this.failure ??= cell.failure;
    if (cell.failure?.code === 'STAGE_CRASHED') {
      // A crashed actor cannot take input any more; upstream would block on it for ever.
      this.log.fatal({ err: cell.failure }, 'stage actor crashed; stopping the pipeline');
      this.pump.stop();
      for (const other of this.cells) if (other !== cell) other.kill();
    }
    for (const target of cell.outlet.inlets) (target as NodeCell).inputEnded();
    for (const target of cell.fallbackTargets) target.inputEnded();
    this.maybeFinish();
  }

  private maybeFinish(): void {
    if (this.completed === this.cells.length && this.pumpFinished) this.finish();
  }

  private finish(): void {
    if (this.finishing) return;
    this.finishing = true;
    // Every stage is done: stop the (now empty) supervisor, wait for closes after kills, then settle `done`.
    // After a stop timed out, what still hangs (a sink's close, a write that never returns) is left to finish on its own.
    const unlessAbandoned = (work: Promise<unknown>) => Promise.race([work, this.abandoned.promise]);
    void unlessAbandoned(Promise.all([this.supervisor.stop(), ...this.cells.map((cell) => cell.closed())])).then(async () => {
      for (const breaker of this.breakers.list()) breaker.dispose();
      await unlessAbandoned(this.closeCheckpoints());
      this.endedAt = this.clock.now();
      this.state = this.failure === undefined ? 'stopped' : 'failed';
      const stats = this.stats();
      this.log.info({ events: stats.source.events, errors: stats.errors, restarts: stats.supervision.restarts, status: this.state }, 'pipeline finished');
      if (this.failure === undefined) this.settle.resolve(stats);
      else this.settle.reject(this.failure);
      if (this.escalation !== undefined && this.exitCode !== undefined) {
        // Asked for by the program: the sinks are closed and flushed, the logs written (pino is synchronous).
        this.log.fatal({ exitCode: this.exitCode }, 'exiting the process after the supervisor gave up');
        process.exit(this.exitCode);
      }
    });
  }

  /**
   * The final checkpoint completes (unless the run failed), dead letters are stored, then the store
   * closes. A final checkpoint that failed fails the run: its state is not saved.
   */
  private async closeCheckpoints(): Promise<void> {
    try {
      if (this.failure === undefined && this.checkpoints !== undefined) {
        await this.checkpoints.settled();
        const failed = this.checkpoints.finalError;
        if (failed !== undefined) {
          const error = failed instanceof CheckpointStoreError ? new CheckpointStoreError(failed.code as CheckpointStoreErrorCode, failed.location, `final checkpoint failed: ${failed.message}`, failed) : failed;
          this.failure ??= error;
        }
      }
      await this.letters.flushed();
      // Without checkpoints the letters live in memory and stay readable after the run: nothing to release.
      await this.checkpoints?.close();
    } catch (error) {
      this.log.error({ err: error }, `closing the checkpoint store failed: ${messageOf(error)}`);
    }
  }

  checkpoint(): Promise<CompletedCheckpoint> {
    if (this.checkpoints === undefined) {
      return Promise.reject(new SteadfastError('PIPELINE_STATE_INVALID', `pipeline "${this.name}" has no \`checkpoint\` option`));
    }
    if (this.state !== 'running') {
      return Promise.reject(new SteadfastError('PIPELINE_STATE_INVALID', `pipeline "${this.name}" is ${this.state}; checkpoint() needs it running`));
    }
    return this.checkpoints.request();
  }

  deadLetters(): Promise<StoredDeadLetter[]> {
    const store = this.checkpoints?.store;
    if (store === undefined || store.isOpen || store.kind !== 'level' || (this.state !== 'stopped' && this.state !== 'failed')) return this.letters.list();
    // The run closed its store: read the letters from the directory again, read-only.
    return readDeadLetters(store.location, this.name, this.log, this.clock);
  }

  async replay(letters?: ReadonlyArray<StoredDeadLetter | string>): Promise<number> {
    if (this.state !== 'running') throw new SteadfastError('PIPELINE_STATE_INVALID', `pipeline "${this.name}" is ${this.state}; replay() needs it running`);
    return this.letters.replay((stage, event, offset) => this.inject(stage, event, offset), letters, () => this.checkpoints?.latestVersion ?? 0);
  }

  // Events in and out.

  push(event: unknown): Promise<void> {
    const push = (this.source as { push?: unknown }).push;
    if (typeof push !== 'function') {
      return Promise.reject(
        new SteadfastError('PUSH_UNSUPPORTED', `pipeline "${this.name}" reads ${this.source.name}; push() needs a pushSource()`),
      );
    }
    return (push as (value: unknown) => Promise<void>).call(this.source, event);
  }

  /** A failure that does not stop the pipeline: counted, then to `onError`, or logged without one. */
  private report(error: SteadfastError, log: Logger = this.log): void {
    this.errorCount++;
    if (error.code === 'DEAD_LETTER') this.letters.record(error as StageCallError);
    if (this.onError === undefined) {
      log.error({ err: error }, error.message);
      return;
    }
    const hookFailed = (hookError: unknown) => log.error({ err: hookError, reported: error.message }, `onError threw: ${messageOf(hookError)}`);
    try {
      const returned: unknown = this.onError(error);
      // An async hook that rejects must not become an unhandled rejection of the host process.
      if (returned instanceof Promise) returned.catch(hookFailed);
    } catch (hookError) {
      hookFailed(hookError);
    }
  }

  // Inspection.

  // Reshaping while running.

  async scale(node: string | AnyStage, replicas: number, options: ScaleOptions = {}): Promise<ScaleResult> {
    const group = this.stageGroup('scale', node);
    const count = integerIn('scale(replicas)', replicas, 1, 1024);
    if ((group.cells[0]?.inputsEnded ?? 0) > 0) {
      throw new SteadfastError('PIPELINE_STATE_INVALID', `stage "${group.node.name}" has started to finish its input; it cannot be scaled any more`);
    }
    return this.reshaping(() => {
      // Checked again when its turn comes: the input may have started to end meanwhile.
      if ((group.cells[0]?.inputsEnded ?? 0) > 0) {
        throw new SteadfastError('PIPELINE_STATE_INVALID', `stage "${group.node.name}" has started to finish its input; it cannot be scaled any more`);
      }
      return scaleGroup(this.reshapeEnv(), group, count, options);
    });
  }

  async swap(node: string | AnyStage, stage: AnyStage, options: SwapOptions = {}): Promise<void> {
    const group = this.stageGroup('swap', node);
    if (!isStage(stage)) throw new ConfigError('swap(stage)', stage, 'must be a stage made by defineStage()');
    return this.reshaping(() => swapGroup(this.reshapeEnv(), group, stage, options));
  }

  /** One reshape at a time, and only while running. */
  private reshaping<T>(work: () => Promise<T>): Promise<T> {
    if (this.state !== 'running') {
      return Promise.reject(new SteadfastError('PIPELINE_STATE_INVALID', `pipeline "${this.name}" is ${this.state}; it can be reshaped while running only`));
    }
    const checkpoints = this.checkpoints;
    // From now until it is done, the source neither reads nor ends: the input of the nodes it
    // changes cannot end before its turn, and the final checkpoint cannot start in its middle.
    const release = this.pump.hold();
    // A reshape changes the nodes a checkpoint waits for: none may be in flight meanwhile.
    const turn = async (): Promise<T> => {
      if (this.state !== 'running') throw new SteadfastError('PIPELINE_STATE_INVALID', `pipeline "${this.name}" is ${this.state}; it can be reshaped while running only`);
      return work();
    };
    const run = this.reshapes.then(() => (checkpoints === undefined ? turn() : checkpoints.without(turn))).finally(release);
    this.reshapes = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private stageGroup(method: string, node: string | AnyStage): Group {
    const name = typeof node === 'string' ? node : isStage(node) ? node.name : undefined;
    const group = name === undefined ? undefined : this.wiring.groups.get(name);
    if (group === undefined || group.node.kind !== 'stage') {
      const stages = [...this.wiring.groups.values()].filter((g) => g.node.kind === 'stage').map((g) => g.node.name);
      throw new ConfigError(`${method}(node)`, name ?? node, `must name a stage node (${stages.join(', ')})`);
    }
    return group;
  }

  private reshapeEnv(): ReshapeEnv {
    return { wiring: this.wiring, cells: this.cells, byName: this.byName, supervisor: this.supervisor, log: this.log, clock: this.clock };
  }

  stageState<TState = unknown>(nameOrStage: string | Stage<never, unknown, TState>): TState {
    const name = typeof nameOrStage === 'string' ? nameOrStage : nameOrStage.name;
    const cell = this.byName.get(name);
    if (cell === undefined) throw new ConfigError('stageState(name)', name, `must name a stage instance (${[...this.byName.keys()].join(', ')})`);
    return cell.stageState() as TState;
  }

  observe(listener: PipelineObserver): () => void {
    return this.observers.add(listener);
  }

  inspect(listener: InspectionListener): () => void {
    return this.inspection.add(listener);
  }

  stats(): PipelineStats {
    const end = this.endedAt ?? this.clock.now();
    const uptimeMs = this.startedAt === null ? 0 : Math.max(0, end - this.startedAt);
    const stages: Record<string, StageStats> = {};
    let capacity = 0;
    for (const cell of this.cells) {
      capacity += cell.capacity;
      stages[cell.name] = stageStats(cell);
      if (this.checkpoints !== undefined && cell.kind === 'stage') stages[cell.name]!.checkpoint = this.checkpoints.stageCheckpoint(cell.name);
    }
    return {
      pipeline: this.name,
      runId: this.runId,
      status: this.state,
      mode: this.mode,
      startedAt: this.startedAt,
      uptimeMs,
      source: {
        name: this.source.name,
        status: this.pump.status,
        events: this.pump.events,
        lastOffset: this.pump.lastOffset ?? null,
        errors: this.pump.errors,
      },
      stages,
      buffered: { now: this.flow.buffered, peak: this.flow.peak, capacity },
      errors: this.errorCount,
      deadLetters: this.letters.counts(),
      eventsPerSecond: uptimeMs > 0 ? (this.pump.events * 1000) / uptimeMs : 0,
      supervision: this.supervisor.stats(),
      ...(this.checkpoints === undefined ? {} : { checkpoint: this.checkpoints.stats() }),
    };
  }
}


