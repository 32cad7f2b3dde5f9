/**
 * A slower device, for the paper's phones. Its page runs under Chromium's CPU throttling (DevTools
 * protocol, Emulation.setCPUThrottlingRate): heartbeats, framing and the page's share of the work
 * slow down. Workers cannot be throttled that way — Chromium 156 answers "Operation is only
 * supported for pages, not workers" for a worker target — so the compute worker is slowed by the
 * app's own debug switch (frimDebug.slowCompute): each partition run keeps the worker busy `rate`
 * times as long as it took, as a slower chip would, without taking the shared CPU from the others.
 * The page gets a milder rate than the compute: four browsers share two cores here, and a page
 * throttled 3x on top of that stalls its heartbeats for over a second, so the run would measure
 * false failure alarms on a starved machine (issue 14) rather than a slower phone.
 */
import type { Device } from './room.js';

export async function slowDown(device: Device, rate: { page: number; compute: number }): Promise<void> {
  const page = await device.context.newCDPSession(device.page);
  await page.send('Emulation.setCPUThrottlingRate', { rate: rate.page });
  await device.page.evaluate((f) => window.frimDebug!.slowCompute(f), rate.compute);
}
