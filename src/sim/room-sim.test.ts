import { describe, expect, it } from 'vitest';
import { heartbeatsPerDevicePerSec, simulate, type SimConfig } from './room-sim.js';

/** A requester and two devices with round numbers, one partition: every cost can be worked out by hand. */
const BASE: SimConfig = {
  devices: 3, minutes: 1, seed: 3, meanUpMin: 1e9, meanDownMin: 1, requestsPerSec: 2, target: 0.999,
  partitions: [{ bytes: 1_000_000, flops: 1_000_000, inBytes: 10_000 }],
  outBytes: 10_000,
  profiles: [
    { speed: 1e8, budget: 0, rtt: 2, bw: 10_000 },
    { speed: 1e6, budget: 1e8, rtt: 2, bw: 10_000 }, // runs the partition in 1 ms
    { speed: 5e5, budget: 1e8, rtt: 2, bw: 10_000 }, // in 2 ms
  ],
  schedule: [],
};

describe('the room simulator', () => {
  it('a quiet room: every request answered by the faster copy in the time worked out by hand', () => {
    const r = simulate(BASE, 'frim');
    // out: RTT/2 (1 ms) + 10 000 bytes at 10 000 bytes/ms (1 ms); compute 1 ms; back: 1 + 1 ms
    expect(r.latencyP50Ms).toBeCloseTo(5, 6);
    expect(r.answeredFraction).toBe(1);
    expect(r.failures).toBe(0);
    // Algorithm 1 added the second copy on device 2: one transfer of the partition
    expect(r.bytesMoved).toBe(1_000_000);
    expect(r.copiesMin).toBe(2);
  });

  it('the holder of the only copy dies: fixed single copies lose every later request, FRIM none', () => {
    const cfg = { ...BASE, schedule: [{ device: 1, downAt: 20_000, backAt: 1e9 }] };
    const frim = simulate(cfg, 'frim');
    expect(frim.answeredFraction).toBe(1);
    expect(frim.failures).toBe(1);
    // the detector (core/detector.ts) declared it failed within three heartbeat intervals of a quiet link
    expect(frim.detectionP50Ms).toBeGreaterThan(250);
    expect(frim.detectionP50Ms).toBeLessThan(1000);
    const one = simulate(cfg, 'fixed1');
    expect(one.bytesMoved).toBe(0);
    // answered: only what was issued before the death, about a third of the minute
    expect(one.answeredFraction).toBeGreaterThan(0.2);
    expect(one.answeredFraction).toBeLessThan(0.5);
  });

  it('is deterministic for a seed, and every policy faces the same failures', () => {
    const cfg: SimConfig = { ...BASE, devices: 12, minutes: 5, meanUpMin: 2, meanDownMin: 1, profiles: undefined, schedule: undefined };
    const a = simulate(cfg, 'frim');
    expect(simulate(cfg, 'frim')).toEqual({ ...a, msPerEvent: expect.any(Number), placementMsMean: expect.any(Number) });
    expect(simulate(cfg, 'fixed3').failures).toBe(a.failures);
    expect(a.failures).toBeGreaterThan(5);
  });

  it("gives each device the history its own churn would have left, so flaky rooms earn FRIM more copies", () => {
    const cfg: SimConfig = { ...BASE, devices: 30, minutes: 3, meanUpMin: 3, meanDownMin: 5, profiles: undefined, schedule: undefined };
    const fresh = simulate({ ...cfg, historyMin: 0 }, 'frim');
    const seasoned = simulate({ ...cfg, historyMin: 120 }, 'frim');
    // with no history every device looks like the prior (one failure in ten minutes); two hours of
    // coming and going every few minutes lower each availability, and Algorithm 1 answers with copies
    expect(seasoned.copiesMean).toBeGreaterThan(fresh.copiesMean + 0.5);
    // the fixed policies do not look at availability: the same copies either way
    expect(simulate({ ...cfg, historyMin: 120 }, 'fixed2').copiesMean).toBeCloseTo(simulate({ ...cfg, historyMin: 0 }, 'fixed2').copiesMean, 0);
  });

  it('counts the heartbeats a full mesh costs each device', () => {
    expect(heartbeatsPerDevicePerSec(4)).toBe(24);
    expect(heartbeatsPerDevicePerSec(1000)).toBe(7992);
  });
});
