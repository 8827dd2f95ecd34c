import { describe, expect, it } from 'vitest';
import { assign, createActor, fromPromise, setup, type AnyActorRef, type InspectionEvent, type PromiseActorLogic, type Snapshot } from 'xstate';
import { fromCall } from '../../src/pipeline/call-logic.js';

// fromCall re-implements XState's promise actor (without its AbortController), including the
// internal 'xstate.stop' event XState sends an actor it stops. Every scenario below runs through
// both and must leave the same trace, so an XState upgrade that changes the promise actor fails here.

type Run = (input: number) => string | PromiseLike<string>;
type Make = (run: Run) => PromiseActorLogic<string, number>;

const variants: Record<'fromPromise' | 'fromCall', Make> = {
  // Promise.resolve(run(input)), not an async function: a synchronous throw must stay synchronous.
  fromPromise: (run) => fromPromise<string, number>(({ input }) => Promise.resolve(run(input))),
  fromCall: (run) => fromCall<string, number>(run),
};

const boom = new Error('boom');
const late = new Error('late');

interface Deferred {
  promise: Promise<string>;
  resolve: (value: string) => void;
  reject: (error: unknown) => void;
}

function deferred(): Deferred {
  let resolve!: (value: string) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<string>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every settled promise's callbacks and the mailboxes they feed run. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/** What the promise actor's own observers and getSnapshot() see, in order, with marks between steps. */
type Trace = unknown[];

async function standalone(make: Make, run: Run, script: (actor: { stop(): void }, trace: Trace) => Promise<void>): Promise<Trace> {
  const trace: Trace = [];
  const actor = createActor(make(run), { input: 7 });
  actor.subscribe({
    next: (snapshot) => trace.push(['next', snapshot]),
    error: (error) => trace.push(['error', error]),
    complete: () => trace.push(['complete']),
  });
  actor.start();
  trace.push(['started', actor.getSnapshot()]);
  await script(actor, trace);
  trace.push(['end', actor.getSnapshot()]);
  return trace;
}

describe('fromCall behaves as XState fromPromise on its own', () => {
  it('resolves with the output: done snapshot, observers completed', async () => {
    const traces = await each((make) => standalone(make, async (n) => `out-${n}`, flush));
    expect(traces.fromCall).toEqual(traces.fromPromise);
    expect(traces.fromPromise.at(-1)).toEqual(['end', { status: 'done', output: 'out-7', error: undefined, input: undefined }]);
    expect(traces.fromPromise).toContainEqual(['complete']);
  });

  it('resolves a plain (non-promise) value the same way', async () => {
    const traces = await each((make) => standalone(make, (n) => `plain-${n}`, flush));
    expect(traces.fromCall).toEqual(traces.fromPromise);
    expect(traces.fromPromise.at(-1)).toEqual(['end', { status: 'done', output: 'plain-7', error: undefined, input: undefined }]);
  });

  it('rejects with the error: error snapshot, error observer called', async () => {
    const traces = await each((make) => standalone(make, () => Promise.reject(boom), flush));
    expect(traces.fromCall).toEqual(traces.fromPromise);
    expect(traces.fromPromise).toContainEqual(['error', boom]);
    expect(traces.fromPromise.at(-1)).toEqual(['end', { status: 'error', output: undefined, error: boom, input: undefined }]);
  });

  it('fails the same way when the function throws synchronously', async () => {
    const traces = await each((make) =>
      standalone(
        make,
        () => {
          throw boom;
        },
        flush,
      ),
    );
    expect(traces.fromCall).toEqual(traces.fromPromise);
    expect(traces.fromPromise).toContainEqual(['error', boom]);
    expect(traces.fromPromise.at(-1)).toMatchObject(['end', { status: 'error', error: boom }]);
  });

  it('is stopped while pending and ignores a late resolve', async () => {
    const traces = await each((make) => {
      const call = deferred();
      return standalone(make, () => call.promise, async (actor, trace) => {
        actor.stop();
        trace.push(['stopped']);
        call.resolve('too late');
        await flush();
      });
    });
    expect(traces.fromCall).toEqual(traces.fromPromise);
    expect(traces.fromPromise.at(-1)).toEqual(['end', { status: 'stopped', output: undefined, error: undefined, input: undefined }]);
    // nothing after the stop but the observers' completion
    expect(traces.fromPromise.slice(traces.fromPromise.findIndex((entry) => (entry as unknown[])[0] === 'stopped') + 1)).toEqual([traces.fromPromise.at(-1)]);
  });

  it('is stopped while pending and ignores a late reject', async () => {
    const traces = await each((make) => {
      const call = deferred();
      return standalone(make, () => call.promise, async (actor, trace) => {
        actor.stop();
        trace.push(['stopped']);
        call.reject(late);
        await flush();
      });
    });
    expect(traces.fromCall).toEqual(traces.fromPromise);
    expect(traces.fromPromise).not.toContainEqual(['error', late]);
    expect(traces.fromPromise.at(-1)).toMatchObject(['end', { status: 'stopped', error: undefined }]);
  });

  it('keeps a pending call in its persisted snapshot and runs it again on restore', async () => {
    const traces = await each(async (make) => {
      const runs: number[] = [];
      const first = createActor(make((n) => (runs.push(n), deferred().promise)), { input: 3 }).start();
      const persisted = first.getPersistedSnapshot();
      first.stop();
      const call = deferred();
      const restored = createActor(make((n) => (runs.push(n), call.promise)), { snapshot: persisted, input: 99 }).start();
      call.resolve('again');
      await flush();
      return [persisted, runs, restored.getSnapshot()];
    });
    expect(traces.fromCall).toEqual(traces.fromPromise);
    expect(traces.fromPromise).toEqual([
      { status: 'active', output: undefined, error: undefined, input: 3 },
      [3, 3],
      { status: 'done', output: 'again', error: undefined, input: undefined },
    ]);
  });
});

/** A parent that invokes the call in `calling` and can leave that state before it settles. */
function parentOf(logic: PromiseActorLogic<string, number>) {
  return setup({
    types: {} as { context: { output?: string; error?: unknown; runs: number }; events: { type: 'RUN' } | { type: 'LEAVE' } },
    actors: { call: logic },
  }).createMachine({
    id: 'parent',
    context: { runs: 0 },
    initial: 'idle',
    states: {
      idle: { on: { RUN: 'calling' } },
      calling: {
        entry: assign({ runs: ({ context }) => context.runs + 1 }),
        invoke: {
          id: 'call',
          src: 'call',
          input: ({ context }) => context.runs,
          onDone: { target: 'done', actions: assign({ output: ({ event }) => event.output }) },
          onError: { target: 'failed', actions: assign({ error: ({ event }) => event.error }) },
        },
        on: { LEAVE: 'idle' },
      },
      done: { on: { RUN: 'calling' } },
      failed: { on: { RUN: 'calling' } },
    },
  });
}

interface ParentRun {
  send(event: { type: 'RUN' } | { type: 'LEAVE' }): void;
  /** The invoked call's own actor, while there is one. */
  child(): AnyActorRef | undefined;
  mark(label: string): void;
}

/** The parent's snapshots, the events it receives (with their source) and the child's snapshots at each mark. */
async function invoked(make: Make, run: Run, script: (parent: ParentRun) => Promise<void>): Promise<{ trace: Trace; childEvents: unknown[] }> {
  const trace: Trace = [];
  const childEvents: unknown[] = [];
  // set once the parent exists: XState inspects an actor from its constructor on
  const refs: { parent?: AnyActorRef } = {};
  const inspect = (event: InspectionEvent) => {
    if (event.type !== '@xstate.event') return;
    const entry = { type: event.event.type, event: strip(event.event), from: event.sourceRef === refs.parent ? 'parent' : idOf(event.sourceRef) };
    if (event.actorRef === refs.parent) trace.push(['received', entry]);
    else if (idOf(event.actorRef) === 'call') childEvents.push(entry);
  };
  const parent = createActor(parentOf(make(run)), { inspect });
  refs.parent = parent;
  parent.subscribe({
    next: (snapshot) => trace.push(['parent', summary(snapshot)]),
    error: (error) => trace.push(['parent error', error]),
  });
  parent.start();
  const child = () => parent.getSnapshot().children.call as AnyActorRef | undefined;
  await script({
    send: (event) => parent.send(event),
    child,
    mark: (label) => trace.push([label, summary(parent.getSnapshot()), child()?.getSnapshot()]),
  });
  await flush();
  trace.push(['end', summary(parent.getSnapshot()), child()?.getSnapshot()]);
  return { trace, childEvents };
}

/** The id of an actor ref in an inspection event (typed there as ActorRefLike, which has none). */
const idOf = (ref: unknown) => (ref as { id?: string } | undefined)?.id;

function summary(snapshot: ReturnType<ReturnType<typeof createActor<ReturnType<typeof parentOf>>>['getSnapshot']>) {
  return { value: snapshot.value, status: snapshot.status, context: snapshot.context, children: Object.keys(snapshot.children) };
}

/** An event without the actor refs some XState events carry, so traces compare by value. */
function strip(event: { type: string }): Record<string, unknown> {
  return Object.fromEntries(Object.entries(event).filter(([, value]) => typeof value !== 'object' || value === null || !('send' in value)));
}

describe('fromCall behaves as XState fromPromise when invoked by a machine', () => {
  it('delivers the output to onDone', async () => {
    const traces = await each((make) =>
      invoked(make, async (n) => `out-${n}`, async (parent) => {
        parent.send({ type: 'RUN' });
        parent.mark('pending');
      }),
    );
    expect(traces.fromCall.trace).toEqual(traces.fromPromise.trace);
    expect(traces.fromPromise.trace).toContainEqual(['received', { type: 'xstate.done.actor.call', event: { type: 'xstate.done.actor.call', output: 'out-1', actorId: 'call' }, from: 'call' }]);
    expect(traces.fromPromise.trace.at(-1)).toEqual(['end', { value: 'done', status: 'active', context: { runs: 1, output: 'out-1' }, children: [] }, undefined]);
  });

  it('delivers the error to onError', async () => {
    const traces = await each((make) =>
      invoked(make, () => Promise.reject(boom), async (parent) => {
        parent.send({ type: 'RUN' });
        parent.mark('pending');
      }),
    );
    expect(traces.fromCall.trace).toEqual(traces.fromPromise.trace);
    expect(traces.fromPromise.trace).toContainEqual(['received', { type: 'xstate.error.actor.call', event: { type: 'xstate.error.actor.call', error: boom, actorId: 'call' }, from: 'call' }]);
    expect(traces.fromPromise.trace.at(-1)).toEqual(['end', { value: 'failed', status: 'active', context: { runs: 1, error: boom }, children: [] }, undefined]);
  });

  it('delivers a synchronous throw to onError', async () => {
    const traces = await each((make) =>
      invoked(
        make,
        () => {
          throw boom;
        },
        async (parent) => {
          parent.send({ type: 'RUN' });
          parent.mark('right after RUN');
        },
      ),
    );
    expect(traces.fromCall.trace).toEqual(traces.fromPromise.trace);
    expect(traces.fromPromise.trace.at(-1)).toEqual(['end', { value: 'failed', status: 'active', context: { runs: 1, error: boom }, children: [] }, undefined]);
  });

  it('stops the call when the parent leaves the state, and ignores its late resolve', async () => {
    const traces = await each((make) => {
      const call = deferred();
      return invoked(make, () => call.promise, async (parent) => {
        parent.send({ type: 'RUN' });
        parent.mark('pending');
        const child = parent.child();
        parent.send({ type: 'LEAVE' });
        parent.mark('left');
        call.resolve('too late');
        await flush();
        parent.mark('after the late resolve');
        expect(child?.getSnapshot()).toMatchObject({ status: 'stopped' });
      });
    });
    expect(traces.fromCall.trace).toEqual(traces.fromPromise.trace);
    const received = traces.fromPromise.trace.filter((entry) => (entry as unknown[])[0] === 'received').map((entry) => ((entry as unknown[])[1] as { type: string }).type);
    expect(received).toEqual(['xstate.init', 'RUN', 'LEAVE']);
    expect(traces.fromPromise.trace.at(-1)).toEqual(['end', { value: 'idle', status: 'active', context: { runs: 1 }, children: [] }, undefined]);
  });

  it('stops the call when the parent leaves the state, and ignores its late reject', async () => {
    const traces = await each((make) => {
      const call = deferred();
      return invoked(make, () => call.promise, async (parent) => {
        parent.send({ type: 'RUN' });
        parent.send({ type: 'LEAVE' });
        call.reject(late);
        await flush();
      });
    });
    expect(traces.fromCall.trace).toEqual(traces.fromPromise.trace);
    expect(traces.fromPromise.trace.at(-1)).toEqual(['end', { value: 'idle', status: 'active', context: { runs: 1 }, children: [] }, undefined]);
  });

  it('does not let a left call settle the next invocation', async () => {
    const traces = await each((make) => {
      const calls = [deferred(), deferred()];
      return invoked(make, (n) => calls[n - 1]!.promise, async (parent) => {
        parent.send({ type: 'RUN' });
        parent.send({ type: 'LEAVE' });
        parent.send({ type: 'RUN' });
        calls[0]!.resolve('first');
        await flush();
        parent.mark('first settled');
        calls[1]!.resolve('second');
      });
    });
    expect(traces.fromCall.trace).toEqual(traces.fromPromise.trace);
    expect(traces.fromPromise.trace).toContainEqual(['first settled', { value: 'calling', status: 'active', context: { runs: 2 }, children: ['call'] }, { status: 'active', output: undefined, error: undefined, input: 2 }]);
    expect(traces.fromPromise.trace.at(-1)).toEqual(['end', { value: 'done', status: 'active', context: { runs: 2, output: 'second' }, children: [] }, undefined]);
  });

  it('stops the call when the parent itself is stopped', async () => {
    const traces = await each(async (make) => {
      const call = deferred();
      const parent = createActor(parentOf(make(() => call.promise))).start();
      parent.send({ type: 'RUN' });
      const child = parent.getSnapshot().children.call as AnyActorRef;
      parent.stop();
      call.resolve('too late');
      await flush();
      return [summary(parent.getSnapshot()), child.getSnapshot()];
    });
    expect(traces.fromCall).toEqual(traces.fromPromise);
    expect(traces.fromPromise).toEqual([
      { value: 'calling', status: 'stopped', context: { runs: 1 }, children: [] },
      { status: 'stopped', output: undefined, error: undefined, input: undefined },
    ]);
  });

  it('persists a pending call with the parent and runs it again when the parent is restored', async () => {
    const traces = await each(async (make) => {
      const runs: number[] = [];
      const call = deferred();
      const parent = createActor(parentOf(make((n) => (runs.push(n), call.promise)))).start();
      parent.send({ type: 'RUN' });
      const persisted = parent.getPersistedSnapshot() as Snapshot<unknown> & { children: unknown };
      parent.stop();
      const restored = createActor(parentOf(make((n) => (runs.push(n), Promise.resolve(`restored-${n}`)))), { snapshot: persisted }).start();
      await flush();
      return [persisted.children, runs, summary(restored.getSnapshot())];
    });
    expect(traces.fromCall).toEqual(traces.fromPromise);
    expect(traces.fromPromise).toEqual([
      { call: { snapshot: { status: 'active', output: undefined, error: undefined, input: 1 }, src: 'call', systemId: undefined, syncSnapshot: false } },
      [1, 1],
      { value: 'done', status: 'active', context: { runs: 1, output: 'restored-1' }, children: [] },
    ]);
  });

  it('differs only in the name and the source of the event it sends itself when it settles', async () => {
    const traces = await each((make) =>
      invoked(make, async (n) => `out-${n}`, async (parent) => {
        parent.send({ type: 'RUN' });
      }),
    );
    // fromPromise relays 'xstate.promise.resolve' through the system with itself as the source;
    // fromCall sends 'steadfast.call.resolve' with self.send, which inspection shows without a source.
    expect(traces.fromPromise.childEvents).toEqual([
      { type: 'xstate.init', event: { type: 'xstate.init', input: 1 }, from: 'parent' },
      { type: 'xstate.promise.resolve', event: { type: 'xstate.promise.resolve', data: 'out-1' }, from: 'call' },
    ]);
    expect(traces.fromCall.childEvents).toEqual([
      { type: 'xstate.init', event: { type: 'xstate.init', input: 1 }, from: 'parent' },
      { type: 'steadfast.call.resolve', event: { type: 'steadfast.call.resolve', data: 'out-1' }, from: undefined },
    ]);
  });
});

/** Runs a scenario through both logics, one after the other. */
async function each<T>(scenario: (make: Make) => Promise<T>): Promise<Record<keyof typeof variants, T>> {
  return { fromPromise: await scenario(variants.fromPromise), fromCall: await scenario(variants.fromCall) };
}
