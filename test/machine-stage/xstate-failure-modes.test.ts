// One test per XState persistence failure of issue 13: each first asserts what plain XState
// (5.33, the production build a `node` program loads) does, so that the test notices when XState
// fixes it, then shows the same machine through steadfast.
import { afterEach, describe, expect, it } from 'vitest';
import * as xstate from 'xstate';
import { assign, createActor, fromPromise, setup, spawnChild, type AnyActorRef } from 'xstate';
import { actorClock } from '../../src/core/clock.js';
import { jsonCodec } from '../../src/checkpoint/codec.js';
import { SimulatedClock } from '../../src/core/simulated-clock.js';
import { assertRestorableLogic } from '../../src/machine-stage/restorable-logic.js';
import { persistActorTree } from '../../src/machine-stage/persist-actor-tree.js';
import { restoreActorTree } from '../../src/machine-stage/restore-actor-tree.js';
import { invocationId } from '../../src/machine-stage/tree-tracker.js';
import type { PersistedActorTree } from '../../src/machine-stage/persisted-actor-tree.js';
import { jsonRoundTrip, plainXState } from './plain-xstate.js';

const running: AnyActorRef[] = [];
function track<T extends AnyActorRef>(actor: T): T {
  running.push(actor);
  return actor;
}
afterEach(() => {
  for (const actor of running.splice(0)) actor.stop();
});

/** Through the json codec, as a checkpoint store keeps it. */
function throughCodec(tree: PersistedActorTree): PersistedActorTree {
  return jsonCodec.decode(jsonCodec.encode(tree)) as PersistedActorTree;
}

describe('statelyai/xstate#5331: a delayed event is lost on restore and the machine is stuck', () => {
  const timer = (x: typeof plainXState) =>
    x.setup({}).createMachine({ id: 'timer', initial: 'waiting', states: { waiting: { after: { 1000: 'done' } }, done: {} } });

  it('plain XState: restored during the delay, it never leaves the state', async () => {
    const clock = new SimulatedClock();
    const machine = timer(plainXState);
    const actor = plainXState.createActor(machine, { clock: actorClock(clock)! }).start();
    await clock.advance(400);
    expect(Object.keys((actor.system as unknown as { getSnapshot(): { _scheduledEvents: object } }).getSnapshot()._scheduledEvents)).toHaveLength(1);
    const persisted = jsonRoundTrip(actor.getPersistedSnapshot());
    actor.stop();
    expect(JSON.stringify(persisted)).not.toContain('xstate.after');
    const restored = track(plainXState.createActor(machine, { snapshot: persisted, clock: actorClock(clock)! }).start());
    await clock.advance(60_000);
    expect(restored.getSnapshot().value).toBe('waiting');
  });

  it('steadfast: the pending event is in the persisted tree and fires at its deadline', async () => {
    const clock = new SimulatedClock();
    const machine = timer(xstate);
    const actor = restoreActorTree(machine, undefined, { clock }).start();
    await clock.advance(400);
    const tree = throughCodec(persistActorTree(actor));
    actor.stop();
    expect(tree.delayed).toEqual([expect.objectContaining({ event: { type: 'xstate.after.1000.timer.waiting' }, delay: 1000, remaining: 600, deadline: clock.now() + 600 })]);
    const restored = track(restoreActorTree(machine, tree, { clock }).start());
    await clock.advance(599);
    expect(restored.getSnapshot().value).toBe('waiting');
    await clock.advance(1);
    expect(restored.getSnapshot().value).toBe('done');
  });
});

// Children spawned with inline logic (`spawn(childMachine)`): what users write, and what both issues are about.
const counterLogic = (x: typeof plainXState) =>
  x.setup({}).createMachine({ context: { n: 0 }, on: { tick: { actions: x.assign({ n: ({ context }) => context.n + 1 }) } } });
const inlineParent = (x: typeof plainXState) => {
  const child = counterLogic(x);
  return x.setup({}).createMachine({
    context: { kids: [] as unknown[] },
    on: { add: { actions: x.assign({ kids: ({ context, spawn, event }) => [...context.kids, (spawn as InlineSpawn)(child, { id: (event as unknown as { id: string }).id, systemId: (event as unknown as { id: string }).id })] }) } },
  });
};
type InlineSpawn = (logic: unknown, options: { id: string; systemId: string }) => unknown;
const keyedParent = setup({ actors: { counter: counterLogic(xstate) } }).createMachine({
  context: { kids: [] as unknown[] },
  on: { add: { actions: assign({ kids: ({ context, spawn, event }) => [...context.kids, spawn('counter', { id: (event as unknown as { id: string }).id, systemId: (event as unknown as { id: string }).id })] }) } },
});

describe('statelyai/xstate#5077: after a JSON round trip the restored actor cannot be persisted again', () => {
  it('plain XState: restoring from the same object works, from JSON the next persist throws', () => {
    const machine = inlineParent(plainXState);
    const actor = track(plainXState.createActor(machine).start());
    actor.send({ type: 'add', id: 'k1' } as never);
    const persisted = actor.getPersistedSnapshot();
    expect(() => track(plainXState.createActor(machine, { snapshot: persisted }).start()).getPersistedSnapshot()).not.toThrow();
    const fromJson = track(plainXState.createActor(machine, { snapshot: jsonRoundTrip(actor.getPersistedSnapshot()) }).start());
    expect(() => fromJson.getPersistedSnapshot()).toThrow(/getPersistedSnapshot is not a function/);
  });

  it('steadfast: refuses the inline child when persisting, and round-trips the same machine by key any number of times', () => {
    const inline = track(restoreActorTree(inlineParent(plainXState), undefined).start());
    inline.send({ type: 'add', id: 'k1' } as never);
    expect(() => persistActorTree(inline)).toThrow(expect.objectContaining({ code: 'MACHINE_NOT_PERSISTABLE', path: 'root/k1' }));

    let actor = track(restoreActorTree(keyedParent, undefined).start());
    actor.send({ type: 'add', id: 'k1' } as never);
    for (let cycle = 1; cycle <= 3; cycle++) {
      actor.system.get('k1').send({ type: 'tick' });
      const tree = jsonRoundTrip(persistActorTree(actor));
      actor.stop();
      actor = track(restoreActorTree(keyedParent, throughCodec(tree)).start());
      expect(actor.system.get('k1').getSnapshot().context).toEqual({ n: cycle });
    }
    expect(() => persistActorTree(actor)).not.toThrow();
  });
});

describe('statelyai/xstate#4873: system.get(id) after a JSON round trip fails with "this.logic.transition is not a function"', () => {
  it('plain XState: the restored child cannot take an event', () => {
    const machine = inlineParent(plainXState);
    const actor = plainXState.createActor(machine).start();
    actor.send({ type: 'add', id: 'k1' } as never);
    const persisted = jsonRoundTrip(actor.getPersistedSnapshot());
    actor.stop();
    const errors: unknown[] = [];
    const restored = track(plainXState.createActor(machine, { snapshot: persisted }));
    restored.subscribe({ error: (error) => errors.push(error) });
    restored.start();
    restored.system.get('k1').send({ type: 'tick' });
    expect(errors).toEqual([expect.objectContaining({ message: 'this.logic.transition is not a function' })]);
  });

  it('steadfast: the child registered by key answers system.get and takes events after the round trip', () => {
    const actor = track(restoreActorTree(keyedParent, undefined).start());
    actor.send({ type: 'add', id: 'k1' } as never);
    const tree = throughCodec(jsonRoundTrip(persistActorTree(actor)));
    const restored = track(restoreActorTree(keyedParent, tree));
    const errors: unknown[] = [];
    restored.subscribe({ error: (error) => errors.push(error) });
    restored.start();
    restored.system.get('k1').send({ type: 'tick' });
    expect(errors).toEqual([]);
    expect(restored.system.get('k1').getSnapshot().context).toEqual({ n: 1 });
  });
});

describe('statelyai/xstate#5057 and #4410: inline child logic cannot be persisted', () => {
  const child = counterLogic(xstate);
  it('plain XState: the development build throws on persist; the production build persists what it cannot restore', () => {
    const spawning = setup({}).createMachine({ entry: spawnChild(child, { id: 'worker' } as never) });
    expect(() => track(createActor(spawning).start()).getPersistedSnapshot()).toThrow('An inline child actor cannot be persisted.');
    const machine = inlineParent(plainXState);
    const actor = track(plainXState.createActor(machine).start());
    actor.send({ type: 'add', id: 'k1' } as never);
    const persisted = jsonRoundTrip(actor.getPersistedSnapshot()) as unknown as { children: Record<string, { src: unknown }> };
    expect(typeof persisted.children.k1?.src).toBe('object');
  });

  it('steadfast: refuses an inline spawnChild at definition, naming the child', () => {
    const spawning = setup({}).createMachine({ id: 'jobs', initial: 'on', states: { on: { entry: spawnChild(child, { id: 'worker' } as never) } } });
    expect(() => assertRestorableLogic(spawning)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('state "jobs.on" spawnChild "worker"') }));
    const byKey = setup({ actors: { child } }).createMachine({ id: 'jobs', initial: 'on', states: { on: { entry: spawnChild('child', { id: 'worker' }) } } });
    expect(() => assertRestorableLogic(byKey)).not.toThrow();
  });

  it('steadfast: refuses a key that setup({ actors }) does not have, and a persisted tree whose child logic was inline', () => {
    const missing = setup({}).createMachine({ id: 'm', invoke: { src: 'nowhere', id: 'w' } as never });
    expect(() => assertRestorableLogic(missing)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('invoke "w"') }));
    const machine = inlineParent(plainXState);
    const actor = track(plainXState.createActor(machine).start());
    actor.send({ type: 'add', id: 'k1' } as never);
    const forged = { format: 1, root: jsonRoundTrip(actor.getPersistedSnapshot()), delayed: [], invocations: [], invocationSeq: 0, actors: 2, persistedAt: 0 } as PersistedActorTree;
    expect(() => restoreActorTree(machine, forged)).toThrow(expect.objectContaining({ code: 'MACHINE_RESTORE_FAILED', path: 'root/k1' }));
  });
});

describe('statelyai/xstate#1476: on rehydration entry actions must not repeat and invoked promises must run again', () => {
  const build = (x: typeof plainXState, log: { entries: number; calls: Array<{ sessionId: string; selfId: string; key: string | undefined }> }) =>
    x.setup({
      actors: {
        charge: x.fromPromise(({ self }) => {
          log.calls.push({ sessionId: self.sessionId, selfId: self.id, key: invocationId(self) });
          return new Promise<void>(() => {});
        }),
      },
    }).createMachine({
      id: 'pay',
      initial: 'charging',
      states: {
        charging: { entry: () => void log.entries++, invoke: { src: 'charge', id: 'charge' }, on: { again: { target: 'charging', reenter: true } } },
      },
    });

  it('plain XState: entry does not repeat and the promise runs again, but with no key that is stable across the restore and distinct per invocation', () => {
    const log = { entries: 0, calls: [] as Array<{ sessionId: string; selfId: string; key: string | undefined }> };
    const machine = build(plainXState, log);
    const actor = plainXState.createActor(machine).start();
    const persisted = jsonRoundTrip(actor.getPersistedSnapshot());
    actor.send({ type: 'again' } as never); // a second, different invocation
    actor.stop();
    track(plainXState.createActor(machine, { snapshot: persisted }).start());
    expect(log.entries).toBe(2);
    const [first, second, rerun] = log.calls;
    expect(rerun?.sessionId).not.toBe(first?.sessionId); // not stable across the restore
    expect(second?.selfId).toBe(first?.selfId); // not distinct per invocation
  });

  it('steadfast: entry does not repeat; the unsettled promise runs again with the invocation id it had', () => {
    const log = { entries: 0, calls: [] as Array<{ sessionId: string; selfId: string; key: string | undefined }> };
    const machine = build(xstate, log);
    const actor = restoreActorTree(machine, undefined).start();
    const tree = throughCodec(persistActorTree(actor));
    actor.send({ type: 'again' } as never);
    actor.stop();
    expect(tree.invocations).toEqual([{ invocationId: 'charge#1', path: ['charge'], src: 'charge' }]);
    track(restoreActorTree(machine, jsonRoundTrip(tree)).start());
    expect(log.entries).toBe(2);
    expect(log.calls.map((call) => call.key)).toEqual(['charge#1', 'charge#2', 'charge#1']);
  });
});

describe('promises restored through steadfast', () => {
  it('a promise that settled before the persist does not run again', async () => {
    let calls = 0;
    const machine = setup({ actors: { work: fromPromise(async () => ++calls) } }).createMachine({
      initial: 'busy',
      states: { busy: { invoke: { src: 'work', onDone: 'idle' } }, idle: { on: { go: 'busy' } } },
    });
    const actor = restoreActorTree(machine, undefined).start();
    await Promise.resolve();
    await Promise.resolve();
    expect(actor.getSnapshot().value).toBe('idle');
    const tree = persistActorTree(actor);
    actor.stop();
    expect(tree.invocations).toEqual([]);
    track(restoreActorTree(machine, jsonRoundTrip(tree)).start());
    expect(calls).toBe(1);
  });
});
