import { describe, expect, it } from 'vitest';
import { adapt, coordinatorOf, type RoomDevice, type RoomPartition } from './adaptation.js';

const MB = 1024 * 1024;
const parts: RoomPartition[] = [0, 1, 2].map((id) => ({ id, hash: String(id).repeat(64), bytes: MB, flops: 1e6 }));
function device(id: string, holds: number[], opts: Partial<RoomDevice> = {}): RoomDevice {
  return { id, alive: true, budgetBytes: 10 * MB, availability: 0.9, speed: 1e6, holds: new Set(holds.map((h) => parts[h].hash)), sending: 0, rttMs: new Map(), ...opts };
}

describe('room adaptation', () => {
  it('elects the live device with the smallest id, and the next one when it dies', () => {
    expect(coordinatorOf([{ id: 'b', alive: true }, { id: 'a', alive: true }])).toBe('a');
    expect(coordinatorOf([{ id: 'b', alive: true }, { id: 'a', alive: false }])).toBe('b');
    expect(coordinatorOf([])).toBeNull();
  });

  it('orders the copies the target needs, each from live holders, least busy and nearest first', () => {
    // the requester holds everything; b already sends one replica; c is far from d. At a_d = 0.85
    // three copies give 0.9966 < 0.999 and four give 0.9995, so every partition needs all four devices.
    const devices = [
      device('a', [0, 1, 2], { availability: 0.85 }),
      device('b', [0], { sending: 1, availability: 0.85 }),
      device('c', [0], { availability: 0.85 }),
      device('d', [], { rttMs: new Map([['a', 5], ['b', 2], ['c', 40]]), availability: 0.85 }),
    ];
    const r = adapt(devices, parts, 0.999);
    expect(r.coordinator).toBe('a');
    expect(r.plan.unmet).toEqual([]);
    expect(r.transfers).toHaveLength(1 + 3 + 3);
    for (const t of r.transfers) {
      expect(t.from.length).toBeGreaterThan(0);
      for (const h of t.from) expect(devices.find((d) => d.id === h)!.holds.has(t.hash)).toBe(true);
      expect(devices.find((d) => d.id === t.to)!.holds.has(t.hash)).toBe(false);
    }
    const toD0 = r.transfers.find((t) => t.partition === 0 && t.to === 'd')!;
    // partitions 1 and 2 (one copy each) go first and load a with six sends, so for partition 0
    // the idle c comes first despite its distance, then b (one send), then a
    expect(toD0.from).toEqual(['c', 'b', 'a']);
  });

  it('ignores holdings of failed devices and replaces their copies', () => {
    const devices = [device('a', [0, 1, 2]), device('b', [0, 1, 2], { alive: false }), device('c', []), device('d', [])];
    const r = adapt(devices, parts, 0.999);
    expect(r.transfers.every((t) => !t.from.includes('b') && t.to !== 'b')).toBe(true);
    for (const p of parts) expect(r.plan.placement.get(p.id)!.size).toBeGreaterThanOrEqual(3);
  });

  it('among equally busy holders, fetches from the nearest', () => {
    const one = [parts[0]];
    const devices = [device('a', [0]), device('c', [0]), device('d', [], { rttMs: new Map([['a', 50], ['c', 5]]) })];
    const r = adapt(devices, one, 0.999);
    expect(r.transfers).toEqual([{ partition: 0, hash: parts[0].hash, to: 'd', from: ['c', 'a'] }]);
  });

  it('counts copies on their way as placed, but never fetches from them', () => {
    const one = [parts[0]];
    const devices = [device('a', [0]), device('b', [], { incoming: new Set([parts[0].hash]) }), device('c', [])];
    const r = adapt(devices, one, 0.99);
    // a + b already give 0.99; nothing new is ordered while b's copy is in flight
    expect(r.transfers).toEqual([]);
    const r2 = adapt(devices, one, 0.999);
    expect(r2.transfers).toEqual([{ partition: 0, hash: parts[0].hash, to: 'c', from: ['a'] }]);
  });

  it('says which partitions have no verified copy left instead of ordering the impossible', () => {
    const devices = [device('a', [1, 2]), device('b', [], { incoming: new Set([parts[0].hash]) }), device('c', [0], { alive: false })];
    const r = adapt(devices, parts, 0.999);
    expect(r.lost).toEqual([0]);
    expect(r.transfers.some((t) => t.partition === 0)).toBe(false);
  });

  it('retires spare copies from a device over its budget, never below the target or two copies', () => {
    const devices = [
      device('a', [0, 1, 2], { availability: 0.99, budgetBytes: 1 * MB }),
      device('b', [0, 1, 2], { availability: 0.99 }),
      device('c', [0, 1, 2], { availability: 0.99 }),
    ];
    const r = adapt(devices, parts, 0.99);
    expect(r.retirements.map((x) => x.device)).toEqual(['a', 'a']);
    expect(new Set(r.retirements.map((x) => x.partition)).size).toBe(2);
    // at a target three copies barely meet, nothing can go
    expect(adapt(devices, parts, 0.999999).retirements).toEqual([]);
  });

  it('a device holding more than its budget (the one a model was dropped on): copies go elsewhere first, then its extra ones retire', () => {
    const big: RoomPartition[] = [{ id: 0, hash: '0'.repeat(64), bytes: 6 * MB, flops: 1e6 }, { id: 1, hash: '1'.repeat(64), bytes: 2 * MB, flops: 1e6 }, { id: 2, hash: '2'.repeat(64), bytes: 2 * MB, flops: 1e6 }];
    const holdsAll = new Set(big.map((p) => p.hash));
    const dropper = (holds: ReadonlySet<string>): RoomDevice => ({ ...device('a', []), holds, budgetBytes: 7 * MB, availability: 0.99 });
    const others = (held: Record<string, number[]>) => ['b', 'c', 'd'].map((id) => ({ ...device(id, []), holds: new Set((held[id] ?? []).map((k) => big[k].hash)), budgetBytes: 7 * MB, availability: 0.99 }));
    // at first: a keeps its biggest copy that fits (P0) and plans the rest as if already gone
    const r = adapt([dropper(holdsAll), ...others({})], big, 0.999);
    expect(r.retirements).toEqual([]);
    for (const p of [1, 2]) expect(r.transfers.filter((t) => t.partition === p).length).toBeGreaterThanOrEqual(2);
    expect(r.transfers.every((t) => t.to !== 'a')).toBe(true);
    // the transfers served from a's extra copies
    expect(r.transfers.filter((t) => t.partition === 1).every((t) => t.from.includes('a'))).toBe(true);
    // once the copies arrived, a's extra copies go, and every device is within its budget
    const placed: Record<string, number[]> = {};
    for (const t of r.transfers) (placed[t.to] ??= []).push(t.partition);
    const after = adapt([dropper(holdsAll), ...others(placed)], big, 0.999);
    expect(after.retirements.map((x) => `${x.device}:P${x.partition}`).sort()).toEqual(['a:P1', 'a:P2']);
    expect(after.transfers).toEqual([]);
  });

  it('VGG-16 dropped on one of four devices offering 80 % of it, the others announcing one by one: its big dense layer still gets a second copy', () => {
    // the cut bench:big makes (MiB): the first dense layer alone is three quarters of the model
    const sizes = [1.0, 10.1, 45.0, 392.0, 79.6];
    const vgg: RoomPartition[] = sizes.map((m, id) => ({ id, hash: String(id).repeat(64), bytes: Math.round(m * MB), flops: id === 3 ? 2e8 : id === 4 ? 5e7 : 5e9 }));
    const budget = 422 * MB;
    // the dropper has been up longer than the others, so its copies count for a little more
    const make = (id: string, incoming: string[] = []): RoomDevice => ({ ...device(id, []), holds: new Set(id === 'a' ? vgg.map((p) => p.hash) : []), incoming: new Set(incoming), budgetBytes: budget, availability: id === 'a' ? 0.93 : id === 'b' ? 0.91 : 0.905 });
    // first decision: only b has announced yet
    const first = adapt([make('a'), make('b')], vgg, 0.99);
    const toB = first.transfers.filter((t) => t.to === 'b').map((t) => t.hash);
    // then c and d announce, with b's copies on their way
    const r = adapt([make('a'), make('b', toB), make('c'), make('d')], vgg, 0.99);
    expect(r.plan.unmet).toEqual([]);
    for (const p of vgg) expect(r.plan.placement.get(p.id)!.size).toBeGreaterThanOrEqual(2);
  });
});
