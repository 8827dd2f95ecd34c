import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderRegions } from '../../scripts/diagram-regions.js';
import { updateDiagrams } from '../../scripts/diagrams.js';
import { builtinMachines } from '../../src/viz/builtin-machines.js';

describe('the diagrams in docs/', () => {
  it('are up to date with the machines (else run `npm run diagrams`)', async () => {
    const report = await updateDiagrams({ check: true });
    expect(report.stale, 'run `npm run diagrams`').toEqual([]);
  });

  it('show every built-in machine on docs/statecharts.md, and the breaker, supervisor and stage on their own pages', async () => {
    const { regions } = await updateDiagrams({ check: true });
    const onStatecharts = regions.filter((region) => region.file === 'statecharts.md').map((region) => region.machine);
    expect(onStatecharts).toEqual(builtinMachines.map((builtin) => builtin.name));
    expect(regions).toEqual(
      expect.arrayContaining([
        { file: 'circuit-breaker.md', machine: 'circuit-breaker' },
        { file: 'supervision.md', machine: 'supervisor' },
        { file: 'pipeline.md', machine: 'stage' },
      ]),
    );
  });
});

describe('npm run diagrams', () => {
  const page = ['# Page', '', '<!-- diagram:stage -->', '```mermaid', 'stale', '```', '<!-- /diagram:stage -->', 'after', ''].join('\n');

  it('reports a stale page in check mode without writing it, and rewrites it otherwise', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'steadfast-diagrams-'));
    try {
      await writeFile(join(dir, 'page.md'), page);
      await writeFile(join(dir, 'notes.txt'), '<!-- diagram:nope -->');
      expect(await updateDiagrams({ docsDir: dir, check: true })).toEqual({ stale: ['page.md'], regions: [{ file: 'page.md', machine: 'stage' }] });
      expect(await readFile(join(dir, 'page.md'), 'utf8')).toBe(page);
      expect((await updateDiagrams({ docsDir: dir, check: false })).stale).toEqual(['page.md']);
      const written = await readFile(join(dir, 'page.md'), 'utf8');
      expect(written).toMatch(/^# Page\n\n<!-- diagram:stage -->\n```mermaid\nstateDiagram-v2\n[\s\S]*\n```\n<!-- \/diagram:stage -->\nafter\n$/);
      expect((await updateDiagrams({ docsDir: dir, check: true })).stale).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fails on a region naming no built-in machine', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'steadfast-diagrams-'));
    try {
      await writeFile(join(dir, 'page.md'), page.replaceAll('diagram:stage', 'diagram:nope'));
      await expect(updateDiagrams({ docsDir: dir, check: true })).rejects.toThrow('page.md: no built-in machine "nope" (built-in: stage, circuit-breaker');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('diagram regions', () => {
  const draw = (machine: string) => `stateDiagram-v2\n  ${machine}\n`;

  it('replace what is between the markers, and keep the rest', () => {
    const text = 'a\n<!-- diagram:x -->\nold\n<!-- /diagram:x -->\nb\n<!-- diagram:y -->\n<!-- /diagram:y -->';
    expect(renderRegions(text, draw)).toEqual({
      text: 'a\n<!-- diagram:x -->\n```mermaid\nstateDiagram-v2\n  x\n```\n<!-- /diagram:x -->\nb\n<!-- diagram:y -->\n```mermaid\nstateDiagram-v2\n  y\n```\n<!-- /diagram:y -->',
      machines: ['x', 'y'],
    });
  });

  it('refuse a region never closed, closed by another name, nested, or a stray close', () => {
    expect(() => renderRegions('<!-- diagram:x -->\nold', draw, 'p.md')).toThrow('p.md:1: the region of "x" is never closed');
    expect(() => renderRegions('<!-- diagram:x -->\n<!-- /diagram:y -->', draw, 'p.md')).toThrow('p.md:2: "<!-- /diagram:y -->" closes the region of "x" (line 1)');
    expect(() => renderRegions('<!-- diagram:x -->\n<!-- diagram:y -->', draw, 'p.md')).toThrow('p.md:2: a region opens inside the region of line 1');
    expect(() => renderRegions('<!-- /diagram:x -->', draw, 'p.md')).toThrow('p.md:1: "<!-- /diagram:x -->" closes no region');
  });
});
