/**
 * The coordinator's decisions (FRIM 4.2, Algorithm 1 over the room). One coordinator — the live
 * device with the smallest id — decides and sends `fetch` / `retire` orders; everyone else follows.
 * Every device still runs the plan, so its dashboard can say which partitions the room cannot
 * place, and so the next coordinator decides from the same state the moment this one dies.
 */
import { adapt, coordinatorOf, type RoomDevice, type RoomPartition } from '../../core/adaptation.js';
import type { Manifest } from '../../core/onnx/manifest.js';
import type { OffloadView } from '../../core/views.js';
import { Orders } from './orders.js';

/** The manifest's partitions as Algorithm 1 sees them. */
export const roomPartitions = (m: Manifest): RoomPartition[] => m.partitions.map((p) => ({ id: p.id, hash: p.sha256, bytes: p.bytes, flops: p.flops }));

export interface FetchOrder {
  hash: string;
  to: string;
  from: string[];
  /** for the event log: why the copy is ordered */
  why: string;
}

export interface Decisions {
  fetch: FetchOrder[];
  retire: { hash: string; device: string }[];
}

export class Coordinator {
  readonly orders = new Orders();
  /** partitions the last plan could not bring to the target, and why */
  unmet: OffloadView['unmet'] = [];

  /**
   * Plans the room's copies for `target`. Returns the orders to send when `self` is the
   * coordinator (each remembered until its copy is announced), none otherwise.
   */
  decide(self: string, devices: RoomDevice[], m: Manifest | null, target: number, now: number): Decisions {
    if (!m) {
      this.unmet = [];
      return { fetch: [], retire: [] };
    }
    const r = adapt(devices, roomPartitions(m), target);
    this.unmet = [...r.plan.unmet.map((u) => ({ partition: u.partition, reason: u.reason })), ...r.lost.map((p) => ({ partition: p, reason: 'no live device holds a verified copy' }))];
    if (coordinatorOf(devices) !== self) return { fetch: [], retire: [] };
    this.orders.expire(now);
    const fetch: FetchOrder[] = [];
    for (const t of r.transfers) {
      if (this.orders.has(t.hash, t.to)) continue;
      this.orders.add(t.hash, t.to, m.partitions[t.partition].bytes, now);
      const added = r.plan.added.find((a) => a.partition === t.partition && a.device === t.to);
      fetch.push({ hash: t.hash, to: t.to, from: t.from, why: `P${t.partition} at D = ${added ? added.before.toFixed(4) : '?'} < θ ${target}: new copy on ${t.to}, from ${t.from.join(', ')}` });
    }
    return { fetch, retire: r.retirements.map((x) => ({ hash: x.hash, device: x.device })) };
  }
}
