import type { AnyStateMachine } from 'xstate';
import { actionText } from './action-text.js';
import { guardText } from './guard-text.js';
import type { ChartState, ChartStateKind, ChartTransition, ChartTrigger, Statechart } from './statechart.js';

/** The parts of an XState v5 `StateNode` read here (structural, so that another copy of xstate works too). */
interface NodeLike {
  id: string;
  key: string;
  type: ChartStateKind;
  history: false | 'shallow' | 'deep';
  order: number;
  parent?: NodeLike;
  states: Record<string, NodeLike>;
  config: { target?: unknown };
  initial?: { target?: readonly NodeLike[] };
  transitions: Map<string, TransitionLike[]>;
  always?: TransitionLike[];
  after: { eventType: string; delay: number | string }[];
  invoke: { id: string; src: unknown }[];
  machine: { getStateNodeById(id: string): NodeLike };
}

interface TransitionLike {
  target?: readonly NodeLike[];
  guard?: unknown;
  actions: readonly unknown[];
  reenter: boolean;
}

/** Reads the states and transitions of an XState v5 machine (`machine.root`); pure, no actor is started. */
export function readStatechart(machine: AnyStateMachine): Statechart {
  const root = machine.root as unknown as NodeLike;
  const states = new Map<string, ChartState>();
  const transitions: ChartTransition[] = [];
  const actors = actorNames(root);
  const state = readState(root, undefined, { states, transitions, actors });
  return { id: state.id, root: state, states, transitions };
}

interface Reading {
  states: Map<string, ChartState>;
  transitions: ChartTransition[];
  /** Every invoke id of the machine, by the name its actor is drawn with. */
  actors: Map<string, string>;
}

function readState(node: NodeLike, parent: ChartState | undefined, reading: Reading): ChartState {
  const state: ChartState = {
    id: node.id,
    key: node.key,
    kind: node.type,
    history: node.history === false ? undefined : node.history,
    parent,
    children: [],
    initial: node.type === 'compound' ? (node.initial?.target ?? []).map((target) => target.id) : [],
  };
  reading.states.set(state.id, state);
  reading.transitions.push(...transitionsOf(node, reading.actors));
  for (const child of childrenOf(node)) state.children.push(readState(child, state, reading));
  return state;
}

function childrenOf(node: NodeLike): NodeLike[] {
  return Object.values(node.states).sort((a, b) => a.order - b.order);
}

function actorNames(node: NodeLike, names = new Map<string, string>()): Map<string, string> {
  node.invoke.forEach((invoke, index) => names.set(invoke.id, actorName(node, invoke, index)));
  for (const child of childrenOf(node)) actorNames(child, names);
  return names;
}

function transitionsOf(node: NodeLike, actors: ReadonlyMap<string, string>): ChartTransition[] {
  const delays = new Map(node.after.map((delayed) => [delayed.eventType, delayed.delay]));
  const result: ChartTransition[] = [];
  for (const [eventType, candidates] of node.transitions) {
    result.push(...candidatesOf(node, triggerOf(node, eventType, delays, actors), candidates));
  }
  result.push(...candidatesOf(node, { kind: 'always' }, node.always ?? []));
  if (node.type === 'history') result.push(...historyDefault(node));
  return result;
}

const ACTOR_EVENT = /^xstate\.(done\.actor|error\.actor|snapshot)\.(.+)$/;
const OUTCOMES = { 'done.actor': 'done', 'error.actor': 'error', snapshot: 'snapshot' } as const;

/**
 * What an event type means: XState names delayed, done and actor events internally
 * (`xstate.after.openDelay.circuitBreaker.open`, `xstate.done.actor.0.stage.busy`); an actor's
 * events may be handled in a state below the one that invokes it.
 */
function triggerOf(node: NodeLike, eventType: string, delays: ReadonlyMap<string, number | string>, actors: ReadonlyMap<string, string>): ChartTrigger {
  const delay = delays.get(eventType);
  if (delay !== undefined) return { kind: 'after', delay };
  if (eventType === `xstate.done.state.${node.id}`) return { kind: 'done' };
  const actorEvent = ACTOR_EVENT.exec(eventType);
  if (actorEvent !== null) {
    const id = actorEvent[2] as string;
    return { kind: 'invoke', outcome: OUTCOMES[actorEvent[1] as keyof typeof OUTCOMES], actor: actors.get(id) ?? id };
  }
  return { kind: 'event', event: eventType };
}

/** A named actor (`src: 'open'`) by its name; inline logic by the invoke's own id, if it was given one. */
function actorName(node: NodeLike, invoke: { id: string; src: unknown }, index: number): string {
  if (typeof invoke.src === 'string' && !invoke.src.startsWith('xstate.invoke.')) return invoke.src;
  if (invoke.id !== `${index}.${node.id}`) return invoke.id;
  return node.invoke.length === 1 ? 'invoke' : `invoke ${index + 1}`;
}

function candidatesOf(node: NodeLike, trigger: ChartTrigger, candidates: readonly TransitionLike[]): ChartTransition[] {
  let guardedBefore = false;
  return candidates.map((candidate) => {
    const targets = (candidate.target ?? []).map((target) => target.id);
    const guard = guardText(candidate.guard);
    const transition: ChartTransition = {
      source: node.id,
      targets,
      trigger,
      guard,
      otherwise: guard === undefined && guardedBefore,
      actions: candidate.actions.map(actionText),
      reenter: candidate.reenter && (candidate.target ?? []).some((target) => isSelfOrDescendant(target, node)),
    };
    guardedBefore ||= guard !== undefined;
    return transition;
  });
}

function isSelfOrDescendant(node: NodeLike, ancestor: NodeLike): boolean {
  for (let at: NodeLike | undefined = node; at !== undefined; at = at.parent) if (at === ancestor) return true;
  return false;
}

/** A history state's `target` (its default) names a sibling, a path below the parent, or `#id`. */
function historyDefault(node: NodeLike): ChartTransition[] {
  const raw = node.config.target;
  const names = (Array.isArray(raw) ? raw : [raw]).filter((name): name is string => typeof name === 'string');
  const targets = names.map((name) => resolveTarget(node, name)).filter((id): id is string => id !== undefined);
  if (targets.length === 0) return [];
  return [{ source: node.id, targets, trigger: { kind: 'history' }, guard: undefined, otherwise: false, actions: [], reenter: false }];
}

function resolveTarget(node: NodeLike, name: string): string | undefined {
  try {
    if (name.startsWith('#')) return node.machine.getStateNodeById(name).id;
  } catch {
    return undefined; // XState itself reports a bad target when the history state is entered
  }
  let at: NodeLike | undefined = node.parent;
  for (const key of name.replace(/^\./, '').split('.')) at = at?.states[key];
  return at?.id;
}
