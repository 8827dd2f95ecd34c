/**
 * How an action reads in a diagram: a named action by its name, a parameterised one by its type,
 * XState's built-ins (`assign`, `raise`, `emit`, ...) by their own name, and any other inline
 * function by its name or `inline`.
 */
export function actionText(action: unknown): string {
  if (typeof action === 'string') return action;
  if (typeof action === 'function') {
    const builtin = (action as { type?: unknown }).type;
    if (typeof builtin === 'string') return builtin.startsWith('xstate.') ? builtin.slice('xstate.'.length) : builtin;
    // `actions: () => ...` is named "actions" by the language: not a name anyone chose.
    return action.name === '' || action.name === 'actions' ? 'inline' : action.name;
  }
  if (typeof action === 'object' && action !== null && typeof (action as { type?: unknown }).type === 'string') {
    return (action as { type: string }).type;
  }
  return 'inline';
}
