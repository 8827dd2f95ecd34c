import type { AnyStateMachine } from 'xstate';
import { stateMachine } from './is-state-machine.js';
import { mermaidIds } from './mermaid-ids.js';
import { mermaidText } from './mermaid-text.js';
import { diagramOptions, type DiagramOptions, type ToMermaidOptions } from './options.js';
import { readStatechart } from './read-statechart.js';
import { drawsRoot, statesBelow, type ChartState, type Statechart } from './statechart.js';
import { transitionLabel } from './transition-label.js';

const INDENT = '  ';

/**
 * A Mermaid `stateDiagram-v2` of any XState v5 machine: nested states as `state X { ... }`,
 * parallel regions separated by `--`, `[*]` for initial and final states, one edge per
 * transition and target labelled `EVENT [guard] / actions` (see docs/statecharts.md). Same
 * machine, same text.
 *
 * @example
 * toMermaid(circuitBreakerMachine);           // 'stateDiagram-v2\n  ...'
 * toMermaid(myMachine, { actions: false, direction: 'LR' });
 */
export function toMermaid(machine: AnyStateMachine, options?: ToMermaidOptions): string {
  const chart = readStatechart(stateMachine('machine', machine));
  const settings = diagramOptions('options', options);
  const withRoot = drawsRoot(chart);
  const ids = mermaidIds(withRoot ? statesBelow(chart.root) : statesBelow(chart.root).slice(1));
  const id = (stateId: string): string => ids.get(stateId) as string;
  const lines = ['stateDiagram-v2'];
  if (settings.direction !== undefined) lines.push(`${INDENT}direction ${settings.direction}`);
  if (withRoot) {
    lines.push(...declaration(chart.root, 1, id), `${INDENT}[*] --> ${id(chart.root.id)}`);
  } else {
    lines.push(...body(chart.root, 1, id));
  }
  // Every transition at the top level: Mermaid moves a state into the block where an edge names it.
  lines.push(...edges(chart, settings, id).map((edge) => `${INDENT}${edge}`));
  return `${lines.join('\n')}\n`;
}

function declaration(state: ChartState, depth: number, id: (stateId: string) => string): string[] {
  const pad = INDENT.repeat(depth);
  const label = mermaidText(nameOf(state));
  const named = label !== '' && label !== id(state.id) ? [`${pad}state "${label}" as ${id(state.id)}`] : [];
  if (state.kind === 'compound' || state.kind === 'parallel') {
    return [...named, `${pad}state ${id(state.id)} {`, ...body(state, depth + 1, id), `${pad}}`];
  }
  return named.length > 0 ? named : [`${pad}${id(state.id)}`];
}

/** Inside a block: the child states (regions apart by `--`), then where it starts and ends. */
function body(state: ChartState, depth: number, id: (stateId: string) => string): string[] {
  const pad = INDENT.repeat(depth);
  const lines: string[] = [];
  state.children.forEach((child, index) => {
    if (state.kind === 'parallel' && index > 0) lines.push(`${pad}--`);
    lines.push(...declaration(child, depth, id));
  });
  for (const initial of state.initial) lines.push(`${pad}[*] --> ${id(initial)}`);
  for (const child of state.children) if (child.kind === 'final') lines.push(`${pad}${id(child.id)} --> [*]`);
  return lines;
}

function nameOf(state: ChartState): string {
  if (state.kind === 'history') return state.history === 'deep' ? 'H*' : 'H';
  return state.key;
}

/** One edge per transition and target; a targetless transition loops on its state. */
function edges(chart: Statechart, settings: DiagramOptions, id: (stateId: string) => string): string[] {
  return chart.transitions.flatMap((transition) => {
    const label = mermaidText(transitionLabel(transition, settings));
    const targets = transition.targets.length > 0 ? transition.targets : [transition.source];
    return targets.map((target) => `${id(transition.source)} --> ${id(target)}${label === '' ? '' : `: ${label}`}`);
  });
}
