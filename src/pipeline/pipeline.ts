import type { LevelWithSilent, Logger } from 'pino';
import { systemClock, type Clock } from '../core/clock.js';
import { ConfigError, SteadfastError, messageOf } from '../core/errors.js';
import { fn, integerIn, knownKeys, name as validName, oneOf, record } from '../core/validate.js';
import { newId } from '../ids.js';
import { chooseLevel, createLogger, isLogLevel } from '../logging/logger.js';
import type { Sink } from '../sinks/sink.js';
import type { SinkFunction } from '../sinks/to-function.js';
import { isSource, type Source } from '../sources/source.js';
import type { AnyStage, Stage } from '../stage.js';

export type { AnyStage };
import { SOURCE, chainToGraph, compileGraph, toSink, type CompiledGraph, type GraphSpec, type NodeDef } from './graph.js';
import { MODES, MODE_NAMES, type PipelineMode } from './modes.js';
import { NodeCell, type CellHooks } from './node-cell.js';
import { Outlet, type Route } from './outlet.js';
import type { FlowCounter } from './producer.js';
import { sinkRunner, stageRunner } from './run-call.js';
import { SourcePump } from './source-pump.js';
import type { PipelineStats, PipelineStatus, StageStats } from './stats.js';

/** Options of {@link createPipeline}. Give `stages` (a chain) or `graph`. */
export interface PipelineOptions<TIn = unknown> {
  /** Used in logs, metrics and checkpoint keys. */
  name: string;
  source: Source<TIn>;
  /** A chain: source → stages[0] → stages[1] → … → sink. */
  stages?: readonly AnyStage[];
  /** A DAG with fan-out, routing by predicate, replicas and fan-in; see {@link GraphSpec}. */
  graph?: GraphSpec;
  /** Receives the outputs of every node no other node reads; a sink or a function. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  sink?: Sink<any> | SinkFunction<any>;
  /** Preset for batch size, mailbox size and log level (default `standard`). */
  mode?: PipelineMode;
  /** Logger to use instead of the pipeline's own pino logger. */
  logger?: Logger;
  /** Level of the pipeline's own logger; without it `STEADFAST_LOG_LEVEL`, else the mode's level. */
  logLevel?: LevelWithSilent;
  /** Called with every failure that does not stop the pipeline (a stage call, a malformed line). */
  onError?: (error: SteadfastError) => void;
  /** How long `stop()` waits for in-flight events to drain before abandoning them (default 30 s). */
  stopTimeoutMs?: number;
  /** Time source, for tests. */
  clock?: Clock;
}

/** A running (or runnable) pipeline; create with {@link createPipeline}. */
export interface Pipeline {
  readonly name: string;
  /** Id of this run, in every log line. */
  readonly runId: string;
  readonly status: PipelineStatus;
  /**
   * Settles when the run ends: resolves with the final stats once a finite source is drained and
   * every output delivered (or after a graceful `stop()`); rejects if the source, a sink's open or
   * close, or the stop timeout failed it.
   */
  readonly done: Promise<PipelineStats>;
  /** Opens the stages and sinks, then the source, and starts the flow. Resolves once running. */
  start(): Promise<void>;
  /** `start()`, then `done`. */
  run(): Promise<PipelineStats>;
  /** Graceful stop: stop reading the source, drain in-flight events, close sinks. Idempotent. */
  stop(options?: { timeoutMs?: number }): Promise<void>;
  /** For a `pushSource()`: queues an event; resolves once the pipeline accepted it. */
  push(event: unknown): Promise<void>;
  /** Counters per stage and for the whole pipeline. */
  stats(): PipelineStats;
  /**
   * The state of a stage instance after its last successful call (`name` as in `stats().stages`).
   * The type parameter is the caller's claim about that state; it is not checked.
   */
  stageState<TState = unknown>(name: string): TState;
  /** The state of the node running `stage` (a chain node is named after its stage), typed by the stage. */
  stageState<TState>(stage: Stage<never, unknown, TState>): TState;
}

const KNOWN = ['name', 'source', 'stages', 'graph', 'sink', 'mode', 'logger', 'logLevel', 'onError', 'stopTimeoutMs', 'clock'] as const;

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
  private readonly cells: NodeCell[] = [];
  private readonly byName = new Map<string, NodeCell>();
  private readonly pump: SourcePump;
  private readonly flow: FlowCounter = { buffered: 0, peak: 0 };
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
    const opts = record('pipeline options', options);
    knownKeys('pipeline', opts, KNOWN);
    this.name = validName('pipeline.name', opts.name);
    if (!isSource(opts.source)) {
      throw new ConfigError('pipeline.source', opts.source, 'must be a source (fromIterable(), fromAsyncIterable(), pushSource(), fromNdjson())');
    }
    this.source = opts.source;
    this.mode = opts.mode === undefined ? 'standard' : oneOf('pipeline.mode', opts.mode, MODE_NAMES);
    const preset = MODES[this.mode];
    if (opts.logLevel !== undefined && !isLogLevel(opts.logLevel)) {
      throw new ConfigError('pipeline.logLevel', opts.logLevel, 'must be a pino level or "silent"');
    }
    this.onError = opts.onError === undefined ? undefined : fn<(error: SteadfastError) => void>('pipeline.onError', opts.onError);
    this.stopTimeoutMs = opts.stopTimeoutMs === undefined ? 30_000 : integerIn('pipeline.stopTimeoutMs', opts.stopTimeoutMs, 1);
    this.clock = (opts.clock as Clock | undefined) ?? systemClock;
    const base = { pipeline: this.name, runId: this.runId };
    this.log = opts.logger !== undefined ? (opts.logger as Logger).child(base) : createLogger(chooseLevel(opts.logLevel, preset.logLevel), base);

    if ((opts.stages === undefined) === (opts.graph === undefined)) {
      throw new ConfigError('pipeline.stages', opts.stages ?? opts.graph, 'exactly one of `stages` and `graph` must be given');
    }
    const spec = opts.stages !== undefined ? chainToGraph(opts.stages) : opts.graph;
    const sink = opts.sink === undefined ? undefined : toSink('pipeline.sink', opts.sink);
    const graph = compileGraph(spec, sink);

    this.done = new Promise<PipelineStats>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    // `done` may be ignored by a program that only awaits stop(): never an unhandled rejection.
    this.done.catch(() => {});

    this.pump = new SourcePump(this.source, sourceBatch(graph, preset.maxBatch), this.clock);
    this.build(graph);
  }

  get status(): PipelineStatus {
    return this.state;
  }

  // Construction: one cell per node instance, outlets wiring them.

  private build(graph: CompiledGraph): void {
    const preset = MODES[this.mode];
    const hooks: CellHooks = {
      clock: this.clock,
      flow: this.flow,
      log: this.log,
      report: (error, log) => this.report(error, log),
      onComplete: (cell) => this.cellCompleted(cell),
    };
    const groups = new Map<string, NodeCell[]>();
    for (const node of graph) {
      const cells: NodeCell[] = [];
      for (let r = 0; r < node.replicas; r++) {
        const cellName = node.replicas > 1 ? `${node.name}#${r}` : node.name;
        const capacity = (node.kind === 'stage' ? node.stage.mailbox : undefined) ?? preset.mailbox;
        const maxBatch = Math.min((node.kind === 'stage' ? node.stage.maxBatch : undefined) ?? preset.maxBatch, capacity);
        const targetBatchMs = (node.kind === 'stage' ? node.stage.targetBatchMs : undefined) ?? preset.targetBatchMs;
        const cell = new NodeCell(
          {
            name: cellName,
            group: node.name,
            replica: node.replicas > 1 ? r : undefined,
            kind: node.kind,
            capacity,
            maxBatch,
            targetBatchMs,
            ...lifecycle(node, cellName),
          },
          hooks,
        );
        cells.push(cell);
        this.cells.push(cell);
        this.byName.set(cellName, cell);
      }
      groups.set(node.name, cells);
    }
    const routesFrom = (producer: string): Route[] => {
      const routes: Route[] = [];
      for (const node of graph) {
        for (const input of node.inputs) {
          if (input.from !== producer) continue;
          routes.push({ inlets: groups.get(node.name) as NodeCell[], when: input.when, partition: node.partition });
        }
      }
      return routes;
    };
    const report = (error: SteadfastError) => this.report(error);
    for (const node of graph) {
      const outlet = new Outlet(node.name, routesFrom(node.name), report);
      for (const cell of groups.get(node.name) as NodeCell[]) {
        cell.outlet = outlet;
        for (const input of node.inputs) {
          if (input.from === SOURCE) {
            cell.producers.push(this.pump);
            cell.inputs++;
          } else {
            for (const producer of groups.get(input.from) as NodeCell[]) {
              cell.producers.push(producer);
              cell.inputs++;
            }
          }
        }
      }
    }
    this.pump.outlet = new Outlet(SOURCE, routesFrom(SOURCE), report);
  }

  // Lifecycle.

  start(): Promise<void> {
    if (this.state !== 'created') {
      return Promise.reject(
        new SteadfastError('PIPELINE_STATE_INVALID', `pipeline "${this.name}" is ${this.state}; start() runs a created pipeline once`),
      );
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
    for (const cell of this.cells) cell.start();
    await Promise.all(this.cells.map((cell) => cell.opened()));
    let failed = this.cells.find((cell) => cell.status() === 'failed')?.failure;
    if (failed === undefined) {
      try {
        await this.pump.open(0, (error) => this.report(error));
      } catch (error) {
        failed = error as SteadfastError;
      }
    }
    if (failed !== undefined) {
      this.failure = failed;
      this.state = 'stopping';
      this.pumpFinished = true;
      for (const cell of this.cells) cell.endNow();
      this.maybeFinish(); // every cell may have finished already (failed while opening)
      await this.done.catch(() => {});
      throw failed;
    }
    this.state = 'running';
    this.log.info({ stages: this.cells.map((c) => c.name), source: this.source.name, mode: this.mode }, 'pipeline started');
    void this.pump.run(() => this.sourceFinished());
  }

  stop(options: { timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = options.timeoutMs === undefined ? this.stopTimeoutMs : integerIn('stop.timeoutMs', options.timeoutMs, 1);
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
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.done.then(
        () => false,
        () => false,
      ),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (!timedOut) return;
    const left = this.cells.filter((cell) => cell.depth() > 0).map((cell) => `${cell.name}: ${cell.depth()}`);
    const error = new SteadfastError(
      'STOP_TIMEOUT',
      `pipeline "${this.name}" did not drain within ${timeoutMs} ms; abandoned events (${left.join(', ') || 'none queued'})`,
    );
    this.failure ??= error;
    this.log.error({ err: error }, 'stop timed out; stopping stages at once');
    for (const cell of this.cells) cell.kill();
    if (!this.pumpFinished) this.finish();
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
    this.maybeFinish();
  }

  private maybeFinish(): void {
    if (this.completed === this.cells.length && this.pumpFinished) this.finish();
  }

  private finish(): void {
    if (this.state === 'stopped' || this.state === 'failed') return;
    this.endedAt = this.clock.now();
    this.state = this.failure === undefined ? 'stopped' : 'failed';
    const stats = this.stats();
    this.log.info({ events: stats.source.events, errors: stats.errors, status: this.state }, 'pipeline finished');
    if (this.failure === undefined) this.settle.resolve(stats);
    else this.settle.reject(this.failure);
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

  stageState<TState = unknown>(nameOrStage: string | Stage<never, unknown, TState>): TState {
    const name = typeof nameOrStage === 'string' ? nameOrStage : nameOrStage.name;
    const cell = this.byName.get(name);
    if (cell === undefined) throw new ConfigError('stageState(name)', name, `must name a stage instance (${[...this.byName.keys()].join(', ')})`);
    return cell.stageState() as TState;
  }

  stats(): PipelineStats {
    const end = this.endedAt ?? this.clock.now();
    const uptimeMs = this.startedAt === null ? 0 : Math.max(0, end - this.startedAt);
    const stages: Record<string, StageStats> = {};
    let capacity = 0;
    for (const cell of this.cells) {
      const { calls, failedCalls } = cell.calls();
      const c = cell.counters;
      capacity += cell.capacity;
      stages[cell.name] = {
        name: cell.name,
        group: cell.group,
        replica: cell.replica,
        kind: cell.kind,
        status: cell.status(),
        eventsIn: c.eventsIn,
        eventsOut: c.eventsOut,
        failedEvents: c.failedEvents,
        calls,
        failedCalls,
        meanBatch: calls === 0 ? 0 : c.eventsIn / calls,
        unrouted: cell.outlet.unrouted,
        mailbox: { depth: cell.depth(), capacity: cell.capacity, peak: c.peakDepth },
        latency: { perEventMs: Number.isNaN(cell.perEventMs) ? null : cell.perEventMs, busyMs: c.busyMs },
      };
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
      eventsPerSecond: uptimeMs > 0 ? (this.pump.events * 1000) / uptimeMs : 0,
    };
  }
}

/** The source reads batches as large as the largest batch its first nodes take. */
function sourceBatch(graph: CompiledGraph, fallback: number): number {
  let size = 0;
  for (const node of graph) {
    if (!node.inputs.some((input) => input.from === SOURCE)) continue;
    size = Math.max(size, (node.kind === 'stage' ? node.stage.maxBatch : undefined) ?? fallback);
  }
  return size || fallback;
}

function lifecycle(node: NodeDef, cellName: string) {
  if (node.kind === 'sink') {
    const sink = node.sink;
    return {
      initialState: () => undefined,
      runner: sinkRunner(sink, cellName),
      open: () => sink.open?.(),
      close: () => sink.close?.(),
    };
  }
  return {
    initialState: () => node.stage.initialState(),
    runner: stageRunner(node.stage, cellName),
    open: () => undefined,
    close: () => undefined,
  };
}
