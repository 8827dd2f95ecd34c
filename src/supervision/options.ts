import type { Logger } from 'pino';
import type { InspectionEvent } from 'xstate';
import { DEFAULT_FLAP_OPTIONS, flapOptions, type FlapOptions } from '../../supervisors/flapping.js';
import type { Escalation } from '../../supervisors/supervisor.machine.js';
import type { Strategy } from '../../supervisors/strategies.js';
import { DEFAULT_BACKOFF, backoffOptions, type BackoffOptions } from '../core/backoff.js';
import { systemClock, type Clock } from '../core/clock.js';
import { ConfigError } from '../core/errors.js';
import { fn, integerIn, knownKeys, name as validName, oneOf, record } from '../core/validate.js';
import { createLogger } from '../logging/logger.js';
import { childSpec, type ChildSpec, type ResolvedChildSpec } from './child.js';

/** Options of `createSupervisor`. */
export interface SupervisorOptions {
  /** Used in logs and in `tree()`. */
  name: string;
  /** Which children restart with a failed one (default `one_for_one`). */
  strategy?: Strategy;
  /** More restarts than this within `withinMs` and the supervisor gives up (default 10). */
  maxRestarts?: number;
  /** The intensity window (default 60 000 ms). */
  withinMs?: number;
  /** Delay before a restart: `min(maxMs, minMs · factor^n)`, jittered; n resets after `resetAfterMs` up. */
  backoff?: Partial<BackoffOptions>;
  /** Flapping detection (ABAB, CYCLE, RUNAWAY); `escalate: true` gives up on a detection. */
  flapping?: Partial<FlapOptions> & { escalate?: boolean };
  /** The children, started in this order and stopped in reverse (not with `simple_one_for_one`). */
  children?: readonly ChildSpec[];
  /** With `simple_one_for_one`: the spec every `startChild(args)` instance is made from. */
  child?: ChildSpec;
  /** Called when this supervisor gives up and has no parent supervisor (the root). */
  onEscalate?: (escalation: Escalation) => void;
  logger?: Logger;
  /** Time (restart timestamps) and timers (restart backoff, shutdown budgets); tests give a `SimulatedClock` or use fake timers. */
  clock?: Pick<Clock, 'now' | 'setTimer'>;
  /** Random source of the backoff jitter, in [0, 1). */
  random?: () => number;
  /** Receives the XState inspection events of the supervisor's actor (`createActor(machine, { inspect })`). */
  inspect?: (event: InspectionEvent) => void;
}

/** Supervisor options with defaults filled in. */
export interface ResolvedSupervisorOptions {
  name: string;
  strategy: Strategy;
  maxRestarts: number;
  withinMs: number;
  backoff: BackoffOptions;
  flapping: FlapOptions & { escalate: boolean };
  children: ResolvedChildSpec[];
  template: ResolvedChildSpec | undefined;
  onEscalate: ((escalation: Escalation) => void) | undefined;
  logger: Logger;
  clock: Pick<Clock, 'now' | 'setTimer'>;
  random: () => number;
  inspect: ((event: InspectionEvent) => void) | undefined;
}

const KNOWN = ['name', 'strategy', 'maxRestarts', 'withinMs', 'backoff', 'flapping', 'children', 'child', 'onEscalate', 'logger', 'clock', 'random', 'inspect'] as const;
const STRATEGIES = ['one_for_one', 'one_for_all', 'rest_for_one', 'simple_one_for_one'] as const;

/** Checks supervisor options; a mistake is a CONFIG_INVALID naming the field and the value. */
export function resolveSupervisorOptions(options: unknown): ResolvedSupervisorOptions {
  const opts = record('supervisor options', options);
  knownKeys('supervisor', opts, KNOWN);
  const name = validName('supervisor.name', opts.name);
  const strategy = opts.strategy === undefined ? 'one_for_one' : oneOf('supervisor.strategy', opts.strategy, STRATEGIES);
  const maxRestarts = opts.maxRestarts === undefined ? 10 : integerIn('supervisor.maxRestarts', opts.maxRestarts, 0);
  const withinMs = opts.withinMs === undefined ? 60_000 : integerIn('supervisor.withinMs', opts.withinMs, 1);
  const backoff = opts.backoff === undefined ? { ...DEFAULT_BACKOFF } : backoffOptions('supervisor.backoff', opts.backoff);
  const flapping = resolveFlapping(opts.flapping);
  let children: ResolvedChildSpec[] = [];
  let template: ResolvedChildSpec | undefined;
  if (strategy === 'simple_one_for_one') {
    if (opts.children !== undefined) throw new ConfigError('supervisor.children', opts.children, "is not used with 'simple_one_for_one': give `child`, the template");
    template = childSpec('supervisor.child', opts.child);
  } else {
    if (opts.child !== undefined) throw new ConfigError('supervisor.child', opts.child, "is the template of 'simple_one_for_one' only: give `children`");
    if (opts.children !== undefined && !Array.isArray(opts.children)) throw new ConfigError('supervisor.children', opts.children, 'must be an array of child specs');
    children = ((opts.children as unknown[] | undefined) ?? []).map((spec, i) => childSpec(`supervisor.children[${i}]`, spec));
    const seen = new Set<string>();
    for (const [i, spec] of children.entries()) {
      if (seen.has(spec.id)) throw new ConfigError(`supervisor.children[${i}].id`, spec.id, 'must be unique among the children');
      seen.add(spec.id);
    }
  }
  const onEscalate = opts.onEscalate === undefined ? undefined : fn<(escalation: Escalation) => void>('supervisor.onEscalate', opts.onEscalate);
  const random = opts.random === undefined ? Math.random : fn<() => number>('supervisor.random', opts.random);
  const logger = (opts.logger as Logger | undefined) ?? createLogger('warn', { supervisor: name });
  const clock = (opts.clock as Pick<Clock, 'now' | 'setTimer'> | undefined) ?? systemClock;
  const inspect = opts.inspect === undefined ? undefined : fn<(event: InspectionEvent) => void>('supervisor.inspect', opts.inspect);
  return { name, strategy, maxRestarts, withinMs, backoff, flapping, children, template, onEscalate, logger, clock, random, inspect };
}

function resolveFlapping(value: unknown): FlapOptions & { escalate: boolean } {
  if (value === undefined) return { ...DEFAULT_FLAP_OPTIONS, escalate: false };
  const opts = record('supervisor.flapping', value);
  const { escalate, ...rest } = opts;
  if (escalate !== undefined && typeof escalate !== 'boolean') throw new ConfigError('supervisor.flapping.escalate', escalate, 'must be a boolean');
  return { ...flapOptions('supervisor.flapping', rest), escalate: escalate === true };
}
