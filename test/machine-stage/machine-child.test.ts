import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { assign, setup, type Actor } from 'xstate';
import { createCheckpointStore } from '../../src/checkpoint/create-store.js';
import type { CheckpointStore } from '../../src/checkpoint/types.js';
import { machineChild } from '../../src/machine-stage/machine-child.js';
import type { PersistedActorTree } from '../../src/machine-stage/persisted-actor-tree.js';
import { createSupervisor, type Supervisor } from '../../src/supervision/supervisor.js';
import { faultyStore } from '../helpers/faulty-store.js';
import type { Strategy } from '../../supervisors/strategies.js';

const counter = setup({}).createMachine({
  id: 'counter',
  context: { count: 0 },
  initial: 'counting',
  states: {
    counting: {
      on: {
        inc: { actions: assign({ count: ({ context }) => context.count + 1 }) },
        boom: {
          actions: () => {
            throw new Error('boom');
          },
        },
        finish: 'finished',
      },
    },
    finished: { type: 'final' },
  },
});
type CounterActor = Actor<typeof counter>;

const silent = pino({ level: 'silent' });
let dir: string;
let store: CheckpointStore;
const supervisors: Supervisor[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'steadfast-machine-child-'));
  store = createCheckpointStore({ dir: join(dir, 'shared') });
});

afterEach(async () => {
  for (const supervisor of supervisors.splice(0)) await supervisor.stop();
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

/** The children's current actors and how often each started. */
class Incarnations {
  readonly actors = new Map<string, CounterActor>();
  readonly starts = new Map<string, number>();
  spec(id: string, extra: Partial<Parameters<typeof machineChild<typeof counter>>[0]> = {}) {
    return machineChild({
      id,
      machine: counter,
      checkpoint: { store },
      onStart: (actor) => {
        this.actors.set(id, actor);
        this.starts.set(id, (this.starts.get(id) ?? 0) + 1);
      },
      ...extra,
    });
  }
  actor(id: string): CounterActor {
    const actor = this.actors.get(id);
    if (actor === undefined) throw new Error(`no actor ${id}`);
    return actor;
  }
}

async function savedCount(from: CheckpointStore, id: string): Promise<number | undefined> {
  for await (const read of from.snapshots(`machine:${id}`, id)) {
    if (read.ok) return ((read.value.state as PersistedActorTree).root as { context: { count: number } }).context.count;
  }
  return undefined;
}

function supervise(strategy: Strategy, children: ReturnType<typeof machineChild>[]): Supervisor {
  const supervisor = createSupervisor({ name: 'machines', strategy, children, logger: silent, backoff: { minMs: 1, maxMs: 5, factor: 2, jitter: 0 } });
  supervisors.push(supervisor);
  return supervisor;
}

describe('machineChild under a supervisor', () => {
  const cases: Array<{ strategy: Strategy; restarted: string[] }> = [
    { strategy: 'one_for_one', restarted: ['b'] },
    { strategy: 'one_for_all', restarted: ['a', 'b', 'c'] },
    { strategy: 'rest_for_one', restarted: ['b', 'c'] },
  ];
  it.each(cases)('a machine that crashes under $strategy restarts from its snapshot (real LevelDB)', async ({ strategy, restarted }) => {
    const live = new Incarnations();
    const supervisor = supervise(strategy, ['a', 'b', 'c'].map((id) => live.spec(id)));
    await supervisor.start();
    const counts = { a: 1, b: 3, c: 2 };
    for (const [id, n] of Object.entries(counts)) for (let i = 0; i < n; i++) live.actor(id).send({ type: 'inc' });
    for (const [id, n] of Object.entries(counts)) await vi.waitFor(async () => expect(await savedCount(store, id)).toBe(n));

    const before = new Map(live.actors);
    live.actor('b').send({ type: 'boom' });
    await vi.waitFor(() => expect(live.starts.get('b')).toBe(2));
    for (const id of restarted) await vi.waitFor(() => expect(live.starts.get(id)).toBe(2));
    for (const id of ['a', 'b', 'c']) {
      expect(live.actors.get(id) !== before.get(id)).toBe(restarted.includes(id));
      expect(live.actor(id).getSnapshot().context.count).toBe(counts[id as keyof typeof counts]);
      expect(live.actor(id).getSnapshot().status).toBe('active');
    }
    live.actor('b').send({ type: 'inc' });
    await vi.waitFor(async () => expect(await savedCount(store, 'b')).toBe(4));
    expect(supervisor.status).toBe('running');
  });

  it('restarts fresh from the initial state without a checkpoint', async () => {
    const live = new Incarnations();
    const supervisor = supervise('one_for_one', [live.spec('solo', { checkpoint: undefined as never })].map((spec) => ({ ...spec })));
    await supervisor.start();
    live.actor('solo').send({ type: 'inc' });
    live.actor('solo').send({ type: 'boom' });
    await vi.waitFor(() => expect(live.starts.get('solo')).toBe(2));
    expect(live.actor('solo').getSnapshot().context.count).toBe(0);
  });

  it('with { dir }: stop() saves the tree and closes the store; the next start restores it', async () => {
    const live = new Incarnations();
    const own = join(dir, 'own');
    const spec = live.spec('owned', { checkpoint: { dir: own } });
    const first = supervise('one_for_one', [spec]);
    await first.start();
    for (let i = 0; i < 5; i++) live.actor('owned').send({ type: 'inc' });
    await first.stop();
    supervisors.splice(supervisors.indexOf(first), 1);
    const reader = createCheckpointStore({ dir: own });
    expect(await savedCount(reader, 'owned')).toBe(5);
    await reader.close();
    const second = supervise('one_for_one', [spec]);
    await second.start();
    expect(live.actor('owned').getSnapshot().context.count).toBe(5);
  });

  it("a machine reaching a final state exits 'normal': a transient child is not restarted, a permanent one starts afresh", async () => {
    const live = new Incarnations();
    const supervisor = supervise('one_for_one', [live.spec('once', { restart: 'transient' }), live.spec('again', { restart: 'permanent' })]);
    await supervisor.start();
    for (const id of ['once', 'again']) {
      live.actor(id).send({ type: 'inc' });
      live.actor(id).send({ type: 'finish' });
    }
    await vi.waitFor(() => expect(live.starts.get('again')).toBe(2));
    expect(live.actor('again').getSnapshot().context.count).toBe(0);
    expect(supervisor.stats().children).toBe(1);
    expect(live.starts.get('once')).toBe(1);
  });

  it('refuses a machine with an inline child at definition, naming it', async () => {
    const { spawnChild } = await import('xstate');
    const inline = setup({}).createMachine({ id: 'bad', entry: spawnChild(counter, { id: 'kid' } as never) });
    expect(() => machineChild({ id: 'bad', machine: inline })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('spawnChild "kid"') }));
    expect(() => machineChild({ id: 'x', machine: counter, timers: 'soon' as never })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => machineChild({ id: 'x', machine: counter, checkpoint: {} as never })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => machineChild({ id: 'x'.repeat(250), machine: counter })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', field: expect.stringContaining('pipeline name') }));
  });

  it('coalesces saves: one write in flight, and the newest tree is the one written next', async () => {
    const { store: slow, control } = faultyStore();
    const live = new Incarnations();
    const supervisor = supervise('one_for_one', [live.spec('busy', { checkpoint: { store: slow } })]);
    await supervisor.start();
    await vi.waitFor(() => expect(control.writes).toEqual([1]));
    await vi.waitFor(async () => expect(await savedCount(slow, 'busy')).toBe(0));
    control.hold();
    live.actor('busy').send({ type: 'inc' });
    await vi.waitFor(() => expect(control.writes).toEqual([1, 2]));
    for (let i = 0; i < 99; i++) live.actor('busy').send({ type: 'inc' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(control.writes).toEqual([1, 2]);
    control.release();
    await vi.waitFor(async () => expect(await savedCount(slow, 'busy')).toBe(100));
    expect(control.writes).toEqual([1, 2, 3]);
    await supervisor.stop();
    supervisors.splice(supervisors.indexOf(supervisor), 1);
    await slow.close();
  });

  it("a failed save exits the child with 'error', and it restarts from the last tree written", async () => {
    const { store: failing, control } = faultyStore();
    const live = new Incarnations();
    const supervisor = supervise('one_for_one', [live.spec('disk', { checkpoint: { store: failing } })]);
    await supervisor.start();
    live.actor('disk').send({ type: 'inc' });
    await vi.waitFor(async () => expect(await savedCount(failing, 'disk')).toBe(1));
    const failedVersion = control.writes.length + 1;
    control.failFrom = failedVersion;
    live.actor('disk').send({ type: 'inc' });
    await vi.waitFor(() => expect(live.starts.get('disk')).toBeGreaterThanOrEqual(2));
    // The disk is back: the next incarnation saves again.
    control.failFrom = Number.POSITIVE_INFINITY;
    // Versions go on from the newest stored: the one that failed is written now, with the restored count.
    await vi.waitFor(async () => expect(await failing.readSnapshot('machine:disk', 'disk', failedVersion)).toMatchObject({ ok: true }));
    expect(await savedCount(failing, 'disk')).toBe(1);
    expect(supervisor.status).toBe('running');
    expect(live.actor('disk').getSnapshot().status).toBe('active');
    expect(live.actor('disk').getSnapshot().context.count).toBe(1);
    await supervisor.stop();
    supervisors.splice(supervisors.indexOf(supervisor), 1);
    await failing.close();
  });
});
