import { expect, test, type Page } from '@playwright/test';
import { crash, events, record, type Device } from './helpers.js';
import { copyBackends, COUNT, expectedPredictions, finished, placedRoom, RATE, SAMPLE, start, stats, type Backend } from './room.js';

let expected: number[] = [];
test.beforeAll(async () => {
  expected = await expectedPredictions();
});

/** Devices that won consecutive stages of one recent request (neighbours on the path), by the requester's table. */
async function recentPaths(page: Page): Promise<string[][]> {
  return page.evaluate(() => window.frimDebug!.snapshot()!.inference!.recent.map((r: { path: string[] }) => r.path));
}

for (const kind of ['one holder', 'two neighbours on the path', 'two devices least often adjacent on the path'] as const) {
  test(`frim: ${COUNT} requests, ${kind} crashed mid-stream (no word said; the heartbeat detector must notice): none lost, every answer as without failures`, async ({ browser }) => {
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
    for (const v of victims) await crash(v);
    const s = await finished(requester.page);
    // they were found by their silence: the departures a closed tab announces are e2e/departures.spec.ts's
    for (const v of victims) expect((await events(requester.page)).filter((e) => e.deviceId === v.id).map((e) => e.kind)).toContain('failed');
    record('inference', `frim, ${kind} crashed (${victims.map((v) => v.id).join(', ')}${adjacentNote}): ${s.answered}/${COUNT} answered, ${s.lost} lost, ${s.reissued} re-issued, ${s.correct} correct, p50 ${s.p50.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms`);
    expect(s.lost).toBe(0);
    expect(s.answered).toBe(COUNT);
    expect(s.predictions).toEqual(expected);
    for (const d of devices) await d.context.close();
  });
}

test(`no-config: the same kill loses requests (the paper's baseline stays honest)`, async ({ browser }) => {
  test.setTimeout(300_000);
  const { devices, requester } = await placedRoom(browser);
  // the fixed path through other devices' copies (the shortest one may stay on the requester when it holds every partition)
  const replicas = await requester.page.locator('[data-testid=partition]').evaluateAll((rows) => rows.map((r) => (r.getAttribute('data-replicas') ?? '').split(',')));
  const fixed = replicas.map((r) => r.find((d) => d !== requester.id)!);
  await requester.page.evaluate(({ n, rate, path }) => window.frimDebug!.infer(n, rate, 'no-config', path), { n: COUNT, rate: RATE, path: fixed });
  await expect.poll(async () => (await stats(requester.page)).answered, { timeout: 90_000 }).toBeGreaterThanOrEqual(50);
  const path = (await stats(requester.page)).path;
  expect(path).toEqual(fixed);
  const victim = devices.find((d) => d !== requester && path.includes(d.id));
  expect(victim, `the fixed path ${path.join(' → ')} runs through another device`).toBeTruthy();
  await crash(victim!);
  const s = await finished(requester.page);
  record('inference', `no-config, ${victim!.id} on the fixed path crashed: ${s.answered}/${COUNT} answered, ${s.lost} lost, ${s.correct} correct`);
  expect(s.lost).toBeGreaterThan(0);
  expect(s.answered + s.lost).toBe(COUNT);
  // what was answered is still right
  expect(s.predictions).toEqual(s.predictions.map((p, i) => (p === null ? null : expected[i])));
  for (const d of devices) await d.context.close();
});

/**
 * WebGPU rooms (SwiftShader here: correct, but far slower than WASM, and every context shares one
 * GPU process), so fewer requests at a lower rate. In the all-WebGPU room one device's compute also
 * hangs mid-stream (its worker's thread stops on a WebGPU run, as a hung GPU driver leaves it): it
 * must notice, move that partition to WASM, say so, and lose nothing.
 */
const GPU_ROOMS: { name: string; backends: Backend[]; count: number; rate: number }[] = [
  { name: 'all WebGPU', backends: ['webgpu', 'webgpu', 'webgpu', 'webgpu'], count: 20, rate: 0.5 },
  { name: 'mixed (two WebGPU, two WASM)', backends: ['webgpu', 'wasm', 'webgpu', 'wasm'], count: 30, rate: 1 },
];

for (const room of GPU_ROOMS) {
  test(`frim, ${room.name}: ${room.count} requests, a WebGPU device closed mid-stream: none lost, every answer as onnxruntime-node's`, async ({ browser }) => {
    test.setTimeout(480_000);
    const { devices, requester } = await placedRoom(browser, room.backends);
    const backendOf = (d: Device) => room.backends[devices.indexOf(d)];
    // every copy runs on its device's backend, as every device's matrix shows
    for (const d of devices) {
      const seen = await copyBackends(d.page);
      for (const o of devices) for (const b of seen.get(o.id) ?? []) expect(b, `${o.id}'s copies as ${d.id} sees them`).toBe(backendOf(o));
    }
    const others = devices.filter((d) => d !== requester);
    const gpus = others.filter((d) => backendOf(d) === 'webgpu');
    const victim = gpus[0];
    // all-WebGPU room: another device's GPU hangs on its next run
    const copies = await requester.page.locator('[data-testid=partition]').evaluateAll((rows) => rows.map((r) => (r.getAttribute('data-replicas') ?? '').split(',')));
    const held = (d: Device) => copies.filter((r) => r.includes(d.id)).length;
    // the device most likely to be asked (the most copies): its compute worker's thread hangs on its next WebGPU run
    const hung = room.backends.every((b) => b === 'webgpu') ? others.filter((d) => d !== victim).sort((x, y) => held(y) - held(x))[0] : undefined;
    if (hung) await hung.page.evaluate(() => window.frimDebug!.breakGpuRuns(1, 'hang'));
    await start(requester.page, 'frim', room.count, room.rate);
    await expect.poll(async () => (await stats(requester.page)).answered, { timeout: 150_000 }).toBeGreaterThanOrEqual(Math.floor(room.count / 3));
    await victim.context.close();
    const s = await finished(requester.page, room.count);
    record('inference', `frim, ${room.name}, ${victim.id} (WebGPU) closed${hung ? `, ${hung.id}'s GPU hung` : ''}: ${s.answered}/${room.count} answered, ${s.lost} lost, ${s.reissued} re-issued, ${s.correct} correct, p50 ${s.p50.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms`);
    expect(s.lost).toBe(0);
    expect(s.answered).toBe(room.count);
    expect(s.predictions).toEqual(expected.slice(0, room.count));
    if (hung) {
      // the device that hung says so once its watchdog fires (20x its usual run, at least 10 s, after
      // the hung run started: on a loaded machine that can be after the stream ended), and the room
      // sees that copy on WASM
      const moved = async () => (await events(hung.page)).filter((e) => e.kind === 'backend');
      await expect.poll(async () => (await moved()).length, { timeout: 150_000, intervals: [1000] }).toBeGreaterThanOrEqual(1);
      const ran = await hung.page.evaluate(() => window.frimDebug!.snapshot()!.inference!.running);
      record('inference', `${hung.id} (${ran.ran} stages run for the room): ${(await moved()).map((e) => e.detail).join(' | ')}`);
      expect((await moved())[0].detail).toMatch(/now runs on WASM here: WebGPU failed at run time \(the run did not finish in \d+ s/);
      await expect.poll(async () => (await copyBackends(requester.page)).get(hung.id) ?? [], { timeout: 30_000 }).toContain('wasm');
    }
    for (const d of devices) if (d !== victim) await d.context.close();
  });
}
