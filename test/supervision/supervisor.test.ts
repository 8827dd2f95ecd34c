import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Escalation } from '../../supervisors/supervisor.machine.js';
import { createSupervisor, supervisorChild, type Supervisor } from '../../src/supervision/supervisor.js';
import type { SupervisorOptions } from '../../src/supervision/options.js';
import { FakeChildren } from './fake-children.js';

const silent = pino({ level: 'silent' });
const noJitter = { minMs: 100, maxMs: 10_000, factor: 2, jitter: 0, resetAfterMs: 60_000 };

let fakes: FakeChildren;
const running: Supervisor[] = [];

function supervise(options: Omit<SupervisorOptions, 'name' | 'logger'> & { name?: string }): Supervisor {
  const supervisor = createSupervisor({ name: 'sup', logger: silent, backoff: noJitter, ...options });
  running.push(supervisor);
  return supervisor;
}

/** Lets pending promise callbacks run without moving fake time. */
const flush = () => vi.advanceTimersByTimeAsync(0);

beforeEach(() => {
  vi.useFakeTimers();
  fakes = new FakeChildren();
});

afterEach(async () => {
  for (const supervisor of running.splice(0)) supervisor.kill();
  vi.useRealTimers();
});

describe('supervisor lifecycle', () => {
  it('starts children in order and stops them in reverse order', async () => {
    const sup = supervise({ children: [fakes.spec('a'), fakes.spec('b'), fakes.spec('c')] });
    await sup.start();
    expect(sup.status).toBe('running');
    await sup.stop();
    expect(fakes.drain()).toEqual(['start a', 'start b', 'start c', 'stop c', 'stop b', 'stop a']);
    expect(sup.status).toBe('stopped');
  });

  it('fails start() when a child cannot start, stopping the ones already started', async () => {
    const sup = supervise({ children: [fakes.spec('a'), fakes.spec('b', { failStart: () => true }), fakes.spec('c')] });
    await expect(sup.start()).rejects.toMatchObject({ code: 'CHILD_START_FAILED' });
    expect(fakes.drain()).toEqual(['start a', 'start-failed b', 'stop a']);
    expect(sup.status).toBe('failed');
  });
});

describe('strategies', () => {
  it('restarts only the failed child under one_for_one, after the backoff delay', async () => {
    const sup = supervise({ children: [fakes.spec('a'), fakes.spec('b')] });
    await sup.start();
    fakes.drain();
    fakes.get('a').crash();
    await flush();
    expect(fakes.drain()).toEqual([]);
    await vi.advanceTimersByTimeAsync(99);
    expect(fakes.drain()).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(fakes.drain()).toEqual(['start a']);
    expect(fakes.get('a').incarnation).toBe(2);
    expect(fakes.get('b').incarnation).toBe(1);
  });

  it('restarts every child under one_for_all: others stopped in reverse order, all started in order', async () => {
    const sup = supervise({ strategy: 'one_for_all', children: [fakes.spec('a'), fakes.spec('b'), fakes.spec('c')] });
    await sup.start();
    fakes.drain();
    fakes.get('b').crash();
    await vi.advanceTimersByTimeAsync(100);
    expect(fakes.drain()).toEqual(['stop c', 'stop a', 'start a', 'start b', 'start c']);
  });

  it('restarts only later siblings under rest_for_one', async () => {
    const sup = supervise({ strategy: 'rest_for_one', children: [fakes.spec('a'), fakes.spec('b'), fakes.spec('c'), fakes.spec('d')] });
    await sup.start();
    fakes.drain();
    fakes.get('b').crash();
    await vi.advanceTimersByTimeAsync(100);
    expect(fakes.drain()).toEqual(['stop d', 'stop c', 'start b', 'start c', 'start d']);
    expect(fakes.get('a').incarnation).toBe(1);
  });

  it('does not restart a temporary child, nor one taken down by one_for_all (temporary bystanders are removed)', async () => {
    const sup = supervise({ strategy: 'one_for_all', children: [fakes.spec('a'), fakes.spec('t', { restart: 'temporary' }), fakes.spec('c')] });
    await sup.start();
    fakes.drain();
    fakes.get('a').crash();
    await vi.advanceTimersByTimeAsync(100);
    expect(fakes.drain()).toEqual(['stop c', 'stop t', 'start a', 'start c']);
    expect(sup.tree().children?.map((c) => c.id)).toEqual(['a', 'c']);
  });

  it('restarts a transient child after an error but not after a normal exit', async () => {
    const sup = supervise({ children: [fakes.spec('t', { restart: 'transient' })] });
    await sup.start();
    fakes.drain();
    fakes.get('t').crash();
    await vi.advanceTimersByTimeAsync(100);
    expect(fakes.drain()).toEqual(['start t']);
    fakes.get('t').exitNormally();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(fakes.drain()).toEqual([]);
    expect(sup.stats().children).toBe(0);
    expect(sup.status).toBe('running');
  });

  it('starts and terminates dynamic children under simple_one_for_one', async () => {
    const sup = supervise({ strategy: 'simple_one_for_one', child: fakes.spec('job') });
    await sup.start();
    const first = await sup.startChild({ n: 1 });
    const second = await sup.startChild({ n: 2 });
    expect([first, second]).toEqual(['job#0', 'job#1']);
    fakes.get('job#1').crash();
    await vi.advanceTimersByTimeAsync(100);
    await sup.terminateChild('job#0');
    expect(fakes.drain()).toEqual(['start job#0', 'start job#1', 'start job#1', 'stop job#0']);
    expect(sup.stats().children).toBe(1);
    await expect(sup.terminateChild('job#0')).rejects.toMatchObject({ code: 'CHILD_UNKNOWN' });
  });
});

describe('restart intensity and escalation', () => {
  it('escalates on the restart that exceeds maxRestarts within withinMs: children stopped in reverse, onEscalate called', async () => {
    const escalations: Escalation[] = [];
    const emitted: string[] = [];
    const sup = supervise({ maxRestarts: 2, withinMs: 10_000, children: [fakes.spec('a'), fakes.spec('b')], onEscalate: (e) => escalations.push(e) });
    sup.on('steadfast.supervisor.escalated', (e) => emitted.push(e.escalation.reason));
    await sup.start();
    fakes.drain();
    for (let i = 0; i < 2; i++) {
      fakes.get('a').crash();
      await vi.advanceTimersByTimeAsync(1_000);
    }
    expect(sup.status).toBe('running');
    fakes.get('a').crash(new Error('third'));
    await flush();
    expect(sup.status).toBe('failed');
    expect(fakes.drain()).toEqual(['start a', 'start a', 'stop b']);
    expect(escalations).toHaveLength(1);
    expect(escalations[0]).toMatchObject({ supervisor: 'sup', reason: 'intensity', offender: 'a', restarts: 3 });
    expect((escalations[0]?.error as Error).message).toBe('third');
    expect(emitted).toEqual(['intensity']);
  });

  for (const strategy of ['one_for_all', 'rest_for_one'] as const) {
    it(`escalates under ${strategy} too, stopping every child in reverse start order (${strategy}_escalation)`, async () => {
      const escalations: Escalation[] = [];
      const sup = supervise({ strategy, maxRestarts: 1, children: [fakes.spec('a'), fakes.spec('b'), fakes.spec('c')], onEscalate: (e) => escalations.push(e) });
      await sup.start();
      fakes.get('b').crash();
      await vi.advanceTimersByTimeAsync(100);
      fakes.drain();
      fakes.get('b').crash();
      await flush();
      expect(sup.status).toBe('failed');
      expect(fakes.drain()).toEqual(['stop c', 'stop a']);
      expect(escalations.map((e) => [e.reason, e.offender])).toEqual([['intensity', 'b']]);
    });
  }

  it('does not escalate just under the intensity, as old restarts slide out of the window', async () => {
    const sup = supervise({ maxRestarts: 2, withinMs: 1_000, backoff: { ...noJitter, minMs: 0 }, children: [fakes.spec('a')] });
    await sup.start();
    for (let i = 0; i < 20; i++) {
      fakes.get('a').crash();
      await vi.advanceTimersByTimeAsync(501);
    }
    expect(sup.status).toBe('running');
    expect(sup.stats().restarts).toBe(20);
  });

  it('escalates a nested supervisor to its parent, which restarts it with a fresh budget', async () => {
    const escalations: Escalation[] = [];
    const inner: SupervisorOptions = { name: 'inner', logger: silent, maxRestarts: 1, backoff: noJitter, children: [fakes.spec('w')] };
    const root = supervise({ name: 'root', maxRestarts: 3, children: [supervisorChild(inner)], onEscalate: (e) => escalations.push(e) });
    await root.start();
    fakes.drain();
    fakes.get('w').crash();
    await vi.advanceTimersByTimeAsync(100);
    fakes.get('w').crash();
    await vi.advanceTimersByTimeAsync(100);
    // inner gave up on its second restart; root restarted inner (100 ms backoff), which started w again.
    expect(fakes.drain()).toEqual(['start w', 'start w']);
    expect(root.status).toBe('running');
    expect(root.stats().restarts).toBe(1);
    expect(root.tree()).toMatchObject({ id: 'root', state: 'running', children: [{ id: 'inner', type: 'supervisor', restarts: 1, children: [{ id: 'w', state: 'running' }] }] });
    expect(escalations).toEqual([]);
    // Budget: w can restart 1 time per inner incarnation, inner 3 times under root: 1 * (3 + 1).
    expect(root.stats().budget).toBe(4);
  });
});

describe('backoff', () => {
  it('waits min(maxMs, minMs * factor^n) between restarts and resets n after resetAfterMs up', async () => {
    const sup = supervise({ maxRestarts: 100, backoff: { minMs: 100, maxMs: 1_000, factor: 2, jitter: 0, resetAfterMs: 5_000 }, children: [fakes.spec('a')] });
    await sup.start();
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      fakes.get('a').crash();
      const crashedAt = Date.now();
      fakes.drain();
      while (fakes.drain().length === 0) await vi.advanceTimersByTimeAsync(10);
      delays.push(Date.now() - crashedAt);
    }
    expect(delays).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    await vi.advanceTimersByTimeAsync(5_000);
    fakes.get('a').crash();
    const crashedAt = Date.now();
    while (fakes.drain().length === 0) await vi.advanceTimersByTimeAsync(10);
    expect(Date.now() - crashedAt).toBe(100);
  });

  it('retries a restart that fails by an event after the next backoff, and still answers stats and stop meanwhile', async () => {
    let failing = false;
    const sup = supervise({ maxRestarts: 1_000, withinMs: 1_000_000, children: [fakes.spec('a', { failStart: () => failing })] });
    await sup.start();
    failing = true;
    fakes.get('a').crash();
    await vi.advanceTimersByTimeAsync(100 + 200 + 400);
    expect(fakes.drain().filter((e) => e === 'start-failed a')).toHaveLength(3);
    // The crash and three failed restarts: four restarts counted, the next one waiting out 800 ms.
    expect(sup.stats()).toMatchObject({ state: 'running', restarting: 1, restarts: 4 });
    const stopped = sup.stop();
    await flush();
    await stopped;
    expect(sup.status).toBe('stopped');
    await vi.advanceTimersByTimeAsync(100_000);
    expect(fakes.drain().filter((e) => e.startsWith('start'))).toEqual([]);
  });
});

describe('shutdown', () => {
  it('kills a child that does not stop within its budget, and counts it', async () => {
    const sup = supervise({ children: [fakes.spec('slow', { hang: true, shutdown: 500 }), fakes.spec('now', { shutdown: 'brutal' })] });
    await sup.start();
    fakes.drain();
    const stopped = sup.stop();
    await flush();
    expect(fakes.drain()).toEqual(['kill now', 'stop slow']);
    await vi.advanceTimersByTimeAsync(500);
    await stopped;
    expect(fakes.drain()).toEqual(['kill slow']);
    expect(sup.stats().killed).toBe(2);
  });
});

describe('flapping', () => {
  it('reports two children failing in turn (ABAB), and escalates on it when asked', async () => {
    const patterns: string[] = [];
    const sup = supervise({ maxRestarts: 100, flapping: { escalate: true }, children: [fakes.spec('a'), fakes.spec('b')] });
    sup.on('steadfast.supervisor.flapping', (e) => patterns.push(`${e.pattern} ${e.children.join('')}`));
    await sup.start();
    for (const id of ['a', 'b', 'a']) {
      fakes.get(id).crash();
      await vi.advanceTimersByTimeAsync(1_000);
    }
    expect(sup.status).toBe('running');
    fakes.get('b').crash();
    await flush();
    expect(patterns).toEqual(['ABAB ab']);
    expect(sup.status).toBe('failed');
  });
});
