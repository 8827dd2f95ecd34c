import { and, assign, fromPromise, setup } from 'xstate';

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
}

/** What a failed call does to a stage: crash it (its supervisor restarts it) or resume. */
export type StageFailurePolicy = 'restart' | 'resume';

/** What `open` resolves with: the state the stage starts from (initial, or restored). */
export interface StageOpenOutput {
  state: unknown;
}

/** Context of a stage actor: the user's stage state and its call counters. */
export interface StageMachineContext {
  stage: string;
  /** The stage's state after the last successful call. */
  state: unknown;
  /** Every upstream has finished: once the mailbox is empty the stage stops. */
  ended: boolean;
  onFailure: StageFailurePolicy;
  restartAfterFailures: number;
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

/** Events a stage actor accepts. */
export type StageMachineEvent =
  | { type: 'steadfast.stage.input' }
  | { type: 'steadfast.stage.credit' }
  | { type: 'steadfast.stage.end' };

/** Types, inert effects, guards and actions of the stage machine (implementations via `provide()`). */
const stageSetup = setup({
  types: {
    context: {} as StageMachineContext,
    events: {} as StageMachineEvent,
    input: {} as StageMachineInput,
  },
  actors: {
    open: fromPromise<StageOpenOutput, { stage: string; state: unknown }>(async ({ input }) => ({ state: input.state })),
    call: fromPromise<StageCallOutput, StageCallInput>(async ({ input }) => ({ state: input.state })),
    close: fromPromise<void, { stage: string }>(async () => undefined),
  },
  guards: {
    hasInput: () => false,
    hasCredit: () => true,
    atBarrier: () => false,
    upstreamEnded: ({ context }) => context.ended,
    resumesAfterFailure: ({ context, event }) => resumes(context, (event as { error?: unknown }).error),
  },
  actions: {
    markEnded: assign({ ended: true }),
    startFrom: assign((_, params: { output: StageOpenOutput }) => ({ state: params.output.state })),
    commit: assign(({ context }, params: { output: StageCallOutput }) => ({
      state: params.output.state,
      failuresInRow: params.output.failuresInRow ?? 0,
      calls: context.calls + 1,
    })),
    recover: assign(({ context }, params: { error: unknown }) => {
      const committed = committedOf(params.error);
      return {
        state: committed === undefined ? context.state : committed.state,
        failuresInRow: context.failuresInRow + 1,
        calls: context.calls + 1,
        failedCalls: context.failedCalls + 1,
      };
    }),
    deliver: (_, _params: { output: StageCallOutput }) => {},
    passBarrier: (_, _params: { state: unknown }) => {},
    reportFailure: (_, _params: { error: unknown }) => {},
    reportLifecycleFailure: (_, _params: { phase: 'open' | 'close'; error: unknown }) => {},
  },
});

/** A failed call: keep the state of the events before the failing one, report the failure. */
const recoverAndReport = [
  { type: 'recover', params: ({ event }: { event: { error: unknown } }) => ({ error: event.error }) },
  { type: 'reportFailure', params: ({ event }: { event: { error: unknown } }) => ({ error: event.error }) },
] as const;

/** The result of a call: keep its state, route its outputs. */
const commitAndDeliver = [
  { type: 'commit', params: ({ event }: { event: { output: StageCallOutput } }) => ({ output: event.output }) },
  { type: 'deliver', params: ({ event }: { event: { output: StageCallOutput } }) => ({ output: event.output }) },
] as const;

/**
 * The lifecycle of one stage instance. The machine decides; the runtime supplies the effects at
 * `provide()` time: `open` / `call` / `close` (invoked promise actors), the guards that read the
 * mailbox and downstream credit, and the actions that deliver outputs and report failures.
 * The defaults here are inert so that the machine can be drawn and tested without I/O.
 *
 * - `starting`: `open` runs and provides the state to start from (sinks open files here;
 *   checkpoints will restore here).
 * - `idle`: waits for input; takes a batch when input is queued and downstream has room. A
 *   checkpoint barrier at the front of the mailbox is passed first (`passBarrier` gets the state
 *   that every event before it built: the stage's snapshot for that checkpoint).
 * - `blocked`: input is queued but downstream is full; waits for credit.
 * - `busy`: one user call (`call`) is in flight; its result or failure comes back as an event.
 *   With more input and room downstream, a finished call goes straight into the next one.
 * - `stopping`: every upstream ended and the mailbox is empty; `close` flushes.
 * - `crashed`: a call failed and the stage restarts (`onFailure: 'restart'`, or under `'resume'`
 *   after `restartAfterFailures` failed events in a row): final for this incarnation; its
 *   supervisor starts a new one from the stage's starting state.
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
    failuresInRow: 0,
    calls: 0,
    failedCalls: 0,
  }),
  initial: 'starting',
  on: {
    'steadfast.stage.end': { actions: 'markEnded' },
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
        // A checkpoint barrier is next in the mailbox: snapshot the state every earlier event built, pass the barrier on.
        { guard: 'atBarrier', actions: { type: 'passBarrier', params: ({ context }) => ({ state: context.state }) } },
        { guard: and(['hasInput', 'hasCredit']), target: 'busy' },
        { guard: 'hasInput', target: 'blocked' },
        { guard: 'upstreamEnded', target: 'stopping' },
      ],
      on: {
        'steadfast.stage.input': {},
        'steadfast.stage.credit': {},
      },
    },
    blocked: {
      always: [
        { guard: 'atBarrier', target: 'idle' },
        { guard: and(['hasInput', 'hasCredit']), target: 'busy' },
      ],
      on: {
        'steadfast.stage.credit': { target: 'idle' },
        'steadfast.stage.input': {},
      },
    },
    busy: {
      invoke: {
        src: 'call',
        input: ({ context }) => ({
          state: context.state,
          failuresInRow: context.failuresInRow,
          // Under 'resume' a per-event call goes on past a failed event, up to restartAfterFailures in a row.
          failurePolicy: { resume: context.onFailure === 'resume', restartAfter: context.restartAfterFailures },
        }),
        onDone: [
          // More work and room for it: straight into the next call, without a pass through idle.
          { guard: and(['hasInput', 'hasCredit']), target: 'busy', reenter: true, actions: commitAndDeliver },
          { target: 'idle', actions: commitAndDeliver },
        ],
        onError: [
          { guard: 'resumesAfterFailure', target: 'idle', actions: recoverAndReport },
          // Let it crash: the supervisor restarts the stage (the events after the failing one wait in its mailbox).
          { target: 'crashed', actions: recoverAndReport },
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
