/**
 * How long after a device dies its peers declare it failed, from the real detector (FRIM 4.1,
 * core/detector.ts): it is fed a warm-up of heartbeats over a link with this RTT and jitter, then
 * the replies stop, and its own deadlines say when "failed" is reached.
 */
import { DEFAULT_DETECTOR, FailureDetector, type DetectorConfig } from '../core/detector.js';
import type { Rng } from '../core/rng.js';

export interface LinkProfile {
  rttMs: number;
  /** mean of the exponential delay added to each reply */
  jitterMs: number;
}

export function detectionDelayMs(link: LinkProfile, rng: Rng, cfg: DetectorConfig = DEFAULT_DETECTOR): number {
  const d = new FailureDetector(cfg, Math.floor(rng() * 2 ** 31), 0);
  const beats = cfg.windowSize * cfg.ringSize + 2 * cfg.windowSize;
  let sent = 0;
  for (let i = 0; i < beats; i++) {
    sent = i * cfg.heartbeatMs;
    const rtt = link.rttMs - link.jitterMs * Math.log(1 - rng());
    d.reply(sent + rtt, rtt);
  }
  // it dies at a random moment before the next heartbeat
  const diedAt = Math.max(sent + cfg.heartbeatMs * rng(), d.lastReplyAt);
  let now = diedAt;
  while (d.status !== 'failed') {
    now = Math.max(now, d.nextCheckAt()) + 1e-3;
    d.check(now);
  }
  return now - diedAt;
}
