import { describe, expect, it } from 'vitest';
import { createActor, fromPromise, waitFor } from 'xstate';
import {
  atBarrier,
  canCall,
  drained,
  resumes,
  stageMachine,
  waitsForCredit,
  type MailboxView,
  type StageCallInput,
  type StageOpenOutput,
} from '../../machines/stage.machine.js';

// The machine is driven with plain events, as the runtime sends them: each carries the mailbox as
// it is (a view), and each call's end comes back as steadfast.stage.done / steadfast.stage.failed.
// The effects the machine decides (start a call, pass a barrier) are only recorded here.

/** A mailbox report: nothing queued, room downstream, unless said otherwise. */
function view(over: Partial<MailboxView> = {}): MailboxView {
  return { ready: 0, queued: 0, barrierNext: false, credit: true, paused: false, stalls: 0, ...over };
}

interface Recorded {
  calls: StageCallInput[];
  passed: Array<{ state: unknown; callsBefore: number }>;
  lifecycle: Array<{ phase: string; error: unknown }>;
  closed: number;
}

function start(state: unknown = 0, options: { restored?: unknown; openError?: Error; closeError?: Error; concurrency?: number } = {}) {
  const rec: Recorded = { calls: [], passed: [], lifecycle: [], closed: 0 };
  const machine = stageMachine.provide({
    actors: {
      open: fromPromise<StageOpenOutput, { stage: string; state: unknown }>(async ({ input }) => {
        if (options.openError) throw options.openError;
        return { state: options.restored ?? input.state };
      }),
      close: fromPromise(async () => {
        rec.closed++;
        if (options.closeError) throw options.closeError;
      }),
    },
    actions: {
      startCall: (_, params) => rec.calls.push(params),
      passBarrier: (_, params) => rec.passed.push({ state: params.state, callsBefore: rec.calls.length }),
      reportLifecycleFailure: (_, params) => rec.lifecycle.push(params),
    },
  });
  const actor = createActor(machine, { input: { stage: 'test', state, ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }) } });
  return { actor: actor.start(), rec };
}

type Started = ReturnType<typeof start>['actor'];

const idle = (actor: Started) => waitFor(actor, (s) => s.value === 'idle');
const done = (actor: Started, state: unknown, mailbox = view()) => actor.send({ type: 'steadfast.stage.done', output: { state }, mailbox });

describe('stage machine', () => {
  it('opens, then waits idle for input', async () => {
    const { actor } = start();
    expect(actor.getSnapshot().value).toBe('starting');
    await idle(actor);
    expect(actor.getSnapshot().context).toMatchObject({ stage: 'test', state: 0, calls: 0, ended: false, inFlight: 0 });
  });

  it('starts from the state open provides (a restored one)', async () => {
    const { actor } = start({ n: 0 }, { restored: { n: 41 } });
    await idle(actor);
    expect(actor.getSnapshot().context.state).toEqual({ n: 41 });
  });

  it('fails when open fails, reporting the phase', async () => {
    const openError = new Error('no disk');
    const { actor, rec } = start(0, { openError });
    await waitFor(actor, (s) => s.status === 'done');
    expect(actor.getSnapshot().value).toBe('failed');
    expect(rec.lifecycle).toEqual([{ phase: 'open', error: openError }]);
  });

  it('calls once per input while there is credit, committing each state', async () => {
    const { actor, rec } = start(0);
    await idle(actor);
    actor.send({ type: 'steadfast.stage.input', mailbox: view({ ready: 3, queued: 3 }) });
    expect(actor.getSnapshot().value).toBe('busy');
    expect(rec.calls).toEqual([{ state: 0, failuresInRow: 0, failurePolicy: { resume: true, restartAfter: 10 } }]);
    done(actor, 1, view({ ready: 2, queued: 2 }));
    done(actor, 2, view({ ready: 1, queued: 1 }));
    done(actor, 3, view());
    expect(actor.getSnapshot().value).toBe('idle');
    expect(actor.getSnapshot().context).toMatchObject({ state: 3, calls: 3, failedCalls: 0, inFlight: 0 });
    expect(rec.calls.map((c) => c.state)).toEqual([0, 1, 2]);
  });

  it('goes from one call straight into the next while input and credit remain, without a pass through idle', async () => {
    const { actor, rec } = start(0);
    await idle(actor);
    const seen: string[] = [];
    actor.subscribe((s) => seen.push(String(s.value)));
    actor.send({ type: 'steadfast.stage.input', mailbox: view({ ready: 3, queued: 3 }) });
    done(actor, 1, view({ ready: 2, queued: 2 }));
    done(actor, 2, view({ ready: 1, queued: 1 }));
    done(actor, 3);
    expect(seen).toEqual(['busy', 'busy', 'busy', 'idle']);
    expect(rec.calls).toHaveLength(3);
    expect(actor.getSnapshot().context.calls).toBe(3);
  });

  it('waits for a fresh report after starting a call: one call per view', async () => {
    const { actor, rec } = start(0, { concurrency: 4 });
    await idle(actor);
    actor.send({ type: 'steadfast.stage.input', mailbox: view({ ready: 100, queued: 100 }) });
    expect(rec.calls).toHaveLength(1);
    expect(actor.getSnapshot().context.mailbox).toBeUndefined();
    // The runtime took a batch and reports what is left: another call may start, up to the concurrency.
    for (let i = 0; i < 5; i++) actor.send({ type: 'steadfast.stage.input', mailbox: view({ ready: 50, queued: 50 }) });
    expect(rec.calls).toHaveLength(4);
    expect(actor.getSnapshot().context.inFlight).toBe(4);
    done(actor, 0, view({ ready: 50, queued: 50 }));
    expect(rec.calls).toHaveLength(5);
    expect(actor.getSnapshot().value).toBe('busy');
  });

  it('blocks when input waits and downstream has no credit, and resumes on credit', async () => {
    const { actor, rec } = start(0);
    await idle(actor);
    actor.send({ type: 'steadfast.stage.input', mailbox: view({ ready: 1, queued: 1, credit: false }) });
    expect(actor.getSnapshot().value).toBe('blocked');
    actor.send({ type: 'steadfast.stage.credit', mailbox: view({ ready: 1, queued: 1, credit: true }) });
    expect(actor.getSnapshot().value).toBe('busy');
    done(actor, 1);
    expect(actor.getSnapshot().value).toBe('idle');
    expect(rec.calls).toHaveLength(1);
  });

  it('starts no call while paused or held back by alignment, and goes on once released', async () => {
    const { actor, rec } = start(0);
    await idle(actor);
    actor.send({ type: 'steadfast.stage.input', mailbox: view({ ready: 2, queued: 2, paused: true }) });
    actor.send({ type: 'steadfast.stage.input', mailbox: view({ ready: 2, queued: 2, stalls: 1 }) });
    expect(actor.getSnapshot().value).toBe('idle');
    expect(rec.calls).toEqual([]);
    actor.send({ type: 'steadfast.stage.input', mailbox: view({ ready: 2, queued: 2 }) });
    expect(rec.calls).toHaveLength(1);
  });

  it('keeps the committed prefix state of a partly failed call', async () => {
    const failure = Object.assign(new Error('event 3 failed'), { committed: { state: 42 } });
    const { actor } = start(7);
    await idle(actor);
    actor.send({ type: 'steadfast.stage.input', mailbox: view({ ready: 1, queued: 1 }) });
    actor.send({ type: 'steadfast.stage.failed', error: failure, mailbox: view() });
    expect(actor.getSnapshot().value).toBe('idle');
    expect(actor.getSnapshot().context).toMatchObject({ state: 42, calls: 1, failedCalls: 1, failuresInRow: 1, inFlight: 0 });
  });

  it('keeps the previous state when a call fails without a committed prefix', async () => {
    const { actor } = start('before');
    await idle(actor);
    actor.send({ type: 'steadfast.stage.input', mailbox: view({ ready: 1, queued: 1 }) });
    actor.send({ type: 'steadfast.stage.failed', error: new Error('boom'), mailbox: view() });
    expect(actor.getSnapshot().context.state).toBe('before');
  });

  it('crashes on a failed call under restart, and after restartAfterFailures failures in a row under resume', async () => {
    const restart = createActor(stageMachine, { input: { stage: 's', state: 0, onFailure: 'restart' } }).start();
    await waitFor(restart, (s) => s.value === 'idle');
    restart.send({ type: 'steadfast.stage.input', mailbox: view({ ready: 1, queued: 1 }) });
    restart.send({ type: 'steadfast.stage.failed', error: new Error('x'), mailbox: view() });
    expect(restart.getSnapshot().value).toBe('crashed');
    const resume = createActor(stageMachine, { input: { stage: 's', state: 0, restartAfterFailures: 2 } }).start();
    await waitFor(resume, (s) => s.value === 'idle');
    resume.send({ type: 'steadfast.stage.input', mailbox: view({ ready: 2, queued: 2 }) });
    resume.send({ type: 'steadfast.stage.failed', error: new Error('x'), mailbox: view({ ready: 1, queued: 1 }) });
    expect(resume.getSnapshot().value).toBe('busy');
    resume.send({ type: 'steadfast.stage.failed', error: new Error('y'), mailbox: view() });
    expect(resume.getSnapshot().value).toBe('crashed');
  });

  it('drains its input after the end, then closes and stops', async () => {
    const { actor, rec } = start(0);
    await idle(actor);
    actor.send({ type: 'steadfast.stage.end', mailbox: view({ ready: 2, queued: 2 }) });
    done(actor, 1, view({ ready: 1, queued: 1 }));
    expect(actor.getSnapshot().value).toBe('busy');
    done(actor, 2);
    await waitFor(actor, (s) => s.status === 'done');
    expect(actor.getSnapshot().value).toBe('stopped');
    expect(actor.getSnapshot().context.calls).toBe(2);
    expect(rec.closed).toBe(1);
  });

  it('remembers an end that arrives while starting', async () => {
    const { actor } = start(0);
    actor.send({ type: 'steadfast.stage.end', mailbox: view() });
    await waitFor(actor, (s) => s.status === 'done');
    expect(actor.getSnapshot().value).toBe('stopped');
  });

  it('fails when close fails', async () => {
    const closeError = new Error('fsync failed');
    const { actor, rec } = start(0, { closeError });
    actor.send({ type: 'steadfast.stage.end', mailbox: view() });
    await waitFor(actor, (s) => s.status === 'done');
    expect(actor.getSnapshot().value).toBe('failed');
    expect(rec.lifecycle).toEqual([{ phase: 'close', error: closeError }]);
  });

  it('passes each barrier with the state every earlier event built, before taking more input', async () => {
    const { actor, rec } = start(10);
    await idle(actor);
    actor.send({ type: 'steadfast.stage.input', mailbox: view({ ready: 2, queued: 4 }) });
    done(actor, 11, view({ ready: 1, queued: 3 }));
    // The last event before the barriers is in a call: no barrier passes until it ends.
    actor.send({ type: 'steadfast.stage.input', mailbox: view({ ready: 0, queued: 3, barrierNext: true }) });
    expect(rec.passed).toEqual([]);
    done(actor, 12, view({ ready: 0, queued: 3, barrierNext: true }));
    expect(rec.passed).toEqual([{ state: 12, callsBefore: 2 }]);
    // The runtime took the barrier off and reports the next one, then the event behind it.
    actor.send({ type: 'steadfast.stage.input', mailbox: view({ ready: 0, queued: 2, barrierNext: true }) });
    actor.send({ type: 'steadfast.stage.input', mailbox: view({ ready: 1, queued: 1 }) });
    expect(rec.passed).toEqual([
      { state: 12, callsBefore: 2 },
      { state: 12, callsBefore: 2 },
    ]);
    done(actor, 13);
    expect(actor.getSnapshot().context.state).toBe(13);
  });

  it('leaves blocked for a barrier: a barrier needs no downstream room', async () => {
    const { actor, rec } = start(0);
    await idle(actor);
    actor.send({ type: 'steadfast.stage.input', mailbox: view({ ready: 1, queued: 1, credit: false }) });
    expect(actor.getSnapshot().value).toBe('blocked');
    // A barrier arrived at the head (a restart put replays behind it, say): it passes without credit.
    actor.send({ type: 'steadfast.stage.input', mailbox: view({ ready: 0, queued: 2, barrierNext: true, credit: false }) });
    expect(rec.passed).toEqual([{ state: 0, callsBefore: 0 }]);
    actor.send({ type: 'steadfast.stage.input', mailbox: view({ ready: 1, queued: 1, credit: false }) });
    expect(actor.getSnapshot().value).toBe('blocked');
  });

  it('does not stop while a barrier is still queued after the end', async () => {
    const { actor, rec } = start(5);
    await idle(actor);
    actor.send({ type: 'steadfast.stage.end', mailbox: view({ queued: 1, barrierNext: true }) });
    expect(actor.getSnapshot().value).toBe('idle');
    expect(rec.passed).toEqual([{ state: 5, callsBefore: 0 }]);
    actor.send({ type: 'steadfast.stage.input', mailbox: view() });
    await waitFor(actor, (s) => s.status === 'done');
    expect(actor.getSnapshot().value).toBe('stopped');
  });

  it('is inert with its default implementations (drawable without I/O)', async () => {
    const actor = createActor(stageMachine, { input: { stage: 'plain', state: undefined } }).start();
    await waitFor(actor, (s) => s.value === 'idle');
    actor.send({ type: 'steadfast.stage.end', mailbox: view() });
    await waitFor(actor, (s) => s.status === 'done');
    expect(actor.getSnapshot().value).toBe('stopped');
  });
});

describe('the guards, as pure functions of the context', () => {
  const facts = (mailbox: MailboxView | undefined, inFlight = 0, concurrency = 1, ended = false) => ({ mailbox, inFlight, concurrency, ended });
  it('starts a call only with input, credit, no pause or stall, and concurrency to spare', () => {
    expect(canCall(facts(view({ ready: 1 })))).toBe(true);
    expect(canCall(facts(view({ ready: 0 })))).toBe(false);
    expect(canCall(facts(view({ ready: 1, credit: false })))).toBe(false);
    expect(canCall(facts(view({ ready: 1, paused: true })))).toBe(false);
    expect(canCall(facts(view({ ready: 1, stalls: 2 })))).toBe(false);
    expect(canCall(facts(view({ ready: 1 }), 1, 1))).toBe(false);
    expect(canCall(facts(view({ ready: 1 }), 1, 2))).toBe(true);
    expect(canCall(facts(undefined))).toBe(false);
  });
  it('waits for credit only with input and no call in flight to free room', () => {
    expect(waitsForCredit(facts(view({ ready: 1, credit: false })))).toBe(true);
    expect(waitsForCredit(facts(view({ ready: 1, credit: false }), 1))).toBe(false);
    expect(waitsForCredit(facts(view({ ready: 1 })))).toBe(false);
  });
  it('passes a barrier only at the head and with no call in flight; drains only when ended and empty', () => {
    expect(atBarrier(facts(view({ barrierNext: true })))).toBe(true);
    expect(atBarrier(facts(view({ barrierNext: true }), 1))).toBe(false);
    expect(drained(facts(view(), 0, 1, true))).toBe(true);
    expect(drained(facts(view({ queued: 1 }), 0, 1, true))).toBe(false);
    expect(drained(facts(view(), 1, 1, true))).toBe(false);
    expect(drained(facts(view(), 0, 1, false))).toBe(false);
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
