import { describe, expect, it } from 'vitest';
import { seededRng } from '../core/rng.js';
import { EventQueue } from './event-queue.js';

describe("the simulator's event queue", () => {
  it('gives events back in time order, ties in the order they were scheduled', () => {
    const q = new EventQueue<string>();
    q.push(5, 'e');
    q.push(1, 'a');
    q.push(3, 'c1');
    q.push(3, 'c2');
    q.push(0, 'z');
    q.push(3, 'c3');
    const out: string[] = [];
    for (let x = q.pop(); x; x = q.pop()) out.push(x.e);
    expect(out).toEqual(['z', 'a', 'c1', 'c2', 'c3', 'e']);
    expect(q.size).toBe(0);
  });

  it('stays ordered through 10 000 random pushes and pops', () => {
    const rng = seededRng(7);
    const q = new EventQueue<number>();
    let last = -Infinity;
    let popped = 0;
    for (let i = 0; i < 10_000; i++) {
      q.push(last === -Infinity ? rng() * 100 : last + rng() * 100, i);
      if (rng() < 0.4) {
        const x = q.pop()!;
        expect(x.t).toBeGreaterThanOrEqual(last);
        last = x.t;
        popped++;
      }
    }
    while (q.size) {
      const x = q.pop()!;
      expect(x.t).toBeGreaterThanOrEqual(last);
      last = x.t;
      popped++;
    }
    expect(popped).toBe(10_000);
  });
});
