import { describe, expect, it } from 'vitest';
import { rankNextStage, shortestPath, twoShortestPaths, type ExecutionGraph } from './execution-graph.js';

/** A graph where links cost `rtt` ms flat (bandwidth huge) and compute costs come from a table. */
function graph(copies: string[][], compute: Record<string, number> = {}, rtt: Record<string, number> = {}): ExecutionGraph {
  return {
    requester: 'r',
    stages: copies.map((devices, i) => ({ partition: i, inBytes: 1000, devices })),
    outBytes: 40,
    computeMs: (s, d) => compute[`${s}:${d}`] ?? 10,
    link: (a, b) => ({ rttMs: rtt[[a, b].sort().join('-')] ?? 2, bandwidth: 1e12 }),
  };
}
const devices = (p: { hops: { device: string }[] } | null) => p?.hops.map((h) => h.device);

describe('execution graph paths', () => {
  it('finds the cheapest chain of copies, counting compute and transfers', () => {
    const g = graph([['a', 'b'], ['a', 'c']], { '0:b': 1, '1:c': 50 });
    // a then a stays on one device (no transfer), but b is much faster at stage 0
    const p = shortestPath(g, { stage: -1 })!;
    expect(devices(p)).toEqual(['b', 'a']);
    expect(p.costMs).toBeCloseTo(1 + 1 + 1 + 10 + 1, 6);
  });

  it('breaks ties by device id, so every device picks the same path', () => {
    const g = graph([['c', 'b', 'a'], ['b', 'a', 'c']]);
    expect(devices(shortestPath(g, { stage: -1 }))).toEqual(['a', 'a']);
  });

  it('prefers a second path that shares no copy with the first', () => {
    const g = graph([['a', 'b', 'c'], ['a', 'b', 'c'], ['a', 'b']], { '0:c': 100 });
    const r = twoShortestPaths(g, { stage: -1 })!;
    expect(devices(r.first)).toEqual(['a', 'a', 'a']);
    expect(devices(r.second)).toEqual(['b', 'b', 'b']);
    expect(r.second!.costMs).toBeGreaterThanOrEqual(r.first.costMs);
  });

  it('falls back to Yen when no disjoint path exists (a stage with one copy)', () => {
    const g = graph([['a', 'b'], ['c'], ['a', 'b']], { '0:b': 5, '2:b': 20 });
    const r = twoShortestPaths(g, { stage: -1 })!;
    expect(devices(r.first)).toEqual(['b', 'c', 'a']);
    // the cheapest deviation: swap one copy, keep the sole copy of stage 1
    expect(r.second!.hops[1].device).toBe('c');
    expect(devices(r.second)).not.toEqual(devices(r.first));
    expect(r.second!.costMs).toBeGreaterThan(r.first.costMs);
  });

  it('says there is no second path when every stage has one copy, and no path when a stage has none', () => {
    expect(twoShortestPaths(graph([['a'], ['b']]), { stage: -1 })!.second).toBeNull();
    expect(twoShortestPaths(graph([['a'], []]), { stage: -1 })).toBeNull();
  });

  it('routes from a copy that finished its stage, and ranks the next stage for fall-through', () => {
    const g = graph([['a', 'b'], ['a', 'b', 'c']], { '1:c': 1 }, { 'a-c': 30 });
    expect(devices(shortestPath(g, { stage: 0, device: 'a' }))).toEqual(['a']);
    expect(devices(shortestPath(g, { stage: 0, device: 'b' }))).toEqual(['c']);
    expect(rankNextStage(g, { stage: 0, device: 'a' }).map((x) => x.device)).toEqual(['a', 'b', 'c']);
    expect(rankNextStage(g, { stage: 1, device: 'a' })).toEqual([]);
  });
});
