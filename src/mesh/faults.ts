/**
 * Test-only fault switches (enabled with `?debug=1`): they let tests and benchmarks make this
 * device answer heartbeats late or not at all, or send malformed frames, through the real code
 * paths. Nothing here runs unless a test turns it on.
 */
export interface Faults {
  /** stop answering heartbeats (a frozen device whose connections stay up) */
  mute: boolean;
  /** answer heartbeats after a log-normal delay with this median and p99 (ms) */
  jitter: { medianMs: number; p99Ms: number } | null;
  /** flip a byte in every replica chunk this device sends (a holder with bad memory or a lying peer) */
  corruptChunks: boolean;
}

export const faults: Faults = { mute: false, jitter: null, corruptChunks: false };

export function pongDelayMs(): number {
  const j = faults.jitter;
  if (!j) return 0;
  const sigma = Math.log(j.p99Ms / j.medianMs) / 2.3263;
  const z = Math.sqrt(-2 * Math.log(1 - Math.random())) * Math.cos(2 * Math.PI * Math.random());
  return j.medianMs * Math.exp(sigma * z);
}
