// When a checkpoint is due: pure, from what the coordinator knows at the moment the source pump asks.

/** What decides whether a checkpoint starts now. */
export interface ScheduleFacts {
  /** The coordinator may not start one (closed, held by a reshape, two in flight, a barrier still travelling). */
  blocked: boolean;
  /** Take one after this many source events (0: not by count). */
  everyEvents: number;
  /** Source events read since the last barrier. */
  sinceLast: number;
  /** The `everyMs` timer fired since the last barrier. */
  timeDue: boolean;
  /** Someone asked for one (`pipeline.checkpoint()`). */
  requested: boolean;
}

/**
 * `begin` a checkpoint, `wait`, or `skip` the timer's turn: time is up but nothing came from the
 * source since the last barrier, so there is nothing new to save (the timer's flag is cleared).
 */
export type ScheduleDecision = 'begin' | 'wait' | 'skip';

/** Whether a checkpoint starts now. */
export function checkpointDue(facts: ScheduleFacts): ScheduleDecision {
  if (facts.blocked) return 'wait';
  const byCount = facts.everyEvents > 0 && facts.sinceLast >= facts.everyEvents;
  if (byCount || facts.requested) return 'begin';
  if (!facts.timeDue) return 'wait';
  return facts.sinceLast === 0 ? 'skip' : 'begin';
}
