import { describe, expect, it } from 'vitest';
import type { InspectionEvent } from 'xstate';
import { Inspection } from '../../src/pipeline/inspection.js';

/** An actor as XState announces it from its constructor: its snapshot cannot be read yet. */
function constructing(sessionId: string) {
  return {
    sessionId,
    system: { inspect: () => ({ unsubscribe: () => {} }) },
    getSnapshot: () => {
      throw new Error("Snapshot can't be read while the actor initializes itself");
    },
  };
}

describe('the inspection hub', () => {
  it('keeps announcements of actors still in their constructor, however many, without reading their snapshot', () => {
    const hub = new Inspection();
    const heard: string[] = [];
    hub.add((event) => heard.push(event.type));
    // Enough roots to make the hub prune its list in the middle of an announcement (random-graphs found it).
    for (let i = 0; i < 40; i++) {
      const actor = constructing(`x:${i}`);
      expect(() => hub.emit({ type: '@xstate.actor', actorRef: actor, rootId: actor.sessionId } as unknown as InspectionEvent)).not.toThrow();
    }
    expect(heard).toHaveLength(40);
    // A listener that comes later hears of them too (they have not ended).
    const late: string[] = [];
    expect(() => hub.add((event) => late.push(event.type))).not.toThrow();
    expect(late).toHaveLength(40);
  });
});
