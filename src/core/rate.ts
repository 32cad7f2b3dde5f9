/**
 * A token bucket: `burst` at once, refilled at `perSecond`. The caller passes the time (core keeps
 * no clock), so the signalling server, a data channel and a test all use the same rule.
 */
export class RateBucket {
  private tokens: number;
  private at: number;

  constructor(readonly burst: number, readonly perSecond: number, now: number) {
    this.tokens = burst;
    this.at = now;
  }

  /** One token if there is one; false means over the rate. */
  take(nowMs: number): boolean {
    this.tokens = Math.min(this.burst, this.tokens + (Math.max(0, nowMs - this.at) / 1000) * this.perSecond);
    this.at = Math.max(this.at, nowMs);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
