import type { ChartTransition, ChartTrigger } from './statechart.js';

/**
 * The text of a transition's edge, the same in every format: `EVENT [guard] / action, action`,
 * `after 5000ms`, `after openDelay`, `always [guard]`, `open done`, `open error`, `done` (the
 * state's own `onDone`); `[else]` marks an unguarded candidate after guarded ones; `(reenter)` a
 * transition that exits and enters its own state again. Empty for a history state's default.
 */
export function transitionLabel(transition: ChartTransition, options: { actions: boolean }): string {
  const parts = [triggerText(transition.trigger)];
  if (transition.guard !== undefined) parts.push(`[${transition.guard}]`);
  else if (transition.otherwise) parts.push('[else]');
  if (options.actions && transition.actions.length > 0) parts.push(`/ ${transition.actions.join(', ')}`);
  if (transition.reenter) parts.push('(reenter)');
  return parts.filter((part) => part !== '').join(' ');
}

function triggerText(trigger: ChartTrigger): string {
  switch (trigger.kind) {
    case 'event':
      return trigger.event;
    case 'after':
      return typeof trigger.delay === 'number' ? `after ${trigger.delay}ms` : `after ${trigger.delay}`;
    case 'always':
      return 'always';
    case 'done':
      return 'done';
    case 'invoke':
      return `${trigger.actor} ${trigger.outcome}`;
    case 'history':
      return '';
  }
}
