import { afterEach, describe, expect, it } from 'vitest';
import { createActor, fromPromise, fromTransition, setup, type AnyActorRef } from 'xstate';
import { persistActorTree } from '../../src/machine-stage/persist-actor-tree.js';
import { restoreActorTree } from '../../src/machine-stage/restore-actor-tree.js';
import { invocationId } from '../../src/machine-stage/tree-tracker.js';
import type { PersistedActorTree } from '../../src/machine-stage/persisted-actor-tree.js';

const running: AnyActorRef[] = [];
afterEach(() => {
  for (const actor of running.splice(0)) actor.stop();
});

const roundTrip = (tree: PersistedActorTree) => JSON.parse(JSON.stringify(tree)) as PersistedActorTree;

describe('invocation ids', () => {
  // Each `fetch` invocation waits until the test settles it; `retry` starts a new one.
  const pending = new Map<string, () => void>();
  const calls: string[] = [];
  const machine = setup({
    actors: {
      fetch: fromPromise(({ self }) => {
        const key = invocationId(self) as string;
        calls.push(key);
        return new Promise<void>((resolve) => pending.set(key, resolve));
      }),
    },
  }).createMachine({
    initial: 'fetching',
    states: { fetching: { invoke: { src: 'fetch', id: 'fetch', onDone: 'done' } }, done: { on: { retry: 'fetching' } } },
  });

  it('are the same for an unsettled invocation across any number of restores, and new for each new invocation', async () => {
    calls.length = 0;
    let actor = restoreActorTree(machine, undefined).start();
    for (let cycle = 0; cycle < 3; cycle++) {
      const tree = roundTrip(persistActorTree(actor));
      expect(tree.invocations).toEqual([{ invocationId: 'fetch#1', path: ['fetch'], src: 'fetch' }]);
      actor.stop();
      actor = restoreActorTree(machine, tree).start();
    }
    expect(calls).toEqual(['fetch#1', 'fetch#1', 'fetch#1', 'fetch#1']);
    pending.get('fetch#1')?.();
    await Promise.resolve();
    await Promise.resolve();
    expect(actor.getSnapshot().value).toBe('done');
    const settled = roundTrip(persistActorTree(actor));
    expect(settled.invocations).toEqual([]);
    actor.stop();
    actor = restoreActorTree(machine, settled).start();
    running.push(actor);
    actor.send({ type: 'retry' });
    expect(calls.at(-1)).toBe('fetch#2');
  });

  it('are undefined for actors XState made alone, and for machine actors', () => {
    let seen: string | undefined = 'unset';
    const probe = setup({ actors: { p: fromPromise(async ({ self }) => void (seen = invocationId(self))) } }).createMachine({ invoke: { src: 'p' } });
    const actor = createActor(probe).start();
    running.push(actor);
    expect(seen).toBeUndefined();
    const tracked = restoreActorTree(probe, undefined).start();
    running.push(tracked);
    expect(invocationId(tracked)).toBeUndefined();
  });

  it('lists only actors with effects as pending invocations, not a pure fromTransition actor', () => {
    const both = setup({
      actors: { counter: fromTransition((n: number) => n + 1, 0), wait: fromPromise(() => new Promise<void>(() => {})) },
    }).createMachine({ invoke: [{ src: 'counter', id: 'counter' }, { src: 'wait', id: 'wait' }] });
    const actor = restoreActorTree(both, undefined).start();
    running.push(actor);
    expect(persistActorTree(actor).invocations.map((pending) => pending.path)).toEqual([['wait']]);
  });
});
