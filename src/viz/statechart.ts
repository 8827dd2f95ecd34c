/** The kind of a state, as XState's `StateNode.type`. */
export type ChartStateKind = 'atomic' | 'compound' | 'parallel' | 'final' | 'history';

/** A state of a statechart, read from an XState `StateNode`. */
export interface ChartState {
  /** The XState id (unique in the machine): `stage.idle`. */
  id: string;
  /** Its key in the parent's `states`: `idle`. */
  key: string;
  kind: ChartStateKind;
  /** For a history state: shallow or deep. */
  history: 'shallow' | 'deep' | undefined;
  parent: ChartState | undefined;
  /** Child states in document order. */
  children: ChartState[];
  /** Ids of the states a compound state starts in. */
  initial: string[];
}

/** What makes a transition fire. */
export type ChartTrigger =
  | { kind: 'event'; event: string }
  | { kind: 'after'; delay: number | string }
  | { kind: 'always' }
  /** The state's own `onDone`: its final child (or every region's) was reached. */
  | { kind: 'done' }
  /** An invoked actor finished (`onDone`), failed (`onError`) or sent a snapshot (`onSnapshot`). */
  | { kind: 'invoke'; outcome: 'done' | 'error' | 'snapshot'; actor: string }
  /** The default target of a history state, taken when there is no history yet. */
  | { kind: 'history' };

/** A transition of a statechart: one candidate of one trigger of one state. */
export interface ChartTransition {
  source: string;
  /** Ids of the target states; empty for a targetless transition (actions only, no exit or entry). */
  targets: string[];
  trigger: ChartTrigger;
  guard: string | undefined;
  /** Unguarded, after a guarded candidate for the same trigger: taken when those guards all fail. */
  otherwise: boolean;
  actions: string[];
  /** The transition exits and enters its own state again (`reenter: true` onto itself or a descendant). */
  reenter: boolean;
}

/** A machine's states and transitions in a stable order (document order), ready to draw. */
export interface Statechart {
  id: string;
  root: ChartState;
  states: ReadonlyMap<string, ChartState>;
  transitions: ChartTransition[];
}

/**
 * Whether the machine's root is drawn as a state of its own (the box around the others): when it
 * has transitions of its own or is a target (`RESET` handled at the root, say), or is parallel.
 * Otherwise its states are drawn at the top level.
 */
export function drawsRoot(chart: Statechart): boolean {
  if (chart.root.kind === 'parallel') return true;
  return chart.transitions.some((transition) => transition.source === chart.root.id || transition.targets.includes(chart.root.id));
}

/** True when `state` is `ancestor` or below it. */
export function isWithin(state: ChartState, ancestor: ChartState): boolean {
  for (let at: ChartState | undefined = state; at !== undefined; at = at.parent) if (at === ancestor) return true;
  return false;
}

/** `state` and every state below it, in document order. */
export function statesBelow(state: ChartState): ChartState[] {
  return [state, ...state.children.flatMap(statesBelow)];
}
