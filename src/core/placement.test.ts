import { describe, expect, it } from 'vitest';
import { DEFAULT_AVAILABILITY, availability, modelDependability, partitionDependability } from './availability.js';
import { planPlacement, type Placement, type PlacementDevice, type PlacementPartition } from './placement.js';
import { seededRng } from './rng.js';

const MB = 1024 * 1024;
const dev = (id: string, a: number, budgetMB = 100, alive = true, speed = 1e6): PlacementDevice => ({ id, alive, budgetBytes: budgetMB * MB, availability: a, speed });
const parts = (n: number, mb = 1): PlacementPartition[] => Array.from({ length: n }, (_, id) => ({ id, bytes: mb * MB, flops: 1e6 * (id + 1) }));
const empty = (n: number): Placement => new Map(Array.from({ length: n }, (_, i) => [i, new Set<string>()]));

function checkInvariants(devices: PlacementDevice[], partitions: PlacementPartition[], placement: Placement): void {
  const used = new Map<string, number>();
  for (const p of partitions) {
    const holders = [...placement.get(p.id)!];
    expect(new Set(holders).size).toBe(holders.length);
    for (const d of holders) {
      expect(devices.find((x) => x.id === d)?.alive).toBe(true);
      used.set(d, (used.get(d) ?? 0) + p.bytes);
    }
  }
  for (const [d, bytes] of used) expect(bytes).toBeLessThanOrEqual(devices.find((x) => x.id === d)!.budgetBytes);
}

describe('availability and dependability', () => {
  it('starts newcomers at the prior and learns from uptime and failures', () => {
    const fresh = availability({ uptimeSec: 0, failures: 0 });
    expect(fresh).toBeCloseTo(Math.exp(-DEFAULT_AVAILABILITY.horizonSec / DEFAULT_AVAILABILITY.priorUptimeSec), 10);
    expect(availability({ uptimeSec: 3600, failures: 0 })).toBeGreaterThan(fresh);
    expect(availability({ uptimeSec: 600, failures: 4 })).toBeLessThan(fresh);
  });

  it('combines copies and partitions as FRIM.md defines', () => {
    expect(partitionDependability([0.9, 0.9])).toBeCloseTo(0.99, 12);
    expect(partitionDependability([])).toBe(0);
    expect(modelDependability([0.99, 0.9])).toBeCloseTo(0.891, 12);
  });
});

describe('Algorithm 1 placement', () => {
  it('meets the target whenever capacity allows, with at least two copies', () => {
    const devices = ['a', 'b', 'c', 'd'].map((id) => dev(id, 0.9));
    const r = planPlacement({ devices, partitions: parts(3), current: empty(3), target: 0.999 });
    expect(r.unmet).toEqual([]);
    for (const [, d] of r.dependability) expect(d).toBeGreaterThanOrEqual(0.999);
    for (const [, holders] of r.placement) expect(holders.size).toBe(3); // 1 - 0.1^3 = 0.999
    checkInvariants(devices, parts(3), r.placement);
  });

  it('keeps two copies even when one would meet the target', () => {
    const devices = ['a', 'b', 'c'].map((id) => dev(id, 0.99999));
    const r = planPlacement({ devices, partitions: parts(2), current: empty(2), target: 0.999 });
    for (const [, holders] of r.placement) expect(holders.size).toBe(2);
  });

  it('respects budgets and never puts two copies of a partition on one device, on random rooms', () => {
    const rng = seededRng(7);
    for (let trial = 0; trial < 200; trial++) {
      const devices = Array.from({ length: 2 + Math.floor(rng() * 6) }, (_, i) => dev(`d${i}`, 0.5 + rng() * 0.49, 1 + Math.floor(rng() * 6), rng() > 0.15));
      const partitions = Array.from({ length: 1 + Math.floor(rng() * 6) }, (_, id) => ({ id, bytes: Math.floor((0.3 + rng()) * MB), flops: 1e5 + rng() * 1e7 }));
      const r = planPlacement({ devices, partitions, current: empty(partitions.length), target: 0.999 });
      checkInvariants(devices, partitions, r.placement);
      for (const p of partitions) {
        const met = (r.dependability.get(p.id) ?? 0) >= 0.999 && r.placement.get(p.id)!.size >= 2;
        expect(met || r.unmet.some((u) => u.partition === p.id)).toBe(true);
      }
    }
  });

  it('is deterministic: the same room state gives the same plan, whatever the input order', () => {
    const devices = ['e', 'c', 'a', 'd', 'b'].map((id, i) => dev(id, 0.8 + i * 0.03, 3));
    const a = planPlacement({ devices, partitions: parts(4), current: empty(4), target: 0.999 });
    const b = planPlacement({ devices: [...devices].reverse(), partitions: [...parts(4)].reverse(), current: empty(4), target: 0.999 });
    expect([...a.placement].map(([k, v]) => [k, [...v].sort()])).toEqual([...b.placement].map(([k, v]) => [k, [...v].sort()]).sort((x, y) => (x[0] as number) - (y[0] as number)));
    expect(a.added).toEqual(b.added);
  });

  it('says so when capacity runs out, instead of looping', () => {
    const devices = [dev('a', 0.9, 1), dev('b', 0.9, 1)];
    const r = planPlacement({ devices, partitions: parts(3), current: empty(3), target: 0.999 });
    expect(r.unmet.length).toBeGreaterThan(0);
    expect(r.unmet.every((u) => /memory|already holds/.test(u.reason))).toBe(true);
    checkInvariants(devices, parts(3), r.placement);
  });

  it('adapts after a failure: copies on the failed device are replaced elsewhere', () => {
    const devices = ['a', 'b', 'c', 'd', 'e'].map((id) => dev(id, 0.9));
    const first = planPlacement({ devices, partitions: parts(2), current: empty(2), target: 0.999 });
    const victim = [...first.placement.get(0)!][0];
    const after = devices.map((d) => (d.id === victim ? { ...d, alive: false } : d));
    const second = planPlacement({ devices: after, partitions: parts(2), current: first.placement, target: 0.999 });
    expect(second.unmet).toEqual([]);
    for (const [, holders] of second.placement) expect(holders.has(victim)).toBe(false);
    expect(second.added.some((x) => x.partition === 0)).toBe(true);
    // copies that survived stay where they are
    for (const [p, holders] of first.placement) for (const d of holders) if (d !== victim) expect(second.placement.get(p)!.has(d)).toBe(true);
  });

  it('lists copies beyond need as retirable, never below two', () => {
    const devices = ['a', 'b', 'c', 'd'].map((id) => dev(id, 0.99));
    const current: Placement = new Map([[0, new Set(['a', 'b', 'c', 'd'])]]);
    const r = planPlacement({ devices, partitions: parts(1), current, target: 0.999 });
    expect(r.added).toEqual([]);
    expect(r.retirable).toHaveLength(2);
  });
});
