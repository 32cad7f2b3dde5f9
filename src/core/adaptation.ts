/**
 * Redundancy adaptation (FRIM Algorithm 1, section 4.2) for a whole room: on every membership
 * change — a failure declared, a device joining or rejoining, a budget changed — decide which
 * copies to add and where each new copy is fetched from.
 *
 * One coordinator decides, the live device with the smallest id: every device can tell who that
 * is from its own view of the room, and when the coordinator dies the detectors declare it failed
 * and the next smallest id takes over with the same inputs (holdings are announced by every
 * device, so no state is lost with it). A single decider avoids two devices ordering the same
 * copy when their views of the room briefly differ.
 */
import { planPlacement, type Placement, type PlacementDevice, type PlacementResult } from './placement.js';

export interface RoomPartition {
  id: number;
  /** SHA-256 of the partition file (the manifest's) */
  hash: string;
  bytes: number;
  flops: number;
}

export interface RoomDevice extends PlacementDevice {
  /** hashes of the replicas it holds, verified */
  holds: ReadonlySet<string>;
  /** replicas it is currently sending */
  sending: number;
  /** measured RTT from this device to others, ms */
  rttMs: ReadonlyMap<string, number>;
}

export interface TransferOrder {
  partition: number;
  hash: string;
  to: string;
  /** holders to fetch from, best first; the receiver falls back down the list */
  from: string[];
}

export interface AdaptationResult {
  coordinator: string | null;
  plan: PlacementResult;
  transfers: TransferOrder[];
}

export function coordinatorOf(devices: readonly { id: string; alive: boolean }[]): string | null {
  const alive = devices.filter((d) => d.alive).map((d) => d.id).sort();
  return alive[0] ?? null;
}

export function adapt(devices: RoomDevice[], partitions: RoomPartition[], target: number, minCopies = 2): AdaptationResult {
  const current: Placement = new Map(partitions.map((p) => [p.id, new Set(devices.filter((d) => d.alive && d.holds.has(p.hash)).map((d) => d.id))]));
  const plan = planPlacement({ devices, partitions, current, target, minCopies });
  const byId = new Map(devices.map((d) => [d.id, d]));
  const outgoing = new Map(devices.map((d) => [d.id, d.sending]));
  const transfers = plan.added.map(({ partition, device }): TransferOrder => {
    const p = partitions.find((x) => x.id === partition)!;
    const to = byId.get(device)!;
    const holders = [...current.get(partition)!];
    // least busy sender first, then the nearest, then the smallest id
    const rank = (h: string) => [outgoing.get(h) ?? 0, to.rttMs.get(h) ?? Infinity, h] as const;
    holders.sort((a, b) => {
      const [la, ra, ia] = rank(a);
      const [lb, rb, ib] = rank(b);
      return la - lb || ra - rb || (ia < ib ? -1 : 1);
    });
    if (holders[0]) outgoing.set(holders[0], (outgoing.get(holders[0]) ?? 0) + 1);
    return { partition, hash: p.hash, to: device, from: holders };
  });
  return { coordinator: coordinatorOf(devices), plan, transfers };
}
