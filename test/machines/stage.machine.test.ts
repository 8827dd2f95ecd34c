import { describe, expect, it } from 'vitest';
import { createActor, fromPromise, waitFor } from 'xstate';
import { resumes, stageMachine, type StageCallInput, type StageCallOutput, type StageOpenOutput } from '../../machines/stage.machine.js';

interface Fakes {
  /** What `open` restores, instead of keeping the input state. */
  restored?: unknown;
  input: number;
  credit: boolean;
  openError?: Error;
  closeError?: Error;
  callResult: (state: unknown) => Promise<StageCallOutput>;
  delivered: unknown[];
  failures: unknown[];
  lifecycle: Array<{ phase: string; error: unknown }>;
  closed: number;
  /** Barriers queued ahead of the input (all of them before any event). */
  barriers: number;
  /** The state passed with each barrier, and the number of calls made by then. */
  passed: Array<{ state: unknown; callsBefore: number }>;
  calls: number;
}

function fakes(overrides: Partial<Fakes> = {}): Fakes {
  return {
    input: 0,
    credit: true,
    callResult: async (state) => ({ state: (state as number) + 1 }),
    delivered: [],
    failures: [],
    lifecycle: [],
    closed: 0,
    barriers: 0,
    passed: [],
    calls: 0,
    ...overrides,
  };
}

function start(f: Fakes, state: unknown = 0) {
  const machine = stageMachine.provide({
    actors: {
      open: fromPromise<StageOpenOutput, { stage: string; state: unknown }>(async ({ input }) => {
        if (f.openError) throw f.openError;
        return { state: f.restored ?? input.state };
      }),
      call: fromPromise<StageCallOutput, StageCallInput>(({ input }) => {
        f.input--;
        f.calls++;
        return f.callResult(input.state);
      }),
      close: fromPromise(async () => {
        f.closed++;
        if (f.closeError) throw f.closeError;
      }),
    },
    guards: { hasInput: () => f.input > 0 && f.barriers === 0, hasCredit: () => f.credit, atBarrier: () => f.barriers > 0 },
    actions: {
      deliver: (_, params) => f.delivered.push(params.output),
      reportFailure: (_, params) => f.failures.push(params.error),
      reportLifecycleFailure: (_, params) => f.lifecycle.push(params),
      passBarrier: (_, params) => {
        // As the runtime does: take the barrier off, then tell the machine (actions run after its step).
        f.barriers--;
        f.passed.push({ state: params.state, callsBefore: f.calls });
        actorRef.send({ type: 'steadfast.stage.input' });
      },
    },
  });
  const actorRef = createActor(machine, { input: { stage: 'test', state } });
  return actorRef.start();
}

describe('stage machine', () => {
  it('opens, then waits idle for input', async () => {
    const actor = start(fakes());
    expect(actor.getSnapshot().value).toBe('starting');
    await waitFor(actor, (s) => s.value === 'idle');
    expect(actor.getSnapshot().context).toMatchObject({ stage: 'test', state: 0, calls: 0, ended: false });
  });

  it('starts from the state open provides (a restored one)', async () => {
    const actor = start(fakes({ restored: { n: 41 } }), { n: 0 });
    await waitFor(actor, (s) => s.value === 'idle');
    expect(actor.getSnapshot().context.state).toEqual({ n: 41 });
  });

  it('fails when open fails, reporting the phase', async () => {
    const f = fakes({ openError: new Error('no disk') });
    const actor = start(f);
    await waitFor(actor, (s) => s.status === 'done');
    expect(actor.getSnapshot().value).toBe('failed');
    expect(f.lifecycle).toEqual([{ phase: 'open', error: f.openError }]);
  });

  it('calls once per input while there is credit, committing each state and delivering each output', async () => {
    const f = fakes();
    const actor = start(f);
    await waitFor(actor, (s) => s.value === 'idle');
    f.input = 3;
    actor.send({ type: 'steadfast.stage.input' });
    expect(actor.getSnapshot().value).toBe('busy');
    await waitFor(actor, (s) => s.value === 'idle');
    expect(actor.getSnapshot().context).toMatchObject({ state: 3, calls: 3, failedCalls: 0 });
    expect(f.delivered).toEqual([{ state: 1 }, { state: 2 }, { state: 3 }]);
  });

  it('goes from one call straight into the next while input and credit remain, without a pass through idle', async () => {
    const f = fakes();
    const actor = start(f);
    await waitFor(actor, (s) => s.value === 'idle');
    const seen: string[] = [];
    actor.subscribe((s) => seen.push(String(s.value)));
    f.input = 3;
    actor.send({ type: 'steadfast.stage.input' });
    await waitFor(actor, (s) => s.value === 'idle');
    expect(seen).toEqual(['busy', 'busy', 'busy', 'idle']);
    expect(actor.getSnapshot().context.calls).toBe(3);
  });

  it('blocks when input waits and downstream has no credit, and resumes on credit', async () => {
    const f = fakes({ credit: false });
    const actor = start(f);
    await waitFor(actor, (s) => s.value === 'idle');
    f.input = 1;
    actor.send({ type: 'steadfast.stage.input' });
    expect(actor.getSnapshot().value).toBe('blocked');
    f.credit = true;
    actor.send({ type: 'steadfast.stage.credit' });
    expect(actor.getSnapshot().value).toBe('busy');
    await waitFor(actor, (s) => s.value === 'idle');
    expect(f.delivered).toHaveLength(1);
  });

  it('keeps the committed prefix state of a partly failed call and reports the failure', async () => {
    const failure = Object.assign(new Error('event 3 failed'), { committed: { state: 42 } });
    const f = fakes({ callResult: () => Promise.reject(failure) });
    const actor = start(f, 7);
    await waitFor(actor, (s) => s.value === 'idle');
    f.input = 1;
    actor.send({ type: 'steadfast.stage.input' });
    await waitFor(actor, (s) => s.context.failedCalls === 1);
    expect(actor.getSnapshot().context).toMatchObject({ state: 42, calls: 1, failedCalls: 1 });
    expect(f.failures).toEqual([failure]);
    expect(f.delivered).toEqual([]);
  });

  it('keeps the previous state when a call fails without a committed prefix', async () => {
    const f = fakes({ callResult: () => Promise.reject(new Error('boom')) });
    const actor = start(f, 'before');
    await waitFor(actor, (s) => s.value === 'idle');
    f.input = 1;
    actor.send({ type: 'steadfast.stage.input' });
    await waitFor(actor, (s) => s.context.failedCalls === 1);
    expect(actor.getSnapshot().context.state).toBe('before');
  });

  it('drains its input after the end, then closes and stops', async () => {
    const f = fakes();
    const actor = start(f);
    await waitFor(actor, (s) => s.value === 'idle');
    f.input = 2;
    actor.send({ type: 'steadfast.stage.end' });
    actor.send({ type: 'steadfast.stage.input' });
    await waitFor(actor, (s) => s.status === 'done');
    expect(actor.getSnapshot().value).toBe('stopped');
    expect(actor.getSnapshot().context.calls).toBe(2);
    expect(f.closed).toBe(1);
  });

  it('remembers an end that arrives while starting', async () => {
    const f = fakes();
    const actor = start(f);
    actor.send({ type: 'steadfast.stage.end' });
    await waitFor(actor, (s) => s.status === 'done');
    expect(actor.getSnapshot().value).toBe('stopped');
  });

  it('fails when close fails', async () => {
    const f = fakes({ closeError: new Error('fsync failed') });
    const actor = start(f);
    actor.send({ type: 'steadfast.stage.end' });
    await waitFor(actor, (s) => s.status === 'done');
    expect(actor.getSnapshot().value).toBe('failed');
    expect(f.lifecycle).toEqual([{ phase: 'close', error: f.closeError }]);
  });

  it('passes each barrier with the state every earlier event built, before taking more input', async () => {
    const f = fakes({ input: 2 });
    const actor = start(f, 10);
    await waitFor(actor, (s) => s.value === 'idle' && f.input === 0);
    expect(actor.getSnapshot().context.state).toBe(12);
    f.barriers = 2;
    f.input = 1;
    actor.send({ type: 'steadfast.stage.input' });
    await waitFor(actor, (s) => s.value === 'idle' && f.input === 0);
    expect(f.passed).toEqual([
      { state: 12, callsBefore: 2 },
      { state: 12, callsBefore: 2 },
    ]);
    expect(actor.getSnapshot().context.state).toBe(13);
  });

  it('leaves blocked for a barrier: a barrier needs no downstream room', async () => {
    const f = fakes({ input: 1, credit: false });
    const actor = start(f, 0);
    await waitFor(actor, (s) => s.value === 'blocked');
    f.barriers = 1;
    actor.send({ type: 'steadfast.stage.input' });
    expect(f.passed).toEqual([{ state: 0, callsBefore: 0 }]);
    expect(actor.getSnapshot().value).toBe('blocked');
  });

  it('does not stop while a barrier is still queued after the end', async () => {
    const f = fakes();
    const actor = start(f, 5);
    await waitFor(actor, (s) => s.value === 'idle');
    f.barriers = 1;
    actor.send({ type: 'steadfast.stage.end' });
    await waitFor(actor, (s) => s.status === 'done');
    expect(f.passed).toEqual([{ state: 5, callsBefore: 0 }]);
  });

  it('is inert with its default implementations (drawable without I/O)', async () => {
    const actor = createActor(stageMachine, { input: { stage: 'plain', state: undefined } }).start();
    await waitFor(actor, (s) => s.value === 'idle');
    actor.send({ type: 'steadfast.stage.end' });
    await waitFor(actor, (s) => s.status === 'done');
    expect(actor.getSnapshot().value).toBe('stopped');
  });
});

describe('resumes (the guard after a failed call)', () => {
  const context = (onFailure: 'resume' | 'restart', restartAfterFailures: number, failuresInRow: number) => ({ onFailure, restartAfterFailures, failuresInRow });
  it('resumes under resume until the failure that makes restartAfterFailures in a row', () => {
    expect(resumes(context('resume', 3, 0), new Error('x'))).toBe(true);
    expect(resumes(context('resume', 3, 1), new Error('x'))).toBe(true);
    expect(resumes(context('resume', 3, 2), new Error('x'))).toBe(false);
    expect(resumes(context('resume', 0, 1_000), new Error('x'))).toBe(true);
  });
  it('restarts under restart, and when the call itself asked for it', () => {
    expect(resumes(context('restart', 3, 0), new Error('x'))).toBe(false);
    expect(resumes(context('resume', 0, 0), { committed: { state: 1 }, restart: true })).toBe(false);
    expect(resumes(context('resume', 0, 0), { committed: { state: 1 }, restart: false })).toBe(true);
  });
});
