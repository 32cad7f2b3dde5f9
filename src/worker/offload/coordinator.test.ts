import { describe, expect, it } from 'vitest';
import type { RoomDevice } from '../../core/adaptation.js';
import { OFFLOADING } from '../../core/policy.js';
import { TINY_MANIFEST } from '../../testing/tiny-models.js';
import { Coordinator } from './coordinator.js';

const [P0, P1] = TINY_MANIFEST.partitions.map((p) => p.sha256);
function device(id: string, holds: string[], opts: Partial<RoomDevice> = {}): RoomDevice {
  return { id, alive: true, budgetBytes: 1e6, availability: 0.9, speed: 1, holds: new Set(holds), incoming: new Set(), sending: 0, rttMs: new Map(), ...opts };
}

describe('the coordinator (Algorithm 1 over the room, FRIM 4.2)', () => {
  // a_d = 0.9: two copies give D = 0.99 per partition, which θ = 0.98 needs and one copy (0.9) does not
  const room = () => [device('aaaaaaaaaaaa', [P0, P1]), device('bbbbbbbbbbbb', []), device('cccccccccccc', [])];

  it('orders one more copy of each partition, from the holder, and only the coordinator sends orders', () => {
    const c = new Coordinator();
    const d = c.decide('aaaaaaaaaaaa', room(), TINY_MANIFEST, 0.98, 0);
    expect(d.fetch.map((o) => o.hash).sort()).toEqual([P0, P1].sort());
    for (const o of d.fetch) {
      expect(o.from).toEqual(['aaaaaaaaaaaa']);
      expect(o.to).not.toBe('aaaaaaaaaaaa');
      expect(o.why).toMatch(/D = 0\.9000 < θ 0\.98/);
    }
    expect(c.unmet).toEqual([]);
    const follower = new Coordinator();
    expect(follower.decide('bbbbbbbbbbbb', room(), TINY_MANIFEST, 0.98, 0)).toEqual({ fetch: [], retire: [] });
  });

  it('does not order a copy twice while it is on its way, and orders it again once that grace has passed unseen', () => {
    const c = new Coordinator();
    const first = c.decide('aaaaaaaaaaaa', room(), TINY_MANIFEST, 0.98, 0);
    expect(first.fetch).toHaveLength(2);
    // the receivers have not announced anything yet: the orders still count as arriving
    const devices = room().map((d) => ({ ...d, incoming: new Set(c.orders.pending(d.id, 1000)) }));
    expect(c.decide('aaaaaaaaaaaa', devices, TINY_MANIFEST, 0.98, 1000).fetch).toEqual([]);
    const late = OFFLOADING.orderGraceMs + 10_000;
    expect(c.orders.pending('bbbbbbbbbbbb', late)).toEqual([]);
    expect(c.decide('aaaaaaaaaaaa', room(), TINY_MANIFEST, 0.98, late).fetch).toHaveLength(2);
  });

  it('drops an order once the receiver announces the copy, or announces no trace of it', () => {
    const c = new Coordinator();
    const d = c.decide('aaaaaaaaaaaa', room(), TINY_MANIFEST, 0.98, 0);
    const to = d.fetch.find((o) => o.hash === P0)!.to;
    c.orders.settle(to, { holds: [], fetching: [{ hash: P0, verified: 10 }] }, OFFLOADING.orderAckMs + 1);
    expect(c.orders.has(P0, to)).toBe(true);
    c.orders.settle(to, { holds: [], fetching: [] }, OFFLOADING.orderAckMs + 1);
    expect(c.orders.has(P0, to)).toBe(false);
  });

  it('says which partitions it cannot place, and why', () => {
    const c = new Coordinator();
    const small = [device('aaaaaaaaaaaa', [P0, P1]), device('bbbbbbbbbbbb', [], { budgetBytes: 950 })];
    c.decide('aaaaaaaaaaaa', small, TINY_MANIFEST, 0.98, 0);
    // a second copy of P1 (900 bytes) fits on b; one of P0 (1000 bytes) fits nowhere
    expect(c.unmet.map((u) => u.partition)).toEqual([0]);
    const gone = [device('aaaaaaaaaaaa', [], {}), device('bbbbbbbbbbbb', [P0], { alive: false })];
    c.decide('aaaaaaaaaaaa', gone, TINY_MANIFEST, 0.98, 0);
    expect(c.unmet).toContainEqual({ partition: 1, reason: 'no live device holds a verified copy' });
  });
});
