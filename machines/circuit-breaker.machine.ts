import { assign, emit, setup } from 'xstate';

/** A breaker's state. */
export type BreakerState = 'closed' | 'open' | 'halfOpen' | 'isolated';

/** Why a breaker opened. */
export type OpenReason = 'consecutive' | 'failureRate' | 'slowCallRate' | 'ema' | 'probeFailed' | 'forced';

/** Settings of a breaker machine; also the state to start from (a restored breaker). */
export interface CircuitBreakerMachineInput {
  name: string;
  /** How long `open` lasts the first time. */
  openMs: number;
  /** Each consecutive re-open (a failed probe) multiplies it by this, up to `openMaxMs`. */
  openBackoffFactor: number;
  openMaxMs: number;
  /** Probes let through at once in `halfOpen`; more are refused, never queued. */
  halfOpenMaxCalls: number;
  /** Successful probes that close the breaker. */
  successThreshold: number;
  /** Start here instead of `closed` (restore); `open` resumes with `openRemainingMs` left. */
  start?: BreakerState;
  reopens?: number;
  openRemainingMs?: number;
}

/** Context of a breaker machine. */
export interface CircuitBreakerMachineContext {
  name: string;
  openMs: number;
  openBackoffFactor: number;
  openMaxMs: number;
  halfOpenMaxCalls: number;
  successThreshold: number;
  /** Consecutive re-opens since the breaker was last closed. */
  reopens: number;
  /** How long the current (or next) `open` lasts. */
  openFor: number;
  /** Probes in flight and probes that succeeded, in `halfOpen`. */
  probes: number;
  probeSuccesses: number;
  lastReason: OpenReason | undefined;
  start: BreakerState;
}

/**
 * Events of a breaker (DESIGN.md: CALL / SUCCESS / FAILURE / RESET / FORCE_OPEN / ISOLATE, plus TRIP).
 * In `closed`, calls do not go through the machine: the runtime records them in its windows and
 * sends TRIP only when a trip condition is met, so the machine stays the only place state changes.
 */
export type CircuitBreakerEvent =
  | { type: 'TRIP'; reason: OpenReason }
  | { type: 'CALL' }
  | { type: 'SUCCESS' }
  | { type: 'FAILURE' }
  /** A probe ended with an error that is not a failure: its slot is free again, nothing is counted. */
  | { type: 'RELEASE' }
  | { type: 'RESET' }
  | { type: 'FORCE_OPEN' }
  | { type: 'ISOLATE' };

/** What a breaker emits on every transition. */
export type CircuitBreakerEmitted =
  | { type: 'steadfast.breaker.opened'; breaker: string; reason: OpenReason; openForMs: number }
  | { type: 'steadfast.breaker.halfOpened'; breaker: string }
  | { type: 'steadfast.breaker.closed'; breaker: string }
  | { type: 'steadfast.breaker.isolated'; breaker: string };

function openFor(context: Pick<CircuitBreakerMachineContext, 'openMs' | 'openBackoffFactor' | 'openMaxMs'>, reopens: number): number {
  const grown = context.openMs * context.openBackoffFactor ** reopens;
  return Number.isFinite(grown) && grown < context.openMaxMs ? grown : context.openMaxMs;
}

/**
 * A circuit breaker: `closed` lets calls through; `open` refuses them for `openFor` ms, then
 * `halfOpen` lets `halfOpenMaxCalls` probes through at a time; `successThreshold` successful probes
 * close it, a failed probe opens it again for longer (backoff). `isolated` refuses everything until
 * RESET. The runtime (src/resilience/circuit-breaker.ts) records calls and decides when to TRIP.
 */
export const circuitBreakerMachine = setup({
  types: {
    context: {} as CircuitBreakerMachineContext,
    events: {} as CircuitBreakerEvent,
    input: {} as CircuitBreakerMachineInput,
    emitted: {} as CircuitBreakerEmitted,
  },
  delays: {
    openDelay: ({ context }) => context.openFor,
  },
  guards: {
    startsClosed: ({ context }) => context.start === 'closed',
    startsOpen: ({ context }) => context.start === 'open',
    startsHalfOpen: ({ context }) => context.start === 'halfOpen',
    probeAvailable: ({ context }) => context.probes < context.halfOpenMaxCalls,
    enoughSuccesses: ({ context }) => context.probeSuccesses + 1 >= context.successThreshold,
  },
  actions: {
    opened: assign(({ context }, params: { reason: OpenReason; reopen: boolean }) => {
      const reopens = params.reopen ? context.reopens + 1 : context.reopens;
      return { reopens, openFor: openFor(context, reopens), lastReason: params.reason, probes: 0, probeSuccesses: 0 };
    }),
    closed: assign({ reopens: 0, probes: 0, probeSuccesses: 0, openFor: ({ context }) => openFor(context, 0) }),
    probeStarted: assign({ probes: ({ context }) => context.probes + 1 }),
    probeSucceeded: assign({ probes: ({ context }) => Math.max(0, context.probes - 1), probeSuccesses: ({ context }) => context.probeSuccesses + 1 }),
    probeReleased: assign({ probes: ({ context }) => Math.max(0, context.probes - 1) }),
    halfOpened: assign({ probes: 0, probeSuccesses: 0 }),
    emitOpened: emit(({ context }) => ({
      type: 'steadfast.breaker.opened' as const,
      breaker: context.name,
      reason: context.lastReason ?? 'forced',
      openForMs: context.openFor,
    })),
    emitHalfOpened: emit(({ context }) => ({ type: 'steadfast.breaker.halfOpened' as const, breaker: context.name })),
    emitClosed: emit(({ context }) => ({ type: 'steadfast.breaker.closed' as const, breaker: context.name })),
    emitIsolated: emit(({ context }) => ({ type: 'steadfast.breaker.isolated' as const, breaker: context.name })),
    // Effects supplied by the runtime: its windows start over on every transition (as resilience4j's metrics).
    resetWindows: () => {},
  },
}).createMachine({
  id: 'circuitBreaker',
  context: ({ input }) => {
    const reopens = input.reopens ?? 0;
    return {
      name: input.name,
      openMs: input.openMs,
      openBackoffFactor: input.openBackoffFactor,
      openMaxMs: input.openMaxMs,
      halfOpenMaxCalls: input.halfOpenMaxCalls,
      successThreshold: input.successThreshold,
      reopens,
      openFor: input.start === 'open' && input.openRemainingMs !== undefined ? input.openRemainingMs : openFor(input, reopens),
      probes: 0,
      probeSuccesses: 0,
      lastReason: undefined,
      start: input.start ?? 'closed',
    };
  },
  initial: 'restoring',
  on: {
    RESET: { target: '.closed', actions: ['resetWindows', 'emitClosed'] },
    ISOLATE: { target: '.isolated' },
  },
  states: {
    /** Goes at once to the state the breaker starts from (closed, unless restored). */
    restoring: {
      always: [
        { guard: 'startsClosed', target: 'closed' },
        { guard: 'startsOpen', target: 'open' },
        { guard: 'startsHalfOpen', target: 'halfOpen' },
        { target: 'isolated' },
      ],
    },
    closed: {
      // Its windows start over when it closes (RESET, or enough good probes), not when a saved state is restored.
      entry: 'closed',
      on: {
        TRIP: { target: 'open', actions: { type: 'opened', params: ({ event }) => ({ reason: event.reason, reopen: false }) } },
        FORCE_OPEN: { target: 'open', actions: { type: 'opened', params: { reason: 'forced' as const, reopen: false } } },
      },
    },
    open: {
      entry: ['resetWindows', 'emitOpened'],
      after: { openDelay: { target: 'halfOpen' } },
      on: {
        FORCE_OPEN: { target: 'open', reenter: true, actions: { type: 'opened', params: { reason: 'forced' as const, reopen: false } } },
      },
    },
    halfOpen: {
      entry: ['halfOpened', 'resetWindows', 'emitHalfOpened'],
      on: {
        CALL: { guard: 'probeAvailable', actions: 'probeStarted' },
        SUCCESS: [{ guard: 'enoughSuccesses', target: 'closed', actions: ['resetWindows', 'emitClosed'] }, { actions: 'probeSucceeded' }],
        FAILURE: { target: 'open', actions: { type: 'opened', params: { reason: 'probeFailed' as const, reopen: true } } },
        RELEASE: { actions: 'probeReleased' },
        FORCE_OPEN: { target: 'open', actions: { type: 'opened', params: { reason: 'forced' as const, reopen: false } } },
      },
    },
    isolated: {
      entry: ['resetWindows', 'emitIsolated'],
    },
  },
});
