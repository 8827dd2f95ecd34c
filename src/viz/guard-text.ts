/**
 * How a guard reads in a diagram: a named guard by its name (`hasInput`), a parameterised one by
 * its type, XState's `and` / `or` / `not` spelt out (`hasInput and not ended`), `stateIn` as
 * `in <state>`, and an inline function by its name or `inline`.
 */
export function guardText(guard: unknown): string | undefined {
  if (guard === undefined || guard === null) return undefined;
  return describe(guard);
}

function describe(guard: unknown): string {
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function') return describeFunction(guard as GuardFunction);
  if (typeof guard === 'object' && guard !== null && typeof (guard as { type?: unknown }).type === 'string') {
    return (guard as { type: string }).type;
  }
  return 'inline';
}

/** XState's higher-order guards are functions carrying `check` and their operands (`guards`) or `stateValue`. */
interface GuardFunction {
  name: string;
  check?: unknown;
  guards?: unknown;
  stateValue?: unknown;
}

function describeFunction(guard: GuardFunction): string {
  if (guard.check !== undefined && Array.isArray(guard.guards)) {
    const operands = guard.guards.map((operand) => operandText(operand));
    if (guard.name === 'and') return operands.join(' and ');
    if (guard.name === 'or') return operands.join(' or ');
    if (guard.name === 'not') return `not ${operands.join(', ')}`;
    return `${guard.name || 'guard'}(${operands.join(', ')})`;
  }
  if (guard.check !== undefined && 'stateValue' in guard) {
    return `in ${typeof guard.stateValue === 'string' ? guard.stateValue : JSON.stringify(guard.stateValue)}`;
  }
  // An arrow function written as `guard: () => ...` is named "guard" by the language: not a name anyone chose.
  return guard.name === '' || guard.name === 'guard' ? 'inline' : guard.name;
}

/** Operands that are `and` / `or` combinations get parentheses, so `a and (b or c)` keeps its meaning. */
function operandText(operand: unknown): string {
  const text = describe(operand);
  const name = typeof operand === 'function' && Array.isArray((operand as GuardFunction).guards) ? operand.name : undefined;
  return (name === 'and' || name === 'or') && text.includes(' ') ? `(${text})` : text;
}
