import type { Logger } from 'pino';
import { raceDeadline, type Clock } from '../core/clock.js';
import { ConfigError, SteadfastError, messageOf } from '../core/errors.js';
import { integerIn } from '../core/validate.js';
import { newId } from '../ids.js';
import type { Source } from '../sources/source.js';
import type { AnyStage, Stage } from '../stage.js';
import type { PipelineMode } from './modes.js';
import type { Pipeline, StartOptions } from './pipeline-api.js';
import { deferred, startError } from './run-helpers.js';
import type { NodeCell } from './node-cell.js';
import { resolvePipelineOptions, type PipelineOptions } from './options.js';
import type { FlowCounter } from './producer.js';
import type { SourcePump } from './source-pump.js';
import { Observers, forwardSupervision, type PipelineObserver } from './observer.js';
import { logCallsAtDebug } from './debug-call-log.js';
import { Inspection, type InspectionListener } from './inspection.js';
import type { CheckpointCoordinator } from '../checkpointing/coordinator.js';
import type { DeadLetterBox } from '../checkpoint/dead-letters.js';
import { startFrom } from '../checkpoint/restore-from.js';
import type { CompletedCheckpoint, StoredDeadLetter } from '../checkpoint/types.js';
import { BreakerRegistry } from '../resilience/breaker-registry.js';
import { pipelineStats, type PipelineStats, type PipelineStatus } from './stats.js';
import { RecentRates } from './recent-rates.js';
import type { Escalation } from '../../supervisors/supervisor.machine.js';
import { escalationError } from '../supervision/escalation-error.js';
import type { Supervisor } from '../supervision/supervisor.js';
import type { ScaleOptions, ScaleResult, SwapOptions } from './reshape.js';
import { Reshaper } from './reshaper.js';
import { assemble } from './assembly.js';
import type { ProcessHost } from './process-host.js';
import { RunEnd } from './run-end.js';
import { ErrorReports } from './error-reports.js';
import { RunLetters } from './run-letters.js';
import { startedAtOf, type RunLife } from './run-life.js';

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
export function createPipeline<TIn>(options: PipelineOptions<TIn>, host: ProcessHost = {}): Pipeline {
  return new PipelineRun(options as PipelineOptions<unknown>, host);
}

class PipelineRun implements Pipeline {
  readonly name: string;
  readonly runId = newId();
  readonly done: Promise<PipelineStats>;
  /** Where the run is, with what each phase holds. */
  private life: RunLife = { phase: 'created' };
  private readonly mode: PipelineMode;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly source: Source<unknown>;
  private readonly stopTimeoutMs: number;
  private readonly cells: NodeCell[];
  /** The sliding windows of the recent rates in `stats()`. */
  private readonly rates = new RecentRates();
  private readonly byName: Map<string, NodeCell>;
  private readonly pump: SourcePump;
  private readonly flow: FlowCounter = { buffered: 0, peak: 0 };
  /** The breakers of this pipeline's stages, by name (`<pipeline>.<node>`). */
  readonly breakers = new BreakerRegistry();
  private readonly observers = new Observers();
  private readonly inspection = new Inspection();
  private readonly checkpoints: CheckpointCoordinator | undefined;
  private readonly letters: DeadLetterBox;
  private readonly supervisor: Supervisor;
  private readonly onEscalate: ((escalation: Escalation) => void) | undefined;
  /** Resolved when a stop timed out: the end no longer waits for closes that hang. */
  private readonly abandoned = deferred();
  /** Scale and swap while running. */
  private readonly reshaper: Reshaper;
  /** Exit code of the process after an escalation (`supervision.exitOnEscalate`), if asked. */
  private readonly exitCode: number | undefined;
  private escalation: Escalation | undefined;
  /** Failures that do not stop the run: counted, then to `onError`. */
  private readonly errors: ErrorReports;
  private failure: SteadfastError | undefined;
  /** Dead letters: read and replayed. */
  private readonly runLetters: RunLetters;
  /** The run's drain to its end. */
  private readonly end: RunEnd;
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private settle!: { resolve: (stats: PipelineStats) => void; reject: (error: unknown) => void };

  constructor(
    options: PipelineOptions<unknown>,
    private readonly host: ProcessHost,
  ) {
    const resolved = resolvePipelineOptions(options, this.runId);
    this.name = resolved.name;
    this.source = resolved.source;
    this.mode = resolved.mode;
    this.stopTimeoutMs = resolved.stopTimeoutMs;
    this.clock = resolved.clock;
    this.log = resolved.log;
    if (resolved.inspect !== undefined) this.inspection.add(resolved.inspect);

    this.done = new Promise<PipelineStats>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    // `done` may be ignored by a program that only awaits stop(): never an unhandled rejection.
    this.done.catch(() => {});

    this.errors = new ErrorReports(this.log, resolved.onError);
    const parts = assemble(resolved, {
      flow: this.flow,
      observers: this.observers,
      inspection: this.inspection,
      breakers: this.breakers,
      report: (error, log) => this.errors.report(error, log),
      cellCompleted: (cell) => this.end.cellCompleted(cell),
      escalated: (escalation) => this.escalated(escalation),
    });
    this.pump = parts.pump;
    this.checkpoints = parts.checkpoints;
    this.letters = parts.letters;
    this.errors.letters = parts.letters;
    this.cells = parts.cells;
    this.byName = parts.byName;
    this.supervisor = parts.supervisor;
    const { exitOnEscalate, onEscalate } = resolved.supervision;
    this.onEscalate = onEscalate;
    this.exitCode = exitOnEscalate === true ? 1 : exitOnEscalate === false ? undefined : exitOnEscalate;
    if (this.exitCode !== undefined && host.exit === undefined) {
      throw new ConfigError('pipeline.supervision.exitOnEscalate', exitOnEscalate, "needs the process: create the pipeline through the package entry ('steadfast')");
    }
    const run = { ...parts, pipeline: this.name, log: this.log, clock: this.clock, state: () => this.state };
    this.reshaper = new Reshaper(run);
    this.runLetters = new RunLetters(run);
    this.end = new RunEnd({
      ...run,
      breakers: this.breakers,
      abandoned: this.abandoned.promise,
      failure: () => this.failure,
      fail: (error) => {
        this.failure ??= error;
      },
      ended: () => this.ended(),
    });
    forwardSupervision(this.supervisor, this.breakers, this.observers);
    logCallsAtDebug(this.observers, this.log);
  }

  get status(): PipelineStatus {
    return this.life.phase;
  }

  /** The run's state now (the lifecycle phase). */
  private get state(): PipelineStatus {
    return this.life.phase;
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
    const startedAt = this.clock.now();
    this.life = { phase: 'starting', startedAt };
    let failed: SteadfastError | undefined;
    let restored = false;
    try {
      // The newest complete checkpoint puts every stage back where it was, and says where the source resumes.
      const offset = this.checkpoints === undefined ? -1 : await this.checkpoints.restore();
      restored = true;
      // The supervisor starts every stage and sink in order; each resolves once it opened.
      await this.supervisor.start();
      this.pump.startOffset = offset;
      await this.pump.open(offset + 1, (error) => this.errors.report(error));
      if (this.checkpoints !== undefined) await this.runLetters.replayMarked();
    } catch (error) {
      failed = startError(error);
    }
    if (failed !== undefined) {
      this.failure = failed;
      this.life = { phase: 'stopping', startedAt };
      this.end.noSource();
      if (restored) await this.supervisor.stop(); // closes what opened
      for (const cell of this.cells) cell.kill();
      await this.done.catch(() => {});
      throw failed;
    }
    this.checkpoints?.start();
    this.life = { phase: 'running', startedAt };
    this.log.info({ stages: this.cells.map((c) => c.name), source: this.source.name, mode: this.mode }, 'pipeline started');
    void this.pump.run(() => this.end.sourceFinished());
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
    this.life = { phase: 'stopping', startedAt: startedAtOf(this.life) };
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
      this.life = { phase: 'stopped', startedAt: null, endedAt: this.clock.now() };
      this.settle.resolve(this.stats());
      return;
    }
    if (this.starting !== undefined) await this.starting.catch(() => {});
    if (this.state === 'stopped' || this.state === 'failed') return;
    this.life = { phase: 'stopping', startedAt: startedAtOf(this.life) };
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
    this.end.forceFinish();
    // The kills and closes take moments; what hangs (a write that never returns) is left behind.
    await raceDeadline(this.done.catch(() => undefined), killReserve, this.clock);
    throw error;
  }

  /** Everything is closed: the run ends, `done` settles. */
  private ended(): void {
    this.life = { phase: this.failure === undefined ? 'stopped' : 'failed', startedAt: startedAtOf(this.life), endedAt: this.clock.now() };
    const stats = this.stats();
    this.log.info({ events: stats.source.events, errors: stats.errors, restarts: stats.supervision.restarts, status: this.state }, 'pipeline finished');
    if (this.failure === undefined) this.settle.resolve(stats);
    else this.settle.reject(this.failure);
    if (this.escalation !== undefined && this.exitCode !== undefined) {
      // Asked for by the program: the sinks are closed and flushed, the logs written (pino is synchronous).
      this.log.fatal({ exitCode: this.exitCode }, 'exiting the process after the supervisor gave up');
      this.host.exit?.(this.exitCode);
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
    return this.runLetters.list();
  }

  replay(letters?: ReadonlyArray<StoredDeadLetter | string>): Promise<number> {
    return this.runLetters.replay(letters);
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

  // Reshaping while running.

  scale(node: string | AnyStage, replicas: number, options: ScaleOptions = {}): Promise<ScaleResult> {
    return this.reshaper.scale(node, replicas, options);
  }

  swap(node: string | AnyStage, stage: AnyStage, options: SwapOptions = {}): Promise<void> {
    return this.reshaper.swap(node, stage, options);
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
    return pipelineStats({
      pipeline: this.name,
      runId: this.runId,
      status: this.state,
      mode: this.mode,
      startedAt: startedAtOf(this.life),
      end: this.life.phase === 'stopped' || this.life.phase === 'failed' ? this.life.endedAt : this.clock.now(),
      source: { name: this.source.name, pump: this.pump },
      cells: this.cells,
      flow: this.flow,
      errors: this.errors.count,
      deadLetters: this.letters.counts(),
      supervision: this.supervisor.stats(),
      checkpoints: this.checkpoints,
      rates: this.rates,
    });
  }
}
