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

/** What a device's Battery Status API says: `level` in [0, 1], `charging`, and seconds to empty (null: the browser does not say). */
export interface BatteryState {
  level: number;
  charging: boolean;
  dischargingSec: number | null;
}

/** Policy for battery-aware availability (beyond the paper, issue 15). */
export const BATTERY = Object.freeze({
  /** seconds a full battery lasts while its device serves the room, when the browser gives no estimate */
  fullDischargeSec: 6 * 3600,
  /** at or below this level and discharging, a device hands its copies to others before it dies */
  lowLevel: 0.1,
});

/** Seconds until a battery is empty: the browser's estimate, else level x a full discharge; Infinity while charging. */
export function batteryLeftSec(b: BatteryState): number {
  if (b.charging) return Infinity;
  if (b.dischargingSec !== null && Number.isFinite(b.dischargingSec) && b.dischargingSec >= 0) return b.dischargingSec;
  return Math.max(0, Math.min(1, b.level)) * BATTERY.fullDischargeSec;
}

/**
 * a_d with the battery taken into account. An empty battery is one more way to fail, with a
 * hazard of 1 / t for a battery t seconds from empty (memoryless, as the history's failures are),
 * added to the history's rate:
 *   a_d = a_history * exp(-H / t)
 * so a phone with an hour left loses 1.7 % over a one-minute horizon, one with two minutes left
 * 39 %, one with none everything. Charging, or no Battery Status API: the history alone.
 */
export function withBattery(a: number, b: BatteryState | null, m: AvailabilityModel = DEFAULT_AVAILABILITY): number {
  if (!b) return a;
  const t = batteryLeftSec(b);
  if (!Number.isFinite(t)) return a;
  return t <= 0 ? 0 : a * Math.exp(-m.horizonSec / t);
}

/** Whether a device should hand its copies off now: discharging, at or below BATTERY.lowLevel. */
export function batteryLow(b: BatteryState | null): boolean {
  return !!b && !b.charging && b.level <= BATTERY.lowLevel;
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
