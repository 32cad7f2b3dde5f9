import { describe, expect, it } from 'vitest';
import { BATTERY, DEFAULT_AVAILABILITY, availability, batteryLeftSec, batteryLow, partitionDependability, withBattery } from './availability.js';

describe('availability', () => {
  it('starts a newcomer at the prior and follows what the room observes', () => {
    expect(availability({ uptimeSec: 0, failures: 0 })).toBeCloseTo(Math.exp(-60 / 600), 12);
    // an hour up without a failure earns a higher a_d; three failures in that hour a lower one
    expect(availability({ uptimeSec: 3600, failures: 0 })).toBeGreaterThan(0.98);
    expect(availability({ uptimeSec: 3600, failures: 3 })).toBeLessThan(availability({ uptimeSec: 3600, failures: 0 }));
    // three newcomers' copies meet theta = 0.999, two do not
    const a = availability({ uptimeSec: 0, failures: 0 });
    expect(partitionDependability([a, a, a])).toBeGreaterThan(0.999);
    expect(partitionDependability([a, a])).toBeLessThan(0.999);
  });
});

describe('battery-aware availability', () => {
  const a = availability({ uptimeSec: 1200, failures: 0 });

  it('leaves a charging device, or one without the Battery Status API, to its history', () => {
    expect(withBattery(a, null)).toBe(a);
    expect(withBattery(a, { level: 0.03, charging: true, dischargingSec: null })).toBe(a);
    expect(batteryLeftSec({ level: 0.5, charging: true, dischargingSec: 100 })).toBe(Infinity);
  });

  it('adds the hazard 1/t of a battery t seconds from empty: exp(-H/t) on top of the history', () => {
    const H = DEFAULT_AVAILABILITY.horizonSec;
    // the browser's own estimate, when it gives one
    expect(withBattery(a, { level: 0.5, charging: false, dischargingSec: 3600 })).toBeCloseTo(a * Math.exp(-H / 3600), 12);
    expect(withBattery(a, { level: 0.5, charging: false, dischargingSec: 3600 }) / a).toBeCloseTo(0.983, 3);
    // else level x a full discharge: 5 % of six hours is 18 minutes
    expect(batteryLeftSec({ level: 0.05, charging: false, dischargingSec: null })).toBeCloseTo(0.05 * BATTERY.fullDischargeSec, 9);
    expect(batteryLeftSec({ level: 0.05, charging: false, dischargingSec: Infinity })).toBeCloseTo(0.05 * BATTERY.fullDischargeSec, 9);
    // two minutes left costs about 39 %, none everything
    expect(1 - withBattery(a, { level: 0.01, charging: false, dischargingSec: 120 }) / a).toBeCloseTo(0.393, 3);
    expect(withBattery(a, { level: 0, charging: false, dischargingSec: 0 })).toBe(0);
    // monotone: less battery, lower a_d
    const levels = [1, 0.5, 0.2, 0.1, 0.05, 0.01].map((level) => withBattery(a, { level, charging: false, dischargingSec: null }));
    for (let i = 1; i < levels.length; i++) expect(levels[i]).toBeLessThan(levels[i - 1]);
  });

  it('calls a battery low only while it discharges at or below the threshold', () => {
    expect(batteryLow(null)).toBe(false);
    expect(batteryLow({ level: BATTERY.lowLevel, charging: false, dischargingSec: null })).toBe(true);
    expect(batteryLow({ level: 0.04, charging: true, dischargingSec: null })).toBe(false);
    expect(batteryLow({ level: BATTERY.lowLevel + 0.01, charging: false, dischargingSec: null })).toBe(false);
  });
});
