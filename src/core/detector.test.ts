import { describe, expect, it } from 'vitest';
import { DEFAULT_DETECTOR, FailureDetector, bootstrapDelayBound, type Transition } from './detector.js';
import { seededRng, type Rng } from './rng.js';
import { quantile } from './stats.js';

const H = DEFAULT_DETECTOR.heartbeatMs;

/** Box-Muller normal, for synthetic traces. */
function normal(rng: Rng): number {
  return Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}

/** Log-normal RTTs with a given median and p99 (p99 / median = e^(2.326 sigma)). */
function lognormalTrace(n: number, medianMs: number, p99OverMedian: number, seed: number): number[] {
  const rng = seededRng(seed);
  const sigma = Math.log(p99OverMedian) / 2.3263;
  return Array.from({ length: n }, () => medianMs * Math.exp(sigma * normal(rng)));
}

/**
 * Event-driven simulation of one peer: ping n leaves at n*h, its reply arrives rtt[n] later
 * (null: no reply). The detector is checked exactly at its own deadlines, as the worker does.
 */
function simulate(det: FailureDetector, rtts: (number | null)[], untilMs?: number): Transition[] {
  const replies = rtts
    .map((r, n) => (r === null ? null : { at: n * H + r, rtt: r }))
    .filter((x): x is { at: number; rtt: number } => x !== null)
    .sort((a, b) => a.at - b.at);
  const end = untilMs ?? rtts.length * H;
  const out: Transition[] = [];
  let i = 0;
  for (;;) {
    const nextReply = i < replies.length ? replies[i].at : Infinity;
    const deadline = det.nextCheckAt() + 1e-6;
    const t = Math.min(nextReply, deadline);
    if (t > end) break;
    if (deadline <= nextReply) out.push(...det.check(deadline));
    else {
      const tr = det.reply(replies[i].at, replies[i].rtt);
      if (tr) out.push(tr);
      i++;
    }
  }
  return out;
}

describe('bootstrap bound', () => {
  it('is deterministic for a fixed seed and differs across seeds', () => {
    const ring = lognormalTrace(20, 10, 5, 7);
    const a = bootstrapDelayBound(ring, DEFAULT_DETECTOR, seededRng(42));
    const b = bootstrapDelayBound(ring, DEFAULT_DETECTOR, seededRng(42));
    const c = bootstrapDelayBound(ring, DEFAULT_DETECTOR, seededRng(43));
    expect(a).toBe(b);
    expect(c).not.toBe(a);
  });

  it('is tight for a quiet link and loose for a noisy one', () => {
    const quiet = Array.from({ length: 20 }, (_, i) => 3 + (i % 3) * 0.2);
    const noisy = lognormalTrace(20, 40, 10, 3);
    const q = bootstrapDelayBound(quiet, DEFAULT_DETECTOR, seededRng(1));
    const n = bootstrapDelayBound(noisy, DEFAULT_DETECTOR, seededRng(1));
    expect(q).toBeLessThan(H);
    expect(n).toBeGreaterThan(4 * H);
  });
});

describe('FailureDetector', () => {
  it('keeps the conservative default until k windows exist, then bootstraps', () => {
    const det = new FailureDetector(DEFAULT_DETECTOR, 1, 0);
    const windowsNeeded = DEFAULT_DETECTOR.ringSize * DEFAULT_DETECTOR.windowSize;
    for (let n = 0; n < windowsNeeded - 1; n++) det.reply(n * H + 3, 3);
    expect(det.warm).toBe(false);
    expect(det.thresholdMs).toBe(DEFAULT_DETECTOR.defaultThresholdMs);
    det.reply(windowsNeeded * H, 3);
    expect(det.warm).toBe(true);
    expect(det.thresholdMs).toBe(H); // a quiet link is floored at one interval
  });

  it('never suspects a steady peer', () => {
    const det = new FailureDetector(DEFAULT_DETECTOR, 2, 0);
    const rtts = Array.from({ length: 4000 }, (_, i) => 3 + (i % 5) * 0.3);
    expect(simulate(det, rtts)).toEqual([]);
    expect(det.status).toBe('alive');
  });

  it('raises no false alarm over 10 000 heartbeats with p99 jitter 10x the median', () => {
    for (const [median, seed] of [[5, 11], [30, 12], [80, 13]] as const) {
      const rtts = lognormalTrace(10_000, median, 10, seed);
      expect(quantile(rtts, 0.99) / quantile(rtts, 0.5)).toBeGreaterThan(8);
      const det = new FailureDetector(DEFAULT_DETECTOR, seed, 0);
      const transitions = simulate(det, rtts);
      expect(transitions.filter((t) => t.to === 'failed')).toEqual([]);
      expect(det.status).toBe('alive');
    }
  });

  it('declares a silent peer failed within T + 2h of its last reply, and suspects it first', () => {
    const det = new FailureDetector(DEFAULT_DETECTOR, 3, 0);
    const alive = Array.from({ length: 200 }, () => 4);
    const rtts: (number | null)[] = [...alive, ...Array<null>(40).fill(null)];
    const lastReplyAt = 199 * H + 4;
    const transitions = simulate(det, rtts);
    expect(transitions.map((t) => t.to)).toEqual(['suspected', 'failed']);
    const T = det.thresholdMs;
    const [suspected, failed] = transitions;
    expect(suspected.at - lastReplyAt).toBeGreaterThan(T + H);
    expect(suspected.at - lastReplyAt).toBeLessThan(T + H + 1);
    expect(failed.at - lastReplyAt).toBeGreaterThan(T + 2 * H);
    expect(failed.at - lastReplyAt).toBeLessThan(T + 2 * H + 1);
    // warm on a quiet link: the whole detection fits in three heartbeat intervals
    expect(failed.at - lastReplyAt).toBeLessThanOrEqual(3 * H + 1);
  });

  it('clears a suspicion when a late reply arrives, without declaring failure', () => {
    const det = new FailureDetector(DEFAULT_DETECTOR, 4, 0);
    const rtts: (number | null)[] = [...Array(100).fill(4), null, null, 4, ...Array(20).fill(4)];
    const transitions = simulate(det, rtts);
    expect(transitions.map((t) => `${t.from}>${t.to}`)).toEqual(['alive>suspected', 'suspected>alive']);
  });

  it('recovers a failed peer that answers again', () => {
    const det = new FailureDetector(DEFAULT_DETECTOR, 5, 0);
    const rtts: (number | null)[] = [...Array(100).fill(4), ...Array(20).fill(null), ...Array(20).fill(4)];
    const transitions = simulate(det, rtts);
    expect(transitions.map((t) => t.to)).toEqual(['suspected', 'failed', 'alive']);
    expect(transitions[2].from).toBe('failed');
    expect(det.status).toBe('alive');
  });

  it('gives the same transitions for the same trace and seed', () => {
    const trace = (): (number | null)[] => [...lognormalTrace(400, 20, 10, 9), ...Array(10).fill(null)];
    const a = simulate(new FailureDetector(DEFAULT_DETECTOR, 77, 0), trace());
    const b = simulate(new FailureDetector(DEFAULT_DETECTOR, 77, 0), trace());
    expect(a).toEqual(b);
    expect(a.at(-1)?.to).toBe('failed');
  });

  it('ignores impossible RTTs and rejects a broken configuration', () => {
    const det = new FailureDetector(DEFAULT_DETECTOR, 6, 0);
    expect(det.reply(10, -1)).toBeNull();
    expect(det.reply(10, Number.NaN)).toBeNull();
    expect(Number.isNaN(det.lastRttMs)).toBe(true);
    expect(() => new FailureDetector({ ...DEFAULT_DETECTOR, confidence: 1 }, 1, 0)).toThrow(RangeError);
    expect(() => new FailureDetector({ ...DEFAULT_DETECTOR, windowSize: 0 }, 1, 0)).toThrow(RangeError);
  });
});
