import { afterEach, describe, expect, it } from 'vitest';
import { assign, cancel as xstateCancel, raise, sendParent, sendTo, setup, spawnChild, type AnyActorRef } from 'xstate';
import { SimulatedClock } from '../../src/core/simulated-clock.js';
import { jsonCodec } from '../../src/checkpoint/codec.js';
import { persistActorTree } from '../../src/machine-stage/persist-actor-tree.js';
import { restoreActorTree } from '../../src/machine-stage/restore-actor-tree.js';
import type { PersistedActorTree, TimerPolicy } from '../../src/machine-stage/persisted-actor-tree.js';

const running: AnyActorRef[] = [];
function track<T extends AnyActorRef>(actor: T): T {
  running.push(actor);
  return actor;
}
afterEach(() => {
  for (const actor of running.splice(0)) actor.stop();
});

function stored(tree: PersistedActorTree): PersistedActorTree {
  return jsonCodec.decode(jsonCodec.encode(JSON.parse(JSON.stringify(tree)))) as PersistedActorTree;
}

/** Timers XState has scheduled in a system. */
function scheduledIn(actor: AnyActorRef): number {
  return Object.keys((actor.system as unknown as { getSnapshot(): { _scheduledEvents: object } }).getSnapshot()._scheduledEvents).length;
}

const oneShot = setup({}).createMachine({ id: 'shot', initial: 'waiting', states: { waiting: { after: { 1000: 'fired' } }, fired: {} } });

describe('timer policies on restore', () => {
  // Persisted 400 ms into a 1000 ms delay; restored 300 ms later on a fresh clock.
  async function firesAfter(policy: TimerPolicy): Promise<number> {
    const clock = new SimulatedClock();
    const actor = restoreActorTree(oneShot, undefined, { clock }).start();
    await clock.advance(400);
    const tree = stored(persistActorTree(actor));
    actor.stop();
    await clock.advance(300);
    const restored = track(restoreActorTree(oneShot, tree, { clock, timers: policy }).start());
    const from = clock.now();
    while (restored.getSnapshot().value === 'waiting') {
      if (clock.now() - from > 5_000) throw new Error('never fired');
      await clock.advance(1);
    }
    return clock.now() - from;
  }

  it("'deadline' fires at the original deadline", async () => {
    expect(await firesAfter('deadline')).toBe(300);
  });

  it("'remaining' fires after the time that was left when persisted", async () => {
    expect(await firesAfter('remaining')).toBe(600);
  });

  it("'restart' fires after the full delay again", async () => {
    expect(await firesAfter('restart')).toBe(1000);
  });

  it("'deadline' fires at once (on the next turn, not during start) when the deadline has passed", async () => {
    const clock = new SimulatedClock();
    const actor = restoreActorTree(oneShot, undefined, { clock }).start();
    const tree = stored(persistActorTree(actor));
    actor.stop();
    await clock.advance(5_000);
    const restored = track(restoreActorTree(oneShot, tree, { clock }).start());
    expect(restored.getSnapshot().value).toBe('waiting');
    await clock.advance(0);
    expect(restored.getSnapshot().value).toBe('fired');
  });

  it('measures deadlines against `now` when given', async () => {
    const clock = new SimulatedClock();
    const actor = restoreActorTree(oneShot, undefined, { clock }).start();
    const tree = stored(persistActorTree(actor));
    actor.stop();
    const restored = track(restoreActorTree(oneShot, tree, { clock, now: clock.now() + 900 }).start());
    await clock.advance(99);
    expect(restored.getSnapshot().value).toBe('waiting');
    await clock.advance(1);
    expect(restored.getSnapshot().value).toBe('fired');
  });

  it("keeps the full delay across restores, so 'restart' after a 'remaining' restore waits the full delay again", async () => {
    const clock = new SimulatedClock();
    const actor = restoreActorTree(oneShot, undefined, { clock }).start();
    await clock.advance(900);
    const first = stored(persistActorTree(actor));
    actor.stop();
    const again = restoreActorTree(oneShot, first, { clock, timers: 'remaining' }).start();
    const second = stored(persistActorTree(again));
    again.stop();
    expect(second.delayed).toEqual([expect.objectContaining({ delay: 1000, remaining: 100 })]);
    const restarted = track(restoreActorTree(oneShot, second, { clock, timers: 'restart' }).start());
    await clock.advance(999);
    expect(restarted.getSnapshot().value).toBe('waiting');
    await clock.advance(1);
    expect(restarted.getSnapshot().value).toBe('fired');
  });

  it('a restored delayed event can still be cancelled by its id', async () => {
    const machine = setup({}).createMachine({
      initial: 'armed',
      context: { pinged: 0 },
      states: {
        armed: {
          entry: raise({ type: 'ping' }, { delay: 1000, id: 'ping' }),
          on: { ping: { actions: assign({ pinged: ({ context }) => context.pinged + 1 }) }, disarm: 'idle' },
          exit: xstateCancel('ping'),
        },
        idle: {},
      },
    });
    const clock = new SimulatedClock();
    const actor = restoreActorTree(machine, undefined, { clock }).start();
    const tree = stored(persistActorTree(actor));
    actor.stop();
    const restored = track(restoreActorTree(machine, tree, { clock }).start());
    restored.send({ type: 'disarm' });
    await clock.advance(2_000);
    expect(restored.getSnapshot().context.pinged).toBe(0);
    expect(clock.pending).toBe(0);
  });
});

// A parent ticking every 1000 ms; at each tick it sends each of its spawned children a ping
// delayed by 700 ms; each child answers its parent 250 ms after a ping.
const pinger = setup({}).createMachine({
  id: 'pinger',
  context: { pings: 0 },
  on: {
    ping: { actions: [assign({ pings: ({ context }) => context.pings + 1 }), sendParent({ type: 'pong' }, { delay: 250 })] },
  },
});
const ticker = setup({ actors: { pinger } }).createMachine({
  id: 'ticker',
  context: { ticks: 0, pongs: 0 },
  entry: [spawnChild('pinger', { id: 'p1', systemId: 'p1' }), spawnChild('pinger', { id: 'p2' })],
  initial: 'running',
  states: {
    running: {
      after: {
        1000: {
          target: 'running',
          reenter: true,
          actions: [assign({ ticks: ({ context }) => context.ticks + 1 }), sendTo('p1', { type: 'ping' }, { delay: 700 }), sendTo('p2', { type: 'ping' }, { delay: 700 })],
        },
      },
    },
  },
  on: { pong: { actions: assign({ pongs: ({ context }) => context.pongs + 1 }) } },
});

function counts(actor: AnyActorRef): { ticks: number; pongs: number; p1: number; p2: number } {
  const { ticks, pongs } = actor.getSnapshot().context as { ticks: number; pongs: number };
  const children = actor.getSnapshot().children as Record<string, AnyActorRef>;
  const pings = (id: string) => (children[id]?.getSnapshot().context as { pings: number }).pings;
  return { ticks, pongs, p1: pings('p1'), p2: pings('p2') };
}

describe('each delayed event is handled exactly once across restores', () => {
  it("matches an uninterrupted run after 40 persist/restore cycles ('deadline')", async () => {
    const reference = new SimulatedClock();
    const plain = track(restoreActorTree(ticker, undefined, { clock: reference }).start());
    await reference.advance(10_000);
    const expected = counts(plain);
    expect(expected).toEqual({ ticks: 10, pongs: 18, p1: 9, p2: 9 });

    const clock = new SimulatedClock();
    let actor = restoreActorTree(ticker, undefined, { clock }).start();
    const steps = [130, 370, 999, 1, 0, 500, 250, 700, 1000, 33];
    let elapsed = 0;
    for (let cycle = 0; cycle < 40 && elapsed < 10_000; cycle++) {
      const step = Math.min(steps[cycle % steps.length] as number, 10_000 - elapsed);
      await clock.advance(step);
      elapsed += step;
      const tree = stored(persistActorTree(actor));
      actor.stop();
      actor = restoreActorTree(ticker, tree, { clock }).start();
      // No timer twice: the clock holds exactly the restored system's timers.
      expect(clock.pending).toBe(scheduledIn(actor));
    }
    await clock.advance(10_000 - elapsed);
    track(actor);
    expect(counts(actor)).toEqual(expected);
  });

  it.each(['remaining', 'restart'] as const)("handles each pending event once under '%s', however often it is restored before it fires", async (policy) => {
    const machine = setup({}).createMachine({
      initial: 'a',
      context: { pings: 0 },
      states: { a: { entry: raise({ type: 'ping' }, { delay: 1000 }), after: { 1500: 'b' } }, b: {} },
      on: { ping: { actions: assign({ pings: ({ context }) => context.pings + 1 }) } },
    });
    const clock = new SimulatedClock();
    let actor = restoreActorTree(machine, undefined, { clock }).start();
    for (let cycle = 0; cycle < 25; cycle++) {
      await clock.advance(10);
      const tree = stored(persistActorTree(actor));
      expect(tree.delayed).toHaveLength(2);
      actor.stop();
      actor = restoreActorTree(machine, tree, { clock, timers: policy }).start();
    }
    await clock.advance(5_000);
    track(actor);
    expect(actor.getSnapshot().value).toBe('b');
    expect(actor.getSnapshot().context.pings).toBe(1);
    expect(clock.pending).toBe(0);
  });
});
