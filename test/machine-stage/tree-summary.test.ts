import { describe, expect, it } from 'vitest';
import { fromPromise, sendTo, setup, spawnChild } from 'xstate';
import { SimulatedClock } from '../../src/core/simulated-clock.js';
import { restoreActorTree } from '../../src/machine-stage/restore-actor-tree.js';
import { summarizeActorTree } from '../../src/machine-stage/tree-summary.js';

describe('summarizeActorTree', () => {
  it('counts children at any depth, pending delayed events with their due time, and unsettled invocations', async () => {
    let settle = (): void => {};
    const leaf = setup({}).createMachine({});
    const worker = setup({ actors: { leaf, call: fromPromise(() => new Promise<void>((resolve) => (settle = resolve))) } }).createMachine({
      entry: spawnChild('leaf', { id: 'leaf' }),
      initial: 'calling',
      states: { calling: { invoke: { src: 'call', id: 'call', onDone: 'idle' } }, idle: {} },
    });
    const machine = setup({ actors: { worker } }).createMachine({
      entry: [spawnChild('worker', { id: 'w1' }), sendTo('w1', { type: 'nudge' }, { delay: 250 })],
      initial: 'waiting',
      states: { waiting: { after: { 1000: 'late' } }, late: {} },
    });
    const clock = new SimulatedClock();
    const actor = restoreActorTree(machine, undefined, { clock }).start();
    const at = clock.now();
    const summary = summarizeActorTree(actor);
    expect(summary).toMatchObject({ status: 'active', value: 'waiting', children: 3, invocations: 1 });
    expect(summary.delayed).toEqual(
      expect.arrayContaining([
        { type: 'nudge', target: 'root/w1', dueAt: at + 250 },
        { type: 'xstate.after.1000.(machine).waiting', target: 'root', dueAt: at + 1000 },
      ]),
    );
    settle();
    await clock.advance(1000);
    expect(summarizeActorTree(actor)).toMatchObject({ value: 'late', delayed: [], invocations: 0 });
    actor.stop();
  });
});
