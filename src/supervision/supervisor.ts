import type { Logger } from 'pino';
import { createActor, fromPromise, waitFor, type Actor } from 'xstate';
import { ChildRegistry, newEntry } from './child-registry.js';
import { ChildLifecycle } from './child-lifecycle.js';
import { supervisorMachine, type Escalation, type SupervisorEmitted, type SupervisorStateValue } from '../../supervisors/supervisor.machine.js';
import { restartBudget, type BudgetNode } from '../core/intensity.js';
import { ConfigError, SteadfastError, messageOf } from '../core/errors.js';
import { escalationError } from './escalation-error.js';
import { childSpec, type Child, type ChildDescription, type ChildSpec, type ChildStartContext, type ResolvedChildSpec } from './child.js';
import { resolveSupervisorOptions, type ResolvedSupervisorOptions, type SupervisorOptions } from './options.js';
import type { SupervisorStats } from './supervisor-stats.js';

export type { SupervisorStats } from './supervisor-stats.js';

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

/** A running supervisor (see {@link createSupervisor}); its children are started, restarted and stopped by a {@link ChildLifecycle}. */
export class Supervisor implements Child {
  readonly name: string;
  private readonly options: ResolvedSupervisorOptions;
  private readonly actor: Actor<typeof supervisorMachine>;
  private readonly entries = new ChildRegistry();
  /** Starts, restarts and stops the children as the machine decides. */
  private readonly children: ChildLifecycle;
  private readonly log: Logger;
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
    this.children = new ChildLifecycle(this.name, this.entries, this.options, this.log, (event) => {
      if (this.actor.getSnapshot().status === 'active') this.actor.send(event);
    });
    const machine = supervisorMachine.provide({
      actors: {
        startChildren: fromPromise(async () => this.children.startAll()),
        stopChildren: fromPromise(async () => this.children.stopAll()),
      },
      actions: {
        removeChild: (_, params) => this.children.remove(params.event),
        // Carried out after the machine's step (children are actors too: starting or stopping them
        // must not run inside this actor's action).
        applyRestart: (_, params) => queueMicrotask(() => this.children.applyRestart(params.event, params.decision)),
        restartChildren: (_, params) => queueMicrotask(() => this.children.restartChildren(params.ids)),
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
    this.children.killAll();
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
      await this.children.startEntry(entry);
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
      await this.children.startEntry(entry);
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
    await this.children.shutdown(entry);
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
      killed: this.children.killed,
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
