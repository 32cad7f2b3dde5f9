/**
 * The execution graph and its first and second shortest paths (FRIM section 4.3, shared/FRIM.md).
 *
 * Nodes are the live verified copies (stage i = the i-th partition in execution order, on device
 * d), plus the requester as source and sink. The edge into copy (i, d) weighs the time to move
 * stage i's input there from the previous copy (RTT/2 + bytes / bandwidth; nothing when it is the
 * same device) plus the measured compute time of partition i on d; the edge to the sink moves the
 * final outputs back. The graph is layered, so a shortest path is one pass of dynamic programming
 * from the sink backwards; the second path comes from Yen's algorithm with k = 2, preferring a path
 * that shares no copy with the first.
 */

export interface LinkCost {
  rttMs: number;
  /** bytes per millisecond */
  bandwidth: number;
}

export interface ExecutionGraph {
  requester: string;
  /** per stage: bytes of the tensors that must reach it (the live activations), and its copies */
  stages: { partition: number; inBytes: number; devices: string[] }[];
  /** bytes of the model outputs sent back to the requester */
  outBytes: number;
  computeMs(stage: number, device: string): number;
  link(from: string, to: string): LinkCost;
}

export interface Hop {
  stage: number;
  device: string;
}

export interface Path {
  hops: Hop[];
  costMs: number;
}

/** Where a path starts: the requester (before stage 0), or a copy that has just finished its stage. */
export type Position = { stage: -1 } | Hop;

export function transferMs(g: ExecutionGraph, from: string, to: string, bytes: number): number {
  if (from === to) return 0;
  const l = g.link(from, to);
  return l.rttMs / 2 + bytes / Math.max(l.bandwidth, 1e-9);
}

const key = (stage: number, device: string) => `${stage}:${device}`;

/**
 * Shortest path from `start` to the sink, avoiding the `banned` copies. Ties go to the smaller
 * device id, so every device that runs this on the same graph picks the same path.
 */
export function shortestPath(g: ExecutionGraph, start: Position, banned: ReadonlySet<string> = new Set()): Path | null {
  const n = g.stages.length;
  // best[i][d]: cost from copy (i, d) to the sink, including nothing of its own compute
  const toSink = new Map<string, { cost: number; next: string | null }>();
  for (let i = n - 1; i > start.stage; i--) {
    for (const d of [...g.stages[i].devices].sort()) {
      if (banned.has(key(i, d))) continue;
      let best: { cost: number; next: string | null } | null = null;
      if (i === n - 1) best = { cost: transferMs(g, d, g.requester, g.outBytes), next: null };
      else {
        for (const e of [...g.stages[i + 1].devices].sort()) {
          const rest = toSink.get(key(i + 1, e));
          if (!rest) continue;
          const c = transferMs(g, d, e, g.stages[i + 1].inBytes) + g.computeMs(i + 1, e) + rest.cost;
          if (!best || c < best.cost) best = { cost: c, next: e };
        }
      }
      if (best) toSink.set(key(i, d), best);
    }
  }
  const from = 'device' in start ? start.device : g.requester;
  if (start.stage === n - 1) return { hops: [], costMs: transferMs(g, from, g.requester, g.outBytes) };
  const first = start.stage + 1;
  let choice: { device: string; cost: number } | null = null;
  for (const d of [...g.stages[first].devices].sort()) {
    const rest = toSink.get(key(first, d));
    if (!rest) continue;
    const c = transferMs(g, from, d, g.stages[first].inBytes) + g.computeMs(first, d) + rest.cost;
    if (!choice || c < choice.cost) choice = { device: d, cost: c };
  }
  if (!choice) return null;
  const hops: Hop[] = [{ stage: first, device: choice.device }];
  for (let i = first; i < n - 1; i++) hops.push({ stage: i + 1, device: toSink.get(key(i, hops.at(-1)!.device))!.next! });
  return { hops, costMs: choice.cost };
}

function pathCost(g: ExecutionGraph, start: Position, hops: Hop[]): number {
  let at = 'device' in start ? start.device : g.requester;
  let cost = 0;
  for (const h of hops) {
    cost += transferMs(g, at, h.device, g.stages[h.stage].inBytes) + g.computeMs(h.stage, h.device);
    at = h.device;
  }
  return cost + transferMs(g, at, g.requester, g.outBytes);
}

/**
 * The first and second shortest paths from `start`. The second shares no copy with the first
 * when the graph allows it; otherwise it is Yen's second shortest (deviating from the first at the
 * cheapest point). `second` is null when only one path exists.
 */
export function twoShortestPaths(g: ExecutionGraph, start: Position): { first: Path; second: Path | null } | null {
  const first = shortestPath(g, start);
  if (!first) return null;
  const disjoint = shortestPath(g, start, new Set(first.hops.map((h) => key(h.stage, h.device))));
  if (disjoint) return { first, second: disjoint };
  // Yen, k = 2: for each spur point, keep the first path's prefix and forbid its next copy
  let second: Path | null = null;
  for (let j = 0; j < first.hops.length; j++) {
    const prefix = first.hops.slice(0, j);
    const spurFrom: Position = j === 0 ? start : first.hops[j - 1];
    const spur = shortestPath(g, spurFrom, new Set([key(first.hops[j].stage, first.hops[j].device)]));
    if (!spur) continue;
    const hops = [...prefix, ...spur.hops];
    const cost = pathCost(g, start, hops);
    if (!second || cost < second.costMs) second = { hops, costMs: cost };
  }
  return { first, second };
}

/**
 * Devices for the next stage, best first: each with the cost of the best path through it. The
 * caller confirms them in order and falls through to the next when one refuses (busy, gone).
 */
export function rankNextStage(g: ExecutionGraph, start: Position): { device: string; costMs: number }[] {
  const stage = start.stage + 1;
  if (stage >= g.stages.length) return [];
  const others = (d: string) => new Set(g.stages[stage].devices.filter((x) => x !== d).map((x) => key(stage, x)));
  return g.stages[stage].devices
    .map((d) => ({ device: d, path: shortestPath(g, start, others(d)) }))
    .filter((x): x is { device: string; path: Path } => x.path !== null)
    .map((x) => ({ device: x.device, costMs: x.path.costMs }))
    .sort(cheapestFirst);
}

/** Cheapest first; ties go to the smaller device id. */
export function cheapestFirst(a: { device: string; costMs: number }, b: { device: string; costMs: number }): number {
  return a.costMs - b.costMs || (a.device < b.device ? -1 : 1);
}
