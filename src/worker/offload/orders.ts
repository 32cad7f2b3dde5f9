/**
 * The copies the coordinator has ordered and not yet seen announced: per receiving device, per
 * replica hash, when the order went out and until when it counts as on its way. While it does,
 * Algorithm 1 plans as if the copy were arriving, so it is not ordered twice.
 */
import { OFFLOADING } from '../../core/policy.js';
import type { DeviceHoldings } from '../../core/room.js';

interface Order {
  sentAt: number;
  until: number;
}

export class Orders {
  private readonly byDevice = new Map<string, Map<string, Order>>();

  has(hash: string, device: string): boolean {
    return !!this.byDevice.get(device)?.has(hash);
  }

  /** A new order of `hash` to `device`; a big copy gets longer (1 ms per KB) before it may be ordered again. */
  add(hash: string, device: string, bytes: number, now: number): void {
    const orders = this.byDevice.get(device) ?? new Map<string, Order>();
    this.byDevice.set(device, orders);
    orders.set(hash, { sentAt: now, until: now + OFFLOADING.orderGraceMs + bytes / 1000 });
  }

  /** Copies still on their way to `device`. */
  pending(device: string, now: number): string[] {
    return [...(this.byDevice.get(device) ?? [])].filter(([, o]) => o.until > now).map(([hash]) => hash);
  }

  /** Orders to a device that failed, or rejoined with nothing in flight, are void. */
  forget(device: string): void {
    this.byDevice.delete(device);
  }

  /**
   * An order is done once the copy is announced, and lost if a later announcement shows no trace
   * of it (the receiver reloaded or gave up): then the coordinator may order it again at once.
   */
  settle(device: string, h: Pick<DeviceHoldings, 'holds' | 'fetching'>, now: number): void {
    const orders = this.byDevice.get(device);
    if (!orders) return;
    for (const [hash, o] of orders) {
      const traced = h.fetching.some((f) => f.hash === hash);
      if (h.holds.includes(hash) || (!traced && now - o.sentAt > OFFLOADING.orderAckMs)) orders.delete(hash);
    }
  }

  expire(now: number): void {
    for (const orders of this.byDevice.values()) for (const [hash, o] of orders) if (o.until <= now) orders.delete(hash);
  }
}
