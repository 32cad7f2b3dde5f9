import { describe, expect, it } from 'vitest';
import { SerialQueue } from './serial-queue.js';

const tick = () => new Promise((r) => setTimeout(r, 1));

describe('SerialQueue', () => {
  it('never runs two tasks at once, and keeps their order', async () => {
    const q = new SerialQueue();
    let active = 0;
    let most = 0;
    const order: number[] = [];
    const task = (i: number) => async () => {
      active++;
      most = Math.max(most, active);
      await tick();
      order.push(i);
      active--;
      return i;
    };
    const results = await Promise.all([0, 1, 2, 3, 4].map((i) => q.run(task(i))));
    expect(results).toEqual([0, 1, 2, 3, 4]);
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(most).toBe(1);
    expect(q.length).toBe(0);
  });

  it('a failing task rejects its own caller and does not stop the next', async () => {
    const q = new SerialQueue();
    const failed = q.run(async () => {
      await tick();
      throw new Error('boom');
    });
    const next = q.run(() => 7);
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe(7);
  });

  it('counts what is queued or running', async () => {
    const q = new SerialQueue();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const a = q.run(() => gate);
    const b = q.run(() => 1);
    expect(q.length).toBe(2);
    release();
    await Promise.all([a, b]);
    expect(q.length).toBe(0);
  });
});
