import type { Logger } from 'pino';
import { createActor, fromPromise, waitFor, type Actor } from 'xstate';
import { shouldRestart, type ExitKind } from '../../supervisors/restart-decision.js';
import type { ChildRef, Strategy } from '../../supervisors/strategies.js';
import { ChildRegistry, newEntry, type Entry, type EntryStatus } from './child-registry.js';
import {
  supervisorMachine,
  type ChildExitedEvent,
  type Escalation,
  type RestartDecision,
  type SupervisorEmitted,
  type SupervisorStateValue,
} from '../../supervisors/supervisor.machine.js';
import { setTimer } from '../core/clock.js';
import { restartBudget, type BudgetNode } from '../core/intensity.js';
import { ConfigError, SteadfastError, messageOf } from '../core/errors.js';
import { escalationError } from './escalation-error.js';
import { childSpec, type Child, type ChildDescription, type ChildSpec, type ChildStartContext, type ResolvedChildSpec } from './child.js';
import { resolveSupervisorOptions, type ResolvedSupervisorOptions, type SupervisorOptions } from './options.js';
import { shutdownChild } from './shutdown.js';

/** Counters of a supervisor; see `supervisor.stats()`. */
export interface SupervisorStats {
  name: string;
  state: SupervisorStateValue;
  strategy: Strategy;
  children: number;
  running: number;
  restarting: number;
  /** Restarts made since start. */
  restarts: number;
  /** Restarts inside the current intensity window, and its limit. */
  intensity: { restarts: number; maxRestarts: number; withinMs: number };
  /** Children killed because they did not stop within their shutdown budget. */
  killed: number;
  /**
   * Worst case of restarts of one worker of this tree within one window: restarts multiply up the
   * tree (each time a supervisor gives up, its parent restarts it with a fresh budget).
   */
  budget: number;
}

/**
 * A supervisor: starts its children from child specs, restarts them by strategy with exponential
 * backoff, and escalates (stops its children, fails) when they restart more than `maxRestarts`
 * times within `withinMs`. Children are held here, in a map, not in the machine's snapshot, so the
 * cost per child does not grow with their number.
 *
 * @example
 * const root = createSupervisor({
 *   name: 'root',
 *   strategy: 'one_for_one',
 *   children: [{ id: 'worker', start: (ctx) => startWorker(ctx) }],
 *   onEscalate: (info) => alertOperator(info),
 * });
 * await root.start();
 */
export function createSupervisor(options: SupervisorOptions): Supervisor {
  return new Supervisor(options);
}

export class Supervisor implements Child {
  readonly name: string;
  private readonly options: ResolvedSupervisorOptions;
  private readonly actor: Actor<typeof supervisorMachine>;
  private readonly entries = new ChildRegistry();
  /** Cancels of the pending restart timers. */
  private readonly timers = new Set<() => void>();
  private readonly log: Logger;
  private killedCount = 0;
  private dynamicSeq = 0;
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;

  constructor(
    options: SupervisorOptions,
    /** Set when this supervisor is the child of another: escalation becomes this child's exit. */
    private readonly parent?: ChildStartContext,
  ) {
    this.options = resolveSupervisorOptions(options);
    this.name = this.options.name;
    // pino writes a child's bindings after its parent's: binding `supervisor` again would write the
    // key twice per line. A nested supervisor's lines already say `supervisor` (its parent) and `child` (it).
    const base = parent?.log ?? this.options.logger;
    this.log = 'supervisor' in base.bindings() ? base : base.child({ supervisor: this.name });
    for (const [i, spec] of this.options.children.entries()) {
      if (this.entries.has(spec.id)) throw new SteadfastError('CONFIG_INVALID', `supervisor "${this.name}": two children have the id "${spec.id}" (children[${i}])`);
      this.entries.set(spec.id, newEntry(spec, undefined));
    }
    const machine = supervisorMachine.provide({
      actors: {
        startChildren: fromPromise(async () => this.startAll()),
        stopChildren: fromPromise(async () => this.stopAll()),
      },
      actions: {
        removeChild: (_, params) => this.remove(params.event),
        // Carried out after the machine's step (children are actors too: starting or stopping them
        // must not run inside this actor's action).
        applyRestart: (_, params) => queueMicrotask(() => this.applyRestart(params.event, params.decision)),
        restartChildren: (_, params) => queueMicrotask(() => this.restartChildren(params.ids)),
        // Reported after the machine's step: the parent (another actor) or the application reacts
        // by sending events and stopping actors, which must not run inside this actor's action.
        reportFailed: (_, params) => queueMicrotask(() => this.failed(params.escalation)),
      },
    });
    const { strategy, maxRestarts, withinMs, flapping, backoff, inspect } = this.options;
    this.actor = createActor(machine, { input: { name: this.name, strategy, maxRestarts, withinMs, flapping, backoff }, id: this.name, ...(inspect === undefined ? {} : { inspect }) });
    this.actor.subscribe({ error: (error) => this.log.fatal({ err: error }, 'supervisor machine crashed') });
  }

  /** The machine's state. */
  get status(): SupervisorStateValue {
    return this.actor.getSnapshot().value as SupervisorStateValue;
  }

  /** Starts every child in order; resolves once running, rejects if the start failed (the supervisor is then `failed`). */
  start(): Promise<void> {
    this.starting ??= (async () => {
      this.actor.start();
      const snapshot = await waitFor(this.actor, (s) => s.value !== 'starting');
      if (snapshot.value === 'running') return;
      await waitFor(this.actor, (s) => s.status === 'done');
      const escalation = this.actor.getSnapshot().context.escalation;
      throw escalationError(escalation, this.name);
    })();
    return this.starting;
  }

  /** Stops every child in reverse start order (each within its shutdown budget); idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.starting === undefined) return;
      await this.starting.catch(() => {});
      if (this.actor.getSnapshot().status === 'active') this.actor.send({ type: 'steadfast.supervisor.stop' });
      await waitFor(this.actor, (s) => s.status !== 'active');
    })();
    return this.stopping;
  }

  /** Kills every child at once, then stops. */
  kill(): void {
    for (const cancel of this.timers) cancel();
    this.timers.clear();
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
    this.actor.stop();
  }

  /** With `simple_one_for_one`: starts one more instance of the child template; resolves with its id. */
  async startChild(args?: unknown): Promise<string> {
    const template = this.options.template;
    if (template === undefined) throw new SteadfastError('SUPERVISOR_STATE_INVALID', `supervisor "${this.name}" has no child template: startChild() needs strategy 'simple_one_for_one'`);
    if (this.status !== 'running') throw new SteadfastError('SUPERVISOR_STATE_INVALID', `supervisor "${this.name}" is ${this.status}; startChild() needs it running`);
    const id = `${template.id}#${this.dynamicSeq++}`;
    const entry = newEntry({ ...template, id }, args);
    this.entries.set(id, entry);
    try {
      await this.startEntry(entry);
    } catch (error) {
      this.entries.delete(id);
      throw error;
    }
    return id;
  }

  /** Adds a child and starts it, last in start order (OTP's start_child; `simple_one_for_one` uses `startChild(args)`). */
  async addChild(spec: ChildSpec): Promise<void> {
    if (this.options.template !== undefined) throw new SteadfastError('SUPERVISOR_STATE_INVALID', `supervisor "${this.name}" is simple_one_for_one: use startChild(args)`);
    if (this.status !== 'running') throw new SteadfastError('SUPERVISOR_STATE_INVALID', `supervisor "${this.name}" is ${this.status}; addChild() needs it running`);
    const resolved = childSpec('addChild(spec)', spec);
    if (this.entries.has(resolved.id)) throw new ConfigError('addChild(spec).id', resolved.id, 'must be unique among the children');
    const entry = newEntry(resolved, undefined);
    this.entries.set(resolved.id, entry);
    try {
      await this.startEntry(entry);
    } catch (error) {
      this.entries.delete(resolved.id);
      throw error;
    }
  }

  /** Stops a child (within its shutdown budget) and removes it; it is not restarted. */
  async terminateChild(id: string): Promise<void> {
    const entry = this.entries.get(id);
    if (entry === undefined) throw new SteadfastError('CHILD_UNKNOWN', `supervisor "${this.name}" has no child "${id}"`);
    this.entries.delete(id);
    await this.shutdown(entry);
  }

  /** Subscribes to what the supervisor emits (restarting, flapping, escalated); returns the unsubscribe function. */
  on<TType extends SupervisorEmitted['type']>(type: TType, handler: (event: Extract<SupervisorEmitted, { type: TType }>) => void): () => void {
    const subscription = this.actor.on(type, handler as (event: SupervisorEmitted) => void);
    return () => subscription.unsubscribe();
  }

  /** This supervisor and its children, recursively, with their states and restart counts. */
  tree(): ChildDescription {
    return this.describe();
  }

  describe(): ChildDescription {
    return {
      id: this.name,
      type: 'supervisor',
      state: this.status,
      restarts: this.actor.getSnapshot().context.restarts,
      children: this.entries.descriptions(),
    };
  }

  stats(): SupervisorStats {
    const context = this.actor.getSnapshot().context;
    const { running, restarting } = this.entries.tally();
    const now = this.options.clock.now();
    return {
      name: this.name,
      state: this.status,
      strategy: this.options.strategy,
      children: this.entries.size,
      running,
      restarting,
      restarts: context.restarts,
      intensity: {
        restarts: context.window.filter((at) => at >= now - this.options.withinMs).length,
        maxRestarts: this.options.maxRestarts,
        withinMs: this.options.withinMs,
      },
      killed: this.killedCount,
      budget: restartBudget(this.budgetNode()),
    };
  }

  /** This supervisor's intensity and its supervisor children's, for the tree's restart budget. */
  budgetNode(): BudgetNode {
    const children: BudgetNode[] = [];
    for (const entry of this.entries.values()) {
      if (entry.child instanceof Supervisor) children.push(entry.child.budgetNode());
    }
    return { maxRestarts: this.options.maxRestarts, children };
  }

  // Effects the machine asks for.

  private async startAll(): Promise<void> {
    for (const entry of this.entries.values()) await this.startEntry(entry);
  }

  private async startEntry(entry: Entry): Promise<void> {
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
    if (this.actor.getSnapshot().status === 'active') this.actor.send(event);
  }

  private remove(event: ChildExitedEvent): void {
    this.entries.delete(event.id);
    this.log.info({ errorContext: 'child_removed', offender: event.id, reason: event.exit }, `child ${event.id} exited (${event.exit}) and is not restarted`);
  }

  /** Carries out a decision to restart (the machine made it): stop what the plan stops, then start its children after the delay. */
  private applyRestart(event: ChildExitedEvent, decision: RestartDecision): void {
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
      this.after(delayMs, () => {
        if (this.actor.getSnapshot().status === 'active') this.actor.send({ type: 'steadfast.child.restart', ids: plan.start });
      });
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

  private restartChildren(ids: readonly string[]): void {
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

  private async stopAll(): Promise<void> {
    for (const cancel of this.timers) cancel();
    this.timers.clear();
    for (const entry of [...this.entries.values()].reverse()) await this.shutdown(entry);
  }

  /** Stops one child within its budget; a kill is logged and counted. */
  private async shutdown(entry: Entry, then: EntryStatus = 'stopped'): Promise<void> {
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

  private failed(escalation: Escalation | undefined): void {
    const error = escalationError(escalation, this.name);
    this.log.error({ errorContext: 'shutdown', reason: escalation?.reason, offender: escalation?.offender, err: error }, error.message);
    if (this.parent !== undefined) {
      this.parent.exited('error', error);
      return;
    }
    if (escalation !== undefined) {
      try {
        this.options.onEscalate?.(escalation);
      } catch (hookError) {
        this.log.error({ err: hookError }, `onEscalate threw: ${messageOf(hookError)}`);
      }
    }
  }
}


/** A child spec that runs a nested supervisor (its escalation is this child's crash). */
export function supervisorChild(options: SupervisorOptions, spec: { restart?: ResolvedChildSpec['restart']; shutdown?: number | 'brutal' } = {}): ResolvedChildSpec {
  return childSpec('supervisorChild', {
    id: options.name,
    type: 'supervisor',
    shutdown: spec.shutdown ?? 2 ** 31 - 1,
    ...(spec.restart === undefined ? {} : { restart: spec.restart }),
    start: async (ctx: ChildStartContext) => {
      const supervisor = new Supervisor(options, ctx);
      await supervisor.start();
      return supervisor;
    },
  });
}
