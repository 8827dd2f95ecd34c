import type { Logger } from 'pino';
import { TimeoutError } from '../core/errors.js';
import { Stop, listen, signalOf, unlisten, type StopSource } from '../resilience/signals.js';
import type { MutableStageContext } from './run-call.js';

/**
 * The `ctx` of one call of a stage with `timeoutMs`: the node's context with a signal of the call's
 * own, so that a call whose deadline passes sees its signal abort (with a TimeoutError) while the
 * next call, or the next retry attempt, gets a fresh one. The node's signal (aborted when the stage
 * crashes or is killed) reaches it too.
 *
 * Nothing is allocated for the signal until the stage reads `ctx.signal`: then an AbortController is
 * made (by the Stop behind it) and linked to the node's signal until the call ends.
 */
export class TimedContext implements MutableStageContext {
  readonly stage: string;
  offset: number;
  offsets: readonly number[];
  readonly log: Logger;
  /** The node's signal when the call started (its incarnation's). */
  private readonly node: AbortSignal;
  /** The Stop this context owns (when no policy gave one): aborted at the deadline or with the node. */
  private own: Stop | undefined;
  /** The stop source a timeout policy gave the attempt (it aborts at the deadline and with the caller's signal). */
  private readonly given: StopSource | undefined;
  /** Set while linked to the node's signal. */
  private onNodeAbort: (() => void) | undefined;
  private ended = false;
  /** The TimeoutError of a call whose deadline passed (a signal first read after it is aborted already). */
  private expired: TimeoutError | undefined;

  /**
   * `source`: the Stop a timeout policy made for this attempt (resilient stages); without it the
   * context makes its own, aborted by {@link expire} and by the node's signal.
   */
  constructor(node: MutableStageContext, offset: number, offsets: readonly number[], source?: StopSource) {
    this.stage = node.stage;
    this.offset = offset;
    this.offsets = offsets;
    this.log = node.log;
    this.node = node.signal;
    this.given = source;
  }

  /** The call's signal: aborted at its deadline (reason: a TimeoutError) or when the stage is abandoned. */
  get signal(): AbortSignal {
    if (this.given !== undefined) return signalOf(this.given) as AbortSignal;
    let own = this.own;
    if (own === undefined) {
      own = this.own = new Stop();
      if (this.expired !== undefined) own.abort(this.expired);
      else if (this.node.aborted) own.abort(this.node.reason);
      else if (!this.ended) {
        const stop = own;
        const node = this.node;
        this.onNodeAbort = () => {
          this.onNodeAbort = undefined;
          stop.abort(node.reason);
        };
        listen(node, this.onNodeAbort);
      }
    }
    return own.signal;
  }

  /** The call's deadline passed: its signal aborts with a TimeoutError. */
  expire(ms: number): void {
    this.end();
    this.expired = new TimeoutError(ms);
    this.own?.abort(this.expired);
  }

  /** The call is over: the signal no longer follows the node's (nothing is left listening). */
  end(): void {
    this.ended = true;
    const onNodeAbort = this.onNodeAbort;
    if (onNodeAbort === undefined) return;
    this.onNodeAbort = undefined;
    unlisten(this.node, onNodeAbort);
  }
}
