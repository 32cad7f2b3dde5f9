import { describe, expect, it } from 'vitest';
import { DEFAULT_DEADLINE, RequestTracker, SeenResults, StageTimes } from './hedging.js';

describe('stage deadlines', () => {
  it('use a default until measured, then a multiple of the p99, never below the floor', () => {
    const t = new StageTimes();
    expect(t.deadlineMs(0)).toBe(DEFAULT_DEADLINE.defaultMs);
    for (const ms of [100, 120, 110, 130, 400]) t.record(0, ms);
    expect(t.deadlineMs(0)).toBe(3 * 400);
    const fast = new StageTimes();
    for (let i = 0; i < 10; i++) fast.record(1, 1);
    expect(fast.deadlineMs(1)).toBe(DEFAULT_DEADLINE.floorMs);
    fast.record(1, Number.NaN);
    expect(fast.deadlineMs(1)).toBe(DEFAULT_DEADLINE.floorMs);
  });

  it('keep times per unit of load and scale the deadline by the load now', () => {
    const t = new StageTimes();
    // 400 ms behind three others is 100 ms of work; 100 ms alone is the same
    for (const [ms, load] of [[400, 4], [100, 1], [600, 6], [200, 2], [500, 5]]) t.record(0, ms, load);
    expect(t.deadlineMs(0)).toBe(DEFAULT_DEADLINE.floorMs);
    expect(t.deadlineMs(0, 6)).toBe(3 * 100 * 6);
    // a load below one (nothing counted yet) counts as one
    t.record(1, 500, 0);
    for (let i = 0; i < 4; i++) t.record(1, 500);
    expect(t.deadlineMs(1, 0)).toBe(1500);
  });
});

describe('duplicate suppression', () => {
  it('takes the first result of a (request, stage) and drops the rest, in bounded memory', () => {
    const s = new SeenResults(3);
    expect(s.first('r1', 0)).toBe(true);
    expect(s.first('r1', 0)).toBe(false);
    expect(s.first('r1', 1)).toBe(true);
    expect(s.first('r2', 0)).toBe(true);
    expect(s.first('r3', 0)).toBe(true);
    // r1#0 has been forgotten (capacity 3); r2#0 is still remembered
    expect(s.first('r2', 0)).toBe(false);
    expect(s.first('r1', 0)).toBe(true);
  });

  it('forgets what is older than its age bound, so a steady stream holds rate x age entries', () => {
    const s = new SeenResults(8192, 120_000);
    // 12 pairs a second for an hour
    let peak = 0;
    for (let t = 0; t < 3_600_000; t += 1000 / 12) {
      expect(s.first(`r${t}`, 0, t)).toBe(true);
      peak = Math.max(peak, s.size);
    }
    expect(peak).toBeLessThanOrEqual(12 * 120 + 1);
    expect(s.size).toBeGreaterThanOrEqual(12 * 120 - 1);
    // a duplicate within the bound is still dropped, one past it is taken again
    s.first('late', 1, 3_600_000);
    expect(s.first('late', 1, 3_600_000 + 119_000)).toBe(false);
    expect(s.first('late', 1, 3_600_000 + 121_000)).toBe(true);
  });
});

describe('request tracking', () => {
  it('finds overdue stages and stages orphaned by failed devices, and counts re-issues', () => {
    const t = new RequestTracker();
    t.wait('a', 0, ['d1', 'd2'], 0, 100);
    t.wait('b', 1, ['d2'], 0, 500);
    expect(t.overdue(99)).toEqual([]);
    expect(t.overdue(100).map((p) => p.requestId)).toEqual(['a']);
    expect(t.orphanedBy(new Set(['d2'])).map((p) => p.requestId)).toEqual(['b']);
    expect(t.orphanedBy(new Set(['d1'])).map((p) => p.requestId)).toEqual([]);
    expect(t.wait('a', 0, ['d3'], 100, 100).attempts).toBe(2);
    expect(t.wait('a', 1, ['d3'], 150, 100).attempts).toBe(1);
    expect(t.nextDeadline()).toBe(250);
    expect(t.finish('a')?.stage).toBe(1);
    expect(t.size).toBe(1);
  });
});
