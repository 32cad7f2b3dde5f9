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
import { partitionDependability } from './availability.js';
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
  /** hashes of replicas on their way to it (ordered or being fetched): they count as placed, but cannot be fetched from */
  incoming?: ReadonlySet<string>;
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

export interface RetireOrder {
  partition: number;
  hash: string;
  device: string;
}

export interface AdaptationResult {
  coordinator: string | null;
  plan: PlacementResult;
  transfers: TransferOrder[];
  /** copies to drop because their device is over its budget and the room can spare them */
  retirements: RetireOrder[];
  /** partitions with no verified copy on any live device: nothing to fetch from */
  lost: number[];
}

export function coordinatorOf(devices: readonly { id: string; alive: boolean }[]): string | null {
  const alive = devices.filter((d) => d.alive).map((d) => d.id).sort();
  return alive[0] ?? null;
}

/**
 * Copies a device holds beyond its budget (the device a model was dropped on holds every partition;
 * a user may lower a budget): it keeps the largest copies that fit, and the rest are leaving.
 * Leaving copies still serve transfers, but the room plans as if they were gone, so it places
 * copies elsewhere, and each one is retired once the copies staying elsewhere meet the target.
 */
export function leavingCopies(d: Pick<RoomDevice, 'holds' | 'budgetBytes'>, partitions: RoomPartition[]): Set<number> {
  const held = partitions.filter((p) => d.holds.has(p.hash)).sort((a, b) => b.bytes - a.bytes || a.id - b.id);
  const leaving = new Set<number>();
  let room = d.budgetBytes;
  for (const p of held) {
    if (p.bytes <= room) room -= p.bytes;
    else leaving.add(p.id);
  }
  return leaving;
}

export function adapt(devices: RoomDevice[], partitions: RoomPartition[], target: number, minCopies = 2): AdaptationResult {
  const leaving = new Map(devices.filter((d) => d.alive).map((d) => [d.id, leavingCopies(d, partitions)]));
  const stays = (d: RoomDevice, p: RoomPartition) => !leaving.get(d.id)?.has(p.id);
  const verified: Placement = new Map(partitions.map((p) => [p.id, new Set(devices.filter((d) => d.alive && d.holds.has(p.hash)).map((d) => d.id))]));
  // a copy on its way counts as placed, so two decisions never order the same copy twice
  const current: Placement = new Map(partitions.map((p) => [p.id, new Set(devices.filter((d) => d.alive && stays(d, p) && (d.holds.has(p.hash) || d.incoming?.has(p.hash))).map((d) => d.id))]));
  const lost = partitions.filter((p) => verified.get(p.id)!.size === 0).map((p) => p.id);
  const plan = planPlacement({ devices, partitions, current, target, minCopies });
  const byId = new Map(devices.map((d) => [d.id, d]));
  const outgoing = new Map(devices.map((d) => [d.id, d.sending]));
  const transfers = plan.added.filter(({ partition }) => !lost.includes(partition)).map(({ partition, device }): TransferOrder => {
    const p = partitions.find((x) => x.id === partition)!;
    const to = byId.get(device)!;
    const holders = [...verified.get(partition)!];
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
  return { coordinator: coordinatorOf(devices), plan, transfers, retirements: retire(devices, partitions, leaving, target, minCopies), lost };
}

/**
 * Lazy retirement (FRIM.md): a copy goes only when its device needs the space (it is leaving: over
 * the device's budget) and the verified copies staying elsewhere already meet the target and the
 * two-copy floor without it.
 */
function retire(devices: RoomDevice[], partitions: RoomPartition[], leaving: Map<string, Set<number>>, target: number, minCopies: number): RetireOrder[] {
  const out: RetireOrder[] = [];
  for (const p of partitions) {
    const holders = devices.filter((d) => d.alive && d.holds.has(p.hash));
    const staying = holders.filter((d) => !leaving.get(d.id)?.has(p.id));
    if (staying.length === holders.length) continue;
    if (staying.length < minCopies || partitionDependability(staying.map((d) => d.availability)) < target) continue;
    for (const d of holders) if (leaving.get(d.id)?.has(p.id)) out.push({ partition: p.id, hash: p.hash, device: d.id });
  }
  return out;
}
