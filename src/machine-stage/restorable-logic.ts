import type { AnyStateMachine } from 'xstate';
import { ConfigError } from '../core/errors.js';

// The parts of XState 5's StateNode this check reads.
interface NodeLike {
  id: string;
  states: Record<string, NodeLike>;
  entry: unknown[];
  exit: unknown[];
  always?: Array<{ actions: unknown[] }>;
  transitions: Map<string, Array<{ actions: unknown[] }>>;
  invoke: Array<{ id: string; src: unknown }>;
}

interface SpawnAction {
  type: string;
  id?: unknown;
  src?: unknown;
}

/**
 * Refuses, with CONFIG_INVALID naming the child, a machine whose children XState could not
 * restore: a `spawnChild` action given inline logic instead of a key of `setup({ actors })`, or an
 * invoke or spawn naming a key the machine does not have. Inline `invoke: { src: logic }` is
 * accepted (XState restores it by its `xstate.invoke.*` name). Spawns inside `assign` or
 * `enqueueActions` cannot be seen here: `persistActorTree` refuses those, naming the child.
 *
 * @example
 * assertRestorableLogic(machine); // at definition, not on the first restore
 */
export function assertRestorableLogic(machine: AnyStateMachine, field = 'machine'): void {
  const actors = (machine.implementations.actors ?? {}) as Record<string, unknown>;
  const actions = (machine.implementations.actions ?? {}) as Record<string, unknown>;
  const where = `${field} "${machine.id}"`;
  const checkActions = (list: readonly unknown[], node: NodeLike): void => {
    for (const item of list) {
      const action = (typeof item === 'string' ? actions[item] : typeof item === 'object' && item !== null && 'type' in item ? actions[(item as { type: string }).type] ?? item : item) as SpawnAction | undefined;
      if ((typeof action !== 'function' && typeof action !== 'object') || action === null || action.type !== 'xstate.spawnChild') continue;
      const child = typeof action.id === 'string' ? `"${action.id}"` : '(no id)';
      if (typeof action.src !== 'string') {
        throw new ConfigError(`${where} state "${node.id}" spawnChild ${child}`, 'inline logic', 'must name its logic by a key of setup({ actors }) (XState cannot persist inline logic: statelyai/xstate#5057)');
      }
      if (!(action.src in actors)) throw new ConfigError(`${where} state "${node.id}" spawnChild ${child}`, action.src, 'must be a key of setup({ actors })');
    }
  };
  const visit = (node: NodeLike): void => {
    checkActions(node.entry, node);
    checkActions(node.exit, node);
    for (const transition of node.always ?? []) checkActions(transition.actions, node);
    for (const list of node.transitions.values()) for (const transition of list) checkActions(transition.actions, node);
    for (const invoke of node.invoke) {
      if (typeof invoke.src === 'string' && !invoke.src.startsWith('xstate.invoke.') && !(invoke.src in actors)) {
        throw new ConfigError(`${where} state "${node.id}" invoke "${invoke.id}"`, invoke.src, 'must be a key of setup({ actors })');
      }
    }
    for (const child of Object.values(node.states)) visit(child);
  };
  visit(machine.root as unknown as NodeLike);
}
