import { assign, fromPromise, setup } from 'xstate';

/** Input of a stage actor: its node name, and the state it has until `open` provides one. */
export interface StageMachineInput {
  stage: string;
  state: unknown;
  /**
   * What a failed call does to the stage: `'resume'` (default) keeps it running with the state from
   * before the failing event; `'restart'` crashes it, so its supervisor restarts it.
   */
  onFailure?: StageFailurePolicy;
  /** With `'resume'`: this many failed events (or batch calls) in a row restart the stage all the same; 0 never (default 10). */
  restartAfterFailures?: number;
  /** Calls in flight at most (default 1). */
  concurrency?: number;
}

/** What a failed call does to a stage: crash it (its supervisor restarts it) or resume. */
export type StageFailurePolicy = 'restart' | 'resume';

/** What `open` resolves with: the state the stage starts from (initial, or restored). */
export interface StageOpenOutput {
  state: unknown;
}

/**
 * What the runtime tells the machine about the stage instance's mailbox, with every event it sends:
 * the facts the machine's guards read. A fresh view comes with each event; the machine sets it
 * aside (`undefined`) when its own step used it up (it started a call, or passed a barrier).
 */
export interface MailboxView {
  /** Events queued before the next barrier: what a call may take. */
  ready: number;
  /** Events and barriers queued in all (0: the mailbox is empty). */
  queued: number;
  /** A barrier is at the head of the mailbox. */
  barrierNext: boolean;
  /** Downstream has room for a worthwhile call. */
  credit: boolean;
  /** Calls are paused: queued events wait (a swap waits for the calls in flight to end). */
  paused: boolean;
  /** Nodes this one fed a barrier that still align it on their other inputs: no call until they have it. */
  stalls: number;
}

/** Context of a stage actor: the user's stage state, what it knows of its mailbox, and its call counters. */
export interface StageMachineContext {
  stage: string;
  /** The stage's state after the last successful call. */
  state: unknown;
  /** Every upstream has finished: once the mailbox is empty the stage stops. */
  ended: boolean;
  onFailure: StageFailurePolicy;
  restartAfterFailures: number;
  concurrency: number;
  /** Calls started and not yet finished. */
  inFlight: number;
  /** The mailbox as the runtime last reported it; undefined until the next report once a step used it up. */
  mailbox: MailboxView | undefined;
  /** Failed events (or failed batch calls) in a row since the last event that succeeded. */
  failuresInRow: number;
  calls: number;
  failedCalls: number;
}

/** What a call is given: the state, failed events in a row before it, and what a failed event does to it. */
export interface StageCallInput {
  state: unknown;
  failuresInRow: number;
  failurePolicy: { resume: boolean; restartAfter: number };
}

/** What a successful call resolves with; the rest of the result is opaque to the machine. */
export interface StageCallOutput {
  state: unknown;
  /** Failed events in a row at the end of the call (the call went on past them, resuming). */
  failuresInRow?: number;
}

/**
 * A call that fails after part of its batch succeeded rejects with an error carrying `committed`:
 * the output of the successful prefix, whose state the machine keeps. `restart`: the call stopped
 * because `restartAfterFailures` events failed in a row: the stage restarts even under `'resume'`.
 */
export interface PartialCallFailure {
  committed: StageCallOutput;
  restart?: boolean;
}

function committedOf(error: unknown): StageCallOutput | undefined {
  if (typeof error !== 'object' || error === null || !('committed' in error)) return undefined;
  return (error as PartialCallFailure).committed;
}

function restartAsked(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as PartialCallFailure).restart === true;
}

/**
 * Whether a stage resumes after a failed call: under `'resume'`, unless the call itself asked for a
 * restart (too many events failed in a row inside it) or this failure makes `restartAfterFailures`
 * in a row. Pure, so that it can be tested on its own.
 */
export function resumes(context: Pick<StageMachineContext, 'onFailure' | 'restartAfterFailures' | 'failuresInRow'>, error: unknown): boolean {
  if (context.onFailure !== 'resume' || restartAsked(error)) return false;
  return context.restartAfterFailures === 0 || context.failuresInRow + 1 < context.restartAfterFailures;
}

type Facts = Pick<StageMachineContext, 'mailbox' | 'inFlight' | 'concurrency' | 'ended'>;

/** Events wait that a call may take now (not paused, not held back by alignment). */
function hasInput(m: MailboxView): boolean {
  return m.ready > 0 && !m.paused && m.stalls === 0;
}

/** Another call may start: input, room downstream, and fewer calls in flight than allowed. */
export function canCall({ mailbox, inFlight, concurrency }: Facts): boolean {
  return mailbox !== undefined && inFlight < concurrency && mailbox.credit && hasInput(mailbox);
}

/** Input waits, but downstream has no room for it, and no call is in flight to end and free some. */
export function waitsForCredit({ mailbox, inFlight }: Facts): boolean {
  return mailbox !== undefined && inFlight === 0 && !mailbox.credit && hasInput(mailbox);
}

/** A barrier is next and every call before it has finished: the state is the one all earlier events built. */
export function atBarrier({ mailbox, inFlight }: Facts): boolean {
  return mailbox !== undefined && inFlight === 0 && mailbox.barrierNext;
}

/** Every upstream ended, nothing is queued and no call is in flight: the stage may close. */
export function drained({ mailbox, inFlight, ended }: Facts): boolean {
  return ended && mailbox !== undefined && inFlight === 0 && mailbox.queued === 0;
}

/** Events a stage actor accepts: reports of its mailbox (each with a fresh view), and the end of each call. */
export type StageMachineEvent =
  | { type: 'steadfast.stage.input'; mailbox: MailboxView }
  | { type: 'steadfast.stage.credit'; mailbox: MailboxView }
  | { type: 'steadfast.stage.end'; mailbox: MailboxView }
  | { type: 'steadfast.stage.done'; output: StageCallOutput; mailbox: MailboxView }
  | { type: 'steadfast.stage.failed'; error: unknown; mailbox: MailboxView };

type Failed = Extract<StageMachineEvent, { type: 'steadfast.stage.failed' }>;
type Done = Extract<StageMachineEvent, { type: 'steadfast.stage.done' }>;

/** Types, inert effects, guards and actions of the stage machine (effects via `provide()`). */
const stageSetup = setup({
  types: {
    context: {} as StageMachineContext,
    events: {} as StageMachineEvent,
    input: {} as StageMachineInput,
  },
  actors: {
    open: fromPromise<StageOpenOutput, { stage: string; state: unknown }>(async ({ input }) => ({ state: input.state })),
    close: fromPromise<void, { stage: string }>(async () => undefined),
  },
  guards: {
    canCall: ({ context }) => canCall(context),
    waitsForCredit: ({ context }) => waitsForCredit(context),
    noWaitForCredit: ({ context }) => context.mailbox !== undefined && !waitsForCredit(context),
    atBarrier: ({ context }) => atBarrier(context),
    drained: ({ context }) => drained(context),
    noCallInFlight: ({ context }) => context.inFlight === 0,
    resumesAfterFailure: ({ context, event }) => resumes(context, (event as Failed).error),
  },
  actions: {
    observe: assign(({ event }) => ({ mailbox: (event as { mailbox: MailboxView }).mailbox })),
    markEnded: assign({ ended: true }),
    startFrom: assign((_, params: { output: StageOpenOutput }) => ({ state: params.output.state })),
    /** A call starts: one more in flight; the view is used up until the runtime reports the mailbox again. */
    takeCall: assign(({ context }) => ({ inFlight: context.inFlight + 1, mailbox: undefined })),
    /** The barrier leaves the mailbox: the view is used up until the runtime reports it again. */
    takeBarrier: assign({ mailbox: undefined }),
    commit: assign(({ context, event }) => {
      const { output, mailbox } = event as Done;
      return { state: output.state, failuresInRow: output.failuresInRow ?? 0, calls: context.calls + 1, inFlight: context.inFlight - 1, mailbox };
    }),
    recover: assign(({ context, event }) => {
      const { error, mailbox } = event as Failed;
      const committed = committedOf(error);
      return {
        state: committed === undefined ? context.state : committed.state,
        failuresInRow: context.failuresInRow + 1,
        calls: context.calls + 1,
        failedCalls: context.failedCalls + 1,
        inFlight: context.inFlight - 1,
        mailbox,
      };
    }),
    // Effects, carried out by the runtime (inert here, so that the machine can be drawn and tested without I/O).
    startCall: (_, _params: StageCallInput) => {},
    passBarrier: (_, _params: { state: unknown }) => {},
    reportLifecycleFailure: (_, _params: { phase: 'open' | 'close'; error: unknown }) => {},
  },
});

/** Take a batch: the call gets the state, failures in a row, and what a failed event does to it. */
const startCall = [
  'takeCall',
  {
    type: 'startCall',
    params: ({ context }: { context: StageMachineContext }) => ({
      state: context.state,
      failuresInRow: context.failuresInRow,
      // Under 'resume' a per-event call goes on past a failed event, up to restartAfterFailures in a row.
      failurePolicy: { resume: context.onFailure === 'resume', restartAfter: context.restartAfterFailures },
    }),
  },
] as const;

/** Snapshot the state every event before the barrier built, and pass the barrier on. */
const passBarrier = [{ type: 'passBarrier', params: ({ context }: { context: StageMachineContext }) => ({ state: context.state }) }, 'takeBarrier'] as const;

/**
 * The lifecycle of one stage instance. The machine decides, from the facts the runtime reports
 * with each event (its mailbox: queued events, a barrier at the head, downstream credit, paused,
 * alignment stalls; and each call's end), when to start a call, when to pass a barrier, whether a
 * failure is resumed or crashes the stage, and when to close. The runtime carries the decisions out:
 * `open` / `close` (invoked promise actors) and the effects `startCall` (take a batch and run the
 * user's code; its end comes back as `steadfast.stage.done` or `steadfast.stage.failed`) and
 * `passBarrier`. Guards are pure functions of the context, exported for tests and docs.
 *
 * - `starting`: `open` runs and provides the state to start from (initial, or restored).
 * - `idle`: no call in flight; a barrier at the head is passed first (its snapshot is the state
 *   every earlier event built), then a call starts when input waits and downstream has room.
 * - `blocked`: input waits but downstream is full; waits for credit.
 * - `busy`: calls in flight (up to `concurrency`); each one's end is committed as it comes, and
 *   more start while input, room and concurrency allow. With none left it returns to `idle`.
 * - `stopping`: every upstream ended and the mailbox is empty; `close` flushes.
 * - `crashed`: a call failed and the stage restarts (`onFailure: 'restart'`, or under `'resume'`
 *   after `restartAfterFailures` failed events in a row): final for this incarnation; its
 *   supervisor starts a new one.
 * - `stopped` / `failed` (open or close failed): final.
 */
export const stageMachine = stageSetup.createMachine({
  id: 'stage',
  context: ({ input }) => ({
    stage: input.stage,
    state: input.state,
    ended: false,
    onFailure: input.onFailure ?? 'resume',
    restartAfterFailures: input.restartAfterFailures ?? 10,
    concurrency: input.concurrency ?? 1,
    inFlight: 0,
    mailbox: undefined,
    failuresInRow: 0,
    calls: 0,
    failedCalls: 0,
  }),
  initial: 'starting',
  on: {
    'steadfast.stage.input': { actions: 'observe' },
    'steadfast.stage.credit': { actions: 'observe' },
    'steadfast.stage.end': { actions: ['markEnded', 'observe'] },
  },
  states: {
    starting: {
      invoke: {
        src: 'open',
        input: ({ context }) => ({ stage: context.stage, state: context.state }),
        onDone: { target: 'idle', actions: { type: 'startFrom', params: ({ event }) => ({ output: event.output }) } },
        onError: {
          target: 'failed',
          actions: { type: 'reportLifecycleFailure', params: ({ event }) => ({ phase: 'open' as const, error: event.error }) },
        },
      },
    },
    idle: {
      always: [
        { guard: 'atBarrier', actions: passBarrier },
        { guard: 'canCall', target: 'busy', actions: startCall },
        { guard: 'waitsForCredit', target: 'blocked' },
        { guard: 'drained', target: 'stopping' },
      ],
    },
    blocked: {
      always: [
        // A barrier needs no room downstream.
        { guard: 'atBarrier', target: 'idle' },
        { guard: 'canCall', target: 'busy', actions: startCall },
        { guard: 'noWaitForCredit', target: 'idle' },
      ],
    },
    busy: {
      always: [
        // More work, room for it and concurrency to spare: another call, without a pass through idle.
        { guard: 'canCall', actions: startCall },
        { guard: 'noCallInFlight', target: 'idle' },
      ],
      on: {
        'steadfast.stage.done': { actions: 'commit' },
        'steadfast.stage.failed': [
          // The state of the events before the failing one is kept; the failure was reported by the runtime.
          { guard: 'resumesAfterFailure', actions: 'recover' },
          // Let it crash: the supervisor restarts the stage (the events after the failing one wait in its mailbox).
          { target: 'crashed', actions: 'recover' },
        ],
      },
    },
    stopping: {
      invoke: {
        src: 'close',
        input: ({ context }) => ({ stage: context.stage }),
        onDone: { target: 'stopped' },
        onError: {
          target: 'failed',
          actions: { type: 'reportLifecycleFailure', params: ({ event }) => ({ phase: 'close' as const, error: event.error }) },
        },
      },
    },
    stopped: { type: 'final' },
    failed: { type: 'final' },
    crashed: { type: 'final' },
  },
});

/** A state of the stage machine. */
export type StageStateValue = 'starting' | 'idle' | 'blocked' | 'busy' | 'stopping' | 'stopped' | 'failed' | 'crashed';
