import { describe, expect, it } from 'vitest';
import { createMachine } from 'xstate';
import { toMermaid } from '../../src/viz/to-mermaid.js';
import { expectConfigError } from '../helpers/config-error.js';
import { parseMermaid, type MermaidChart } from './mermaid-grammar.js';
import { editor, guarded, light, text } from './sample-machines.js';

function chartOf(machine: Parameters<typeof toMermaid>[0], options?: Parameters<typeof toMermaid>[1]): MermaidChart {
  return parseMermaid(toMermaid(machine, options));
}

function edgeLabels(chart: MermaidChart, from: string, to: string): string[] {
  return chart.edges.filter((edge) => edge.from === from && edge.to === to).map((edge) => edge.label);
}

describe('toMermaid', () => {
  it('declares every state and starts at the initial one', () => {
    const chart = chartOf(light);
    expect([...chart.states.keys()]).toEqual(['green', 'yellow', 'red', 'off']);
    expect(chart.edges).toContainEqual({ from: '[*]', to: 'green', label: '', block: undefined });
  });

  it('labels events with their guard and actions', () => {
    const chart = chartOf(light);
    expect(edgeLabels(chart, 'green', 'yellow')).toEqual(['TIMER']);
    expect(edgeLabels(chart, 'green', 'red')).toEqual(['EMERGENCY [isEmergency] / log, count']);
    expect(edgeLabels(chart, 'red', 'off')).toEqual(['OFF']);
  });

  it('labels delayed transitions in milliseconds or by the delay name', () => {
    const chart = chartOf(light);
    expect(edgeLabels(chart, 'yellow', 'red')).toEqual(['after 5000ms']);
    expect(edgeLabels(chart, 'red', 'green')).toEqual(['after redDelay']);
  });

  it('draws targetless and self transitions as loops, marking the one that re-enters', () => {
    expect(edgeLabels(chartOf(light), 'green', 'green')).toEqual(['PING / log', 'RESTART (reenter)', 'STAY']);
  });

  it('ends a final state at [*] in its own block', () => {
    expect(chartOf(light).edges).toContainEqual({ from: 'off', to: '[*]', label: '', block: undefined });
    expect(chartOf(editor).edges).toContainEqual({ from: 'saved', to: '[*]', label: '', block: 'editing' });
  });

  it('nests a compound state in a state block, with its own start', () => {
    const chart = chartOf(editor);
    expect(chart.states.get('editing')).toMatchObject({ composite: true, parent: undefined, sections: [['typing', 'saving', 'saved']] });
    expect(chart.states.get('saving')?.parent).toBe('editing');
    expect(chart.edges).toContainEqual({ from: '[*]', to: 'typing', label: '', block: 'editing' });
  });

  it('draws transitions from, into and inside a compound state, its onDone and its invoked actor', () => {
    const chart = chartOf(editor);
    expect(edgeLabels(chart, 'idle', 'editing')).toEqual(['EDIT']);
    expect(edgeLabels(chart, 'editing', 'idle')).toEqual(['CANCEL', 'done']);
    expect(edgeLabels(chart, 'editing', 'typing')).toEqual(['UNDO']);
    expect(edgeLabels(chart, 'saving', 'saved')).toEqual(['save done']);
    expect(edgeLabels(chart, 'saving', 'typing')).toEqual(['save error']);
  });

  it('writes every transition at the top level, where Mermaid leaves its states in their blocks', () => {
    const transitions = chartOf(editor).edges.filter((edge) => edge.from !== '[*]' && edge.to !== '[*]');
    expect(transitions.length).toBe(7);
    expect(transitions.every((edge) => edge.block === undefined)).toBe(true);
  });

  it('separates parallel regions with --, inside the machine drawn as a state', () => {
    const chart = chartOf(text);
    expect(chart.states.get('text')).toMatchObject({ composite: true, parent: undefined, sections: [['bold'], ['italic']] });
    expect(chart.states.get('bold')?.parent).toBe('text');
    expect(chart.edges).toContainEqual({ from: '[*]', to: 'text', label: '', block: undefined });
  });

  it('draws a transition to several targets as one edge per target', () => {
    const chart = chartOf(text);
    expect(edgeLabels(chart, 'text', 'off')).toEqual(['CLEAR']);
    expect(edgeLabels(chart, 'text', 'italic_off')).toEqual(['CLEAR']);
  });

  it('gives states with the same key distinct ids, named by their key', () => {
    const chart = chartOf(text);
    expect(chart.states.get('off')).toMatchObject({ label: 'off', parent: 'bold' });
    expect(chart.states.get('italic_off')).toMatchObject({ label: 'off', parent: 'italic' });
  });

  it('draws history states as H and H*, with an edge to the default of a history state', () => {
    const chart = chartOf(text);
    expect(chart.states.get('deep')).toMatchObject({ label: 'H*', parent: 'bold' });
    expect(chart.states.get('last')).toMatchObject({ label: 'H', parent: 'italic' });
    expect(edgeLabels(chart, 'last', 'italic_on')).toEqual(['']);
    expect(edgeLabels(chart, 'italic_on', 'deep')).toEqual(['BACK']);
  });

  it('draws the machine as a state only when it has transitions of its own', () => {
    expect(chartOf(light).states.has('light')).toBe(false);
    const withReset = createMachine({ id: 'm', initial: 'a', on: { RESET: '.a', TICK: {} }, states: { a: { on: { GO: 'b' } }, b: {} } });
    const chart = chartOf(withReset);
    expect(chart.states.get('m')).toMatchObject({ composite: true, sections: [['a', 'b']] });
    expect(edgeLabels(chart, 'm', 'a')).toEqual(['RESET']);
    expect(edgeLabels(chart, 'm', 'm')).toEqual(['TICK']);
  });

  it('spells out combined, stateIn, parameterised and inline guards, and every kind of action', () => {
    const chart = chartOf(guarded);
    expect(edgeLabels(chart, 'one', 'two')).toEqual(['COMBINED [a and (b or not c)]', 'IN [in #guarded.two]', 'PARAMS [p]', 'INLINE [inline]']);
    expect(edgeLabels(chart, 'one', 'one')).toEqual(['ACTIONS / named, withParams, assign, raise, tidyUp']);
  });

  it('leaves actions out and sets the direction when asked', () => {
    const chart = chartOf(light, { actions: false, direction: 'LR' });
    expect(chart.direction).toBe('LR');
    expect(edgeLabels(chart, 'green', 'red')).toEqual(['EMERGENCY [isEmergency]']);
  });

  it('gives the same text for the same machine, built twice', () => {
    const build = () => createMachine({ id: 'm', initial: 'b', states: { b: { on: { Z: 'a', A: 'c' } }, a: {}, c: { after: { 10: 'a' } } } });
    expect(toMermaid(build())).toBe(toMermaid(build()));
    expect(toMermaid(build())).toBe(
      ['stateDiagram-v2', '  b', '  a', '  c', '  [*] --> b', '  b --> a: Z', '  b --> c: A', '  c --> a: after 10ms', ''].join('\n'),
    );
  });

  it('refuses what is not a machine, and bad options, with a ConfigError', () => {
    const notAMachine = { id: 'm', states: {} };
    expectConfigError(() => toMermaid(notAMachine as never), 'machine', notAMachine, '{"id":"m","states":{}}');
    expectConfigError(() => toMermaid(undefined as never), 'machine', undefined, 'undefined');
    expectConfigError(() => toMermaid(light, { direction: 'up' as never }), 'options.direction', 'up', '"up"');
    expectConfigError(() => toMermaid(light, { actions: 'yes' as never }), 'options.actions', 'yes', '"yes"');
    expectConfigError(() => toMermaid(light, { colour: 'red' } as never), 'options.colour', 'red', '"red"');
  });
});
