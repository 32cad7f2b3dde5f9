/**
 * Failure detector, FRIM paper section 4.1, as defined in shared/FRIM.md ("Our definitions").
 *
 * Per peer: RTTs are grouped into windows of m; the last k window averages form a ring. From the
 * ring we draw g bootstrap groups (k values each, with replacement). For every group we form an
 * upper bound on one heartbeat's delay, mean + kc * sqrt(m) * sd: sqrt(m) turns the spread of
 * window averages back into the spread of single RTTs, and kc = sqrt(c / (1 - c)) is Cantelli's
 * one-sided, distribution-free factor, because RTTs are heavy-tailed (a normal z would call a
 * jittery phone link dead several times an hour). The threshold T is the c-quantile of those g
 * bounds, never below one heartbeat interval h. A peer is suspected once it has been silent for
 * longer than T + h, and failed when the suspicion has held one more interval.
 *
 * Pure: time is passed in, randomness comes from a seeded RNG.
 */
import { seededRng, type Rng } from './rng.js';
import { mean, quantile, stddev } from './stats.js';

export type PeerHealth = 'alive' | 'suspected' | 'failed';

export interface DetectorConfig {
  /** heartbeat interval h, ms */
  heartbeatMs: number;
  /** RTTs per window, m */
  windowSize: number;
  /** window averages kept, k */
  ringSize: number;
  /** bootstrap resamples, g */
  resamples: number;
  /** confidence c of the bound */
  confidence: number;
  /** T before k windows exist: deliberately looser than a quiet link needs */
  defaultThresholdMs: number;
}

export const DEFAULT_DETECTOR: DetectorConfig = Object.freeze({
  heartbeatMs: 250,
  windowSize: 4,
  ringSize: 20,
  resamples: 200,
  confidence: 0.999,
  defaultThresholdMs: 1000,
});

export function validateDetectorConfig(cfg: DetectorConfig): void {
  const ints: (keyof DetectorConfig)[] = ['windowSize', 'ringSize', 'resamples'];
  for (const k of ints) {
    if (!Number.isInteger(cfg[k]) || cfg[k] < 1) throw new RangeError(`detector ${k} must be a positive integer`);
  }
  if (!(cfg.heartbeatMs > 0)) throw new RangeError('detector heartbeatMs must be > 0');
  if (!(cfg.confidence > 0 && cfg.confidence < 1)) throw new RangeError('detector confidence must be in (0, 1)');
  if (!(cfg.defaultThresholdMs >= 0)) throw new RangeError('detector defaultThresholdMs must be >= 0');
}

/** Cantelli's factor: P(X - mu >= k sd) <= 1 / (1 + k^2) = 1 - c. */
export function cantelliFactor(confidence: number): number {
  return Math.sqrt(confidence / (1 - confidence));
}

/**
 * The bootstrap bound on one heartbeat's delay from a ring of window averages (ms), before the
 * floor of one heartbeat interval is applied.
 */
export function bootstrapDelayBound(windowAverages: readonly number[], cfg: DetectorConfig, rng: Rng): number {
  const k = windowAverages.length;
  if (k === 0) return NaN;
  const factor = cantelliFactor(cfg.confidence) * Math.sqrt(cfg.windowSize);
  const bounds = new Array<number>(cfg.resamples);
  const group = new Array<number>(k);
  for (let b = 0; b < cfg.resamples; b++) {
    for (let i = 0; i < k; i++) group[i] = windowAverages[Math.floor(rng() * k)];
    bounds[b] = mean(group) + factor * stddev(group);
  }
  return quantile(bounds, cfg.confidence);
}

export interface Transition {
  from: PeerHealth;
  to: PeerHealth;
  /** when the transition became true (ms, same clock as the inputs) */
  at: number;
}

/** One peer's detector. Feed it replies and ask it to check; it never reads a clock itself. */
export class FailureDetector {
  readonly cfg: DetectorConfig;
  private readonly rng: Rng;
  private window: number[] = [];
  private readonly ring: number[] = [];
  private _status: PeerHealth = 'alive';
  private _threshold: number;
  private _lastReplyAt: number;
  private _lastRtt = NaN;

  constructor(cfg: DetectorConfig, seed: number, startedAt: number) {
    validateDetectorConfig(cfg);
    this.cfg = cfg;
    this.rng = seededRng(seed);
    this._threshold = cfg.defaultThresholdMs;
    this._lastReplyAt = startedAt;
  }

  get status(): PeerHealth { return this._status; }
  /** T in ms */
  get thresholdMs(): number { return this._threshold; }
  get lastRttMs(): number { return this._lastRtt; }
  get lastReplyAt(): number { return this._lastReplyAt; }
  /** true once k windows exist and T comes from the bootstrap */
  get warm(): boolean { return this.ring.length >= this.cfg.ringSize; }
  get windowAverages(): readonly number[] { return this.ring; }

  /** A heartbeat reply arrived at `now` with round-trip time `rttMs`. */
  reply(now: number, rttMs: number): Transition | null {
    if (!(rttMs >= 0) || !Number.isFinite(rttMs)) return null;
    this._lastRtt = rttMs;
    this._lastReplyAt = Math.max(this._lastReplyAt, now);
    this.window.push(rttMs);
    if (this.window.length >= this.cfg.windowSize) {
      this.ring.push(mean(this.window));
      this.window = [];
      if (this.ring.length > this.cfg.ringSize) this.ring.shift();
      if (this.warm) {
        const bound = bootstrapDelayBound(this.ring, this.cfg, this.rng);
        this._threshold = Math.max(this.cfg.heartbeatMs, bound);
      }
    }
    if (this._status === 'alive') return null;
    const from = this._status;
    this._status = 'alive';
    if (from === 'failed') this.window = [];
    return { from, to: 'alive', at: now };
  }

  /**
   * We ourselves could not ping for `ms` (our worker was stalled): that silence is ours, not the
   * peer's, so it does not count against it. A peer already failed stays failed.
   */
  excuse(ms: number): void {
    if (ms > 0 && this._status !== 'failed') this._lastReplyAt += ms;
  }

  /** When the silence started to count as suspicion, and as failure, for the current last reply. */
  get suspectAt(): number { return this._lastReplyAt + this._threshold + this.cfg.heartbeatMs; }
  get failAt(): number { return this.suspectAt + this.cfg.heartbeatMs; }

  /** Earliest time at which `check` can change the status, or Infinity. */
  nextCheckAt(): number {
    if (this._status === 'alive') return this.suspectAt;
    if (this._status === 'suspected') return this.failAt;
    return Infinity;
  }

  /**
   * The peer left on purpose (it said so, or closed its connection from its side): failed at
   * once, no silence to wait for. A later reply recovers it as after any failure.
   */
  depart(now: number): Transition | null {
    if (this._status === 'failed') return null;
    const from = this._status;
    this._status = 'failed';
    return { from, to: 'failed', at: now };
  }

  /** Moves alive -> suspected -> failed as silence grows. May return both steps at once. */
  check(now: number): Transition[] {
    const out: Transition[] = [];
    if (this._status === 'alive' && now > this.suspectAt) {
      out.push({ from: 'alive', to: 'suspected', at: now });
      this._status = 'suspected';
    }
    if (this._status === 'suspected' && now > this.failAt) {
      out.push({ from: 'suspected', to: 'failed', at: now });
      this._status = 'failed';
    }
    return out;
  }
}
