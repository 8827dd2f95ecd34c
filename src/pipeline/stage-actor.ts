import { createActor, fromPromise, waitFor, type Actor } from 'xstate';
import { stageMachine, type StageCallInput, type StageMachineInput, type StageOpenOutput } from '../../machines/stage.machine.js';

/** The actor of one stage incarnation. */
export type StageActor = Actor<typeof stageMachine>;

/** The effects a node supplies to its stage machine. */
export interface StageEffects {
  /** Opens the node; resolves with the state to start from. */
  open(): Promise<StageOpenOutput>;
  close(): void | Promise<void>;
  startCall(input: StageCallInput): void;
  passBarrier(state: unknown): void;
  lifecycleFailed(phase: 'open' | 'close', error: unknown): void;
}

/** The stage machine with a node's effects. */
export function stageLogic(effects: StageEffects): typeof stageMachine {
  return stageMachine.provide({
    actors: {
      open: fromPromise<StageOpenOutput, { stage: string; state: unknown }>(() => effects.open()),
      close: fromPromise(async () => effects.close()),
    },
    actions: {
      startCall: (_, params) => effects.startCall(params),
      passBarrier: (_, params) => effects.passBarrier(params.state),
      reportLifecycleFailure: (_, params) => effects.lifecycleFailed(params.phase, params.error),
    },
  });
}

/** What a node hears of its actor: each step, its final state, an error XState caught. */
export interface StageActorObserver {
  step(): void;
  ended(actor: StageActor): void;
  failed(actor: StageActor, error: unknown): void;
}

/** Creates (does not start) a stage actor. */
export function createStageActor(logic: typeof stageMachine, input: StageMachineInput, observer: StageActorObserver): StageActor {
  const actor = createActor(logic, { input, id: input.stage });
  actor.subscribe({
    next: () => observer.step(),
    complete: () => observer.ended(actor),
    error: (error) => observer.failed(actor, error),
  });
  return actor;
}

/** Resolves once the actor has left `starting` (opened, or failed to); true if it opened. */
export async function opened(actor: StageActor): Promise<boolean> {
  try {
    const snapshot = await waitFor(actor, (s) => s.status !== 'active' || s.value !== 'starting');
    return snapshot.value !== 'failed';
  } catch {
    return false; // the actor crashed while opening: its failure says why
  }
}
