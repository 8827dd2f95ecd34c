import { assign, emit, fromPromise, setup } from 'xstate';
import { recordRestart } from '../src/core/intensity.js';
import { detectFlapping, type FlapOptions, type FlapPattern } from './flapping.js';
import { shouldRestart, type ExitKind, type RestartType } from './restart-decision.js';
import type { Strategy } from './strategies.js';

/** How a supervisor is set up; the machine's input. */
export interface SupervisorMachineInput {
  name: string;
  strategy: Strategy;
  maxRestarts: number;
  withinMs: number;
  flapping: FlapOptions & { escalate: boolean };
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
}

/** A child left: the runtime reports it with the time, and the child's restart type, so the machine stays pure. */
export interface ChildExitedEvent {
  type: 'steadfast.child.exited';
  id: string;
  exit: ExitKind;
  error: unknown;
  restart: RestartType;
  /** When it exited (ms, from the supervisor's clock). */
  at: number;
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

function flapsAfter(context: SupervisorMachineContext, id: string) {
  const history = [...context.history, id].slice(-context.flapping.window);
  return detectFlapping(history, context.flapping);
}

/**
 * A supervisor (Erlang/OTP semantics, with backoff): it decides what to do when a child exits; the
 * runtime (src/supervision/) holds the children and carries the decisions out, and reports back
 * with events. So the machine stays pure and drawable, and its cost does not grow with children.
 *
 * - `starting`: `startChildren` starts every child in order; a failure fails the supervisor.
 * - `running`: a child exit is checked against the restart table (restart type × exit kind); a
 *   restart is counted in the intensity window (more than `maxRestarts` within `withinMs`
 *   escalates) and its plan (the strategy's stops and starts, after backoff) is applied by
 *   `applyRestart`; `steadfast.child.restart` (sent when the backoff elapsed) starts them again.
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
    noRestart: ({ event }) => event.type === 'steadfast.child.exited' && !shouldRestart(event.restart, event.exit),
    intensityExceeded: ({ context, event }) =>
      event.type === 'steadfast.child.exited' && recordRestart(context.window, event.at, context.maxRestarts, context.withinMs).exceeded,
    flappingEscalates: ({ context, event }) =>
      event.type === 'steadfast.child.exited' && context.flapping.escalate && flapsAfter(context, event.id) !== undefined,
    flapping: ({ context, event }) => event.type === 'steadfast.child.exited' && flapsAfter(context, event.id) !== undefined,
  },
  actions: {
    countRestart: assign(({ context }, params: { event: ChildExitedEvent }) => ({
      window: recordRestart(context.window, params.event.at, context.maxRestarts, context.withinMs).window,
      history: [...context.history, params.event.id].slice(-context.flapping.window),
      restarts: context.restarts + 1,
    })),
    escalate: assign(({ context }, params: { event: ChildExitedEvent; reason: EscalationReason }) => {
      const flap = params.reason === 'flapping' ? flapsAfter(context, params.event.id) : undefined;
      const window = recordRestart(context.window, params.event.at, context.maxRestarts, context.withinMs).window;
      const escalation: Escalation = {
        supervisor: context.name,
        reason: params.reason,
        offender: params.event.id,
        error: params.event.error,
        restarts: window.length,
        ...(flap === undefined ? {} : { pattern: flap.pattern }),
      };
      return { window, escalation };
    }),
    startFailed: assign(({ context }, params: { error: unknown }) => ({
      escalation: { supervisor: context.name, reason: 'start_failed' as const, offender: undefined, error: params.error, restarts: 0 },
    })),
    emitRestarting: emit(({ context }, params: { event: ChildExitedEvent }) => ({
      type: 'steadfast.supervisor.restarting' as const,
      supervisor: context.name,
      child: params.event.id,
      exit: params.event.exit,
      error: params.event.error,
    })),
    emitFlapping: emit(({ context }, params: { event: ChildExitedEvent }) => {
      const flap = flapsAfter(context, params.event.id);
      return {
        type: 'steadfast.supervisor.flapping' as const,
        supervisor: context.name,
        pattern: flap?.pattern ?? 'RUNAWAY',
        children: flap?.children ?? [params.event.id],
      };
    }),
    emitEscalated: emit(({ context }) => ({
      type: 'steadfast.supervisor.escalated' as const,
      escalation: context.escalation as Escalation,
    })),
    // Effects, supplied by the runtime:
    removeChild: (_, _params: { event: ChildExitedEvent }) => {},
    applyRestart: (_, _params: { event: ChildExitedEvent }) => {},
    restartChildren: (_, _params: { ids: string[] }) => {},
    reportFailed: (_, _params: { escalation: Escalation | undefined }) => {},
  },
}).createMachine({
  id: 'supervisor',
  context: ({ input }) => ({ ...input, window: [], history: [], restarts: 0, escalation: undefined }),
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
        'steadfast.child.exited': [
          { guard: 'noRestart', actions: { type: 'removeChild', params: ({ event }) => ({ event }) } },
          {
            guard: 'intensityExceeded',
            target: 'escalating',
            actions: { type: 'escalate', params: ({ event }) => ({ event, reason: 'intensity' as const }) },
          },
          {
            guard: 'flappingEscalates',
            target: 'escalating',
            actions: [
              { type: 'emitFlapping', params: ({ event }) => ({ event }) },
              { type: 'escalate', params: ({ event }) => ({ event, reason: 'flapping' as const }) },
            ],
          },
          {
            guard: 'flapping',
            actions: [
              { type: 'emitFlapping', params: ({ event }) => ({ event }) },
              { type: 'countRestart', params: ({ event }) => ({ event }) },
              { type: 'emitRestarting', params: ({ event }) => ({ event }) },
              { type: 'applyRestart', params: ({ event }) => ({ event }) },
            ],
          },
          {
            actions: [
              { type: 'countRestart', params: ({ event }) => ({ event }) },
              { type: 'emitRestarting', params: ({ event }) => ({ event }) },
              { type: 'applyRestart', params: ({ event }) => ({ event }) },
            ],
          },
        ],
        'steadfast.child.restart': { actions: { type: 'restartChildren', params: ({ event }) => ({ ids: event.ids }) } },
        'steadfast.supervisor.stop': { target: 'stopping' },
      },
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
