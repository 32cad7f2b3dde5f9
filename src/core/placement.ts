/**
 * Replica placement and redundancy adaptation: FRIM Algorithm 1 (section 4.2), as shared/FRIM.md
 * defines it. Pure and deterministic: the same room state gives the same plan on every device.
 *
 * While some partition's dependability D_i is below the target (or it has fewer than `minCopies`
 * copies), take the partition that is worst off — the fewest copies, then the largest, then the
 * lowest D_i — and add a copy on the device that does not hold it yet, has the memory (budget
 * minus the copies it already holds) without taking the last place a bigger partition still
 * needing a copy could go, and keeps the execution graph cheapest: least added compute time given
 * what the device already runs, then the most available, then the smallest id. A partition no device can take is reported, never retried in
 * a loop. Copies a partition could lose while staying at target and at `minCopies` are listed as
 * retirable; the caller retires them lazily (when it needs the space).
 */
import { partitionDependability, modelDependability } from './availability.js';

export interface PlacementDevice {
  id: string;
  alive: boolean;
  /** bytes this device offers for replicas */
  budgetBytes: number;
  /** a_d in [0, 1] */
  availability: number;
  /** FLOPs per millisecond it sustains; a default where not yet measured */
  speed: number;
}

export interface PlacementPartition {
  id: number;
  /** bytes a copy occupies (the partition file) */
  bytes: number;
  flops: number;
}

/** partition id -> device ids holding a copy (verified, or being transferred) */
export type Placement = Map<number, Set<string>>;

export interface PlacementInput {
  devices: PlacementDevice[];
  partitions: PlacementPartition[];
  current: Placement;
  /** per-partition dependability target theta */
  target: number;
  minCopies?: number;
}

export interface PlacementResult {
  placement: Placement;
  added: { partition: number; device: string; before: number; after: number }[];
  /** partitions left below target or below minCopies, and why */
  unmet: { partition: number; dependability: number; copies: number; reason: string }[];
  retirable: { partition: number; device: string }[];
  dependability: Map<number, number>;
  model: number;
}

export function planPlacement(input: PlacementInput): PlacementResult {
  const minCopies = input.minCopies ?? 2;
  const alive = input.devices.filter((d) => d.alive).sort((a, b) => (a.id < b.id ? -1 : 1));
  const byId = new Map(alive.map((d) => [d.id, d]));
  const parts = [...input.partitions].sort((a, b) => a.id - b.id);
  const placement: Placement = new Map();
  // only live devices count; copies on failed devices are gone
  for (const p of parts) placement.set(p.id, new Set([...(input.current.get(p.id) ?? [])].filter((d) => byId.has(d))));

  const used = new Map<string, number>(alive.map((d) => [d.id, 0]));
  const load = new Map<string, number>(alive.map((d) => [d.id, 0]));
  for (const p of parts) for (const d of placement.get(p.id)!) {
    used.set(d, used.get(d)! + p.bytes);
    load.set(d, load.get(d)! + p.flops / byId.get(d)!.speed);
  }
  const dep = (p: PlacementPartition) => partitionDependability([...placement.get(p.id)!].map((d) => byId.get(d)!.availability));
  const needs = (p: PlacementPartition) => dep(p) < input.target || placement.get(p.id)!.size < minCopies;
  const copies = (p: PlacementPartition) => placement.get(p.id)!.size;
  const worse = (x: PlacementPartition, w: PlacementPartition) =>
    copies(x) !== copies(w) ? copies(x) < copies(w) : x.bytes !== w.bytes ? x.bytes > w.bytes : dep(x) < dep(w);

  const added: PlacementResult['added'] = [];
  const blocked = new Map<number, string>();
  for (;;) {
    const open = parts.filter((p) => needs(p) && !blocked.has(p.id));
    if (!open.length) break;
    // the partition with the fewest copies first (every one gets another copy before any gets two
    // more), the largest among those (as in first-fit-decreasing packing: big copies claim space
    // before small ones fill it), then the lowest D_i
    const p = open.reduce((w, x) => (worse(x, w) ? x : w));
    const holders = placement.get(p.id)!;
    const fits = alive.filter((d) => !holders.has(d.id) && used.get(d.id)! + p.bytes <= d.budgetBytes);
    // keep the last devices a bigger partition still needing a copy could go to able to take it
    const reserved = new Map<string, number>();
    for (const q of open) {
      if (q === p || q.bytes <= p.bytes) continue;
      const hosts = alive.filter((d) => !placement.get(q.id)!.has(d.id) && used.get(d.id)! + q.bytes <= d.budgetBytes);
      if (hosts.length === 1) reserved.set(hosts[0].id, Math.max(reserved.get(hosts[0].id) ?? 0, q.bytes));
    }
    const spared = fits.filter((d) => d.budgetBytes - used.get(d.id)! - p.bytes >= (reserved.get(d.id) ?? 0));
    const candidates = spared.length ? spared : fits;
    if (!candidates.length) {
      const others = alive.filter((d) => !holders.has(d.id));
      blocked.set(p.id, others.length === 0 ? 'every live device already holds a copy' : 'no device without a copy has the memory for another');
      continue;
    }
    const cost = (d: PlacementDevice) => load.get(d.id)! + p.flops / d.speed;
    const best = candidates.reduce((b, d) => {
      const cb = cost(b);
      const cd = cost(d);
      if (cd !== cb) return cd < cb ? d : b;
      if (d.availability !== b.availability) return d.availability > b.availability ? d : b;
      return d.id < b.id ? d : b;
    });
    const before = dep(p);
    holders.add(best.id);
    used.set(best.id, used.get(best.id)! + p.bytes);
    load.set(best.id, cost(best));
    added.push({ partition: p.id, device: best.id, before, after: dep(p) });
  }

  const retirable: PlacementResult['retirable'] = [];
  for (const p of parts) {
    const holders = [...placement.get(p.id)!];
    // try dropping the least available copies first
    holders.sort((a, b) => byId.get(a)!.availability - byId.get(b)!.availability || (a < b ? -1 : 1));
    const keep = new Set(holders);
    for (const d of holders) {
      if (keep.size <= minCopies) break;
      keep.delete(d);
      if (partitionDependability([...keep].map((k) => byId.get(k)!.availability)) >= input.target) retirable.push({ partition: p.id, device: d });
      else keep.add(d);
    }
  }

  const dependability = new Map(parts.map((p) => [p.id, dep(p)]));
  const unmet = parts.filter((p) => needs(p)).map((p) => ({
    partition: p.id,
    dependability: dep(p),
    copies: placement.get(p.id)!.size,
    reason: blocked.get(p.id) ?? 'no live device',
  }));
  return { placement, added, unmet, retirable, dependability, model: modelDependability([...dependability.values()]) };
}
