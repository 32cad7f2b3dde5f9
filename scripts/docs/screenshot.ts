/**
 * npx tsx scripts/docs/screenshot.ts — the dashboard picture in README (docs/dashboard.png).
 *
 * A real room: the server on a loopback port, three devices (one BrowserContext each), the shipped
 * resnet dropped on the first, placed, a warm-up run, then 60 requests streamed from it with one device closed
 * mid-stream, so the picture shows a failure, the placement after it and the latency plot.
 */
import { chromium } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { CHROMIUM_ARGS } from '../../playwright.config.js';
import { startServer, stopServer } from '../../bench/lib/server.js';
import { drop, openRoom, snapshot, until } from '../../bench/lib/room.js';

const PORT = Number(process.env.SHOT_PORT ?? 8799);
const OUT = process.env.SHOT_OUT ?? 'docs/dashboard.png';

const server = await startServer(PORT);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
try {
  const { devices } = await openRoom(browser, `http://127.0.0.1:${PORT}`, 4);
  const [me, , , victim] = devices;
  await me.page.setViewportSize({ width: 1280, height: 900 });
  await drop(me.page, 'resnet.onnx', readFileSync('public/models/resnet.onnx'), 3);
  await until(async () => (await snapshot(me.page)).offload?.met, 120_000, 'the target to be met');
  // a first run warms every session and link; the picture shows the second
  await me.page.evaluate(() => window.frimDebug!.infer(30, 5, 'frim'));
  await until(async () => (await snapshot(me.page)).inference?.active, 10_000, 'the warm-up to start');
  await until(async () => !(await snapshot(me.page)).inference?.active, 120_000, 'the warm-up to end');
  await me.page.getByTestId('request-count').fill('60');
  await me.page.getByTestId('request-rate').fill('5');
  await me.page.getByTestId('run').click();
  await until(async () => (await snapshot(me.page)).inference?.active, 10_000, 'the run to start');
  await until(async () => Number((await snapshot(me.page)).inference?.answered ?? 0) >= 20, 60_000, '20 answers');
  await victim.context.close();
  await until(async () => !(await snapshot(me.page)).inference?.active, 120_000, 'the run to end');
  await until(async () => (await snapshot(me.page)).offload?.met, 120_000, 'the target to be met again');
  await me.page.getByTestId('device-name').fill('Laptop');
  await me.page.getByTestId('device-name').press('Enter');
  await me.page.waitForTimeout(1500);
  await me.page.screenshot({ path: OUT, fullPage: true });
  console.log(`wrote ${OUT}`);
} finally {
  await browser.close();
  stopServer(server);
}
