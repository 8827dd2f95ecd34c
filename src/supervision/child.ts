import type { Logger } from 'pino';
import type { ExitKind, RestartType } from '../../supervisors/restart-decision.js';
import { ConfigError } from '../core/errors.js';
import { fn, integerIn, knownKeys, oneOf, record } from '../core/validate.js';

/** A running child as its supervisor sees it: something it can stop politely, or kill. */
export interface Child {
  /** Stops the child; resolves once it has stopped. The supervisor kills it if this takes longer than the shutdown budget. */
  stop(): void | Promise<void>;
  /** Stops the child at once (shutdown budget exceeded, or `shutdown: 'brutal'`). */
  kill(): void;
  /** What the child looks like in `tree()`: a nested supervisor describes its own children. */
  describe?(): ChildDescription;
}

/** A node of `supervisor.tree()`. */
export interface ChildDescription {
  id: string;
  type: 'worker' | 'supervisor';
  /** The child's own state (a stage machine state, a supervisor state), or its status in the supervisor. */
  state: string;
  restarts: number;
  children?: ChildDescription[];
}

/** What a child's `start` gets: its id, the arguments of a dynamic start, and how to report that it exited. */
export interface ChildStartContext<TArgs = unknown> {
  id: string;
  args: TArgs | undefined;
  /** The child stopped on its own (`'normal'`), was shut down (`'shutdown'`), or crashed (`'error'`, with the error). */
  exited(exit: ExitKind, error?: unknown): void;
  log: Logger;
}

/** How to start a child and what to do when it exits (Erlang/OTP child spec). */
export interface ChildSpec<TArgs = unknown> {
  /** Unique among the supervisor's children; with `simple_one_for_one`, the prefix of each instance's id. */
  id: string;
  /** Starts the child; a throw or rejection is a failed start. */
  start(ctx: ChildStartContext<TArgs>): Child | Promise<Child>;
  /** `permanent` (default): always restarted; `transient`: only after an error; `temporary`: never. */
  restart?: RestartType;
  /** Milliseconds a polite stop may take before the child is killed (default 5000), or `'brutal'`: killed at once. */
  shutdown?: number | 'brutal';
  type?: 'worker' | 'supervisor';
}

/** A child spec with its defaults filled in. */
export type ResolvedChildSpec<TArgs = unknown> = Required<ChildSpec<TArgs>>;

const KNOWN = ['id', 'start', 'restart', 'shutdown', 'type'] as const;

/** Checks a child spec; a mistake is a CONFIG_INVALID naming the field and the value. */
export function childSpec<TArgs>(field: string, value: unknown): ResolvedChildSpec<TArgs> {
  const spec = record(field, value);
  knownKeys(field, spec, KNOWN);
  const id = childId(`${field}.id`, spec.id);
  const start = fn<ResolvedChildSpec<TArgs>['start']>(`${field}.start`, spec.start);
  const restart = spec.restart === undefined ? 'permanent' : oneOf(`${field}.restart`, spec.restart, ['permanent', 'transient', 'temporary'] as const);
  let shutdown: number | 'brutal' = 5_000;
  if (spec.shutdown === 'brutal') shutdown = 'brutal';
  else if (spec.shutdown !== undefined) {
    if (typeof spec.shutdown !== 'number') throw new ConfigError(`${field}.shutdown`, spec.shutdown, "must be milliseconds or 'brutal'");
    shutdown = integerIn(`${field}.shutdown`, spec.shutdown, 0);
  }
  const type = spec.type === undefined ? 'worker' : oneOf(`${field}.type`, spec.type, ['worker', 'supervisor'] as const);
  return { id, start, restart, shutdown, type };
}

const CHILD_ID = /^[^\s!]{1,256}$/;

/** A child id: 1-256 characters, no whitespace and no "!" (the separator of checkpoint keys). Replicas add `#i`. */
function childId(field: string, value: unknown): string {
  if (typeof value !== 'string' || !CHILD_ID.test(value)) throw new ConfigError(field, value, 'must be 1-256 characters without whitespace or "!"');
  return value;
}
