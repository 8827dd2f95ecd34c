import { knownKeys, oneOf, record } from '../core/validate.js';
import { ConfigError } from '../core/errors.js';

/** Layout direction of a diagram: top to bottom (the default), bottom to top, left to right, right to left. */
export type DiagramDirection = 'TB' | 'BT' | 'LR' | 'RL';

/** Options of `toMermaid`. */
export interface ToMermaidOptions {
  /** Show each transition's actions after its guard (`EVENT [guard] / a, b`); default true. */
  actions?: boolean;
  /** Layout direction; default: the renderer's (top to bottom). */
  direction?: DiagramDirection;
}

/** Options of `toDot`. */
export interface ToDotOptions {
  /** Show each transition's actions after its guard (`EVENT [guard] / a, b`); default true. */
  actions?: boolean;
  /** Layout direction (`rankdir`); default: Graphviz's (top to bottom). */
  direction?: DiagramDirection;
}

/** Options after validation. */
export interface DiagramOptions {
  actions: boolean;
  direction: DiagramDirection | undefined;
}

const DIRECTIONS: readonly DiagramDirection[] = ['TB', 'BT', 'LR', 'RL'];

/** Validates the options of `toMermaid` / `toDot` (`field` names them in errors). */
export function diagramOptions(field: string, options: unknown): DiagramOptions {
  if (options === undefined) return { actions: true, direction: undefined };
  const given = record(field, options);
  knownKeys(field, given, ['actions', 'direction']);
  if (given.actions !== undefined && typeof given.actions !== 'boolean') {
    throw new ConfigError(`${field}.actions`, given.actions, 'must be a boolean');
  }
  return {
    actions: given.actions ?? true,
    direction: given.direction === undefined ? undefined : oneOf(`${field}.direction`, given.direction, DIRECTIONS),
  };
}
