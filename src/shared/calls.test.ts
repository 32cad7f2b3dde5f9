import { describe, expect, it } from 'vitest';
import { FakeClock } from '../testing/fake-clock.js';
import { CallTimeout, Calls } from './calls.js';

describe('request/reply calls', () => {
  it('settles with the reply, even one that comes back while the request is being sent', async () => {
    const calls = new Calls<number, string>(new FakeClock());
    await expect(calls.call(1, 100, () => calls.settle(1, 'at once'))).resolves.toBe('at once');
    expect(calls.size).toBe(0);
  });

  it('fails a call whose timer runs out, and ignores its reply afterwards', async () => {
    const clock = new FakeClock();
    const calls = new Calls<string, number>(clock);
    const p = calls.call('job', 300, () => undefined, 'nobody answered');
    const outcome = p.then(() => 'settled', (e: Error) => e);
    await clock.advance(299);
    expect(calls.has('job')).toBe(true);
    await clock.advance(1);
    const e = await outcome;
    expect(e).toBeInstanceOf(CallTimeout);
    expect((e as Error).message).toBe('nobody answered');
    expect(calls.settle('job', 1)).toBe(false);
  });

  it('arms a timer later (a run timed from when it started), re-arms it, and fails everything at once', async () => {
    const clock = new FakeClock();
    const calls = new Calls<number, string>(clock);
    const a = calls.call(1, null, () => undefined).catch((e: Error) => e.message);
    const b = calls.call(2, null, () => undefined).catch((e: Error) => e.message);
    await clock.advance(10_000);
    expect(calls.size).toBe(2);
    calls.arm(1, 50, 'hung');
    await clock.advance(40);
    calls.arm(1, 50, 'hung after all');
    await clock.advance(40);
    expect(calls.has(1)).toBe(true);
    await clock.advance(10);
    await expect(a).resolves.toBe('hung after all');
    calls.failAll(new Error('the tab closed'));
    await expect(b).resolves.toBe('the tab closed');
  });
});
