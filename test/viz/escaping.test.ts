import { describe, expect, it } from 'vitest';
import { toDot } from '../../src/viz/to-dot.js';
import { toMermaid } from '../../src/viz/to-mermaid.js';
import { dotGraph, runDot } from './graphviz.js';
import { parseMermaid } from './mermaid-grammar.js';
import { AWKWARD_EVENTS, AWKWARD_STATES, awkward } from './sample-machines.js';

describe('names with spaces, quotes, dots and syntax characters', () => {
  it('keep Mermaid output valid, each state shown by its own name', () => {
    const chart = parseMermaid(toMermaid(awkward));
    const shown = [...chart.states.values()].map((state) => state.label);
    expect(shown).toEqual(AWKWARD_STATES);
    expect(new Set(chart.states.keys()).size).toBe(AWKWARD_STATES.length);
  });

  it('keep Mermaid labels as the events, a line break as a space', () => {
    const chart = parseMermaid(toMermaid(awkward));
    const labels = chart.edges.filter((edge) => edge.from !== '[*]' && edge.to !== '[*]').map((edge) => edge.label);
    expect(labels).toEqual(AWKWARD_EVENTS.map((event) => event.replace('\n', ' ')));
  });

  it('never put Mermaid keywords where an id goes', () => {
    const ids = [...parseMermaid(toMermaid(awkward)).states.keys()];
    for (const keyword of ['default', 'state', 'end', 'class']) expect(ids).not.toContain(keyword);
  });

  it('do not turn a label into a Mermaid direction statement', () => {
    const text = toMermaid(awkward);
    expect(text).not.toMatch(/direction\s+LR/i);
    expect(parseMermaid(text).direction).toBeUndefined();
  });

  it('keep DOT valid, each state and edge drawn with its own text', async () => {
    const graph = await dotGraph(toDot(awkward));
    expect(graph.name).toBe('awk "ward"');
    const states = [...graph.nodes.values()].filter((node) => !node.name.endsWith(':initial'));
    expect(states.map((node) => node.lines.join('\n'))).toEqual(AWKWARD_STATES);
    expect(states.map((node) => node.name)).toContain('dotted');
    const labels = graph.edges.filter((edge) => !edge.tail.endsWith(':initial')).map((edge) => edge.lines.join('\n'));
    expect(labels).toEqual(AWKWARD_EVENTS);
    expect(await runDot(toDot(awkward), 'svg')).toMatchObject({ status: 0, stderr: '' });
  });
});
