import { expect, test, type Browser, type BrowserContext, type Locator, type Page } from '@playwright/test';
import type { OffloadView } from '../src/core/views.js';

/** One device = one BrowserContext (its own IndexedDB and SharedWorker). */
export interface Device {
  context: BrowserContext;
  page: Page;
  id: string;
  errors: string[];
}

/** Tests run on WASM (fast to start here) and with the test-only fault switches available. */
export const TEST_QUERY = '?debug=1&backend=wasm';

export function withQuery(link: string, query = TEST_QUERY): string {
  const u = new URL(link);
  return `${u.origin}${u.pathname}${query}${u.hash}`;
}

export async function openTab(context: BrowserContext, url: string, errors: string[] = []): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url);
  return page;
}

/** `prepare`: runs on the new context before its first page opens (an init script, a permission). */
export async function openDevice(browser: Browser, url: string, prepare?: (context: BrowserContext) => Promise<void>): Promise<Device> {
  const context = await browser.newContext();
  await prepare?.(context);
  const errors: string[] = [];
  const page = await openTab(context, url, errors);
  const self = page.getByTestId('self');
  await expect(self).toHaveAttribute('data-device-id', /^[a-z0-9]{12}$/);
  return { context, page, id: (await self.getAttribute('data-device-id'))!, errors };
}

/**
 * The device dies without a word, as the paper's failures do: its renderer crashes, so no
 * departure is announced and its peers' heartbeat detectors must notice. Not awaited: a crashed
 * page answers nothing.
 */
export async function crash(device: Device): Promise<void> {
  const cdp = await device.context.newCDPSession(device.page);
  void cdp.send('Page.crash').catch(() => undefined);
}

/** Opens the app at `/`, which creates a room; returns the device and the room's share link. */
export async function createRoom(browser: Browser, query = TEST_QUERY): Promise<{ device: Device; link: string }> {
  const device = await openDevice(browser, `/${query}`);
  const link = await device.page.getByTestId('share-link').getAttribute('href');
  expect(link).toMatch(/#room=[a-z0-9]+&key=[A-Za-z0-9_-]{43}$/);
  return { device, link: link! };
}

export function peerRow(page: Page, deviceId: string): Locator {
  return page.locator(`[data-testid=peer][data-device-id="${deviceId}"]`);
}

export async function expectStatus(page: Page, deviceId: string, status: string, timeout = 20_000): Promise<void> {
  await expect(peerRow(page, deviceId)).toHaveAttribute('data-status', status, { timeout });
}

/** Every device sees every other as alive. */
export async function expectFullMesh(devices: Device[]): Promise<void> {
  for (const d of devices) for (const o of devices) if (d !== o) await expectStatus(d.page, o.id, 'alive', 30_000);
}

interface EventEntry { at: number; kind: string; deviceId: string | null; detail: string }

/** The device worker's event log, read through the page's debug handle. */
export async function events(page: Page): Promise<EventEntry[]> {
  return page.evaluate(() => {
    const dbg = window.frimDebug!;
    return dbg.snapshot()?.events ?? [];
  });
}

/** Records a measurement on the test and prints it, so a CI log shows it too. */
export function record(type: string, description: string): void {
  test.info().annotations.push({ type, description });
  console.log(`[${type}] ${description}`);
}

/** The device worker's offloading state (budgets, holdings, partitions) as this page last heard it. */
export async function offload(page: Page): Promise<OffloadView> {
  const v = await page.evaluate(() => window.frimDebug!.snapshot()?.offload);
  if (!v) throw new Error('no offload state published yet');
  return v;
}

export interface PartitionState { id: number; dependability: number; replicas: string[] }

/** Every `[data-testid=partition]` row as the dashboard shows it. */
export async function partitions(page: Page): Promise<PartitionState[]> {
  return page.locator('[data-testid=partition]').evaluateAll((rows) => rows.map((r) => ({
    id: Number(r.getAttribute('data-partition-id')),
    dependability: Number(r.getAttribute('data-dependability')),
    replicas: (r.getAttribute('data-replicas') ?? '').split(',').filter(Boolean),
  })));
}

/** This device's replica transfer counters (`[data-testid=replica-bytes]`). */
export async function replicaBytes(page: Page): Promise<{ received: number; sent: number; mismatches: number }> {
  const el = page.getByTestId('replica-bytes');
  return { received: Number(await el.getAttribute('data-received')), sent: Number(await el.getAttribute('data-sent')), mismatches: Number(await el.getAttribute('data-mismatches')) };
}
