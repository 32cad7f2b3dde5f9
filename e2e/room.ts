/** A placed room and a stream of requests through it, as the inference and server e2e drive them. */
import { expect, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { expectFullMesh, openDevice, withQuery, type Device } from './helpers.js';
import { MODEL_PATH } from './files.js';
import { referencePredictions } from './reference.js';

export { SAMPLE } from './reference.js';
/** 18 s of requests: a kill after 50 answered leaves 8 s of stream to fail over in */
export const COUNT = 90;
/** what four browsers on this 2-core machine sustain with every stage run twice */
export const RATE = 5;

/** What onnxruntime-node answers for the first `n` requests of a stream (the sample images in turn). */
export const expectedPredictions = (n = COUNT): Promise<number[]> => referencePredictions(n);

export interface Stats { sent: number; answered: number; correct: number; lost: number; reissued: number; active: boolean; p50: number; p99: number; path: string[]; predictions: (number | null)[] }
export async function stats(page: Page): Promise<Stats> {
  return page.getByTestId('stats').evaluate((el) => {
    const a = (n: string) => el.getAttribute(n) ?? '';
    return {
      sent: Number(a('data-sent')), answered: Number(a('data-answered')), correct: Number(a('data-correct')), lost: Number(a('data-lost')),
      reissued: Number(a('data-reissued')), active: a('data-active') === 'true', p50: Number(a('data-p50-ms')), p99: Number(a('data-p99-ms')),
      path: a('data-path').split(',').filter(Boolean), predictions: a('data-predictions').split(',').map((x) => (x === '' ? null : Number(x))),
    };
  });
}

export type Backend = 'wasm' | 'webgpu';
export const QUERY: Record<Backend, string> = { wasm: '?debug=1&backend=wasm', webgpu: '?debug=1' };

/**
 * Four devices with resnet placed (three copies of each of four partitions), on these backends
 * (WebGPU through SwiftShader here), served from `origin` (the test's server by default); the
 * requester is the device holding the fewest copies (of those in `requesters`, by index). `browser`:
 * one for every device, or one per device.
 */
export async function placedRoom(browser: Browser | Browser[], backends: Backend[] = ['wasm', 'wasm', 'wasm', 'wasm'], origin = '', requesters?: number[], prepare?: (context: BrowserContext, k: number) => Promise<void>): Promise<{ devices: Device[]; requester: Device }> {
  const browserOf = (k: number) => (Array.isArray(browser) ? browser[k] : browser);
  const prep = (k: number) => (prepare ? (c: BrowserContext) => prepare(c, k) : undefined);
  const a = await openDevice(browserOf(0), `${origin}/${QUERY[backends[0]]}`, prep(0));
  const link = (await a.page.getByTestId('share-link').getAttribute('href'))!;
  const devices = [a];
  for (const [k, b] of backends.entries()) if (k > 0) devices.push(await openDevice(browserOf(k), withQuery(link, QUERY[b]), prep(k)));
  await expectFullMesh(devices);
  // each device computes on what it was opened with, and every other device's table says so
  for (const [k, d] of devices.entries()) {
    await expect(d.page.getByTestId('self')).toHaveAttribute('data-backend', backends[k]);
    for (const o of devices) if (o !== d) await expect(d.page.locator(`[data-testid=peer][data-device-id="${o.id}"]`)).toHaveAttribute('data-backend', backends[devices.indexOf(o)]);
  }
  await a.page.getByTestId('parts').fill('4');
  await a.page.getByTestId('parts').dispatchEvent('change');
  await a.page.getByTestId('model-input').setInputFiles(MODEL_PATH);
  for (const d of devices) await expect(d.page.getByTestId('model-dependability')).toHaveAttribute('data-met', 'true', { timeout: 60_000 });
  const replicas = await a.page.locator('[data-testid=partition]').evaluateAll((rows) => rows.map((r) => (r.getAttribute('data-replicas') ?? '').split(',')));
  const held = (d: Device) => replicas.filter((r) => r.includes(d.id)).length;
  const requester = devices.filter((_, k) => !requesters || requesters.includes(k)).sort((x, y) => held(x) - held(y))[0];
  // every copy's session is loaded and has run (kernels compiled) before the stream starts: every
  // device's matrix shows each copy's backend, and every copy warm, as its holder announced it
  for (const d of devices) {
    await expect(d.page.locator('[data-testid=replica-cell][data-state=verified]:not([data-backend])')).toHaveCount(0, { timeout: 240_000 });
    await expect(d.page.getByTestId('warming')).toHaveAttribute('data-count', '0', { timeout: 240_000 });
    await expect(d.page.locator('[data-testid=replica-cell][data-state=verified]:not([data-warm=true])')).toHaveCount(0);
    // its onnxruntime was started once the room had a model, on the backend it computes on
    await expect(d.page.getByTestId('runtime')).toHaveAttribute('data-state', 'ready');
  }
  return { devices, requester };
}

/** Each verified copy's backend as the room sees it (from one device's placement matrix), by device id. */
export async function copyBackends(page: Page): Promise<Map<string, string[]>> {
  const cells = await page.locator('[data-testid=replica-cell][data-state=verified]').evaluateAll((cs) => cs.map((c) => [c.getAttribute('data-device-id') ?? '', c.getAttribute('data-backend') ?? ''] as const));
  const out = new Map<string, string[]>();
  for (const [d, b] of cells) out.set(d, [...(out.get(d) ?? []), b]);
  return out;
}

export async function start(page: Page, mode: 'frim' | 'no-config', count = COUNT, rate = RATE): Promise<void> {
  await page.getByTestId('request-count').fill(String(count));
  await page.getByTestId('request-count').dispatchEvent('change');
  await page.getByTestId('request-rate').fill(String(rate));
  await page.getByTestId('request-rate').dispatchEvent('change');
  await page.getByTestId('mode').selectOption(mode);
  await page.getByTestId('run').click();
}

export async function finished(page: Page, count = COUNT): Promise<Stats> {
  await expect.poll(async () => { const s = await stats(page); return !s.active && s.sent === count; }, { timeout: 150_000, intervals: [1000] }).toBe(true);
  return stats(page);
}

