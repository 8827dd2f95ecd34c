import { afterEach, describe, expect, it } from 'vitest';
import { assign, sendTo, setup, spawnChild, type AnyActorRef } from 'xstate';
import { jsonCodec } from '../../src/checkpoint/codec.js';
import { SimulatedClock } from '../../src/core/simulated-clock.js';
import { persistActorTree } from '../../src/machine-stage/persist-actor-tree.js';
import { restoreActorTree } from '../../src/machine-stage/restore-actor-tree.js';
import type { PersistedActorTree } from '../../src/machine-stage/persisted-actor-tree.js';

const running: AnyActorRef[] = [];
afterEach(() => {
  for (const actor of running.splice(0)) actor.stop();
});

// Each job spawns a nested step counter and arms a 5 s timeout.
const step = setup({}).createMachine({ context: { steps: 0 }, on: { step: { actions: assign({ steps: ({ context }) => context.steps + 1 }) } } });
const job = setup({ actors: { step } }).createMachine({
  context: ({ input }: { input: { key: string } }) => ({ key: input.key, seen: 0 }),
  entry: spawnChild('step', { id: 'step' }),
  initial: 'open',
  states: {
    open: {
      after: { 5000: 'timedOut' },
      on: { work: { actions: [assign({ seen: ({ context }) => context.seen + 1 }), sendTo('step', { type: 'step' })] } },
    },
    timedOut: {},
  },
});
const jobs = setup({ actors: { job } }).createMachine({
  context: { keys: [] as string[] },
  on: {
    add: {
      actions: [
        assign({ keys: ({ context, event }) => [...context.keys, (event as unknown as { key: string }).key] }),
        spawnChild('job', { id: ({ event }) => (event as unknown as { key: string }).key, input: ({ event }) => ({ key: (event as unknown as { key: string }).key }) }),
      ],
    },
    work: { actions: sendTo(({ event }) => (event as unknown as { key: string }).key, { type: 'work' }) },
  },
});

describe('a tree of 1,000 spawned children with nested children', () => {
  it('round-trips through JSON and the json codec, children, grandchildren and timers included', async () => {
    const clock = new SimulatedClock();
    const actor = restoreActorTree(jobs, undefined, { clock }).start();
    for (let i = 0; i < 1000; i++) {
      actor.send({ type: 'add', key: `job-${i}` } as never);
      if (i % 100 === 99) await clock.advance(100);
    }
    for (let i = 0; i < 1000; i += 7) actor.send({ type: 'work', key: `job-${i}` } as never);
    const tree = persistActorTree(actor);
    actor.stop();
    expect(tree.actors).toBe(2001);
    expect(tree.delayed).toHaveLength(1000);
    const stored = jsonCodec.decode(jsonCodec.encode(JSON.parse(JSON.stringify(tree)))) as PersistedActorTree;
    expect(JSON.stringify(stored)).toBe(JSON.stringify(tree));

    const restored = restoreActorTree(jobs, stored, { clock });
    running.push(restored);
    restored.start();
    const children = restored.getSnapshot().children as Record<string, AnyActorRef>;
    expect(Object.keys(children)).toHaveLength(1000);
    const nested = (key: string) => ((children[key]?.getSnapshot().children as Record<string, AnyActorRef>).step?.getSnapshot().context as { steps: number }).steps;
    expect(nested('job-0')).toBe(1);
    expect(nested('job-1')).toBe(0);
    expect(nested('job-994')).toBe(1);
    expect(children['job-500']?.getSnapshot().context).toEqual({ key: 'job-500', seen: 0 });
    // Persisting the restored tree gives the same tree.
    const again = persistActorTree(restored);
    expect(JSON.stringify(again.root)).toBe(JSON.stringify(stored.root));
    expect(again.delayed.map((d) => d.deadline)).toEqual(stored.delayed.map((d) => d.deadline));
    // The first hundred jobs' timeouts were due 5000 ms after they were spawned, the last hundred's 900 ms later.
    await clock.advance(5000 - 1000);
    expect(children['job-0']?.getSnapshot().value).toBe('timedOut');
    expect(children['job-999']?.getSnapshot().value).toBe('open');
    await clock.advance(1000);
    expect(Object.values(children).every((child) => child.getSnapshot().value === 'timedOut')).toBe(true);
  });

  it('finds a nested child by its systemId after a restore', () => {
    const machine = setup({ actors: { step } }).createMachine({ entry: spawnChild('step', { id: 'only', systemId: 'counter' }) });
    const actor = restoreActorTree(machine, undefined).start();
    actor.system.get('counter').send({ type: 'step' });
    const tree = JSON.parse(JSON.stringify(persistActorTree(actor))) as PersistedActorTree;
    actor.stop();
    const restored = restoreActorTree(machine, tree).start();
    running.push(restored);
    restored.system.get('counter').send({ type: 'step' });
    expect(restored.system.get('counter').getSnapshot().context).toEqual({ steps: 2 });
  });
});
