import { describe, expect, it } from 'vitest';
import { createMachine } from 'xstate';
import { toDot } from '../../src/viz/to-dot.js';
import { expectConfigError } from '../helpers/config-error.js';
import { dotGraph, runDot, type DotGraph } from './graphviz.js';
import { editor, guarded, light, text } from './sample-machines.js';

function labels(graph: DotGraph, tail: string, head: string): string[] {
  return graph.edges.filter((edge) => edge.tail === tail && edge.head === head).map((edge) => edge.lines.join('\n'));
}

describe('toDot, as Graphviz reads it', () => {
  it('draws every state as a node named by its XState id and labelled by its key', async () => {
    const graph = await dotGraph(toDot(light));
    expect(graph.name).toBe('light');
    for (const key of ['green', 'yellow', 'red', 'off']) expect(graph.nodes.get(`light.${key}`)?.lines).toEqual([key]);
  });

  it('starts at a dot with an edge to the initial state', async () => {
    const graph = await dotGraph(toDot(light));
    expect(graph.nodes.get('light:initial')?.lines).toEqual([]);
    expect(labels(graph, 'light:initial', 'light.green')).toEqual(['']);
  });

  it('labels events, guards, actions and delays', async () => {
    const graph = await dotGraph(toDot(light));
    expect(labels(graph, 'light.green', 'light.yellow')).toEqual(['TIMER']);
    expect(labels(graph, 'light.green', 'light.red')).toEqual(['EMERGENCY [isEmergency] / log, count']);
    expect(labels(graph, 'light.yellow', 'light.red')).toEqual(['after 5000ms']);
    expect(labels(graph, 'light.red', 'light.green')).toEqual(['after redDelay']);
  });

  it('draws targetless transitions as a dashed loop, and a state\'s loops as one edge with a line each', async () => {
    const graph = await dotGraph(toDot(light));
    const loops = graph.edges.filter((edge) => edge.tail === 'light.green' && edge.head === 'light.green');
    expect(loops.map((edge) => [edge.lines, edge.style])).toEqual([
      [['PING / log'], 'dashed'],
      [['RESTART (reenter)', 'STAY'], undefined],
    ]);
  });

  it('draws final states with a double border', () => {
    expect(toDot(light)).toContain('"light.off" [label="off", peripheries=2];');
    expect(toDot(light)).not.toContain('"light.red" [label="red", peripheries=2];');
  });

  it('draws a compound state as a cluster holding its states, entered at its border', async () => {
    const graph = await dotGraph(toDot(editor));
    expect(graph.clusters.get('cluster_editor.editing')?.parent).toBeUndefined();
    for (const key of ['typing', 'saving', 'saved']) expect(graph.nodes.get(`editor.editing.${key}`)?.cluster).toBe('cluster_editor.editing');
    expect(labels(graph, 'editor.idle', 'editor.editing:initial')).toEqual(['EDIT']);
    expect(toDot(editor)).toContain('"editor.idle" -> "editor.editing:initial" [label="EDIT", lhead="cluster_editor.editing"];');
  });

  it('starts a compound state\'s own transitions at its name, a node inside its cluster', async () => {
    const graph = await dotGraph(toDot(editor));
    expect(graph.nodes.get('editor.editing:self')).toMatchObject({ lines: ['editing'], cluster: 'cluster_editor.editing' });
    expect(labels(graph, 'editor.editing:self', 'editor.idle')).toEqual(['CANCEL', 'done']);
    expect(labels(graph, 'editor.editing:self', 'editor.editing.typing')).toEqual(['UNDO']);
    expect(labels(graph, 'editor.editing.saving', 'editor.editing.saved')).toEqual(['save done']);
    expect(labels(graph, 'editor.editing.saving', 'editor.editing.typing')).toEqual(['save error']);
  });

  it('names a cluster without transitions of its own by its label', async () => {
    const graph = await dotGraph(toDot(createMachine({ id: 'm', initial: 'a', states: { a: { initial: 'x', states: { x: {} } } } })));
    expect(graph.clusters.get('cluster_m.a')?.lines).toEqual(['a']);
    expect(graph.nodes.get('m.a.x')?.cluster).toBe('cluster_m.a');
  });

  it('draws parallel regions as dashed clusters inside the parallel state, one edge per target', async () => {
    const dot = toDot(text);
    const graph = await dotGraph(dot);
    expect(graph.clusters.get('cluster_text.bold')?.parent).toBe('cluster_text');
    expect(graph.clusters.get('cluster_text.italic')?.parent).toBe('cluster_text');
    expect(dot).toContain('subgraph "cluster_text.bold" {\n      label="bold";\n      style="rounded,dashed";');
    expect(labels(graph, 'text:self', 'text.bold.off')).toEqual(['CLEAR']);
    expect(labels(graph, 'text:self', 'text.italic.off')).toEqual(['CLEAR']);
  });

  it('draws history states as H and H* circles, with an edge to a history state\'s default', async () => {
    const graph = await dotGraph(toDot(text));
    expect(graph.nodes.get('text.bold.deep')).toMatchObject({ lines: ['H*'], cluster: 'cluster_text.bold' });
    expect(graph.nodes.get('text.italic.last')?.lines).toEqual(['H']);
    expect(labels(graph, 'text.italic.last', 'text.italic.on')).toEqual(['']);
    expect(labels(graph, 'text.italic.on', 'text.bold.deep')).toEqual(['BACK']);
  });

  it('spells out guards and actions as Mermaid does', async () => {
    const graph = await dotGraph(toDot(guarded));
    expect(labels(graph, 'guarded.one', 'guarded.two')).toEqual(['COMBINED [a and (b or not c)]', 'IN [in #guarded.two]', 'PARAMS [p]', 'INLINE [inline]']);
  });

  it('renders to SVG without a warning', async () => {
    for (const machine of [light, editor, text, guarded]) {
      const result = await runDot(toDot(machine), 'svg');
      expect(result.status).toBe(0);
      expect(result.stderr).toBe('');
      expect(result.stdout).toContain('<svg');
    }
  });
});

describe('toDot', () => {
  it('leaves actions out and sets rankdir when asked', () => {
    const dot = toDot(light, { actions: false, direction: 'LR' });
    expect(dot).toContain('  rankdir=LR;\n');
    expect(dot).toContain('[label="EMERGENCY [isEmergency]"]');
    expect(toDot(light)).not.toContain('rankdir');
  });

  it('gives the same text for the same machine, built twice', () => {
    const build = () => createMachine({ id: 'm', initial: 'a', states: { a: { on: { GO: 'b' } }, b: { type: 'final' } } });
    expect(toDot(build())).toBe(toDot(build()));
    expect(toDot(build())).toBe(
      [
        'digraph "m" {',
        '  compound=true;',
        '  node [shape=box, style=rounded];',
        '  edge [fontsize=10];',
        '  "m:initial" [shape=point, width=0.15, label=""];',
        '  "m:initial" -> "m.a";',
        '  "m.a" [label="a"];',
        '  "m.b" [label="b", peripheries=2];',
        '  "m.a" -> "m.b" [label="GO"];',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('refuses what is not a machine, and bad options, with a ConfigError', () => {
    expectConfigError(() => toDot(42 as never), 'machine', 42, '42');
    expectConfigError(() => toDot(light, { direction: 'LEFT' as never }), 'options.direction', 'LEFT', '"LEFT"');
    expectConfigError(() => toDot(light, null as never), 'options', null, 'null');
  });
});
