import type { AnyStateMachine } from 'xstate';

/** A transition a diagram must show, worked out from the machine's own config and XState's resolved targets. */
export interface ExpectedEdge {
  source: string;
  /** XState ids; the source itself for a targetless transition. */
  target: string;
  /** How its label must start: the event, `after 5000ms`, `after openDelay`, `always`, `open done`, `done`. */
  trigger: string;
  /** `[guard]` when the config names a guard. */
  guard: string | undefined;
  targetless: boolean;
}

interface Node {
  id: string;
  key: string;
  type: string;
  states: Record<string, Node>;
  config: {
    on?: Record<string, unknown>;
    after?: Record<string, unknown>;
    invoke?: unknown;
    onDone?: unknown;
  };
  transitions: Map<string, { target?: { id: string }[]; guard?: unknown }[]>;
  always?: { target?: { id: string }[]; guard?: unknown }[];
}

/** Every state node of the machine, root first, in config order. */
export function stateNodes(machine: AnyStateMachine): Node[] {
  const walk = (node: Node): Node[] => [node, ...Object.values(node.states).flatMap(walk)];
  return walk(machine.root as unknown as Node);
}

/** Every (transition, target) pair of the machine, labelled from its config. */
export function expectedEdges(machine: AnyStateMachine): ExpectedEdge[] {
  const edges: ExpectedEdge[] = [];
  const actors = new Map(stateNodes(machine).flatMap((node) => invokesOf(node).map(({ id, src }) => [id, src] as const)));
  for (const node of stateNodes(machine)) {
    const triggers = triggersOf(node, actors);
    const lists: [string, { target?: { id: string }[]; guard?: unknown }[]][] = [...node.transitions.entries()];
    if (node.always !== undefined) lists.push(['', node.always]);
    for (const [eventType, candidates] of lists) {
      const trigger = eventType === '' ? 'always' : triggers.get(eventType);
      if (trigger === undefined) throw new Error(`no expectation for ${eventType} of ${node.id}`);
      for (const candidate of candidates) {
        const guard = typeof candidate.guard === 'string' ? candidate.guard : undefined;
        const targets = candidate.target?.map((target) => target.id) ?? [];
        for (const target of targets.length > 0 ? targets : [node.id]) {
          edges.push({ source: node.id, target, trigger, guard, targetless: targets.length === 0 });
        }
      }
    }
  }
  return edges;
}

function invokesOf(node: Node): { id: string; src: string }[] {
  const invokes = node.config.invoke === undefined ? [] : Array.isArray(node.config.invoke) ? node.config.invoke : [node.config.invoke];
  return invokes.map((invoke: { id?: string; src: string }, index) => ({ id: invoke.id ?? `${index}.${node.id}`, src: invoke.src }));
}

/** An actor's done and error events may be handled by the invoking state or by a state below it (`xstate.done.actor.open`). */
function triggersOf(node: Node, actors: ReadonlyMap<string, string>): Map<string, string> {
  const triggers = new Map<string, string>();
  for (const event of Object.keys(node.config.on ?? {})) {
    const actorEvent = /^xstate\.(done|error)\.actor\.(.+)$/.exec(event);
    const src = actorEvent === null ? undefined : actors.get(actorEvent[2] as string);
    triggers.set(event, src === undefined ? event : `${src} ${actorEvent?.[1]}`);
  }
  for (const delay of Object.keys(node.config.after ?? {})) {
    triggers.set(`xstate.after.${delay}.${node.id}`, /^\d+$/.test(delay) ? `after ${delay}ms` : `after ${delay}`);
  }
  for (const { id, src } of invokesOf(node)) {
    triggers.set(`xstate.done.actor.${id}`, `${src} done`);
    triggers.set(`xstate.error.actor.${id}`, `${src} error`);
  }
  if (node.config.onDone !== undefined) triggers.set(`xstate.done.state.${node.id}`, 'done');
  return triggers;
}
