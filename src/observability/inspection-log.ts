import type { InspectionEvent } from 'xstate';
import { RingBuffer } from './ring-buffer.js';

/** One inspection event as the dashboard shows it: what happened, never the event's payload. */
export interface InspectedEntry {
  /** Increases by one per entry recorded, across actors. */
  seq: number;
  /** Epoch ms. */
  at: number;
  /** `event`: the actor received `type` (from `from`, when another actor sent it); `snapshot`: it is now in `state`; `actor`: it was created. */
  kind: 'event' | 'snapshot' | 'actor';
  type?: string;
  from?: string;
  state?: unknown;
  status?: string;
}

/** Limits of an {@link InspectionLog}. */
export interface InspectionLogOptions {
  /** Entries kept per actor (default 50). */
  perActor?: number;
  /** Actors kept; past it the one recorded first is forgotten (default 1 000). */
  maxActors?: number;
  now?: () => number;
}

/**
 * The latest inspection events of each actor of the served pipelines, in a bounded buffer per
 * actor. Only the pipelines' own actors are kept (stage actors and supervisors, the roots of their
 * actor systems): the promise actors they invoke show up as the events their parents receive.
 * Payloads are left out: an event may carry a whole batch of user data.
 */
export class InspectionLog {
  private readonly buffers = new Map<string, RingBuffer<InspectedEntry>>();
  private readonly perActor: number;
  private readonly maxActors: number;
  private readonly now: () => number;
  private seq = 0;

  constructor(options: InspectionLogOptions = {}) {
    this.perActor = options.perActor ?? 50;
    this.maxActors = options.maxActors ?? 1_000;
    this.now = options.now ?? Date.now;
  }

  /** Records one event of a pipeline's actor (events of other actors are ignored). */
  record(pipeline: string, event: InspectionEvent): void {
    const actor = idOf(event.actorRef);
    if (actor === undefined || event.actorRef.sessionId !== event.rootId) return;
    const entry = this.entryOf(event);
    if (entry === undefined) return;
    const key = keyOf(pipeline, actor);
    let buffer = this.buffers.get(key);
    if (buffer === undefined) {
      if (this.buffers.size >= this.maxActors) this.buffers.delete(this.buffers.keys().next().value as string);
      buffer = new RingBuffer(this.perActor);
      this.buffers.set(key, buffer);
    }
    buffer.push(entry);
  }

  /** The latest entries of an actor, oldest first (empty for an actor not seen). */
  events(pipeline: string, actor: string): InspectedEntry[] {
    return this.buffers.get(keyOf(pipeline, actor))?.toArray() ?? [];
  }

  /** The actors of a pipeline with recorded entries. */
  actors(pipeline: string): string[] {
    const prefix = keyOf(pipeline, '');
    return [...this.buffers.keys()].filter((key) => key.startsWith(prefix)).map((key) => key.slice(prefix.length));
  }

  private entryOf(event: InspectionEvent): InspectedEntry | undefined {
    const base = { at: this.now() };
    switch (event.type) {
      case '@xstate.event': {
        const from = event.sourceRef === undefined ? undefined : idOf(event.sourceRef);
        return { seq: ++this.seq, ...base, kind: 'event', type: event.event.type, ...(from === undefined ? {} : { from }) };
      }
      case '@xstate.snapshot': {
        const snapshot = event.snapshot as { value?: unknown; status?: string };
        return { seq: ++this.seq, ...base, kind: 'snapshot', type: event.event.type, state: snapshot.value, ...(snapshot.status === undefined ? {} : { status: snapshot.status }) };
      }
      case '@xstate.actor':
        return { seq: ++this.seq, ...base, kind: 'actor' };
      default:
        return undefined; // microsteps, actions and transitions: the snapshots say where they led
    }
  }
}

function idOf(ref: unknown): string | undefined {
  const id = (ref as { id?: unknown }).id;
  return typeof id === 'string' ? id : undefined;
}

function keyOf(pipeline: string, actor: string): string {
  return `${pipeline}\u0000${actor}`;
}
