import { describe, expect, it } from 'vitest';
import { expectConfigError } from './helpers/config-error.js';
import type { ConfigError } from '../src/core/errors.js';
import { defineStage, isStage, type StageOptions } from '../src/stage.js';

const pass = (event: unknown, state: unknown): { state: unknown; emit: unknown[] } => ({ state, emit: [event] });

/** defineStage over options the type system would refuse, as JavaScript callers can pass them. */
function define(options: unknown): ReturnType<typeof defineStage<unknown, unknown, unknown>> {
  return defineStage(options as StageOptions<unknown, unknown, unknown>);
}

/** Defines a stage from `options` and checks the ConfigError it must throw. */
function expectRejected(options: unknown, field: string, value: unknown, shown: string): ConfigError {
  return expectConfigError(() => define(options), field, value, shown);
}

describe('defineStage', () => {
  it('returns a frozen stage with the given name, function and limits', () => {
    const stage = defineStage({ name: 'enrich', process: pass, mailbox: 64, maxBatch: 16, targetBatchMs: 5 });
    expect(isStage(stage)).toBe(true);
    expect(stage.kind).toBe('stage');
    expect(stage.name).toBe('enrich');
    expect(stage.process).toBe(pass);
    expect(stage.processBatch).toBeUndefined();
    expect(stage.mailbox).toBe(64);
    expect(stage.maxBatch).toBe(16);
    expect(stage.targetBatchMs).toBe(5);
    expect(Object.isFrozen(stage)).toBe(true);
  });

  it('leaves limits undefined when not given, for the pipeline mode to fill in', () => {
    const stage = defineStage({ name: 'batch', processBatch: (events: readonly number[]) => ({ state: undefined, emit: events }) });
    expect(stage.process).toBeUndefined();
    expect(typeof stage.processBatch).toBe('function');
    expect(stage.mailbox).toBeUndefined();
    expect(stage.maxBatch).toBeUndefined();
    expect(stage.targetBatchMs).toBeUndefined();
  });

  it('rejects options that are not an object', () => {
    expectRejected(null, 'stage options', null, 'null');
    expectRejected('enrich', 'stage options', 'enrich', '"enrich"');
    const list = [pass];
    expectRejected(list, 'stage options', list, 'array(1)');
  });

  it('rejects a missing name', () => {
    expectRejected({ process: pass }, 'stage.name', undefined, 'undefined');
  });

  it('rejects a name that is not usable in keys and metrics, naming it', () => {
    expectRejected({ name: 'my stage', process: pass }, 'stage.name', 'my stage', '"my stage"');
    expectRejected({ name: '', process: pass }, 'stage.name', '', '""');
    expectRejected({ name: 'a!b', process: pass }, 'stage.name', 'a!b', '"a!b"');
    expectRejected({ name: 42, process: pass }, 'stage.name', 42, '42');
  });

  it('rejects giving both process and processBatch', () => {
    const error = expectRejected({ name: 's', process: pass, processBatch: pass }, 'stage "s".process', pass, 'function pass');
    expect(error.message).toContain('exactly one of process and processBatch');
  });

  it('rejects giving neither process nor processBatch', () => {
    const error = expectRejected({ name: 's' }, 'stage "s".process', undefined, 'undefined');
    expect(error.message).toContain('exactly one of process and processBatch');
  });

  it('rejects a process or processBatch that is not a function', () => {
    expectRejected({ name: 's', process: 'run' }, 'stage "s".process', 'run', '"run"');
    const notAFunction = { run: true };
    expectRejected({ name: 's', processBatch: notAFunction }, 'stage "s".processBatch', notAFunction, '{"run":true}');
  });

  it('rejects a mailbox that is not a positive integer, naming the value', () => {
    expectRejected({ name: 's', process: pass, mailbox: 1.5 }, 'stage "s".mailbox', 1.5, '1.5');
    expectRejected({ name: 's', process: pass, mailbox: 0 }, 'stage "s".mailbox', 0, '0');
    expectRejected({ name: 's', process: pass, mailbox: '64' }, 'stage "s".mailbox', '64', '"64"');
    expectRejected({ name: 's', process: pass, mailbox: Number.NaN }, 'stage "s".mailbox', Number.NaN, 'NaN');
  });

  it('rejects a maxBatch that is not a positive integer', () => {
    expectRejected({ name: 's', process: pass, maxBatch: -1 }, 'stage "s".maxBatch', -1, '-1');
    expectRejected({ name: 's', process: pass, maxBatch: 2.5 }, 'stage "s".maxBatch', 2.5, '2.5');
  });

  it('rejects a maxBatch larger than the mailbox, and accepts an equal one', () => {
    const error = expectRejected({ name: 's', process: pass, mailbox: 8, maxBatch: 9 }, 'stage "s".maxBatch', 9, '9');
    expect(error.message).toContain('mailbox (8)');
    expect(defineStage({ name: 's', process: pass, mailbox: 8, maxBatch: 8 }).maxBatch).toBe(8);
  });

  it('rejects a targetBatchMs that is not a finite number above 0', () => {
    expectRejected({ name: 's', process: pass, targetBatchMs: 0 }, 'stage "s".targetBatchMs', 0, '0');
    expectRejected({ name: 's', process: pass, targetBatchMs: Number.POSITIVE_INFINITY }, 'stage "s".targetBatchMs', Number.POSITIVE_INFINITY, 'Infinity');
  });

  it('rejects an unknown option key (a typo), naming the key and its value', () => {
    const error = expectRejected({ name: 's', process: pass, maxBacth: 64 }, 'stage.maxBacth', 64, '64');
    expect(error.message).toContain('is not a known option');
    expect(error.message).toContain('maxBatch');
  });

  it('gives each call of initialState() its own deep copy of an initial value', () => {
    const initial = { seen: 0, ids: ['a'], nested: { at: new Date(0) } };
    const stage = defineStage({
      name: 'count',
      initialState: initial,
      process: (event: unknown, state: typeof initial) => ({ state, emit: [event] }),
    });
    const first = stage.initialState();
    const second = stage.initialState();
    expect(first).toEqual(initial);
    expect(first).not.toBe(initial);
    expect(first).not.toBe(second);
    first.seen = 5;
    first.ids.push('b');
    first.nested.at.setTime(99);
    expect(stage.initialState()).toEqual({ seen: 0, ids: ['a'], nested: { at: new Date(0) } });
    expect(initial).toEqual({ seen: 0, ids: ['a'], nested: { at: new Date(0) } });
    expect(stage.hasState).toBe(true);
  });

  it('takes the initial value as it was when the stage was defined', () => {
    const initial = { seen: 0 };
    const stage = defineStage({ name: 'snap', initialState: initial, process: (e: unknown, s: typeof initial) => ({ state: s, emit: [e] }) });
    initial.seen = 42;
    expect(stage.initialState()).toEqual({ seen: 0 });
  });

  it('calls an initialState function every time a fresh state is needed', () => {
    let calls = 0;
    const stage = defineStage({
      name: 'count',
      initialState: () => {
        calls++;
        return { calls };
      },
      process: pass,
    });
    expect(calls).toBe(0);
    expect(stage.initialState()).toEqual({ calls: 1 });
    expect(stage.initialState()).toEqual({ calls: 2 });
    expect(calls).toBe(2);
    expect(stage.hasState).toBe(true);
  });

  it('returns a primitive initial value as is', () => {
    const stage = defineStage({ name: 'sum', initialState: 0, process: pass });
    expect(stage.initialState()).toBe(0);
    expect(stage.hasState).toBe(true);
  });

  it('has no state when initialState is absent or undefined', () => {
    expect(defineStage({ name: 's', process: pass }).hasState).toBe(false);
    expect(defineStage({ name: 's', process: pass }).initialState()).toBeUndefined();
    expect(defineStage({ name: 's', initialState: undefined, process: pass }).hasState).toBe(false);
  });

  it('rejects an initial value that cannot be cloned, naming the field', () => {
    const initial = { handler: (): number => 1 };
    const error = expectRejected({ name: 's', initialState: initial, process: pass }, 'stage "s".initialState', initial, '{}');
    expect(error.message).toContain('must be a function or a cloneable value');
    const withSymbol = { tag: Symbol('x') };
    expectRejected({ name: 's', initialState: withSymbol, process: pass }, 'stage "s".initialState', withSymbol, '{}');
  });

  it('takes a thread stage with its module, a timeout and resource limits', () => {
    const stage = defineStage({
      name: 'iso',
      process: pass,
      isolation: 'thread',
      module: import.meta.url,
      timeoutMs: 50,
      resourceLimits: { maxOldGenerationSizeMb: 32 },
    });
    expect(stage.isolation).toBe('thread');
    expect(stage.module).toBe(import.meta.url);
    expect(stage.timeoutMs).toBe(50);
    expect(stage.resourceLimits).toEqual({ maxOldGenerationSizeMb: 32 });
    expect(defineStage({ name: 'abs', process: pass, isolation: 'thread', module: '/srv/app/stage.js' }).module).toBe('file:///srv/app/stage.js');
    expect(defineStage({ name: 'plain', process: pass }).isolation).toBe('inline');
  });

  it('rejects isolation options that do not fit together', () => {
    expectRejected({ name: 'x', process: pass, isolation: 'thread' }, 'stage "x".module', undefined, 'undefined');
    expectRejected({ name: 'x', process: pass, isolation: 'thread', module: 'relative/path.js' }, 'stage "x".module', 'relative/path.js', '"relative/path.js"');
    expectRejected({ name: 'x', process: pass, module: import.meta.url }, 'stage "x".module', import.meta.url, JSON.stringify(import.meta.url));
    expectRejected({ name: 'x', process: pass, isolation: 'process' }, 'stage "x".isolation', 'process', '"process"');
    expectRejected({ name: 'x', process: pass, timeoutMs: 0 }, 'stage "x".timeoutMs', 0, '0');
    const limits = { maxOldGenerationSizeMb: 32 };
    expectRejected({ name: 'x', process: pass, resourceLimits: limits }, 'stage "x".resourceLimits', limits, '{"maxOldGenerationSizeMb":32}');
    expectRejected(
      { name: 'x', process: pass, isolation: 'thread', module: import.meta.url, resourceLimits: { maxOldGenerationSizeMb: -1 } },
      'stage "x".resourceLimits.maxOldGenerationSizeMb',
      -1,
      '-1',
    );
  });
});
