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
  function fakeActor(status = 'active') {
    const unsubscribe = vi.fn();
    const inspect = vi.fn(() => ({ unsubscribe }));
    const snapshot = { status };
    return { actor: { system: { inspect }, getSnapshot: () => snapshot } as never, inspect, unsubscribe, snapshot };
  }

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
