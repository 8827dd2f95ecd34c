import { backoffDelay, nextAttempt, type BackoffOptions } from '../src/core/backoff.js';
import { recordRestart } from '../src/core/intensity.js';
import { detectFlapping, type FlapDetection, type FlapOptions } from './flapping.js';
import { shouldRestart, type ExitKind, type RestartType } from './restart-decision.js';
import { restartPlan, type ChildRef, type RestartPlan, type Strategy } from './strategies.js';

/** How a supervisor decides: its strategy, restart intensity, flapping detection and backoff. */
export interface DecisionSettings {
  strategy: Strategy;
  maxRestarts: number;
  withinMs: number;
  flapping: FlapOptions & { escalate: boolean };
  backoff: BackoffOptions;
}

/** What the supervisor remembers between exits: restart times in the intensity window, and the last failing children. */
export interface DecisionMemory {
  window: readonly number[];
  history: readonly string[];
}

/** A child's exit as the runtime reports it, with what a decision needs to know about it. */
export interface ExitFacts {
  id: string;
  exit: ExitKind;
  restart: RestartType;
  /** When it exited (ms, the supervisor's clock). */
  at: number;
  /** The children a strategy may touch, in start order (for one_for_one, the failed one alone). */
  children: readonly ChildRef[];
  /** The child's backoff attempt before this exit (-1: never restarted), and how long it was up. */
  attempt: number;
  upMs: number;
  /** A random number in [0, 1) for the backoff's jitter, drawn by the runtime (the decision stays pure). */
  draw: number;
}

/**
 * What a supervisor does about one exit (Erlang/OTP, with Akka's backoff): `remove` the child for
 * good (its restart type does not restart it after this exit), `escalate` (restart intensity
 * exceeded, or flapping set to escalate), or `restart` by `plan` after `delayMs`. `window` and
 * `history` are the memory after this exit; `flap` a flapping pattern this exit completed.
 */
export type ExitDecision =
  | { kind: 'remove' }
  | { kind: 'escalate'; reason: 'intensity' | 'flapping'; window: number[]; flap: FlapDetection | undefined }
  | { kind: 'restart'; plan: RestartPlan; delayMs: number; attempt: number; window: number[]; history: string[]; flap: FlapDetection | undefined };

/** The decision for one exit, computed once (the supervisor machine keeps it and its guards read it). Pure. */
export function decideExit(settings: DecisionSettings, memory: DecisionMemory, facts: ExitFacts): ExitDecision {
  if (!shouldRestart(facts.restart, facts.exit)) return { kind: 'remove' };
  const intensity = recordRestart(memory.window, facts.at, settings.maxRestarts, settings.withinMs);
  if (intensity.exceeded) return { kind: 'escalate', reason: 'intensity', window: intensity.window, flap: undefined };
  const history = [...memory.history, facts.id].slice(-settings.flapping.window);
  const flap = detectFlapping(history, settings.flapping);
  if (flap !== undefined && settings.flapping.escalate) return { kind: 'escalate', reason: 'flapping', window: intensity.window, flap };
  const attempt = nextAttempt(facts.attempt, facts.upMs, settings.backoff);
  const plan = restartPlan(settings.strategy, facts.children, facts.id, facts.exit);
  return { kind: 'restart', plan, delayMs: backoffDelay(attempt, settings.backoff, () => facts.draw), attempt, window: intensity.window, history, flap };
}
