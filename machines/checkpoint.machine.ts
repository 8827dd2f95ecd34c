import { assign, emit, fromPromise, setup, type DoneActorEvent, type ErrorActorEvent } from 'xstate';
import { SteadfastError } from '../src/core/errors.js';

/** What the machine reads of a snapshot: its version. The rest travels untouched to the `write` actor. */
export interface VersionedSnapshot {
  readonly version: number;
}

/** One write: a snapshot and the store options it goes with (opaque to the machine). */
export interface CheckpointWriteRequest {
  snapshot: VersionedSnapshot;
  options: unknown;
}

/** What the `write` actor resolves with: where the snapshot went, and how long the store took. */
export interface CheckpointWriteOutput {
  key: string;
  bytes: number;
  checksum: string;
  ms: number;
}

/** Input of a checkpoint actor: the stage instance whose snapshots it writes. */
export interface CheckpointMachineInput {
  pipeline: string;
  stage: string;
}

/** Context of a checkpoint actor: at most one write in flight and one queued. */
export interface CheckpointMachineContext {
  pipeline: string;
  stage: string;
  /** The write the `write` actor is doing (set in `writing` only). */
  inFlight: CheckpointWriteRequest | undefined;
  /** The newest write waiting for its turn; a newer one supersedes it. */
  queued: CheckpointWriteRequest | undefined;
  /** The version of the last snapshot the store confirmed. */
  lastWritten: number | undefined;
  /** Why the store could not be opened (set in `failed` only). */
  error: unknown;
}

/** Events a checkpoint actor accepts: `steadfast.checkpoint.write` (WRITE below), `steadfast.checkpoint.close` (CLOSE), and what its `open` and `write` actors report. */
export type CheckpointMachineEvent =
  | { type: 'steadfast.checkpoint.write'; snapshot: VersionedSnapshot; options?: unknown }
  | { type: 'steadfast.checkpoint.close' }
  | DoneActorEvent<void, 'open'>
  | ErrorActorEvent<unknown, 'open'>
  | DoneActorEvent<CheckpointWriteOutput, 'write'>
  | ErrorActorEvent<unknown, 'write'>;

/** Why a WRITE was refused: its version is not newer than one written, in flight or queued; or the actor is closing. */
export type CheckpointRejectReason = 'stale' | 'closing';

/** What a checkpoint actor emits: every WRITE ends in exactly one of written, superseded, write_failed or rejected. */
export type CheckpointEmitted =
  | { type: 'steadfast.checkpoint.written'; stage: string; version: number; key: string; bytes: number; checksum: string; ms: number }
  | { type: 'steadfast.checkpoint.superseded'; stage: string; version: number; by: number }
  | { type: 'steadfast.checkpoint.write_failed'; stage: string; version: number; error: unknown }
  | { type: 'steadfast.checkpoint.rejected'; stage: string; version: number; reason: CheckpointRejectReason; latest: number | undefined }
  | { type: 'steadfast.checkpoint.open_failed'; stage: string; error: unknown };

/** The newest version written, in flight or queued: a WRITE must be newer than this. */
export function latestVersion(context: Pick<CheckpointMachineContext, 'inFlight' | 'queued' | 'lastWritten'>): number | undefined {
  return context.queued?.snapshot.version ?? context.inFlight?.snapshot.version ?? context.lastWritten;
}

/** The version of a pending write; the states that read it always have one (NaN would show a bug, not hide it). */
function versionOf(request: CheckpointWriteRequest | undefined): number {
  return request?.snapshot.version ?? Number.NaN;
}

/** The write a WRITE asks for (only WRITE transitions call it). */
function writeRequestOf(event: CheckpointMachineEvent): CheckpointWriteRequest {
  if (event.type !== 'steadfast.checkpoint.write') throw new TypeError(`checkpoint machine: expected steadfast.checkpoint.write, got ${event.type}`);
  return { snapshot: event.snapshot, options: event.options };
}

/** Types, inert effects, guards and actions of the checkpoint machine (implementations via `provide()`). */
const checkpointSetup = setup({
  types: {
    context: {} as CheckpointMachineContext,
    events: {} as CheckpointMachineEvent,
    input: {} as CheckpointMachineInput,
    emitted: {} as CheckpointEmitted,
  },
  actors: {
    open: fromPromise<void, CheckpointMachineInput>(async () => undefined),
    // No silent default: a machine without a store reports every write as failed rather than pretend to write it.
    write: fromPromise<CheckpointWriteOutput, CheckpointWriteRequest>(async ({ input }) => {
      throw new SteadfastError('CHECKPOINT_STORE_MISSING', `checkpoint machine has no write actor: snapshot version ${input.snapshot.version} was not written`);
    }),
  },
  guards: {
    isStale: ({ context, event }) => {
      const latest = latestVersion(context);
      return event.type === 'steadfast.checkpoint.write' && latest !== undefined && event.snapshot.version <= latest;
    },
    hasQueued: ({ context }) => context.queued !== undefined,
  },
  actions: {
    startWrite: assign({ inFlight: ({ event }) => writeRequestOf(event) }),
    startQueued: assign({ inFlight: ({ context }) => context.queued, queued: undefined }),
    enqueue: assign({ queued: ({ event }) => writeRequestOf(event) }),
    finishWrite: assign({
      lastWritten: ({ context, event }) => (event.type === 'xstate.done.actor.write' ? versionOf(context.inFlight) : context.lastWritten),
      inFlight: undefined,
    }),
    recordOpenFailure: assign({ error: ({ event }) => (event.type === 'xstate.error.actor.open' ? event.error : undefined), queued: undefined }),
    emitWritten: emit(({ context }, params: { output: CheckpointWriteOutput }) => ({
      type: 'steadfast.checkpoint.written' as const,
      stage: context.stage,
      version: versionOf(context.inFlight),
      key: params.output.key,
      bytes: params.output.bytes,
      checksum: params.output.checksum,
      ms: params.output.ms,
    })),
    emitWriteFailed: emit(({ context }, params: { error: unknown }) => ({
      type: 'steadfast.checkpoint.write_failed' as const,
      stage: context.stage,
      version: versionOf(context.inFlight),
      error: params.error,
    })),
    emitQueuedFailed: emit(({ context }, params: { error: unknown }) => ({
      type: 'steadfast.checkpoint.write_failed' as const,
      stage: context.stage,
      version: versionOf(context.queued),
      error: params.error,
    })),
    emitSuperseded: emit(({ context, event }) => ({
      type: 'steadfast.checkpoint.superseded' as const,
      stage: context.stage,
      version: versionOf(context.queued),
      by: writeRequestOf(event).snapshot.version,
    })),
    emitRejected: emit(({ context, event }, params: { reason: CheckpointRejectReason }) => ({
      type: 'steadfast.checkpoint.rejected' as const,
      stage: context.stage,
      version: writeRequestOf(event).snapshot.version,
      reason: params.reason,
      latest: latestVersion(context),
    })),
    emitOpenFailed: emit(({ context, event }) => ({
      type: 'steadfast.checkpoint.open_failed' as const,
      stage: context.stage,
      error: event.type === 'xstate.error.actor.open' ? event.error : undefined,
    })),
  },
});

/** A WRITE while a write is pending: refuse a stale one, else queue it, superseding the queued one. */
const queueWrite = [
  { guard: 'isStale', actions: { type: 'emitRejected', params: { reason: 'stale' as const } } },
  { guard: 'hasQueued', actions: ['emitSuperseded', 'enqueue'] },
  { actions: 'enqueue' },
] as const;

/** A WRITE after CLOSE: refused, and said so. */
const refuseWrite = { actions: { type: 'emitRejected', params: { reason: 'closing' as const } } } as const;

/** A write succeeded: report it with its receipt, remember its version. */
const written = [
  { type: 'emitWritten', params: ({ event }: { event: { output: CheckpointWriteOutput } }) => ({ output: event.output }) },
  'finishWrite',
] as const;

/** A write failed: report it for that snapshot and carry on with the next one (the caller decides what to do). */
const writeFailed = [
  { type: 'emitWriteFailed', params: ({ event }: { event: { error: unknown } }) => ({ error: event.error }) },
  'finishWrite',
] as const;

/**
 * The checkpoint actor of one stage instance: writes its snapshots in version order, one at a
 * time, and coalesces a burst into the newest. Effects come through `provide()`: `open` (resolves
 * when the store is open) and `write` (stores one snapshot). Every WRITE ends in exactly one
 * emitted event: `written`, `superseded` (a newer one replaced it in the queue), `write_failed`, or
 * `rejected` (stale, or sent after CLOSE).
 *
 * - `opening`: waits for `open`; WRITEs queue (depth 1).
 * - `open`: idle; a WRITE starts `writing`.
 * - `writing`: exactly one `write` in flight; WRITEs queue (depth 1). When it ends, the queued one goes next.
 * - `accepting` / `draining` (inside `opening` and `writing`): CLOSE switches to `draining`, which
 *   finishes what is in flight and queued and refuses new WRITEs. Closing is a mode of the state
 *   that owns the work in flight, because an invoked actor lives only as long as its state.
 * - `closing`: CLOSE was asked and nothing is in flight: write the queued snapshot, else close.
 * - `closed`: final. `failed`: final, the store did not open (a queued write is reported failed).
 *
 * @example
 * const actor = createActor(checkpointMachine.provide({ actors: { open, write } }), { input: { pipeline: 'orders', stage: 'enrich' } });
 * actor.on('steadfast.checkpoint.written', (e) => log(e.version, e.key));
 * actor.start().send({ type: 'steadfast.checkpoint.write', snapshot });
 */
export const checkpointMachine = checkpointSetup.createMachine({
  id: 'checkpoint',
  context: ({ input }) => ({
    pipeline: input.pipeline,
    stage: input.stage,
    inFlight: undefined,
    queued: undefined,
    lastWritten: undefined,
    error: undefined,
  }),
  initial: 'opening',
  states: {
    opening: {
      invoke: {
        id: 'open',
        src: 'open',
        input: ({ context }) => ({ pipeline: context.pipeline, stage: context.stage }),
        onError: [
          {
            guard: 'hasQueued',
            target: 'failed',
            actions: ['emitOpenFailed', { type: 'emitQueuedFailed', params: ({ event }) => ({ error: event.error }) }, 'recordOpenFailure'],
          },
          { target: 'failed', actions: ['emitOpenFailed', 'recordOpenFailure'] },
        ],
      },
      initial: 'accepting',
      states: {
        accepting: {
          on: {
            'steadfast.checkpoint.write': queueWrite,
            // Nothing to finish: close without waiting for the store.
            'steadfast.checkpoint.close': [{ guard: 'hasQueued', target: 'draining' }, { target: '#checkpoint.closed' }],
            'xstate.done.actor.open': { target: '#checkpoint.open' },
          },
        },
        draining: {
          on: {
            'steadfast.checkpoint.write': refuseWrite,
            'xstate.done.actor.open': { target: '#checkpoint.closing' },
          },
        },
      },
    },
    open: {
      always: { guard: 'hasQueued', target: 'writing', actions: 'startQueued' },
      on: {
        'steadfast.checkpoint.write': [
          { guard: 'isStale', actions: { type: 'emitRejected', params: { reason: 'stale' as const } } },
          { target: 'writing', actions: 'startWrite' },
        ],
        'steadfast.checkpoint.close': { target: 'closing' },
      },
    },
    writing: {
      invoke: {
        id: 'write',
        src: 'write',
        input: ({ context }) => context.inFlight ?? { snapshot: { version: Number.NaN }, options: undefined },
      },
      initial: 'accepting',
      states: {
        accepting: {
          on: {
            'steadfast.checkpoint.write': queueWrite,
            'steadfast.checkpoint.close': { target: 'draining' },
            // Through `open`, which starts the queued write (if any) in a fresh `writing`.
            'xstate.done.actor.write': { target: '#checkpoint.open', actions: written },
            'xstate.error.actor.write': { target: '#checkpoint.open', actions: writeFailed },
          },
        },
        draining: {
          on: {
            'steadfast.checkpoint.write': refuseWrite,
            'xstate.done.actor.write': { target: '#checkpoint.closing', actions: written },
            'xstate.error.actor.write': { target: '#checkpoint.closing', actions: writeFailed },
          },
        },
      },
    },
    closing: {
      always: [{ guard: 'hasQueued', target: 'writing.draining', actions: 'startQueued' }, { target: 'closed' }],
    },
    closed: { type: 'final' },
    failed: { type: 'final' },
  },
});

/** A state of the checkpoint machine, as `snapshot.value`. */
export type CheckpointStateValue =
  | { opening: 'accepting' | 'draining' }
  | 'open'
  | { writing: 'accepting' | 'draining' }
  | 'closing'
  | 'closed'
  | 'failed';
