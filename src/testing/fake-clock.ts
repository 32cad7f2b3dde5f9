/**
 * A clock for unit tests: monotonic and epoch time that move only when the test says so, and
 * timers that fire in time order as it does. Promise callbacks run between timers, so async code
 * driven by these timers behaves as it would on a real event loop.
 */
import type { Timers } from '../shared/calls.js';

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
}

const EPOCH0 = Date.UTC(2026, 0, 1);

export class FakeClock implements Timers {
  now = 0;
  private pending: Pending[] = [];
  private seq = 0;

  readonly mono = (): number => this.now;
  readonly epoch = (): number => EPOCH0 + this.now;

  set(fn: () => void, ms: number): unknown {
    const t: Pending = { at: this.now + Math.max(0, ms), seq: this.seq++, fn };
    this.pending.push(t);
    return t;
  }

  clear(handle: unknown): void {
    this.pending = this.pending.filter((t) => t !== handle);
  }

  /** Runs everything due up to `ms` from now, in time order, letting promises settle after each. */
  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    await settle();
    for (;;) {
      const next = this.pending.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!next) break;
      this.pending = this.pending.filter((t) => t !== next);
      this.now = Math.max(this.now, next.at);
      next.fn();
      await settle();
    }
    this.now = end;
    await settle();
  }
}

/** Lets every queued promise callback run (Node runs all microtasks before an immediate). */
export function settle(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}
