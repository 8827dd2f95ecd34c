import { and, assign, emit, fromPromise, setup } from 'xstate';
import type { BackoffOptions } from '../src/core/backoff.js';
import { decideExit, type ExitDecision, type ExitFacts } from './exit-decision.js';
import type { FlapOptions, FlapPattern } from './flapping.js';
import type { ExitKind } from './restart-decision.js';
import type { Strategy } from './strategies.js';

/** How a supervisor is set up; the machine's input. */
export interface SupervisorMachineInput {
  name: string;
  strategy: Strategy;
  maxRestarts: number;
  withinMs: number;
  flapping: FlapOptions & { escalate: boolean };
  backoff: BackoffOptions;
}

/** Why a supervisor failed. */
export type EscalationReason = 'intensity' | 'flapping' | 'start_failed';

/** What a failed supervisor reports to its parent, or at the root to `onEscalate`. */
export interface Escalation {
  supervisor: string;
  reason: EscalationReason;
  /** The child whose failure tipped it over (none when the initial start failed before any child ran). */
  offender: string | undefined;
  error: unknown;
  /** Restarts inside the window when it gave up. */
  restarts: number;
  pattern?: FlapPattern;
}

/** Context of a supervisor: its settings, the restart window and the recent failures. No children: the runtime holds those. */
export interface SupervisorMachineContext extends SupervisorMachineInput {
  /** Timestamps (ms) of the restarts inside the intensity window. */
  window: number[];
  /** Ids of the last failing children, oldest first (for flapping detection). */
  history: string[];
  restarts: number;
  escalation: Escalation | undefined;
  /** The last exit, and what was decided about it (once, when it came). */
  exit: ChildExitedEvent | undefined;
  decision: ExitDecision | undefined;
}

/**
 * A child left: the runtime reports it with the time, the child's restart type and what a decision
 * needs (the children a strategy may touch, the child's backoff attempt and time up, a random draw
 * for the jitter), so the machine stays pure.
 */
export interface ChildExitedEvent extends ExitFacts {
  type: 'steadfast.child.exited';
  error: unknown;
}

/** Events a supervisor accepts. */
export type SupervisorMachineEvent =
  | ChildExitedEvent
  /** A restart's backoff elapsed: start these children again, in order. */
  | { type: 'steadfast.child.restart'; ids: string[] }
  | { type: 'steadfast.supervisor.stop' };

/** Events a supervisor emits (observability: logs and metrics subscribe to them). */
export type SupervisorEmitted =
  | { type: 'steadfast.supervisor.restarting'; supervisor: string; child: string; exit: ExitKind; error: unknown }
  | { type: 'steadfast.supervisor.flapping'; supervisor: string; pattern: FlapPattern; children: string[] }
  | { type: 'steadfast.supervisor.escalated'; escalation: Escalation };

/** A decision to restart the children, as the runtime carries it out. */
export type RestartDecision = Extract<ExitDecision, { kind: 'restart' }>;

const restartParams = ({ context }: { context: SupervisorMachineContext }) => ({ event: context.exit as ChildExitedEvent, decision: context.decision as RestartDecision });

/**
 * A supervisor (Erlang/OTP semantics, with backoff): it decides what to do when a child exits; the
 * runtime (src/supervision/) holds the children and carries the decisions out, and reports back
 * with events. So the machine stays pure and drawable, and its cost does not grow with children.
 *
 * - `starting`: `startChildren` starts every child in order; a failure fails the supervisor.
 * - `running`: a child exit goes to `deciding`, which computes the decision once
 *   ({@link decideExit}: the restart table, restart intensity, flapping, the strategy's plan and
 *   the backoff delay) and routes on it: `remove` the child, `escalate`, or restart by the plan,
 *   which `applyRestart` carries out; `steadfast.child.restart` (sent when the backoff elapsed)
 *   starts the children again.
 * - `escalating` / `stopping`: `stopChildren` stops every child in reverse start order.
 * - `failed` (escalated) and `stopped` are final.
 */
export const supervisorMachine = setup({
  types: {
    context: {} as SupervisorMachineContext,
    events: {} as SupervisorMachineEvent,
    input: {} as SupervisorMachineInput,
    emitted: {} as SupervisorEmitted,
  },
  actors: {
    startChildren: fromPromise<void, { supervisor: string }>(async () => undefined),
    stopChildren: fromPromise<void, { supervisor: string }>(async () => undefined),
  },
  guards: {
    decidedRemove: ({ context }) => context.decision?.kind === 'remove',
    decidedEscalate: ({ context }) => context.decision?.kind === 'escalate',
    decidedFlapping: ({ context }) => context.decision !== undefined && context.decision.kind !== 'remove' && context.decision.flap !== undefined,
  },
  actions: {
    decide: assign(({ context }, params: { event: ChildExitedEvent }) => ({ exit: params.event, decision: decideExit(context, context, params.event) })),
    countRestart: assign(({ context }) => {
      const decision = context.decision as RestartDecision;
      return { window: decision.window, history: decision.history, restarts: context.restarts + 1 };
    }),
    escalate: assign(({ context }) => {
      const decision = context.decision as Extract<ExitDecision, { kind: 'escalate' }>;
      const exit = context.exit as ChildExitedEvent;
      const escalation: Escalation = {
        supervisor: context.name,
        reason: decision.reason,
        offender: exit.id,
        error: exit.error,
        restarts: decision.window.length,
        ...(decision.flap === undefined ? {} : { pattern: decision.flap.pattern }),
      };
      return { window: decision.window, escalation };
    }),
    startFailed: assign(({ context }, params: { error: unknown }) => ({
      escalation: { supervisor: context.name, reason: 'start_failed' as const, offender: undefined, error: params.error, restarts: 0 },
    })),
    emitRestarting: emit(({ context }) => {
      const exit = context.exit as ChildExitedEvent;
      return { type: 'steadfast.supervisor.restarting' as const, supervisor: context.name, child: exit.id, exit: exit.exit, error: exit.error };
    }),
    emitFlapping: emit(({ context }) => {
      const decision = context.decision as Exclude<ExitDecision, { kind: 'remove' }>;
      const exit = context.exit as ChildExitedEvent;
      return {
        type: 'steadfast.supervisor.flapping' as const,
        supervisor: context.name,
        pattern: decision.flap?.pattern ?? 'RUNAWAY',
        children: decision.flap?.children ?? [exit.id],
      };
    }),
    emitEscalated: emit(({ context }) => ({
      type: 'steadfast.supervisor.escalated' as const,
      escalation: context.escalation as Escalation,
    })),
    // Effects, supplied by the runtime:
    removeChild: (_, _params: { event: ChildExitedEvent }) => {},
    applyRestart: (_, _params: { event: ChildExitedEvent; decision: RestartDecision }) => {},
    restartChildren: (_, _params: { ids: string[] }) => {},
    reportFailed: (_, _params: { escalation: Escalation | undefined }) => {},
  },
}).createMachine({
  id: 'supervisor',
  context: ({ input }) => ({ ...input, window: [], history: [], restarts: 0, escalation: undefined, exit: undefined, decision: undefined }),
  initial: 'starting',
  states: {
    starting: {
      invoke: {
        src: 'startChildren',
        input: ({ context }) => ({ supervisor: context.name }),
        onDone: { target: 'running' },
        onError: { target: 'escalating', actions: { type: 'startFailed', params: ({ event }) => ({ error: event.error }) } },
      },
    },
    running: {
      on: {
        'steadfast.child.exited': { target: 'deciding', actions: { type: 'decide', params: ({ event }) => ({ event }) } },
        'steadfast.child.restart': { actions: { type: 'restartChildren', params: ({ event }) => ({ ids: event.ids }) } },
        'steadfast.supervisor.stop': { target: 'stopping' },
      },
    },
    // Passed through within the step of an exit: the decision made, its guards route on it.
    deciding: {
      always: [
        { guard: 'decidedRemove', target: 'running', actions: { type: 'removeChild', params: ({ context }) => ({ event: context.exit as ChildExitedEvent }) } },
        {
          guard: and(['decidedEscalate', 'decidedFlapping']),
          target: 'escalating',
          actions: ['emitFlapping', 'escalate'],
        },
        { guard: 'decidedEscalate', target: 'escalating', actions: 'escalate' },
        {
          guard: 'decidedFlapping',
          target: 'running',
          actions: ['emitFlapping', 'countRestart', 'emitRestarting', { type: 'applyRestart', params: restartParams }],
        },
        { target: 'running', actions: ['countRestart', 'emitRestarting', { type: 'applyRestart', params: restartParams }] },
      ],
    },
    escalating: {
      invoke: {
        src: 'stopChildren',
        input: ({ context }) => ({ supervisor: context.name }),
        onDone: { target: 'failed' },
        onError: { target: 'failed' },
      },
    },
    stopping: {
      invoke: {
        src: 'stopChildren',
        input: ({ context }) => ({ supervisor: context.name }),
        onDone: { target: 'stopped' },
        onError: { target: 'stopped' },
      },
    },
    failed: {
      type: 'final',
      entry: ['emitEscalated', { type: 'reportFailed', params: ({ context }) => ({ escalation: context.escalation }) }],
    },
    stopped: { type: 'final' },
  },
});

/** A state of the supervisor machine. */
export type SupervisorStateValue = 'starting' | 'running' | 'escalating' | 'stopping' | 'failed' | 'stopped';
// (`deciding` is passed through within the step of an exit: a snapshot never rests there.)
