import type { LevelWithSilent, Logger } from 'pino';
import type { InspectionEvent } from 'xstate';
import { systemClock, type Clock } from '../core/clock.js';
import { ConfigError, type SteadfastError } from '../core/errors.js';
import { fn, integerIn, knownKeys, name as validName, oneOf, record } from '../core/validate.js';
import { chooseLevel, createLogger, isLogLevel } from '../logging/logger.js';
import type { Sink } from '../sinks/sink.js';
import type { SinkFunction } from '../sinks/to-function.js';
import { isSource, type Source } from '../sources/source.js';
import type { AnyStage } from '../stage.js';
import { chainToGraph, compileGraph, toSink, type CompiledGraph, type GraphSpec } from './graph.js';
import { MODES, MODE_NAMES, defaultMode, type PipelineMode } from './modes.js';
import { resolveSupervisorOptions, type SupervisorOptions } from '../supervision/options.js';
import { resolveCheckpointOptions, type CheckpointOptions, type ResolvedCheckpointOptions } from '../checkpoint/options.js';

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
  /** Preset for batch size, mailbox size and log level (default: `STEADFAST_MODE` when it names a mode, else `standard`). */
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
  /**
   * The pipeline's supervisor, whose children are its stages (default: one_for_one, 10 restarts in
   * 60 s, backoff 100 ms → 30 s doubling with 20 % jitter, reset after 60 s up). `onEscalate` is
   * called when it gives up; the run then fails with RESTART_INTENSITY_EXCEEDED.
   */
  supervision?: PipelineSupervision;
  /**
   * Consistent checkpoints to a LevelDB directory (`dir`) or a store: `start()` restores the last
   * complete one and the source replays after its offset; a restarted stage resumes from its last
   * snapshot. See docs/checkpointing.md.
   */
  checkpoint?: CheckpointOptions;
  /**
   * Receives the XState inspection events of every actor of the pipeline (its stage actors and its
   * supervisor), as `createActor(machine, { inspect })` would; `pipeline.inspect()` adds listeners later.
   */
  inspect?: (event: InspectionEvent) => void;
}

/** Supervision options of a pipeline: a supervisor's options without its name and children. */
export type PipelineSupervision = Pick<SupervisorOptions, 'strategy' | 'maxRestarts' | 'withinMs' | 'backoff' | 'flapping' | 'onEscalate' | 'random'> & {
  /**
   * For long-running agents: when the supervisor gives up, exit the process once the pipeline has
   * stopped and its sinks are flushed, with this exit code (`true` = 1). Off by default.
   */
  exitOnEscalate?: boolean | number;
};

const KNOWN = ['name', 'source', 'stages', 'graph', 'sink', 'mode', 'logger', 'logLevel', 'onError', 'stopTimeoutMs', 'clock', 'supervision', 'checkpoint', 'inspect'] as const;
const SUPERVISION_KEYS = ['strategy', 'maxRestarts', 'withinMs', 'backoff', 'flapping', 'onEscalate', 'random', 'exitOnEscalate'] as const;

/** Options after validation, with defaults filled in and the graph compiled. */
export interface ResolvedPipelineOptions {
  name: string;
  source: Source<unknown>;
  mode: PipelineMode;
  graph: CompiledGraph;
  onError: ((error: SteadfastError) => void) | undefined;
  stopTimeoutMs: number;
  clock: Clock;
  log: Logger;
  supervision: PipelineSupervision;
  checkpoint: ResolvedCheckpointOptions | undefined;
  inspect: ((event: InspectionEvent) => void) | undefined;
}

/** Checks every option (a mistake is a CONFIG_INVALID naming the field) and compiles the graph. */
export function resolvePipelineOptions(options: unknown, runId: string): ResolvedPipelineOptions {
  const opts = record('pipeline options', options);
  knownKeys('pipeline', opts, KNOWN);
  const name = validName('pipeline.name', opts.name);
  if (!isSource(opts.source)) {
    throw new ConfigError('pipeline.source', opts.source, 'must be a source (fromIterable(), fromAsyncIterable(), pushSource(), fromNdjson())');
  }
  const mode = opts.mode === undefined ? defaultMode() : oneOf('pipeline.mode', opts.mode, MODE_NAMES);
  if (opts.logLevel !== undefined && !isLogLevel(opts.logLevel)) {
    throw new ConfigError('pipeline.logLevel', opts.logLevel, 'must be a pino level or "silent"');
  }
  const onError = opts.onError === undefined ? undefined : fn<(error: SteadfastError) => void>('pipeline.onError', opts.onError);
  const stopTimeoutMs = opts.stopTimeoutMs === undefined ? 30_000 : integerIn('pipeline.stopTimeoutMs', opts.stopTimeoutMs, 1);
  const clock = (opts.clock as Clock | undefined) ?? systemClock;
  if ((opts.stages === undefined) === (opts.graph === undefined)) {
    throw new ConfigError('pipeline.stages', opts.stages ?? opts.graph, 'exactly one of `stages` and `graph` must be given');
  }
  const spec = opts.stages !== undefined ? chainToGraph(opts.stages) : opts.graph;
  const sink = opts.sink === undefined ? undefined : toSink('pipeline.sink', opts.sink);
  const graph = compileGraph(spec, sink);
  const base = { pipeline: name, runId };
  const log = opts.logger !== undefined ? (opts.logger as Logger).child(base) : createLogger(chooseLevel(opts.logLevel as LevelWithSilent | undefined, MODES[mode].logLevel), base);
  let supervision: PipelineSupervision = {};
  if (opts.supervision !== undefined) {
    const given = record('pipeline.supervision', opts.supervision);
    knownKeys('pipeline.supervision', given, SUPERVISION_KEYS);
    if (given.strategy === 'simple_one_for_one') throw new ConfigError('pipeline.supervision.strategy', given.strategy, "must be 'one_for_one', 'one_for_all' or 'rest_for_one' for a pipeline's stages");
    const { exitOnEscalate, ...supervisorOnly } = given;
    if (exitOnEscalate !== undefined && typeof exitOnEscalate !== 'boolean') integerIn('pipeline.supervision.exitOnEscalate', exitOnEscalate, 1, 255);
    // Checked now, with the rules of any supervisor, so that a mistake fails createPipeline().
    resolveSupervisorOptions({ name, ...supervisorOnly, logger: log });
    supervision = given as PipelineSupervision;
  }
  const checkpoint = opts.checkpoint === undefined ? undefined : resolveCheckpointOptions(opts.checkpoint);
  if (checkpoint !== undefined) {
    const variant = graph.find((node) => node.kind === 'stage' && node.fallbackTo !== undefined);
    if (variant !== undefined) {
      // A variant's failed events re-enter its main stage outside the barriers' order: no exactly-once promise holds.
      throw new ConfigError('pipeline.checkpoint', opts.checkpoint, `cannot be combined with variants yet (node "${variant.name}" is a variant)`);
    }
  }
  const inspect = opts.inspect === undefined ? undefined : fn<(event: InspectionEvent) => void>('pipeline.inspect', opts.inspect);
  return { name, source: opts.source, mode, graph, onError, stopTimeoutMs, clock, log, supervision, checkpoint, inspect };
}
