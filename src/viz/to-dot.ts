import type { AnyStateMachine } from 'xstate';
import { DotLayout, type DotEdge } from './dot-layout.js';
import { dotString } from './dot-text.js';
import { stateMachine } from './is-state-machine.js';
import { diagramOptions, type ToDotOptions } from './options.js';
import { readStatechart } from './read-statechart.js';
import { drawsRoot } from './statechart.js';
import { transitionLabel } from './transition-label.js';

const INDENT = '  ';

/**
 * A Graphviz DOT digraph of any XState v5 machine: nested and parallel states as clusters (regions
 * dashed), a dot where each compound state starts, final states with a double border, history
 * states as `H` / `H*` circles, one edge per transition and target labelled
 * `EVENT [guard] / actions`, targetless transitions as dashed loops, a state's loops drawn as one
 * with a line per transition (see docs/statecharts.md). Same machine, same text.
 *
 * @example
 * toDot(stageMachine);                        // 'digraph "stage" {\n  ...'
 * // steadfast viz stage --format dot | dot -Tsvg > stage.svg
 */
export function toDot(machine: AnyStateMachine, options?: ToDotOptions): string {
  const chart = readStatechart(stateMachine('machine', machine));
  const settings = diagramOptions('options', options);
  const layout = new DotLayout(chart, drawsRoot(chart));
  const lines = [`digraph ${dotString(chart.id)} {`, `${INDENT}compound=true;`];
  if (settings.direction !== undefined) lines.push(`${INDENT}rankdir=${settings.direction};`);
  lines.push(`${INDENT}node [shape=box, style=rounded];`, `${INDENT}edge [fontsize=10];`);
  lines.push(...(layout.withRoot ? layout.declaration(chart.root, 1) : layout.body(chart.root, 1)));
  const edges = chart.transitions.flatMap((transition) => layout.edges(transition, transitionLabel(transition, settings)));
  for (const edge of mergeLoops(edges)) {
    lines.push(`${INDENT}${dotString(edge.tail)} -> ${dotString(edge.head)} [${[`label=${dotString(edge.label)}`, ...edge.attributes].join(', ')}];`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/** Graphviz piles the labels of several loops on one node on top of each other: one loop, a line per transition. */
function mergeLoops(edges: DotEdge[]): DotEdge[] {
  const merged: DotEdge[] = [];
  const loops = new Map<string, DotEdge>();
  for (const edge of edges) {
    if (edge.tail !== edge.head) {
      merged.push(edge);
      continue;
    }
    const key = JSON.stringify([edge.tail, edge.attributes]);
    const loop = loops.get(key);
    if (loop === undefined) {
      const copy = { ...edge };
      loops.set(key, copy);
      merged.push(copy);
    } else {
      loop.label = `${loop.label}\n${edge.label}`;
    }
  }
  return merged;
}
