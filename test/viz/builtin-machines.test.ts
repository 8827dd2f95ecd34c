import { describe, expect, it } from 'vitest';
import { builtinMachines } from '../../src/viz/builtin-machines.js';
import { toDot } from '../../src/viz/to-dot.js';
import { toMermaid } from '../../src/viz/to-mermaid.js';
import { expectedEdges, stateNodes } from './expected-transitions.js';
import { dotGraph, runDot, type DotGraph } from './graphviz.js';
import { parseMermaid, type MermaidChart } from './mermaid-grammar.js';

/** The Mermaid id of each XState state, found by key under the parent's block (the machine's root: the top level, or its own block). */
function mermaidIdsOf(chart: MermaidChart, machine: (typeof builtinMachines)[number]['machine']): Map<string, string> {
  const ids = new Map<string, string>();
  const rootDrawn = chart.states.get(machine.root.key)?.parent === undefined && chart.states.get(machine.root.key)?.composite === true;
  if (rootDrawn) ids.set(machine.root.id, machine.root.key);
  for (const node of stateNodes(machine).slice(1)) {
    const parentId = node.id === machine.root.id ? undefined : ids.get(parentOf(machine, node.id));
    const found = [...chart.states.values()].find((state) => state.parent === parentId && state.label === node.key);
    if (found === undefined) throw new Error(`state ${node.id} is not drawn under ${parentId ?? 'the top level'}`);
    ids.set(node.id, found.id);
  }
  return ids;
}

function parentOf(machine: (typeof builtinMachines)[number]['machine'], id: string): string {
  const node = stateNodes(machine).find((candidate) => Object.values(candidate.states).some((child) => child.id === id));
  return node?.id ?? '';
}

/** The DOT nodes an edge to or from a state may use: the state's own node, or one inside its cluster (its start dot or its name). */
function dotEnds(graph: DotGraph, id: string): string[] {
  if (graph.nodes.has(id)) return [id];
  return [...graph.nodes.values()].filter((node) => node.cluster === `cluster_${id}`).map((node) => node.name);
}

describe.each(builtinMachines.map((builtin) => [builtin.name, builtin] as const))('the built-in %s machine', (_, builtin) => {
  const machine = builtin.machine;

  it('draws in valid Mermaid every state, under its parent', () => {
    const chart = parseMermaid(toMermaid(machine));
    const ids = mermaidIdsOf(chart, machine);
    expect(ids.size).toBe(stateNodes(machine).length - (ids.has(machine.root.id) ? 0 : 1));
  });

  it('draws in Mermaid every transition, with its trigger and guard', () => {
    const chart = parseMermaid(toMermaid(machine));
    const ids = mermaidIdsOf(chart, machine);
    const edges = chart.edges.filter((edge) => edge.from !== '[*]' && edge.to !== '[*]');
    const expected = expectedEdges(machine);
    expect(edges.length).toBe(expected.length);
    for (const transition of expected) {
      const match = edges.find(
        (edge) =>
          edge.from === ids.get(transition.source) &&
          edge.to === ids.get(transition.target) &&
          edge.label.startsWith(transition.trigger) &&
          (transition.guard === undefined || edge.label.includes(`[${transition.guard}]`)),
      );
      expect(match, `${transition.source} -> ${transition.target}: ${transition.trigger}`).toBeDefined();
    }
  });

  it('draws in DOT that dot -Tsvg renders without a warning', async () => {
    const result = await runDot(toDot(machine), 'svg');
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('</svg>');
  });

  it('draws in DOT every state and every transition, with its trigger and guard', async () => {
    const graph = await dotGraph(toDot(machine));
    for (const node of stateNodes(machine).slice(1)) expect(dotEnds(graph, node.id).length, node.id).toBeGreaterThan(0);
    const lines = graph.edges.flatMap((edge) => edge.lines.map((line) => ({ ...edge, line })));
    for (const transition of expectedEdges(machine)) {
      const match = lines.find(
        (edge) =>
          dotEnds(graph, transition.source).includes(edge.tail) &&
          dotEnds(graph, transition.target).includes(edge.head) &&
          edge.line.startsWith(transition.trigger) &&
          (transition.guard === undefined || edge.line.includes(`[${transition.guard}]`)) &&
          (edge.style === 'dashed') === transition.targetless,
      );
      expect(match, `${transition.source} -> ${transition.target}: ${transition.trigger}`).toBeDefined();
    }
    expect(lines.filter((edge) => edge.line !== '').length).toBe(expectedEdges(machine).length);
  });

  it('draws the same text every time', () => {
    expect(toMermaid(machine)).toBe(toMermaid(machine));
    expect(toDot(machine)).toBe(toDot(machine));
  });
});

describe('the built-in machines', () => {
  it('are stage, circuit-breaker, supervisor and checkpoint, with distinct names', () => {
    expect(builtinMachines.map((builtin) => builtin.name)).toEqual(['stage', 'circuit-breaker', 'supervisor', 'checkpoint']);
  });

  it('draw the breaker\'s transitions as the design has them', () => {
    const chart = parseMermaid(toMermaid(builtinMachines.find((builtin) => builtin.name === 'circuit-breaker')?.machine as never));
    const labels = chart.edges.map((edge) => `${edge.from} --> ${edge.to}: ${edge.label}`);
    expect(labels).toContain('open --> halfOpen: after openDelay');
    expect(labels).toContain('halfOpen --> closed: SUCCESS [enoughSuccesses] / resetWindows, emitClosed');
    expect(labels).toContain('halfOpen --> halfOpen: SUCCESS [else] / probeSucceeded');
    expect(labels).toContain('circuitBreaker --> closed: RESET / resetWindows, emitClosed');
    expect(labels).toContain('restoring --> isolated: always [else]');
  });
});
