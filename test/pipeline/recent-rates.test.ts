// The recent rates of a pipeline's stats (issue 12, item 5): one window per node instance and one for the source.
import { describe, expect, it } from 'vitest';
import { RecentRates } from '../../src/pipeline/recent-rates.js';

describe('RecentRates', () => {
  it('measures each total from the run’s start, then over the last window', () => {
    const rates = new RecentRates(10_000);
    const start = 1_000_000;
    let r = rates.sample(start, start + 5_000, 500, [['a', 100], ['sink', 50]]);
    expect(r.source).toBe(100);
    expect(r.nodes.get('a')).toBe(20);
    expect(r.nodes.get('sink')).toBe(10);
    r = rates.sample(start, start + 20_000, 500, [['a', 400], ['sink', 350]]);
    expect(r.source).toBe(0); // nothing read since the previous read, 15 s ago
    expect(r.nodes.get('a')).toBe(20);
    expect(r.nodes.get('sink')).toBe(20);
  });

  it('starts a node that appears later (a replica added by scale()) at the previous read, and forgets removed ones', () => {
    const rates = new RecentRates(10_000);
    rates.sample(0, 4_000, 0, [['a#0', 40]]);
    let r = rates.sample(0, 6_000, 0, [['a#0', 60], ['a#1', 30]]);
    expect(r.nodes.get('a#1')).toBe(15); // 30 events since the read at 4 s, not since the start
    r = rates.sample(0, 8_000, 0, [['a#0', 80]]);
    expect([...r.nodes.keys()]).toEqual(['a#0']);
    // a replica of the same name later is a new counter: measured from the previous read again
    r = rates.sample(0, 9_000, 0, [['a#0', 90], ['a#1', 5]]);
    expect(r.nodes.get('a#1')).toBe(5);
  });
});
