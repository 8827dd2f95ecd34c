import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { AnyStateMachine } from 'xstate';
import { circuitBreakerMachine } from '../../machines/circuit-breaker.machine.js';
import { stageMachine } from '../../machines/stage.machine.js';
import { builtinMachines } from '../../src/viz/builtin-machines.js';
import { toDot } from '../../src/viz/to-dot.js';
import { toMermaid } from '../../src/viz/to-mermaid.js';
import { cli } from './capture-io.js';
import { ticketMachine } from './fixtures/ticket.machine.js';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
// A plain .mjs module, as users write them: imported by URL, since it has no type declarations.
const { orderMachine } = (await import(new URL('./fixtures/order-machine.mjs', import.meta.url).href)) as { orderMachine: AnyStateMachine };

const steadfast = cli;

/** A usage error: exit 2, nothing on stdout, exactly one line on stderr. */
async function expectUsageError(argv: string[], problem: string): Promise<void> {
  expect(await steadfast(...argv)).toEqual({ code: 2, stdout: '', stderr: `steadfast: ${problem}; see \`steadfast viz --help\`\n` });
}

describe('steadfast viz', () => {
  it('lists the built-in machines when given none', async () => {
    const result = await steadfast('viz');
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    const names = result.stdout.trimEnd().split('\n').map((line) => line.split(/\s+/)[0]);
    expect(names).toEqual(builtinMachines.map((builtin) => builtin.name));
  });

  it('prints a built-in machine as Mermaid by default', async () => {
    expect(await steadfast('viz', 'circuit-breaker')).toEqual({ code: 0, stdout: toMermaid(circuitBreakerMachine), stderr: '' });
    expect(await steadfast('viz', 'circuit-breaker', '--format', 'mermaid')).toEqual({ code: 0, stdout: toMermaid(circuitBreakerMachine), stderr: '' });
  });

  it('prints DOT with --format dot or --format=dot', async () => {
    expect(await steadfast('viz', 'stage', '--format', 'dot')).toEqual({ code: 0, stdout: toDot(stageMachine), stderr: '' });
    expect(await steadfast('viz', '--format=dot', 'stage')).toEqual({ code: 0, stdout: toDot(stageMachine), stderr: '' });
  });

  it('is listed in the CLI help and has its own', async () => {
    expect((await steadfast('--help')).stdout).toContain('viz [machine]');
    const help = await steadfast('viz', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: steadfast viz \[machine\] \[--format mermaid\|dot\]/);
  });

  it('exits 2 with one line for an unknown machine or format', async () => {
    await expectUsageError(['viz', 'toaster'], 'unknown machine "toaster" (built-in: stage, circuit-breaker, supervisor, checkpoint)');
    await expectUsageError(['viz', 'stage', '--format', 'svg'], 'unknown format "svg" (mermaid or dot)');
    await expectUsageError(['viz', 'stage', '--format'], '--format needs a value: mermaid or dot');
  });

  it('exits 2 with one line for arguments that do not fit together', async () => {
    await expectUsageError(['viz', 'stage', 'supervisor'], 'unexpected argument "supervisor"');
    await expectUsageError(['viz', '--colour'], 'unknown option "--colour"');
    await expectUsageError(['viz', '--export', 'orderMachine'], '--export needs --module');
    await expectUsageError(['viz', '--module'], '--module needs a value');
    await expectUsageError(['viz', 'stage', '--module', fixture('order-machine.mjs')], 'give a built-in machine or --module, not both (got "stage")');
  });

  it('draws the machine a module exports, by name or by default', async () => {
    const expected = { code: 0, stdout: toMermaid(orderMachine), stderr: '' };
    expect(await steadfast('viz', '--module', fixture('order-machine.mjs'), '--export', 'orderMachine')).toEqual(expected);
    expect(await steadfast('viz', '--module', fixture('order-machine.mjs'))).toEqual(expected);
    expect(await steadfast('viz', '--module', fixture('order-machine.mjs'), '--format', 'dot')).toEqual({ code: 0, stdout: toDot(orderMachine), stderr: '' });
  });

  it('resolves the module path from the current directory', async () => {
    const path = relative(process.cwd(), fixture('order-machine.mjs'));
    expect(path.startsWith('/')).toBe(false);
    expect((await steadfast('viz', '--module', path)).stdout).toBe(toMermaid(orderMachine));
  });

  it('imports a TypeScript module when TypeScript can be loaded (here, under vitest)', async () => {
    expect(await steadfast('viz', '--module', fixture('ticket.machine.ts'), '--export', 'ticketMachine')).toEqual({
      code: 0,
      stdout: toMermaid(ticketMachine),
      stderr: '',
    });
  });

  it('exits 1 with one line when the export is missing or not a machine', async () => {
    const path = fixture('order-machine.mjs');
    expect(await steadfast('viz', '--module', path, '--export', 'orders')).toEqual({
      code: 1,
      stdout: '',
      stderr: `steadfast: module "${path}" has no export "orders" (exports: default, notAMachine, orderMachine)\n`,
    });
    expect(await steadfast('viz', '--module', path, '--export', 'notAMachine')).toEqual({
      code: 1,
      stdout: '',
      stderr: `steadfast: export "notAMachine" of "${path}" is not an XState v5 machine (createMachine or setup().createMachine)\n`,
    });
  });

  it('exits 1 with one line, no stack, when the module cannot be loaded', async () => {
    const missing = await steadfast('viz', '--module', 'no/such/module.mjs');
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toMatch(/^steadfast: cannot load module "no\/such\/module\.mjs": .*module\.mjs.*\n$/);
    expect(missing.stderr.split('\n')).toHaveLength(2);

    const throwing = await steadfast('viz', '--module', fixture('throws-on-import.mjs'));
    expect(throwing).toEqual({
      code: 1,
      stdout: '',
      stderr: `steadfast: cannot load module "${fixture('throws-on-import.mjs')}": cannot reach the config server\n`,
    });
  });

  it('adds the stack of a module that fails to load with --verbose', async () => {
    const result = await steadfast('viz', '--verbose', '--module', fixture('throws-on-import.mjs'));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('cannot reach the config server');
    expect(result.stderr).toMatch(/\n\s+at /);
  });
});
