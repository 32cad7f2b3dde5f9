/** Browser-side helpers the benchmarks share: open a device, wait for a condition, read the worker's state, drop a model. */
import type { DeviceSnapshot, InferenceView, OffloadView } from '../../src/core/views.js';
import type { Browser, BrowserContext, Page } from '@playwright/test';
import { asFile } from '../../e2e/files.js';

export interface Device { context: BrowserContext; page: Page; id: string }

export const DEBUG_QUERY = '?debug=1&backend=wasm';

export async function open(browser: Browser, url: string): Promise<Device> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(url);
  await page.waitForSelector('[data-testid=self][data-device-id]:not([data-device-id=""])');
  return { context, page, id: (await page.getAttribute('[data-testid=self]', 'data-device-id'))! };
}

/** Debug pages that compute on WebGPU where there is an adapter (SwiftShader here). */
export const GPU_QUERY = '?debug=1';

/** Opens a new room at `base` and `n - 1` more devices on its share link (`query` picks the backend). */
export async function openRoom(browser: Browser, base: string, n: number, query = DEBUG_QUERY): Promise<{ devices: Device[]; url: string }> {
  const first = await open(browser, `${base}/${query}`);
  const link = (await first.page.getAttribute('[data-testid=share-link]', 'href'))!;
  const url = link.replace('/#', `/${query}#`);
  const devices = [first];
  for (let i = 1; i < n; i++) devices.push(await open(browser, url));
  await until(() => meshUp(devices), 60_000, `${n}-device mesh`);
  return { devices, url };
}

export async function until<T>(fn: () => Promise<T | null | undefined | false>, timeoutMs: number, what: string, everyMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const v = await fn().catch(() => null);
    if (v) return v;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The device worker's published state, through the debug handle. */
/** A snapshot once the device runs: benches read it after the room is up, when both views exist. */
export type Published = DeviceSnapshot & { offload: OffloadView; inference: InferenceView };

export async function snapshot(page: Page): Promise<Published> {
  const s = await page.evaluate(() => window.frimDebug!.snapshot());
  if (!s) throw new Error('the device worker has not published its state yet');
  return s as Published;
}

export async function meshUp(devices: Device[]): Promise<boolean> {
  for (const d of devices) {
    const peers: { deviceId: string; status: string }[] = (await snapshot(d.page))?.peers ?? [];
    for (const o of devices) if (o !== d && peers.find((p) => p.deviceId === o.id)?.status !== 'alive') return false;
  }
  return true;
}

/** Drops a model cut into `parts` partitions (set first, so a momentary view of the room cannot change the cut). */
export async function drop(page: Page, name: string, bytes: Uint8Array, parts: number): Promise<void> {
  await page.getByTestId('parts').fill(String(parts));
  await page.getByTestId('parts').dispatchEvent('change');
  await page.getByTestId('model-input').setInputFiles(asFile(name, bytes));
}

/**
 * Sets the replica budget through the page's input and waits until the worker holds it: the input
 * shows the worker's budget once that has loaded, so a value typed before then would be overwritten.
 */
export async function setBudget(d: Device, mib: number): Promise<void> {
  const bytes = Math.round(mib * 2 ** 20);
  await until(async () => {
    const b = (await snapshot(d.page)).offload?.budget.bytes;
    if (b === bytes) return true;
    await d.page.getByTestId('budget').fill(String(mib));
    await d.page.getByTestId('budget').dispatchEvent('change');
    return false;
  }, 20_000, `a budget of ${mib} MiB`, 300);
}
