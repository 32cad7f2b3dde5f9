/**
 * This device's battery, read through the Battery Status API where the browser has one (Chrome on
 * Android and laptops; not Firefox or Safari), for battery-aware availability (issue 15). Readings
 * go on at most once a second: a battery's events can come in bursts, and the room only needs its
 * level to the percent.
 */
import type { BatteryState } from '../core/availability.js';

interface BatteryManagerLike extends EventTarget {
  level: number;
  charging: boolean;
  dischargingTime: number;
}

const MIN_GAP_MS = 1000;
const EVENTS = ['levelchange', 'chargingchange', 'dischargingtimechange'];

export class BatteryWatch {
  /** the latest reading, or null where there is no API (or before the first) */
  reading: BatteryState | null = null;
  private last = -Infinity;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly onReading: (b: BatteryState) => void, nav: Navigator = navigator) {
    const get = (nav as Navigator & { getBattery?: () => Promise<BatteryManagerLike> }).getBattery;
    if (typeof get !== 'function') return;
    void get.call(nav).then((m) => {
      const read = () => this.take({ level: m.level, charging: m.charging, dischargingSec: Number.isFinite(m.dischargingTime) ? m.dischargingTime : null });
      for (const e of EVENTS) m.addEventListener(e, read);
      read();
    }, () => undefined);
  }

  private take(b: BatteryState): void {
    this.reading = b;
    const wait = this.last + MIN_GAP_MS - performance.now();
    if (wait <= 0) return this.send();
    this.timer ??= setTimeout(() => this.send(), wait);
  }

  private send(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.last = performance.now();
    if (this.reading) this.onReading(this.reading);
  }
}
