import { describe, expect, it } from 'vitest';
import { RateBucket } from './rate.js';

describe('rate bucket', () => {
  it('lets a burst through, then the refill rate, and never more than the burst after a pause', () => {
    const b = new RateBucket(5, 10, 0);
    expect(Array.from({ length: 8 }, () => b.take(0)).filter(Boolean)).toHaveLength(5);
    expect(b.take(50)).toBe(false);
    expect(b.take(100)).toBe(true);
    expect(b.take(100)).toBe(false);
    // an hour idle refills to the burst, no further
    expect(Array.from({ length: 20 }, () => b.take(3_600_000)).filter(Boolean)).toHaveLength(5);
  });

  it('over a long flood passes burst + rate x time, whatever the pace of the flood', () => {
    const b = new RateBucket(100, 50, 0);
    let passed = 0;
    for (let t = 0; t <= 10_000; t += 0.1) if (b.take(t)) passed++;
    expect(passed).toBeGreaterThanOrEqual(100 + 50 * 10 - 1);
    expect(passed).toBeLessThanOrEqual(100 + 50 * 10 + 1);
  });

  it('does not mint tokens when the clock goes backwards', () => {
    const b = new RateBucket(1, 1, 1000);
    expect(b.take(1000)).toBe(true);
    expect(b.take(0)).toBe(false);
    expect(b.take(500)).toBe(false);
  });
});
