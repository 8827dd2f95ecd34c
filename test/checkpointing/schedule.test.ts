import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkpointDue, type ScheduleFacts } from '../../src/checkpointing/schedule.js';

const facts = (over: Partial<ScheduleFacts> = {}): ScheduleFacts => ({ blocked: false, everyEvents: 1_000, sinceLast: 0, timeDue: false, requested: false, ...over });

describe('checkpointDue', () => {
  it('begins after everyEvents source events, or when asked, or when the timer fired and something new came', () => {
    expect(checkpointDue(facts({ sinceLast: 999 }))).toBe('wait');
    expect(checkpointDue(facts({ sinceLast: 1_000 }))).toBe('begin');
    expect(checkpointDue(facts({ requested: true }))).toBe('begin');
    expect(checkpointDue(facts({ timeDue: true, sinceLast: 1 }))).toBe('begin');
  });
  it('skips the timer\'s turn when nothing came since the last barrier, and never counts by events with everyEvents 0', () => {
    expect(checkpointDue(facts({ timeDue: true }))).toBe('skip');
    expect(checkpointDue(facts({ everyEvents: 0, sinceLast: 1_000_000 }))).toBe('wait');
  });
  it('waits whatever else holds while blocked', () => {
    fc.assert(fc.property(fc.nat(), fc.nat(), fc.boolean(), fc.boolean(), (everyEvents, sinceLast, timeDue, requested) => checkpointDue({ blocked: true, everyEvents, sinceLast, timeDue, requested }) === 'wait'));
  });
});
