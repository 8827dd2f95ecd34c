import { SteadfastError, describeValue } from '../src/core/errors.js';
import { shouldRestart, type ExitKind, type RestartType } from './restart-decision.js';

/** Which children restart with a failed one (Erlang/OTP): itself only, all, or itself and those started after it; `simple_one_for_one` is `one_for_one` over dynamic instances. */
export type Strategy = 'one_for_one' | 'one_for_all' | 'rest_for_one' | 'simple_one_for_one';

/** Every strategy, in the order docs list them. */
export const STRATEGIES: readonly Strategy[] = Object.freeze(['one_for_one', 'one_for_all', 'rest_for_one', 'simple_one_for_one'] as const);

/** A child as a strategy sees it: its id (unique among its siblings) and its restart type. */
export interface ChildRef {
  id: string;
  restart: RestartType;
}

/** What a supervisor does after a child exits: stop `stop` (reverse start order), then start `start` (start order); `remove` leave for good. */
export interface RestartPlan {
  /** The other children to terminate, in reverse start order (never the failed one: it has already exited). */
  stop: string[];
  /** The children to (re)start, in start order. */
  start: string[];
  /** The children that leave the supervisor for good (not restarted), in start order. */
  remove: string[];
}

/** One strategy: the plan when `children[failed]` exited and is to be restarted. */
type Planner = (children: readonly ChildRef[], failed: number) => RestartPlan;

/** one_for_one: the failed child alone is restarted. */
const oneForOne: Planner = (children, failed) => ({ stop: [], start: [children[failed].id], remove: [] });

/** simple_one_for_one: every instance is independent, so this is one_for_one. */
const simpleOneForOne: Planner = oneForOne;

/** one_for_all: every other child is stopped, then all restarted. */
const oneForAll: Planner = (children, failed) => restartGroup(children, 0, failed);

/** rest_for_one: the children started after the failed one are stopped, then restarted with it. */
const restForOne: Planner = (children, failed) => restartGroup(children, failed, failed);

const PLANNERS: Readonly<Record<Strategy, Planner>> = {
  one_for_one: oneForOne,
  one_for_all: oneForAll,
  rest_for_one: restForOne,
  simple_one_for_one: simpleOneForOne,
};

/** Stops children[from..] except the failed one (reverse order) and restarts the group, minus temporary bystanders (removed: OTP never restarts a temporary child, even one its sibling took down). */
function restartGroup(children: readonly ChildRef[], from: number, failed: number): RestartPlan {
  const stop: string[] = [];
  const start: string[] = [];
  const remove: string[] = [];
  for (let i = from; i < children.length; i++) {
    const child = children[i];
    if (i !== failed) stop.push(child.id);
    if (i !== failed && child.restart === 'temporary') remove.push(child.id);
    else start.push(child.id);
  }
  stop.reverse();
  return { stop, start, remove };
}

/**
 * What to stop, start and remove when child `failedId` exited with `exit`, under `strategy`;
 * `children` are given in start order. A failed child that is not to be restarted
 * ({@link shouldRestart} false) is removed and nothing else is touched. Throws CHILD_UNKNOWN when
 * `failedId` is not among `children`.
 */
export function restartPlan(strategy: Strategy, children: readonly ChildRef[], failedId: string, exit: ExitKind): RestartPlan {
  const failed = children.findIndex((child) => child.id === failedId);
  if (failed === -1) {
    const known = children.length <= 10 ? children.map((c) => c.id).join(', ') : `${children.slice(0, 10).map((c) => c.id).join(', ')}, … (${children.length})`;
    throw new SteadfastError('CHILD_UNKNOWN', `child ${describeValue(failedId)} is not among the children (${known})`);
  }
  if (!shouldRestart(children[failed].restart, exit)) return { stop: [], start: [], remove: [failedId] };
  return PLANNERS[strategy](children, failed);
}
