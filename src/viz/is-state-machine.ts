import type { AnyStateMachine } from 'xstate';
import { ConfigError } from '../core/errors.js';

/**
 * True when `value` looks like an XState v5 machine (`createMachine` or `setup().createMachine`):
 * checked by shape, so that a machine built with another copy of xstate counts too.
 */
export function isStateMachine(value: unknown): value is AnyStateMachine {
  if (typeof value !== 'object' || value === null || !('root' in value)) return false;
  const root = (value as { root: unknown }).root;
  if (typeof root !== 'object' || root === null) return false;
  const node = root as { id?: unknown; type?: unknown; states?: unknown; transitions?: unknown };
  return typeof node.id === 'string' && typeof node.type === 'string' && typeof node.states === 'object' && node.transitions instanceof Map;
}

/** Throws CONFIG_INVALID naming `field` unless `value` is an XState v5 machine. */
export function stateMachine(field: string, value: unknown): AnyStateMachine {
  if (!isStateMachine(value)) {
    throw new ConfigError(field, value, 'must be an XState v5 machine (createMachine or setup().createMachine)');
  }
  return value;
}
