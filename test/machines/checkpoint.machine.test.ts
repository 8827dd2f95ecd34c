import { describe, expect, it } from 'vitest';
import { createActor, fromPromise, initialTransition, transition, type SnapshotFrom } from 'xstate';
import { getShortestPaths } from 'xstate/graph';
import {
  checkpointMachine,
  type CheckpointEmitted,
  type CheckpointMachineEvent,
  type CheckpointMachineInput,
  type CheckpointWriteOutput,
  type CheckpointWriteRequest,
} from '../../machines/checkpoint.machine.js';
import { isSteadfastError } from '../../src/core/errors.js';
import { settle } from '../helpers/leaks.js';

const input = { pipeline: 'orders', stage: 'enrich' };
const receipt = (version: number): CheckpointWriteOutput => ({ key: `ckpt!orders!enrich!${version}`, bytes: 10 * version, checksum: 'cbf29ce484222325', ms: 2 });

interface PendingWrite {
  request: CheckpointWriteRequest;
  resolve(output: CheckpointWriteOutput): void;
  reject(error: unknown): void;
}

/** A checkpoint actor whose `open` and writes finish only when the test says so. */
function harness() {
  let openDone: { resolve(): void; reject(error: unknown): void } | undefined;
  const opened = new Promise<void>((resolve, reject) => (openDone = { resolve, reject }));
  const writes: PendingWrite[] = [];
  const machine = checkpointMachine.provide({
    actors: {
      open: fromPromise<void, CheckpointMachineInput>(() => opened),
      write: fromPromise<CheckpointWriteOutput, CheckpointWriteRequest>(
        ({ input: request }) => new Promise((resolve, reject) => writes.push({ request, resolve, reject })),
      ),
    },
  });
  const actor = createActor(machine, { input });
  const emitted: string[] = [];
  actor.on('*', (e: CheckpointEmitted) => emitted.push(show(e)));
  actor.start();
  return {
    actor,
    emitted,
    /** Versions the write actor was asked to store, in order. */
    started: () => writes.map((w) => w.request.snapshot.version),
    state: () => flat(actor.getSnapshot().value),
    write: (version: number) => actor.send({ type: 'steadfast.checkpoint.write', snapshot: { version }, options: { pruneBelow: version - 2 } }),
    async open() {
      openDone?.resolve();
      await settle();
    },
    async failOpen(error: unknown) {
      openDone?.reject(error);
      await settle();
    },
    /** Finishes the oldest unfinished write. */
    async finish(error?: unknown) {
      const next = writes.find((w) => !('done' in w));
      if (next === undefined) throw new Error('no write in flight');
      Object.assign(next, { done: true });
      if (error === undefined) next.resolve(receipt(next.request.snapshot.version));
      else next.reject(error);
      await settle();
    },
  };
}

function show(e: CheckpointEmitted): string {
  switch (e.type) {
    case 'steadfast.checkpoint.written':
      return `written ${e.version}`;
    case 'steadfast.checkpoint.superseded':
      return `superseded ${e.version} by ${e.by}`;
    case 'steadfast.checkpoint.write_failed':
      return `failed ${e.version}: ${(e.error as Error).message}`;
    case 'steadfast.checkpoint.rejected':
      return `rejected ${e.version} (${e.reason}, latest ${e.latest})`;
    case 'steadfast.checkpoint.open_failed':
      return `open failed: ${(e.error as Error).message}`;
  }
}

function flat(value: unknown): string {
  if (typeof value === 'string') return value;
  const [parent, child] = Object.entries(value as Record<string, unknown>)[0] ?? [];
  return `${parent}.${flat(child)}`;
}

describe('checkpoint machine', () => {
  it('queues writes while the store opens, a newer one superseding the queued one, and writes the newest once open', async () => {
    const h = harness();
    expect(h.state()).toBe('opening.accepting');
    h.write(1);
    h.write(2);
    expect(h.emitted).toEqual(['superseded 1 by 2']);
    expect(h.started()).toEqual([]);
    await h.open();
    expect(h.state()).toBe('writing.accepting');
    expect(h.started()).toEqual([2]);
    await h.finish();
    expect(h.state()).toBe('open');
    expect(h.emitted).toEqual(['superseded 1 by 2', 'written 2']);
  });

  it('goes from open to writing on WRITE, and back once the store confirms, with the receipt and the time', async () => {
    const h = harness();
    const written: CheckpointEmitted[] = [];
    h.actor.on('steadfast.checkpoint.written', (e) => written.push(e));
    await h.open();
    expect(h.state()).toBe('open');
    h.write(1);
    expect(h.state()).toBe('writing.accepting');
    expect(h.actor.getSnapshot().context.inFlight).toEqual({ snapshot: { version: 1 }, options: { pruneBelow: -1 } });
    await h.finish();
    expect(h.state()).toBe('open');
    expect(written).toEqual([{ type: 'steadfast.checkpoint.written', stage: 'enrich', version: 1, ...receipt(1) }]);
    expect(h.actor.getSnapshot().context).toMatchObject({ inFlight: undefined, queued: undefined, lastWritten: 1 });
  });

  it('keeps one write in flight and one queued: a burst coalesces into its newest, written in version order', async () => {
    const h = harness();
    await h.open();
    h.write(1);
    h.write(2);
    h.write(3);
    h.write(4);
    expect(h.started()).toEqual([1]);
    expect(h.actor.getSnapshot().context.queued?.snapshot.version).toBe(4);
    await h.finish();
    expect(h.started()).toEqual([1, 4]);
    expect(h.state()).toBe('writing.accepting');
    await h.finish();
    expect(h.state()).toBe('open');
    expect(h.emitted).toEqual(['superseded 2 by 3', 'superseded 3 by 4', 'written 1', 'written 4']);
  });

  it('rejects a WRITE that is not newer than the last written, in flight or queued version, and says so', async () => {
    const h = harness();
    await h.open();
    h.write(2);
    await h.finish();
    h.write(2);
    h.write(1);
    expect(h.state()).toBe('open');
    h.write(5);
    h.write(5);
    h.write(7);
    h.write(6);
    expect(h.started()).toEqual([2, 5]);
    expect(h.emitted).toEqual(['written 2', 'rejected 2 (stale, latest 2)', 'rejected 1 (stale, latest 2)', 'rejected 5 (stale, latest 5)', 'rejected 6 (stale, latest 7)']);
    await h.finish();
    await h.finish();
    expect(h.actor.getSnapshot().context.lastWritten).toBe(7);
  });

  it('reports a failed write for its snapshot and carries on with the queued one', async () => {
    const h = harness();
    await h.open();
    h.write(1);
    h.write(2);
    await h.finish(new Error('disk full'));
    expect(h.state()).toBe('writing.accepting');
    expect(h.started()).toEqual([1, 2]);
    await h.finish();
    expect(h.emitted).toEqual(['failed 1: disk full', 'written 2']);
    expect(h.actor.getSnapshot().context.lastWritten).toBe(2);
  });

  it('lets the caller retry a failed version: a failure does not count as written', async () => {
    const h = harness();
    await h.open();
    h.write(3);
    await h.finish(new Error('EIO'));
    expect(h.state()).toBe('open');
    expect(h.actor.getSnapshot().context.lastWritten).toBeUndefined();
    h.write(3);
    await h.finish();
    expect(h.emitted).toEqual(['failed 3: EIO', 'written 3']);
  });

  it('on CLOSE while writing, finishes the write in flight and the queued one, refuses new ones, then closes', async () => {
    const h = harness();
    await h.open();
    h.write(1);
    h.write(2);
    h.actor.send({ type: 'steadfast.checkpoint.close' });
    expect(h.state()).toBe('writing.draining');
    h.write(3);
    await h.finish();
    expect(h.state()).toBe('writing.draining');
    expect(h.started()).toEqual([1, 2]);
    await h.finish(new Error('late failure'));
    expect(h.state()).toBe('closed');
    expect(h.actor.getSnapshot().status).toBe('done');
    expect(h.emitted).toEqual(['rejected 3 (closing, latest 2)', 'written 1', 'failed 2: late failure']);
  });

  it('on CLOSE while writing with nothing queued, closes once the write ends', async () => {
    const h = harness();
    await h.open();
    h.write(1);
    h.actor.send({ type: 'steadfast.checkpoint.close' });
    await h.finish();
    expect(h.state()).toBe('closed');
    expect(h.emitted).toEqual(['written 1']);
  });

  it('on CLOSE while opening with a queued write, waits for the store, writes it, then closes', async () => {
    const h = harness();
    h.write(1);
    h.actor.send({ type: 'steadfast.checkpoint.close' });
    expect(h.state()).toBe('opening.draining');
    h.write(2);
    await h.open();
    expect(h.state()).toBe('writing.draining');
    await h.finish();
    expect(h.state()).toBe('closed');
    expect(h.emitted).toEqual(['rejected 2 (closing, latest 1)', 'written 1']);
  });

  it('on CLOSE while opening with nothing queued, closes at once', () => {
    const h = harness();
    h.actor.send({ type: 'steadfast.checkpoint.close' });
    expect(h.state()).toBe('closed');
    expect(h.actor.getSnapshot().children).toEqual({});
  });

  it('closes at once from open', async () => {
    const h = harness();
    await h.open();
    h.actor.send({ type: 'steadfast.checkpoint.close' });
    expect(h.state()).toBe('closed');
    expect(h.actor.getSnapshot().status).toBe('done');
  });

  it('fails when the store does not open, reporting the queued write as failed', async () => {
    const h = harness();
    h.write(1);
    await h.failOpen(new Error('locked'));
    expect(h.state()).toBe('failed');
    expect(h.actor.getSnapshot().status).toBe('done');
    expect(h.emitted).toEqual(['open failed: locked', 'failed 1: locked']);
    expect(h.actor.getSnapshot().context).toMatchObject({ queued: undefined, error: new Error('locked') });
  });

  it('fails when the store does not open, with nothing queued: only the open failure is reported', async () => {
    const h = harness();
    await h.failOpen(new Error('locked'));
    expect(h.state()).toBe('failed');
    expect(h.emitted).toEqual(['open failed: locked']);
  });

  it('fails when the store does not open during a close, still reporting the queued write', async () => {
    const h = harness();
    h.write(1);
    h.actor.send({ type: 'steadfast.checkpoint.close' });
    await h.failOpen(new Error('gone'));
    expect(h.state()).toBe('failed');
    expect(h.emitted).toEqual(['open failed: gone', 'failed 1: gone']);
  });

  it('without a write actor, reports every write as failed instead of pretending to store it', async () => {
    const actor = createActor(checkpointMachine, { input }).start();
    const failures: unknown[] = [];
    actor.on('steadfast.checkpoint.write_failed', (e) => failures.push(e.error));
    await settle();
    expect(actor.getSnapshot().value).toBe('open');
    actor.send({ type: 'steadfast.checkpoint.write', snapshot: { version: 1 } });
    await settle();
    expect(actor.getSnapshot().value).toBe('open');
    expect(failures).toHaveLength(1);
    expect(isSteadfastError(failures[0], 'CHECKPOINT_STORE_MISSING')).toBe(true);
    actor.send({ type: 'steadfast.checkpoint.close' });
    expect(actor.getSnapshot().value).toBe('closed');
  });
});

describe('checkpoint machine, model-based', () => {
  type Event = CheckpointMachineEvent;
  const OPENED: Event = { type: 'xstate.done.actor.open', output: undefined, actorId: 'open' };
  const OPEN_FAILED: Event = { type: 'xstate.error.actor.open', error: new Error('locked'), actorId: 'open' };
  const WRITTEN: Event = { type: 'xstate.done.actor.write', output: receipt(1), actorId: 'write' };
  const WRITE_FAILED: Event = { type: 'xstate.error.actor.write', error: new Error('EIO'), actorId: 'write' };
  const WRITES: Event[] = [1, 2, 3].map((version) => ({ type: 'steadfast.checkpoint.write', snapshot: { version } }));
  const EVENTS: Event[] = [...WRITES, { type: 'steadfast.checkpoint.close' }, OPENED, OPEN_FAILED, WRITTEN, WRITE_FAILED];
  type Snapshot = SnapshotFrom<typeof checkpointMachine>;

  /** What the runtime can cause: `open` reports only while opening, `write` only while writing; nothing after the end. */
  function possible(snapshot: Snapshot, event: Event): boolean {
    if (snapshot.status !== 'active') return false;
    if (event.type.includes('.actor.open')) return snapshot.matches('opening');
    if (event.type.includes('.actor.write')) return snapshot.matches('writing');
    return true;
  }

  // Short labels: the actors' done/error events as `write.done`, the requests as WRITE and CLOSE.
  const label = (event: Event): string => {
    if (event.type === 'steadfast.checkpoint.write') return 'WRITE';
    if (event.type === 'steadfast.checkpoint.close') return 'CLOSE';
    return event.type.replace(/^xstate\.(done|error)\.actor\.(\w+)$/, '$2.$1');
  };

  const paths = getShortestPaths(checkpointMachine, {
    input,
    events: EVENTS,
    filterEvents: (snapshot, event) => possible(snapshot, event),
    serializeState: (snapshot) => {
      const { inFlight, queued, lastWritten } = snapshot.context;
      return JSON.stringify([snapshot.value, inFlight?.snapshot.version, queued?.snapshot.version, lastWritten]);
    },
  });

  /** Every step out of every reachable state: the shortest path to it, then each possible event. */
  const walks = paths.flatMap((path) =>
    EVENTS.filter((event) => possible(path.state, event)).map((event) => ({
      events: [...path.steps.map((step) => step.event), event],
      transition: `${flat(path.state.value)} -${label(event)}-> ${flat(transition(checkpointMachine, path.state, event)[0].value)}`,
    })),
  );

  it('reaches every state of the machine', () => {
    const reached = new Set(paths.map((path) => flat(path.state.value)));
    expect([...reached].sort()).toEqual(['closed', 'failed', 'open', 'opening.accepting', 'opening.draining', 'writing.accepting', 'writing.draining']);
  });

  it('makes exactly the transitions of the design, each reachable', () => {
    const made = new Set(walks.map((w) => w.transition));
    expect([...made].sort()).toEqual(
      [
        'opening.accepting -WRITE-> opening.accepting',
        'opening.accepting -CLOSE-> closed',
        'opening.accepting -CLOSE-> opening.draining',
        'opening.accepting -open.done-> open',
        'opening.accepting -open.done-> writing.accepting',
        'opening.accepting -open.error-> failed',
        'opening.draining -WRITE-> opening.draining',
        'opening.draining -CLOSE-> opening.draining',
        'opening.draining -open.done-> writing.draining',
        'opening.draining -open.error-> failed',
        'open -WRITE-> open',
        'open -WRITE-> writing.accepting',
        'open -CLOSE-> closed',
        'writing.accepting -WRITE-> writing.accepting',
        'writing.accepting -CLOSE-> writing.draining',
        'writing.accepting -write.done-> open',
        'writing.accepting -write.done-> writing.accepting',
        'writing.accepting -write.error-> open',
        'writing.accepting -write.error-> writing.accepting',
        'writing.draining -WRITE-> writing.draining',
        'writing.draining -CLOSE-> writing.draining',
        'writing.draining -write.done-> closed',
        'writing.draining -write.done-> writing.draining',
        'writing.draining -write.error-> closed',
        'writing.draining -write.error-> writing.draining',
      ].sort(),
    );
  });

  it('on every walk, each accepted WRITE ends in exactly one report or is still pending, and writes go in version order', () => {
    const bump = (counts: Map<number, number>, version: number, by = 1) => counts.set(version, (counts.get(version) ?? 0) + by);
    for (const walk of walks) {
      let [snapshot] = initialTransition(checkpointMachine, input);
      const accepted = new Map<number, number>();
      const settled = new Map<number, number>();
      const started: number[] = [];
      const written: number[] = [];
      for (const event of walk.events) {
        if (event.type === 'steadfast.checkpoint.write') bump(accepted, event.snapshot.version);
        const [next, actions] = transition(checkpointMachine, snapshot, event);
        for (const action of actions) {
          // Built-in actions as the pure transition returns them (their types are missing from the typed union).
          const type: string = action.type;
          const params = action.params as { event?: CheckpointEmitted; src?: string; input?: CheckpointWriteRequest } | undefined;
          if (type === 'xstate.spawnChild' && params?.src === 'write' && params.input) started.push(params.input.snapshot.version);
          const emitted = type === 'xstate.emit' ? params?.event : undefined;
          if (emitted === undefined || emitted.type === 'steadfast.checkpoint.open_failed') continue;
          if (emitted.type === 'steadfast.checkpoint.rejected') bump(accepted, emitted.version, -1);
          else bump(settled, emitted.version);
          if (emitted.type === 'steadfast.checkpoint.written') written.push(emitted.version);
        }
        snapshot = next;
      }
      const { inFlight, queued } = snapshot.context;
      for (const pending of [inFlight, queued]) if (pending !== undefined) bump(settled, pending.snapshot.version);
      const name = walk.events.map((e) => (e.type === 'steadfast.checkpoint.write' ? `WRITE ${e.snapshot.version}` : label(e))).join(', ');
      expect(Object.fromEntries(settled), name).toEqual(Object.fromEntries([...accepted].filter(([, n]) => n !== 0)));
      // Increasing; the same version twice only when the caller retried a failed write.
      for (let i = 1; i < started.length; i++) expect(started[i], name).toBeGreaterThanOrEqual(started[i - 1] ?? 0);
      for (let i = 1; i < written.length; i++) expect(written[i], name).toBeGreaterThan(written[i - 1] ?? 0);
    }
  });
});
