import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { expect, test, type Browser, type Page } from '@playwright/test';
import { createRoom, expectFullMesh, openDevice, record, withQuery, type Device } from './helpers.js';

const MODEL = readFileSync('public/models/resnet.onnx');
const SAMPLE = readFileSync('public/fashion-mnist-sample.bin');
const COUNT = 200;
/** what four browsers on this 2-core machine sustain with every stage run twice */
const RATE = 5;

let expected: number[] = [];
test.beforeAll(async () => {
  const session = await ort.InferenceSession.create(new Uint8Array(MODEL));
  const count = SAMPLE.readUInt32LE(4);
  for (let i = 0; i < COUNT; i++) {
    const k = i % count;
    const px = SAMPLE.subarray(10 + count + k * 784, 10 + count + (k + 1) * 784);
    const r = await session.run({ input: new ort.Tensor('float32', Float32Array.from(px, (p) => p / 255), [1, 1, 28, 28]) });
    const logits = r.logits.data as Float32Array;
    expected.push(logits.indexOf(Math.max(...logits)));
  }
});

interface Stats { sent: number; answered: number; correct: number; lost: number; reissued: number; active: boolean; p50: number; p99: number; path: string[]; predictions: (number | null)[] }
async function stats(page: Page): Promise<Stats> {
  return page.getByTestId('stats').evaluate((el) => {
    const a = (n: string) => el.getAttribute(n) ?? '';
    return {
      sent: Number(a('data-sent')), answered: Number(a('data-answered')), correct: Number(a('data-correct')), lost: Number(a('data-lost')),
      reissued: Number(a('data-reissued')), active: a('data-active') === 'true', p50: Number(a('data-p50-ms')), p99: Number(a('data-p99-ms')),
      path: a('data-path').split(',').filter(Boolean), predictions: a('data-predictions').split(',').map((x) => (x === '' ? null : Number(x))),
    };
  });
}

/** Four devices with resnet placed (three copies of each of four partitions); the requester is the device holding the fewest. */
async function placedRoom(browser: Browser): Promise<{ devices: Device[]; requester: Device }> {
  const { device: a, link } = await createRoom(browser);
  const devices = [a];
  for (let i = 0; i < 3; i++) devices.push(await openDevice(browser, withQuery(link)));
  await expectFullMesh(devices);
  await a.page.getByTestId('parts').fill('4');
  await a.page.getByTestId('parts').dispatchEvent('change');
  await a.page.getByTestId('model-input').setInputFiles({ name: 'resnet.onnx', mimeType: 'application/octet-stream', buffer: MODEL });
  for (const d of devices) await expect(d.page.getByTestId('model-dependability')).toHaveAttribute('data-met', 'true', { timeout: 60_000 });
  const replicas = await a.page.locator('[data-testid=partition]').evaluateAll((rows) => rows.map((r) => (r.getAttribute('data-replicas') ?? '').split(',')));
  const held = (d: Device) => replicas.filter((r) => r.includes(d.id)).length;
  const requester = [...devices].sort((x, y) => held(x) - held(y))[0];
  return { devices, requester };
}

async function start(page: Page, mode: 'frim' | 'no-config'): Promise<void> {
  await page.getByTestId('request-count').fill(String(COUNT));
  await page.getByTestId('request-count').dispatchEvent('change');
  await page.getByTestId('request-rate').fill(String(RATE));
  await page.getByTestId('request-rate').dispatchEvent('change');
  await page.getByTestId('mode').selectOption(mode);
  await page.getByTestId('run').click();
}

async function finished(page: Page): Promise<Stats> {
  await expect.poll(async () => { const s = await stats(page); return !s.active && s.sent === COUNT; }, { timeout: 150_000, intervals: [1000] }).toBe(true);
  return stats(page);
}

/** Devices that won consecutive stages of one recent request (neighbours on the path), by the requester's table. */
async function recentPaths(page: Page): Promise<string[][]> {
  return page.evaluate(() => (window as any).frimDebug.snapshot().inference.recent.map((r: { path: string[] }) => r.path));
}

for (const kind of ['one holder', 'two neighbours on the path', 'two devices least often adjacent on the path'] as const) {
  test(`frim: ${COUNT} requests, ${kind} closed mid-stream: none lost, every answer as without failures`, async ({ browser }) => {
    test.setTimeout(300_000);
    const { devices, requester } = await placedRoom(browser);
    const others = devices.filter((d) => d !== requester);
    if (kind === 'one holder') {
      // a picture given by hand goes through the room too: test image 0, as a PNG file
      const png = await requester.page.evaluate(async (px) => {
        const c = new OffscreenCanvas(28, 28);
        const ctx = c.getContext('2d')!;
        const img = ctx.createImageData(28, 28);
        px.forEach((v, i) => img.data.set([v, v, v, 255], 4 * i));
        ctx.putImageData(img, 0, 0);
        const bytes = new Uint8Array(await (await c.convertToBlob({ type: 'image/png' })).arrayBuffer());
        return btoa(String.fromCharCode(...bytes));
      }, [...SAMPLE.subarray(10 + SAMPLE.readUInt32LE(4), 10 + SAMPLE.readUInt32LE(4) + 784)]);
      await requester.page.getByTestId('image-input').setInputFiles({ name: 'item.png', mimeType: 'image/png', buffer: Buffer.from(png, 'base64') });
      await expect(requester.page.getByTestId('classify-result')).toHaveAttribute('data-predicted', String(expected[0]), { timeout: 30_000 });
    }
    await start(requester.page, 'frim');
    await expect.poll(async () => (await stats(requester.page)).answered, { timeout: 90_000 }).toBeGreaterThanOrEqual(50);
    const paths = (await recentPaths(requester.page)).filter((p) => p.length === 4);
    // how often two devices ran consecutive stages of one request (neighbours on the path)
    const adjacency = (x: string, y: string) => paths.reduce((n, p) => n + p.filter((d, i) => i > 0 && ((p[i - 1] === x && d === y) || (p[i - 1] === y && d === x))).length, 0);
    const pairs = others.flatMap((x, i) => others.slice(i + 1).map((y) => [x, y] as const)).sort((a, b) => adjacency(b[0].id, b[1].id) - adjacency(a[0].id, a[1].id));
    const used = (d: Device) => paths.flat().filter((x) => x === d.id).length;
    const victims: Device[] = kind === 'one holder' ? [[...others].sort((x, y) => used(y) - used(x))[0]]
      : [...(kind === 'two neighbours on the path' ? pairs[0] : pairs.at(-1)!)];
    const adjacentNote = victims.length === 2 ? `, consecutive in ${adjacency(victims[0].id, victims[1].id)} stage hand-overs of the last ${paths.length} requests` : '';
    for (const v of victims) await v.context.close();
    const s = await finished(requester.page);
    record('inference', `frim, ${kind} closed (${victims.map((v) => v.id).join(', ')}${adjacentNote}): ${s.answered}/${COUNT} answered, ${s.lost} lost, ${s.reissued} re-issued, ${s.correct} correct, p50 ${s.p50.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms`);
    expect(s.lost).toBe(0);
    expect(s.answered).toBe(COUNT);
    expect(s.predictions).toEqual(expected);
    for (const d of devices) if (!victims.includes(d)) await d.context.close();
  });
}

test(`no-config: the same kill loses requests (the paper's baseline stays honest)`, async ({ browser }) => {
  test.setTimeout(300_000);
  const { devices, requester } = await placedRoom(browser);
  await start(requester.page, 'no-config');
  await expect.poll(async () => (await stats(requester.page)).answered, { timeout: 90_000 }).toBeGreaterThanOrEqual(50);
  const path = (await stats(requester.page)).path;
  const victim = devices.find((d) => d !== requester && path.includes(d.id));
  expect(victim, `the fixed path ${path.join(' → ')} runs through another device`).toBeTruthy();
  await victim!.context.close();
  const s = await finished(requester.page);
  record('inference', `no-config, ${victim!.id} on the fixed path closed: ${s.answered}/${COUNT} answered, ${s.lost} lost, ${s.correct} correct`);
  expect(s.lost).toBeGreaterThan(0);
  expect(s.answered + s.lost).toBe(COUNT);
  // what was answered is still right
  s.predictions.forEach((p, i) => { if (p !== null) expect(p).toBe(expected[i]); });
  for (const d of devices) if (d !== victim) await d.context.close();
});
