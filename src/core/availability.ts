/**
 * Device availability and partition dependability (FRIM section 4.2), as shared/FRIM.md defines
 * them.
 *
 * Availability a_d: the probability that device d stays up over the next horizon H. We model a
 * device's failures as a Poisson process and estimate its rate with a Gamma prior, which behaves
 * like "one failure seen in ten minutes" for a newcomer and gives way to what the room observes:
 *   lambda_d = (priorFailures + failures_d) / (priorUptime + uptime_d),   a_d = exp(-lambda_d * H)
 * A failure is a declared failure (detector) or an unannounced disappearance; a device that keeps
 * coming back after failing keeps its failures on record, so a flaky phone earns a low a_d.
 */

export interface AvailabilityModel {
  /** seconds ahead the estimate speaks for */
  horizonSec: number;
  /** the prior: this many failures ... */
  priorFailures: number;
  /** ... in this many seconds of uptime */
  priorUptimeSec: number;
}

export const DEFAULT_AVAILABILITY: AvailabilityModel = Object.freeze({ horizonSec: 60, priorFailures: 1, priorUptimeSec: 600 });

export interface DeviceHistory {
  /** seconds this device has been seen up in the room, summed over its stays */
  uptimeSec: number;
  /** failures declared for it */
  failures: number;
}

export function availability(h: DeviceHistory, m: AvailabilityModel = DEFAULT_AVAILABILITY): number {
  const rate = (m.priorFailures + Math.max(0, h.failures)) / (m.priorUptimeSec + Math.max(0, h.uptimeSec));
  return Math.exp(-rate * m.horizonSec);
}

/** D_i = 1 - prod over live copies (1 - a_d): the chance at least one copy survives the horizon. */
export function partitionDependability(copyAvailabilities: readonly number[]): number {
  let allFail = 1;
  for (const a of copyAvailabilities) allFail *= 1 - Math.min(1, Math.max(0, a));
  return 1 - allFail;
}

/** D = prod_i D_i: every partition must have a surviving copy. */
export function modelDependability(partitionDs: readonly number[]): number {
  return partitionDs.reduce((p, d) => p * d, 1);
}
