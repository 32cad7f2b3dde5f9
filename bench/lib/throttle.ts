/**
 * A slower device: Chromium's CPU throttling (DevTools protocol, Emulation.setCPUThrottlingRate)
 * on the page and on every worker of its browser context — the device worker and the compute
 * worker run the heavy parts, and throttling the page alone would leave them at full speed.
 */
import type { CDPSession } from '@playwright/test';
import type { Device } from './room.js';

interface TargetInfo { targetId: string; type: string; browserContextId?: string; url: string }

/** Throttles `device`'s page and its workers by `rate`; returns the worker targets it reached. */
export async function slowDown(device: Device, rate: number): Promise<string[]> {
  const page = await device.context.newCDPSession(device.page);
  await page.send('Emulation.setCPUThrottlingRate', { rate });
  const { targetInfo } = (await page.send('Target.getTargetInfo')) as { targetInfo: TargetInfo };
  const browser = device.context.browser();
  if (!browser) return [];
  const session: CDPSession = await browser.newBrowserCDPSession();
  // workers start with the page; give the compute worker a moment to exist
  let workers: TargetInfo[] = [];
  for (let i = 0; i < 40 && workers.length < 2; i++) {
    const { targetInfos } = (await session.send('Target.getTargets')) as { targetInfos: TargetInfo[] };
    workers = targetInfos.filter((t) => t.browserContextId === targetInfo.browserContextId && (t.type === 'worker' || t.type === 'shared_worker'));
    if (workers.length < 2) await new Promise((r) => setTimeout(r, 250));
  }
  for (const w of workers) {
    const { sessionId } = (await session.send('Target.attachToTarget', { targetId: w.targetId, flatten: false })) as { sessionId: string };
    await session.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id: 1, method: 'Emulation.setCPUThrottlingRate', params: { rate } }) });
  }
  return workers.map((w) => `${w.type} ${w.url}`);
}
