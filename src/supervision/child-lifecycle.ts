// What a supervisor's machine asks of its children, carried out: start them, hear their exits,
// restart them after the backoff the machine decided, stop them within their shutdown budgets.
import type { Logger } from 'pino';
import { shouldRestart, type ExitKind } from '../../supervisors/restart-decision.js';
import type { ChildRef } from '../../supervisors/strategies.js';
import type { ChildExitedEvent, RestartDecision, SupervisorMachineEvent } from '../../supervisors/supervisor.machine.js';
import { setTimer } from '../core/clock.js';
import { SteadfastError, messageOf } from '../core/errors.js';
import type { ChildRegistry, Entry, EntryStatus } from './child-registry.js';
import type { Child, ChildStartContext } from './child.js';
import type { ResolvedSupervisorOptions } from './options.js';
import { shutdownChild } from './shutdown.js';

/** What a supervisor's machine hears from its children: an exit, or that a restart's delay is over. */
export type ChildLifecycleEvent = Extract<SupervisorMachineEvent, { type: 'steadfast.child.exited' | 'steadfast.child.restart' }>;

/**
 * Starts, restarts and stops the children of one supervisor, as its machine decides; tells the
 * machine (through `send`, which drops events once it has stopped) when a child exits.
 */
export class ChildLifecycle {
  /** Cancels of the pending restart timers. */
  private readonly timers = new Set<() => void>();
  private killedCount = 0;

  constructor(
    /** The supervisor's name, for errors. */
    private readonly name: string,
    private readonly entries: ChildRegistry,
    private readonly options: ResolvedSupervisorOptions,
    private readonly log: Logger,
    private readonly send: (event: ChildLifecycleEvent) => void,
  ) {}

  /** Children killed because they did not stop within their shutdown budget. */
  get killed(): number {
    return this.killedCount;
  }

  /** Starts every child in order; rejects with the first that fails. */
  async startAll(): Promise<void> {
    for (const entry of this.entries.values()) await this.startEntry(entry);
  }

  /** Starts one child (a new incarnation): it runs once its `start` resolves, unless it exited or was stopped meanwhile. */
  async startEntry(entry: Entry): Promise<void> {
    entry.status = 'starting';
    entry.generation++;
    const generation = entry.generation;
    const ctx: ChildStartContext = {
      id: entry.id,
      args: entry.args,
      exited: (exit, error) => this.exited(entry.id, generation, exit, error),
      log: this.log.child({ child: entry.id }),
    };
    let child: Child;
    try {
      child = await entry.spec.start(ctx);
    } catch (error) {
      entry.status = 'stopped';
      throw new SteadfastError('CHILD_START_FAILED', `supervisor "${this.name}" could not start child "${entry.id}": ${messageOf(error)}`, {
        cause: error,
      });
    }
    if (entry.generation !== generation || entry.status !== 'starting') {
      // It exited while starting (already reported) or the supervisor stopped meanwhile: do not keep it.
      try {
        child.kill();
      } catch {
        // gone already
      }
      return;
    }
    entry.child = child;
    entry.status = 'running';
    entry.startedAt = this.options.clock.now();
  }

  private exited(id: string, generation: number, exit: ExitKind, error: unknown): void {
    const entry = this.entries.get(id);
    if (entry === undefined || entry.generation !== generation) return;
    if (entry.status === 'stopping' || entry.status === 'stopped') return;
    entry.child = undefined;
    this.reportExit(entry, exit, error);
  }

  /**
   * Tells the machine that a child is gone (it exited, or a restart of it failed), with what its
   * decision needs: the children its strategy may touch, the child's backoff attempt and time up,
   * and a random draw for the jitter.
   */
  private reportExit(entry: Entry, exit: ExitKind, error: unknown): void {
    entry.status = 'stopped';
    const at = this.options.clock.now();
    const { strategy, random } = this.options;
    // one_for_one and simple_one_for_one touch the failed child alone: no need to list the others.
    const alone = strategy === 'one_for_one' || strategy === 'simple_one_for_one';
    const children: ChildRef[] = alone ? [{ id: entry.id, restart: entry.spec.restart }] : this.entries.refs();
    const event: ChildExitedEvent = {
      type: 'steadfast.child.exited',
      id: entry.id,
      exit,
      error,
      restart: entry.spec.restart,
      at,
      children,
      attempt: entry.attempt,
      upMs: at - entry.startedAt,
      // Drawn only for an exit that may restart: a given `random` sees one draw per restart, as before.
      draw: shouldRestart(entry.spec.restart, exit) ? random() : 0,
    };
    if (exit === 'error') this.log.warn({ errorContext: 'child_terminated', reason: messageOf(error), offender: entry.id, err: error }, `child ${entry.id} crashed`);
    this.send(event);
  }

  /** A child exited and is not restarted (the machine decided): it leaves the registry. */
  remove(event: ChildExitedEvent): void {
    this.entries.delete(event.id);
    this.log.info({ errorContext: 'child_removed', offender: event.id, reason: event.exit }, `child ${event.id} exited (${event.exit}) and is not restarted`);
  }

  /** Carries out a decision to restart (the machine made it): stop what the plan stops, then start its children after the delay. */
  applyRestart(event: ChildExitedEvent, decision: RestartDecision): void {
    const failed = this.entries.get(event.id);
    if (failed === undefined) return;
    const { plan, delayMs } = decision;
    failed.attempt = decision.attempt;
    const stopping = plan.stop.map((id) => this.entries.get(id)).filter((e): e is Entry => e !== undefined);
    for (const id of plan.remove) if (id !== event.id || !plan.start.includes(id)) this.entries.delete(id);
    for (const id of plan.start) {
      const entry = this.entries.get(id);
      if (entry !== undefined) entry.status = 'restarting';
    }
    this.log.info(
      { errorContext: 'restarting', offender: event.id, reason: event.exit, strategy: this.options.strategy, stop: plan.stop, start: plan.start, delayMs: Math.round(delayMs) },
      `restarting ${plan.start.join(', ')} in ${Math.round(delayMs)} ms`,
    );
    void (async () => {
      for (const entry of stopping) await this.shutdown(entry, 'restarting');
      if (plan.start.length === 0) return;
      this.after(delayMs, () => this.send({ type: 'steadfast.child.restart', ids: plan.start }));
    })();
  }

  /** Runs `fn` after `delayMs` on the supervisor's clock (0: on the next turn of the event loop, never synchronously), cancellable by stop/kill. */
  private after(delayMs: number, fn: () => void): void {
    const cancel = setTimer(this.options.clock, delayMs, () => {
      this.timers.delete(cancel);
      fn();
    });
    this.timers.add(cancel);
  }

  /** Starts again the children whose restart delay is over (a failed start is another exit). */
  restartChildren(ids: readonly string[]): void {
    void (async () => {
      for (const id of ids) {
        const entry = this.entries.get(id);
        if (entry === undefined || entry.status !== 'restarting') continue;
        entry.restarts++;
        try {
          await this.startEntry(entry);
        } catch (error) {
          // A failed restart is another failure: counted, and retried after a backoff, by an event.
          if (this.entries.get(id) === entry) this.reportExit(entry, 'error', error);
        }
      }
    })();
  }

  /** Cancels the pending restarts and stops every child in reverse start order. */
  async stopAll(): Promise<void> {
    this.cancelRestarts();
    for (const entry of [...this.entries.values()].reverse()) await this.shutdown(entry);
  }

  /** Cancels the pending restarts and kills every child at once, in reverse start order. */
  killAll(): void {
    this.cancelRestarts();
    for (const entry of [...this.entries.values()].reverse()) {
      const child = entry.child;
      entry.child = undefined;
      entry.status = 'stopped';
      try {
        child?.kill();
      } catch {
        // killing is best effort
      }
    }
  }

  /** Stops one child within its budget; a kill is logged and counted. */
  async shutdown(entry: Entry, then: EntryStatus = 'stopped'): Promise<void> {
    const child = entry.child;
    entry.child = undefined;
    if (child === undefined) {
      if (entry.status !== 'restarting') entry.status = then;
      return;
    }
    entry.status = 'stopping';
    const outcome = await shutdownChild(child, entry.spec.shutdown, this.options.clock);
    if (outcome !== 'stopped') {
      this.killedCount++;
      this.log.warn({ errorContext: 'shutdown_error', offender: entry.id, reason: outcome, shutdown: entry.spec.shutdown }, `child ${entry.id} was killed (${outcome})`);
    }
    entry.status = then;
  }

  private cancelRestarts(): void {
    for (const cancel of this.timers) cancel();
    this.timers.clear();
  }
}
