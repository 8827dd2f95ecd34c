import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import { SteadfastError, isSteadfastError, messageOf } from '../core/errors.js';
import type { ChildStartContext } from '../supervision/child.js';

/** The actor of one incarnation, as its lifecycle needs it. */
interface IncarnationActor {
  start(): unknown;
  stop(): unknown;
  getSnapshot(): { status: string; value?: unknown };
}

/**
 * Where a node is in its life, with what each phase holds: not started yet; opening an incarnation;
 * running it; crashed (its supervisor restarts it, `error` says why); halted by its supervisor or a
 * reshape; done for good.
 */
export type Life =
  | { phase: 'new' }
  | { phase: 'opening'; openFailure?: SteadfastError }
  | { phase: 'running' }
  | { phase: 'crashed'; error: unknown }
  | { phase: 'halted' }
  | { phase: 'done' };

/** What the incarnations of a node do through the node. */
export interface IncarnationEffects<A> {
  newActor(): A;
  /** Starts the actor and tells it what it must know (its mailbox, an end that came before). */
  start(actor: A): void;
  /** Resolves once the actor has left `starting`; true if it opened. */
  opened(actor: A): Promise<boolean>;
  /** The calls of the abandoned incarnation give their events back to the mailbox. */
  abandonCalls(): void;
  /** The node's close (flush a sink). */
  close(): void | Promise<void>;
  /** The node is done for good. */
  finished(): void;
  log: Logger;
}

/**
 * The lifecycle of a node's incarnations under its supervisor: each incarnation is an actor with
 * an abort signal; a crash or a stop ends it, the supervisor starts the next. One union (`life`)
 * says where it is, instead of a set of flags.
 */
export class Incarnations<A extends IncarnationActor> {
  life: Life = { phase: 'new' };
  /** The current actor (or the last one, once it ended: its snapshot keeps the state). */
  actor: A;
  restarts = 0;
  /** The error that ended the node in `failed` (open or close failed, or the actor crashed). */
  failure: SteadfastError | undefined;
  /** The failure of the last failed call: the crash, if the machine restarts the stage for it. */
  lastFailure: unknown;
  private abort = incarnationAbort();
  private supervisor: ChildStartContext | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly name: string,
    private readonly effects: IncarnationEffects<A>,
  ) {
    this.actor = effects.newActor();
  }

  /** Aborted when the incarnation is abandoned (crash, kill); every call sees it as `ctx.signal`. */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** The next launch is a restart (an incarnation ran before). */
  restarting(): boolean {
    return this.life.phase !== 'new' && this.life.phase !== 'done';
  }

  /** The incarnation is down: crashed, or halted by its supervisor. */
  down(): boolean {
    return this.life.phase === 'crashed' || this.life.phase === 'halted';
  }

  isDone(): boolean {
    return this.life.phase === 'done';
  }

  /** Makes a new actor for the first incarnation (its input changed before the start). */
  renew(): void {
    if (this.life.phase === 'new') this.actor = this.effects.newActor();
  }

  /** Starts an incarnation for the supervisor (the first, or a restart); rejects if it failed to open. */
  async launch(supervisor: ChildStartContext): Promise<void> {
    if (this.life.phase === 'done') throw new SteadfastError('STAGE_STOPPED', `stage "${this.name}" has finished; it cannot start again`);
    this.supervisor = supervisor;
    const fresh = this.life.phase !== 'new';
    if (fresh) this.restarts++;
    const failure = await this.startIncarnation(fresh);
    if (failure !== undefined) throw failure;
  }

  /** Replaces the running incarnation by a new one (`prepare` runs in between); a failed open goes to the supervisor. */
  async replace(prepare: () => void): Promise<void> {
    if (this.life.phase !== 'running') throw new SteadfastError('PIPELINE_STATE_INVALID', `stage "${this.name}" is not running; it cannot be replaced`);
    this.life = { phase: 'halted' };
    this.actor.stop();
    await this.closeQuietly();
    prepare();
    const failure = await this.startIncarnation(true);
    if (failure !== undefined) {
      // The supervisor takes it from here, as for any crash: restarts, or gives up.
      this.supervisor?.exited('error', failure);
      throw failure;
    }
  }

  private async startIncarnation(fresh: boolean): Promise<SteadfastError | undefined> {
    if (fresh) {
      this.abort = incarnationAbort();
      this.actor = this.effects.newActor();
    }
    const opening: Life = { phase: 'opening' };
    this.life = opening;
    this.effects.start(this.actor);
    const opened = await this.effects.opened(this.actor);
    if (this.life !== opening) return undefined; // stopped or killed while opening
    if (opened) {
      this.life = { phase: 'running' };
      return undefined;
    }
    const failure = opening.openFailure ?? this.failure ?? new SteadfastError('STAGE_OPEN_FAILED', `stage "${this.name}" failed to open`);
    this.life = { phase: 'crashed', error: failure };
    return failure;
  }

  /** Open or close failed (the machine reports it before it ends in `failed`). */
  lifecycleFailed(phase: 'open' | 'close', error: unknown, kind: 'stage' | 'sink'): void {
    const code = phase === 'open' ? 'STAGE_OPEN_FAILED' : 'STAGE_CLOSE_FAILED';
    const failure = isSteadfastError(error, code) ? error : new SteadfastError(code, `${kind} "${this.name}" failed to ${phase}: ${messageOf(error)}`, { cause: error });
    this.effects.log.error({ err: failure }, `${kind} ${phase} failed`);
    this.failure = failure;
    if (phase === 'open' && this.life.phase === 'opening') this.life.openFailure = failure;
  }

  /**
   * Stops the incarnation for its supervisor (a strategy restart or an escalation): the events its
   * calls held go back to the mailbox, and what it opened (a sink's file) is closed.
   */
  async halt(): Promise<void> {
    const phase = this.life.phase;
    if (phase !== 'running' && phase !== 'opening') {
      if (phase === 'crashed') this.life = { phase: 'halted' };
      return;
    }
    this.life = { phase: 'halted' };
    this.effects.abandonCalls();
    this.actor.stop();
    await this.closeQuietly();
  }

  /** The supervisor kills the incarnation: its calls see the abort, then it halts. */
  kill(reason: SteadfastError): void {
    this.abort.abort(reason);
    void this.halt();
  }

  /** Ends the node for good at once (a stop past its budget): calls aborted, the actor stopped, nothing requeued. */
  abandon(reason: SteadfastError): void {
    this.abort.abort(reason);
    const running = this.life.phase === 'running' || this.life.phase === 'opening';
    this.life = { phase: 'halted' }; // the actor's end below is not a crash nor a normal end
    if (running) {
      this.actor.stop();
      void this.closeQuietly();
    }
    this.finish();
  }

  /** The actor reached a final state. */
  actorEnded(actor: A): void {
    if (actor !== this.actor) return;
    const life = this.life;
    if (life.phase === 'halted' || life.phase === 'done') return;
    if (life.phase === 'opening' && life.openFailure !== undefined) return; // launch() reports it
    if (actor.getSnapshot().value === 'crashed') {
      this.life = { phase: 'crashed', error: this.lastFailure };
      this.abort.abort(new SteadfastError('STAGE_CRASHED', `stage "${this.name}" crashed`));
      this.effects.abandonCalls();
      void this.closeQuietly().then(() => this.supervisor?.exited('error', this.lastFailure));
      return;
    }
    this.finish();
  }

  /** The actor itself failed (an error XState caught): the node is done, with that failure. */
  actorFailed(actor: A, failure: SteadfastError): void {
    if (actor !== this.actor) return;
    this.failure = failure;
    this.finish();
  }

  /** Resolves once a close started after an abnormal end (kill, halt, crash) has finished. */
  async closed(): Promise<void> {
    await this.closing;
  }

  /** Runs the node's close, logging instead of throwing: used when an incarnation ends abnormally. */
  private closeQuietly(): Promise<void> {
    this.closing = (async () => {
      try {
        await this.effects.close();
      } catch (error) {
        this.effects.log.warn({ err: error }, `close failed: ${messageOf(error)}`);
      }
    })();
    return this.closing;
  }

  /** The node is done for good: tell the supervisor (a normal exit) and the node. */
  private finish(): void {
    if (this.life.phase === 'done') return;
    this.life = { phase: 'done' };
    this.supervisor?.exited('normal');
    this.effects.finished();
  }
}

/**
 * The abort controller of an incarnation. Every call in flight may listen to its signal (a fetch
 * passes it on), so concurrent calls add a listener each: no listener limit, so that Node does not
 * warn of a leak at its default of 10.
 */
function incarnationAbort(): AbortController {
  const abort = new AbortController();
  setMaxListeners(0, abort.signal);
  return abort;
}
