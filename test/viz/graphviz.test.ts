import { describe, expect, it } from 'vitest';
import { toDot } from '../../src/viz/to-dot.js';
import { dotGraph, graphvizVersion, runDot } from './graphviz.js';
import { light } from './sample-machines.js';

// The DOT checks judge our output with Graphviz itself (WebAssembly, @viz-js/viz): these show the judge can say no.
describe('Graphviz as the judge of DOT', () => {
  it('is a real Graphviz', () => {
    expect(graphvizVersion).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('rejects a syntax error, as dot does, with its line', async () => {
    const result = await runDot('digraph g {\n  a -> ;\n}\n', 'svg');
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/syntax error in line 2/);
  });

  it('rejects a quote left open, the mistake toDot escapes against', async () => {
    expect(await runDot('digraph g { "say \\"hi\\"" -> b }', 'svg')).toMatchObject({ status: 0, stderr: '' });
    const open = await runDot('digraph g { "say \\"hi\\" -> b }', 'svg');
    expect(open.status).toBe(1);
    expect(open.stderr).toMatch(/missing endquote/);
  });

  it('rejects an undirected edge in a digraph', async () => {
    expect((await runDot('digraph g { a -- b }', 'svg')).stderr).toMatch(/syntax error in line 1 near '--'/);
  });

  it('reports a warning on otherwise valid DOT, which dotGraph treats as a failure', async () => {
    const text = 'digraph g { a [shape=nosuchshape] }';
    const result = await runDot(text, 'svg');
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(/warning: using box for unknown shape nosuchshape/);
    await expect(dotGraph(text)).rejects.toThrow(/unknown shape/);
  });

  it('accepts what toDot writes', async () => {
    expect(await runDot(toDot(light), 'svg')).toMatchObject({ status: 0, stderr: '' });
  });
});
