/**
 * npm run bench:big — a model the size the FRIM paper runs, end to end in real browsers.
 *
 * VGG-16 at full size (528 MiB, ImageNet input, random weights from scripts/big/models.ts) is
 * dropped on one tab of a four-device room whose replica budgets are each below the model's size
 * (four fifths of it, θ = 0.99: two copies of every partition). Each device is a browser of its
 * own, so the memory of each is measured from the operating system (its whole process tree).
 * Reported: the cut (per-partition bytes and copies), peak memory per device while the model is
 * cut and placed and while it serves, time to place, and requests through the mesh against the
 * whole model on the device it was dropped on (which could hold it).
 *
 * Env: BENCH_BIG_MODEL (vgg16 | alexnet | resnet50; vgg16), BENCH_BIG_N (requests, 8),
 * BENCH_BIG_RATE (per second, 0.2), BENCH_BIG_LOCAL (local-check images, 4), BENCH_BIG_FRACTION
 * (budget as a share of the model, 0.8), BENCH_PORT (8796).
 */
import { chromium, type Browser, type BrowserServer, type Page } from '@playwright/test';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CHROMIUM_ARGS } from '../playwright.config.js';
import { quantile } from '../src/core/stats.js';
import { writeModel } from '../scripts/big/generate.js';
import type { ImagenetModel } from '../scripts/big/models.js';
import { MemorySampler } from './lib/memory.js';
import { startServer, stopServer } from './lib/server.js';
import { DEBUG_QUERY, meshUp, snapshot, until, type Device } from './lib/room.js';
import { saveResult } from './lib/results.js';

const MODEL = (process.env.BENCH_BIG_MODEL ?? 'vgg16') as ImagenetModel;
/** width divisor (1: the real size; 4: a quarter-width model of the same layout, for a quick run) */
const WIDTH = Number(process.env.BENCH_BIG_WIDTH ?? 1);
const N = Number(process.env.BENCH_BIG_N ?? 8);
const RATE = Number(process.env.BENCH_BIG_RATE ?? 0.2);
const LOCAL = Number(process.env.BENCH_BIG_LOCAL ?? 4);
const FRACTION = Number(process.env.BENCH_BIG_FRACTION ?? 0.8);
const PORT = Number(process.env.BENCH_PORT ?? 8796);
const BASE = `http://127.0.0.1:${PORT}`;
const MiB = 1024 * 1024;
const PARTS = 4;

interface BigDevice extends Device {
  server: BrowserServer;
  browser: Browser;
}

/** One device in a browser of its own, so its memory is its own process tree. */
async function openOwn(url: string): Promise<BigDevice> {
  const server = await chromium.launchServer({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
  const browser = await chromium.connect(server.wsEndpoint());
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(url);
  await page.waitForSelector('[data-testid=self][data-device-id]:not([data-device-id=""])');
  return { server, browser, context, page, id: (await page.getAttribute('[data-testid=self]', 'data-device-id'))! };
}

async function setInput(page: Page, testId: string, value: string): Promise<void> {
  await page.getByTestId(testId).fill(value);
  await page.getByTestId(testId).dispatchEvent('change');
}

const mib = (b: number) => (b / MiB).toFixed(1);

/** One line of the room's state as `page` sees it, for a run that takes minutes. */
async function roomLine(page: Page): Promise<string> {
  const s = await snapshot(page);
  const o = s.offload;
  const progress = await page.getByTestId('progress').getAttribute('data-step').catch(() => null);
  const parts = (o?.partitions ?? []).map((p: { id: number; bytes: number; replicas: string[] }) => `P${p.id} ${mib(p.bytes)}×${p.replicas.length}`).join(' ');
  const used = (o?.devices ?? []).map((d: { used: number }) => mib(d.used)).join('/');
  const moving = (o?.transfers ?? []).map((t: { partition: number | null; verified: number; bytes: number }) => `P${t.partition} ${Math.round((100 * t.verified) / Math.max(1, t.bytes))}%`).join(' ');
  const last = s.events.slice(0, 2).map((e: { kind: string; detail: string }) => `${e.kind}: ${e.detail}`).join(' | ');
  return `${progress ? `[${progress}] ` : ''}${parts} | used ${used} MiB${moving ? ` | here: ${moving}` : ''}${o?.unmet?.length ? ` | unmet ${o.unmet.map((u: { partition: number; reason: string }) => `P${u.partition}: ${u.reason}`).join('; ')}` : ''} | ${last}`;
}

/** `until`, printing the room's state every 20 s while it waits. */
async function waitFor(what: string, timeoutMs: number, page: Page, fn: () => Promise<unknown>): Promise<void> {
  const t = setInterval(() => void roomLine(page).then((l) => console.log(`  … ${what}: ${l}`), () => undefined), 20_000);
  try {
    await until(async () => !!(await fn()), timeoutMs, what, 1000);
  } finally {
    clearInterval(t);
  }
}

async function main(): Promise<void> {
  const dir = 'build/generated';
  const file = join(dir, `${MODEL}${WIDTH === 1 ? '' : `-w${WIDTH}`}.onnx`);
  if (!existsSync(file)) {
    console.log(`generating ${file} (random weights, seeded)…`);
    writeModel(MODEL, WIDTH, dir, false);
  }
  const modelBytes = statSync(file).size;
  const budgetMiB = Math.floor((modelBytes * FRACTION) / MiB);
  console.log(`${MODEL}: ${mib(modelBytes)} MiB; four devices offering ${budgetMiB} MiB each, θ = 0.99`);

  const server = await startServer(PORT);
  const devices: BigDevice[] = [];
  const out: Record<string, unknown> = { bench: 'big', at: new Date().toISOString(), model: MODEL, modelBytes, budgetBytes: budgetMiB * MiB, target: 0.99, parts: PARTS };
  let sampler: MemorySampler | null = null;
  try {
    const first = await openOwn(`${BASE}/${DEBUG_QUERY}`);
    devices.push(first);
    const link = (await first.page.getAttribute('[data-testid=share-link]', 'href'))!;
    const url = link.replace('/#', `/${DEBUG_QUERY}#`);
    for (let i = 1; i < 4; i++) devices.push(await openOwn(url));
    await until(() => meshUp(devices), 60_000, 'mesh');
    for (const d of devices) await setInput(d.page, 'budget', String(budgetMiB));
    await setInput(first.page, 'target', '0.99');
    await until(async () => {
      for (const d of devices) {
        const o = (await snapshot(d.page)).offload;
        if (o.target !== 0.99 || o.devices.some((x: { budget: number }) => x.budget !== budgetMiB * MiB)) return false;
      }
      return true;
    }, 30_000, 'budgets and target everywhere');
    sampler = new MemorySampler(new Map(devices.map((d) => [d.id, d.server.process().pid!])));
    await new Promise((r) => setTimeout(r, 2000));

    // drop the model on the first device (a file chosen from disk: the page reads it, not the test)
    sampler.mark('cut and place');
    await setInput(first.page, 'parts', String(PARTS));
    const t0 = Date.now();
    await first.page.getByTestId('model-input').setInputFiles(file);
    await waitFor('the cut', 600_000, first.page, async () => (await first.page.getByTestId('model-summary').count()) > 0 || (await first.page.getByTestId('error').count()) > 0);
    if (await first.page.getByTestId('error').count()) throw new Error(`the page says: ${await first.page.getByTestId('error').textContent()}`);
    const cutMs = Date.now() - t0;
    console.log(`cut in ${(cutMs / 1000).toFixed(1)} s: ${await roomLine(first.page)}`);
    await waitFor('the target', 900_000, first.page, async () => (await snapshot(first.page)).offload.met);
    const metMs = Date.now() - t0;
    await waitFor('every device within its budget', 300_000, first.page, async () => (await snapshot(first.page)).offload.devices.every((d: { used: number; budget: number }) => d.used <= d.budget));
    const settledMs = Date.now() - t0;
    await waitFor('every copy loaded', 600_000, first.page, async () => (await first.page.locator('[data-testid=replica-cell][data-state=verified]:not([data-backend])').count()) === 0);
    const loadedMs = Date.now() - t0;
    const o = (await snapshot(first.page)).offload;
    const partitions = o.partitions.map((p: { id: number; bytes: number; replicas: string[] }) => ({ id: p.id, bytes: p.bytes, copies: p.replicas }));
    const used = Object.fromEntries(o.devices.map((d: { id: string; used: number }) => [d.id, d.used]));
    console.log(`cut in ${(cutMs / 1000).toFixed(1)} s; target met ${(metMs / 1000).toFixed(1)} s, every device within budget ${(settledMs / 1000).toFixed(1)} s, every copy loaded ${(loadedMs / 1000).toFixed(1)} s after the drop`);
    console.log(`partitions: ${partitions.map((p: { id: number; bytes: number; copies: string[] }) => `P${p.id} ${mib(p.bytes)} MiB on ${p.copies.join(', ')}`).join('; ')}`);

    // requests through the mesh, from the device holding the fewest bytes
    sampler.mark('serve');
    const requester = [...devices].sort((a, b) => used[a.id] - used[b.id])[0];
    await requester.page.evaluate(({ n, rate }) => window.frimDebug!.infer(n, rate, 'frim'), { n: N, rate: RATE });
    await until(async () => { const v = (await snapshot(requester.page)).inference; return v.sent === N && !v.active; }, 1_800_000, 'the requests', 1000);
    const v = (await snapshot(requester.page)).inference;
    const meshMs = v.points.filter((p: { ok: boolean }) => p.ok).map((p: { ms: number }) => p.ms);
    console.log(`mesh: ${v.answered}/${N} answered, ${v.lost} lost, p50 ${v.p50?.toFixed(0)} ms, p99 ${v.p99?.toFixed(0)} ms`);

    // the whole model on the device it was dropped on (it could hold it), and the chain there
    sampler.mark('whole model on one device');
    await setInput(first.page, 'local-count', String(LOCAL));
    await first.page.getByTestId('run-local').click();
    await until(async () => (await first.page.getByTestId('local-run').count()) > 0 || !!(await first.page.getByTestId('error').count()), 1_800_000, 'the local check', 1000);
    if (!(await first.page.getByTestId('local-run').count())) throw new Error(`the local check failed: ${await first.page.getByTestId('error').textContent()}`);
    const local = first.page.getByTestId('local-run');
    const wholeMs = Number(await local.getAttribute('data-whole-ms'));
    sampler.stop();
    console.log(`whole model on ${first.id}: ${wholeMs.toFixed(0)} ms/image (${LOCAL} images, after one untimed)`);

    const peaks = Object.fromEntries([...sampler.peaks].map(([phase, m]) => [phase, Object.fromEntries(m)]));
    Object.assign(out, {
      dropper: first.id,
      requester: requester.id,
      cutMs, metMs, settledMs, loadedMs,
      partitions,
      usedBytes: used,
      peakMemoryBytes: peaks,
      mesh: { answered: v.answered, lost: v.lost, p50: v.p50, p99: v.p99, samples: meshMs },
      local: { images: LOCAL, wholeMsPerImage: wholeMs },
      meshOverWhole: (v.p50 ?? NaN) / wholeMs,
    });

    console.log(`\ndevice          role                        holds (MiB)   peak memory (PSS) cut+place / serve / whole-model run (MiB)`);
    for (const d of devices) {
      const role = d === first ? 'model dropped here' : d === requester ? 'requester' : '';
      const pk = (phase: string) => mib(sampler!.peaks.get(phase)?.get(d.id) ?? 0);
      console.log(`${d.id}    ${role.padEnd(26)}  ${mib(used[d.id]).padStart(10)}   ${pk('cut and place')} / ${pk('serve')} / ${pk('whole model on one device')}`);
    }
    console.log(`baseline before the drop (MiB): ${devices.map((d) => mib(sampler!.peaks.get('start')?.get(d.id) ?? 0)).join(' / ')}`);
    console.log(`mesh p50 / whole model on one device: ${((v.p50 ?? NaN) / wholeMs).toFixed(2)}x (${v.p50?.toFixed(0)} / ${wholeMs.toFixed(0)} ms); mesh p10–p90 ${quantile(meshMs, 0.1).toFixed(0)}–${quantile(meshMs, 0.9).toFixed(0)} ms`);
  } finally {
    sampler?.stop();
    for (const d of devices) {
      await d.browser.close().catch(() => undefined);
      await d.server.close().catch(() => undefined);
    }
    stopServer(server);
  }
  console.log(`written ${saveResult('big', String(out.at), out)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
