import { describe, expect, it, vi } from 'vitest';
import type { InspectionEvent } from 'xstate';
import { createPipeline, defineStage, fromIterable, pushSource, toArray } from '../../src/index.js';
import { Inspection } from '../../src/pipeline/inspection.js';
import { expectConfigError } from '../helpers/config-error.js';

const double = defineStage({ name: 'double', process: (n: number) => ({ emit: [n * 2] }) });
const fast = { backoff: { minMs: 1, maxMs: 5, factor: 2, jitter: 0 } };
const idOf = (event: InspectionEvent): string | undefined => (event.actorRef as { id?: string }).id;

/** The event types each actor received, and the states its snapshots showed, by actor id. */
function summary(events: InspectionEvent[], actor: string): { received: string[]; states: unknown[] } {
  const own = events.filter((e) => idOf(e) === actor);
  return {
    received: own.flatMap((e) => (e.type === '@xstate.event' ? [e.event.type] : [])),
    states: own.flatMap((e) => (e.type === '@xstate.snapshot' ? [(e.snapshot as { value?: unknown }).value] : [])),
  };
}

async function until(check: () => boolean): Promise<void> {
  await vi.waitFor(() => expect(check()).toBe(true), { timeout: 5_000, interval: 5 });
}

describe('pipeline inspection', () => {
  it('passes the inspection events of every stage actor and of the supervisor to the `inspect` option', async () => {
    const events: InspectionEvent[] = [];
    const sink = toArray<number>();
    const pipeline = createPipeline({ name: 'seen', source: fromIterable([1, 2, 3]), stages: [double], sink, logLevel: 'silent', inspect: (e) => events.push(e) });
    await pipeline.run();
    expect(sink.items).toEqual([2, 4, 6]);
    const stage = summary(events, 'double');
    expect(stage.received).toEqual(expect.arrayContaining(['steadfast.stage.input', 'steadfast.stage.end']));
    expect(stage.states).toEqual(expect.arrayContaining(['starting', 'idle', 'busy']));
    // The supervisor's actor is named after the pipeline; it starts its children and stops them at the end.
    const supervisor = summary(events, 'seen');
    expect(supervisor.states).toEqual(expect.arrayContaining(['starting', 'running']));
    expect(events.every((e) => typeof e.rootId === 'string')).toBe(true);
  });

  it('lets a listener added while running hear the actors that exist, until it unsubscribes', async () => {
    const source = pushSource<number>();
    const sink = toArray<number>();
    const pipeline = createPipeline({ name: 'late', source, stages: [double], sink, logLevel: 'silent' });
    await pipeline.start();
    await source.push(1);
    await until(() => sink.items.length === 1);
    const events: InspectionEvent[] = [];
    const off = pipeline.inspect((e) => events.push(e));
    await source.push(2);
    await until(() => sink.items.length === 2);
    expect(summary(events, 'double').received).toContain('steadfast.stage.input');
    off();
    const heard = events.length;
    await source.push(3);
    await until(() => sink.items.length === 3);
    expect(events.length).toBe(heard);
    source.end();
    await pipeline.stop();
  });

  it('hears the new actor of a restarted stage', async () => {
    const source = pushSource<number>();
    const sink = toArray<number>();
    const picky = defineStage({
      name: 'picky',
      onFailure: 'restart',
      process: (n: number) => {
        if (n < 0) throw new Error('negative');
        return { emit: [n] };
      },
    });
    const events: InspectionEvent[] = [];
    const pipeline = createPipeline({ name: 'again', source, stages: [picky], sink, logLevel: 'silent', onError: () => {}, supervision: fast, inspect: (e) => events.push(e) });
    await pipeline.start();
    await source.push(-1);
    await until(() => pipeline.stats().stages.picky?.restarts === 1);
    await source.push(5);
    await until(() => sink.items.length === 1);
    const sessions = new Set(events.filter((e) => idOf(e) === 'picky' && e.actorRef.sessionId === e.rootId).map((e) => e.rootId));
    expect(sessions.size).toBe(2);
    expect(summary(events, 'picky').states).toContain('crashed');
    source.end();
    await pipeline.stop();
  });

  it('announces every stage actor, the sink and the supervisor with @xstate.actor before their first snapshot', async () => {
    const events: InspectionEvent[] = [];
    const pipeline = createPipeline({ name: 'born', source: fromIterable([1, 2]), stages: [double], sink: toArray<number>(), logLevel: 'silent', inspect: (e) => events.push(e) });
    await pipeline.run();
    for (const actor of ['double', 'sink', 'born']) {
      const own = events.filter((e) => idOf(e) === actor && e.actorRef.sessionId === e.rootId);
      expect(own[0]?.type, actor).toBe('@xstate.actor');
      expect(own.filter((e) => e.type === '@xstate.actor'), actor).toHaveLength(1);
    }
  });

  it('announces the new actor of a restarted stage, the replicas a scale adds and the actors a swap makes', async () => {
    const source = pushSource<number>();
    const sink = toArray<number>();
    const picky = defineStage({
      name: 'picky',
      onFailure: 'restart',
      process: (n: number) => {
        if (n < 0) throw new Error('negative');
        return { emit: [n] };
      },
    });
    const events: InspectionEvent[] = [];
    const pipeline = createPipeline({ name: 'grow', source, graph: { picky: { stage: picky, from: 'source' } }, sink, logLevel: 'silent', onError: () => {}, supervision: fast, inspect: (e) => events.push(e) });
    const created = (actor: string) => events.filter((e) => e.type === '@xstate.actor' && idOf(e) === actor && e.actorRef.sessionId === e.rootId).map((e) => e.rootId);
    await pipeline.start();
    expect(created('picky')).toHaveLength(1);
    await source.push(-1);
    await until(() => pipeline.stats().stages.picky?.restarts === 1);
    expect(new Set(created('picky')).size).toBe(2);
    await pipeline.scale('picky', 3);
    expect([created('picky#1').length, created('picky#2').length]).toEqual([1, 1]);
    // A swap replaces each instance's actor: each new one is announced.
    await pipeline.swap('picky', defineStage({ name: 'picky', process: (n: number) => ({ emit: [n + 1] }) }));
    expect([new Set(created('picky')).size, created('picky#1').length, created('picky#2').length]).toEqual([3, 2, 2]);
    source.end();
    await pipeline.stop();
  });

  it('tells a listener that comes later of every live actor first, and of no ended one', async () => {
    const source = pushSource<number>();
    const sink = toArray<number>();
    const picky = defineStage({
      name: 'picky',
      onFailure: 'restart',
      process: (n: number) => {
        if (n < 0) throw new Error('negative');
        return { emit: [n] };
      },
    });
    const pipeline = createPipeline({ name: 'later', source, stages: [picky], sink, logLevel: 'silent', onError: () => {}, supervision: fast });
    await pipeline.start();
    await source.push(-1);
    await until(() => pipeline.stats().stages.picky?.restarts === 1);
    await source.push(1);
    await until(() => sink.items.length === 1);
    const first: InspectionEvent[] = [];
    const offFirst = pipeline.inspect((e) => first.push(e));
    const roots = first.filter((e) => e.actorRef.sessionId === e.rootId);
    expect(roots.map((e) => [e.type, idOf(e)])).toEqual(expect.arrayContaining([['@xstate.actor', 'picky'], ['@xstate.actor', 'sink'], ['@xstate.actor', 'later']]));
    expect(first.every((e) => e.type === '@xstate.actor')).toBe(true);
    // One picky: the live incarnation, not the one that crashed.
    expect(roots.filter((e) => idOf(e) === 'picky')).toHaveLength(1);
    expect(roots).toHaveLength(3);
    // A second late listener gets its own announcements; the first does not hear them again.
    const heard = first.length;
    const second: InspectionEvent[] = [];
    const offSecond = pipeline.inspect((e) => second.push(e));
    expect(second.filter((e) => e.type === '@xstate.actor' && e.actorRef.sessionId === e.rootId)).toHaveLength(3);
    expect(first).toHaveLength(heard);
    await source.push(2);
    await until(() => sink.items.length === 2);
    expect(first.slice(heard).some((e) => e.type === '@xstate.actor' && e.actorRef.sessionId === e.rootId)).toBe(false);
    expect(summary(first, 'picky').received).toContain('steadfast.stage.input');
    offFirst();
    offSecond();
    source.end();
    await pipeline.stop();
  });

  it('keeps the flow going when a listener throws', async () => {
    const sink = toArray<number>();
    const pipeline = createPipeline({
      name: 'throwing',
      source: fromIterable([1, 2]),
      stages: [double],
      sink,
      logLevel: 'silent',
      inspect: () => {
        throw new Error('bad inspector');
      },
    });
    await pipeline.run();
    expect(sink.items).toEqual([2, 4]);
  });

  it('rejects an `inspect` that is not a function as CONFIG_INVALID', () => {
    expectConfigError(
      () => createPipeline({ name: 'bad', source: fromIterable([1]), stages: [double], inspect: 'yes' as never }),
      'pipeline.inspect',
      'yes',
      '"yes"',
    );
  });
});

describe('Inspection', () => {
  let sessions = 0;
  function fakeActor(status = 'active', children: Record<string, unknown> = {}) {
    const unsubscribe = vi.fn();
    const inspect = vi.fn(() => ({ unsubscribe }));
    const snapshot = { status, children };
    const sessionId = `x:${sessions++}`;
    return { actor: { system: { inspect }, getSnapshot: () => snapshot, sessionId } as never, inspect, unsubscribe, snapshot, sessionId };
  }
  const announced = (events: InspectionEvent[]) => events.filter((e) => e.type === '@xstate.actor').map((e) => [e.actorRef.sessionId, e.rootId]);

  it('inspects no actor system while nobody listens, and every watched one while someone does', () => {
    const hub = new Inspection();
    const a = fakeActor();
    hub.watch({}, a.actor);
    expect(a.inspect).not.toHaveBeenCalled();
    const off = hub.add(() => {});
    expect(a.inspect).toHaveBeenCalledTimes(1);
    const b = fakeActor();
    hub.watch({}, b.actor);
    expect(b.inspect).toHaveBeenCalledWith(hub.emit);
    hub.add(() => {})();
    expect(a.unsubscribe).not.toHaveBeenCalled();
    off();
    expect([a.unsubscribe.mock.calls.length, b.unsubscribe.mock.calls.length]).toEqual([1, 1]);
  });

  it('replaces the actor of an owner, and forgets actors that ended', () => {
    const hub = new Inspection();
    const owner = {};
    const first = fakeActor();
    const second = fakeActor();
    hub.add(() => {});
    hub.watch(owner, first.actor);
    hub.watch(owner, second.actor);
    expect(first.unsubscribe).toHaveBeenCalledTimes(1);
    // Actors that ended are forgotten when listening starts: nothing inspects a stopped system.
    const later = new Inspection();
    const gone = fakeActor('stopped');
    const live = fakeActor();
    later.watch({}, gone.actor);
    later.watch({}, live.actor);
    later.add(() => {});
    expect([gone.inspect.mock.calls.length, live.inspect.mock.calls.length]).toEqual([0, 1]);
  });

  it('announces an actor watched while someone listens, and every live one (with live children) to a listener that comes later', () => {
    const hub = new Inspection();
    const child = fakeActor();
    const done = fakeActor('done');
    const a = fakeActor('active', { call: child.actor, open: done.actor });
    hub.watch({}, a.actor);
    const early: InspectionEvent[] = [];
    hub.add((e) => early.push(e));
    expect(announced(early)).toEqual([
      [a.sessionId, a.sessionId],
      [child.sessionId, a.sessionId],
    ]);
    const b = fakeActor();
    hub.watch({}, b.actor);
    expect(announced(early).slice(2)).toEqual([[b.sessionId, b.sessionId]]);
    // An actor XState announced to `emit` itself (one created with it as its inspector) is remembered too.
    const sup = fakeActor();
    hub.emit({ type: '@xstate.actor', actorRef: sup.actor, rootId: sup.sessionId });
    const late: InspectionEvent[] = [];
    hub.add((e) => late.push(e));
    expect(announced(late).map(([session]) => session).sort()).toEqual([sup.sessionId, a.sessionId, child.sessionId, b.sessionId].sort());
    expect(early).toHaveLength(4);
  });

  it('subscribes to no system while nobody listens, and still announces the actors watched meanwhile to the next listener', () => {
    const hub = new Inspection();
    const a = fakeActor();
    hub.watch({}, a.actor);
    const off = hub.add(() => {});
    off();
    const heard: InspectionEvent[] = [];
    const b = fakeActor();
    hub.watch({}, b.actor);
    expect(b.inspect).not.toHaveBeenCalled();
    hub.add((e) => heard.push(e));
    expect(announced(heard).map(([session]) => session)).toEqual([a.sessionId, b.sessionId]);
  });

  it('calls every listener even if one throws', () => {
    const hub = new Inspection();
    const heard: string[] = [];
    hub.add(() => {
      throw new Error('boom');
    });
    hub.add((e) => heard.push(e.type));
    hub.emit({ type: '@xstate.actor', rootId: 'x', actorRef: {} as never });
    expect(heard).toEqual(['@xstate.actor']);
  });
});
