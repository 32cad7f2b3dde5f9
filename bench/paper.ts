/**
 * The paper's table (FRIM 5.2): accuracy of each model when devices D1, D2, D3, D1+D2, D2+D3 or
 * D1+D3 fail, for FRIM and the baselines, measured in real browsers on models trained here.
 *
 * Testbed, as the paper's: D1–D3 play phones (their compute slowed `PHONE_SLOWDOWN` times, smaller
 * budgets), D4 the desktop that sends the requests. Each model is cut into three partitions, one
 * per phone on the baselines' fixed path (the skip-connection variant has a fourth, its output
 * layer, on D4 as DFG keeps it in the cloud); in `frim` mode Algorithm 1 places the copies and
 * requests go where it routes them. Every cell streams the same images, in requests of `BATCH`;
 * once the first request is answered (a fiftieth of the images), the cell's failure set is applied
 * by closing those phones' tabs (each context's only page, so its device worker stops with it), and
 * the same phones open the room again before the next cell, their copies still in IndexedDB, as
 * phones whose users come back. Methods that run the same model file (frim, no-config) share one
 * room. An unanswered image counts as wrong, as in the paper.
 *
 * Each room answers a few warm-up requests before its first cell and after phones come back, so
 * every cell measures warm sessions (a session's first run is slow: issue 13).
 *
 * Env / flags: --quick (one model, healthy and D2 failed, 30 images), BENCH_PAPER_N (images per cell,
 * 500), BENCH_PAPER_BATCH (10), BENCH_PAPER_RATE (requests/s, 4; quick 2), BENCH_PAPER_MODELS,
 * BENCH_PAPER_METHODS, BENCH_PAPER_FAILURES (e.g. healthy,D1+D3), BENCH_PAPER_TRACE (print where a room's set-up time goes), BENCH_PORT.
 */
import { chromium, type Browser } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { CHROMIUM_ARGS } from '../playwright.config.js';
import { startServer, stopServer } from './lib/server.js';
import { DEBUG_QUERY, drop, open, setBudget, snapshot, until, type Device } from './lib/room.js';
import { saveResult } from './lib/results.js';
import { slowDown } from './lib/throttle.js';
import { FAILURE_SETS, METHODS, PAPER, type Method, type PaperRow } from './lib/paper-table.js';

export const QUICK = process.argv.includes('--quick');
export const PAPER_MODELS = (process.env.BENCH_PAPER_MODELS ?? (QUICK ? 'resnet' : 'alexnet,resnet,vgg')).split(',');
/** failure sets, in order (BENCH_PAPER_FAILURES: comma-separated, '+' within a set, 'healthy' for none) */
export const PAPER_FAILURES: string[][] = process.env.BENCH_PAPER_FAILURES?.split(',').map((f) => (f === 'healthy' ? [] : f.split('+')))
  ?? (QUICK ? [[], ['D2']] : [[], ...FAILURE_SETS.map((f) => f.split('+'))]);
if (PAPER_FAILURES.flat().some((d) => !['D1', 'D2', 'D3'].includes(d))) throw new Error(`BENCH_PAPER_FAILURES names phones D1, D2 and D3 only: ${process.env.BENCH_PAPER_FAILURES}`);
const PAPER_METHODS_RUN = (process.env.BENCH_PAPER_METHODS?.split(',') ?? METHODS) as Method[];
const N = Number(process.env.BENCH_PAPER_N ?? (QUICK ? 30 : 500));
// a quick cell still streams for a few seconds, so its failures land while images are in flight
const BATCH = Number(process.env.BENCH_PAPER_BATCH ?? (QUICK ? 5 : 10));
const RATE = Number(process.env.BENCH_PAPER_RATE ?? (QUICK ? 2 : 4));
const PORT = Number(process.env.BENCH_PORT ?? 8796);
const BASE = `http://127.0.0.1:${PORT}`;
/** how much slower a phone computes than this machine's share of a core, and how much slower its page runs (lib/throttle.ts says why less) */
const PHONE_SLOWDOWN = { compute: 3, page: 1.5 };
const PHONE_BUDGET_MIB = 32;

const t0 = Date.now();
const since = () => `${((Date.now() - t0) / 1000).toFixed(0)} s`.padStart(7);
/** where the time of a room's set-up goes, with BENCH_PAPER_TRACE set */
const trace = (what: string) => process.env.BENCH_PAPER_TRACE && console.log(`${since()}    ${what}`);

const fileOf = (model: string, method: Method) => (method === 'early-exit' || method === 'skip-connection' ? `${model}-${method}.onnx` : `${model}.onnx`);

interface Room {
  desktop: Device;
  phones: Device[];
  url: string;
}

async function phone(browser: Browser, url: string): Promise<Device> {
  const d = await open(browser, url);
  trace('phone page up');
  await setBudget(d, PHONE_BUDGET_MIB);
  trace('phone budget set');
  await slowDown(d, PHONE_SLOWDOWN);
  return d;
}

/**
 * The phone back after its failure: its tab opened again in the same browser context, so the same
 * device (its id and the copies in its IndexedDB) rejoins, as a phone whose user returns does.
 */
async function reopen(d: Device, url: string): Promise<Device> {
  await d.page.close().catch(() => undefined);
  const page = await d.context.newPage();
  await page.goto(url);
  await page.waitForSelector(`[data-testid=self][data-device-id="${d.id}"]`);
  const back = { ...d, page };
  await setBudget(back, PHONE_BUDGET_MIB);
  await slowDown(back, PHONE_SLOWDOWN);
  trace(`${d.id} back`);
  return back;
}

/** The room's copies: every partition on every phone (for skip-connection, its output layer on the desktop), sessions loaded. */
async function ready(room: Room, parts: number, method: Method): Promise<void> {
  await explained(room, settle(room, parts, method));
}

async function settle(room: Room, parts: number, method: Method): Promise<void> {
  const offload = async () => (await snapshot(room.desktop.page)).offload;
  await until(async () => {
    const o = await offload();
    return o?.partitions.length === parts && o.partitions.every((p, k) => (method === 'skip-connection' && k === parts - 1) || room.phones.every((d) => p.replicas.includes(d.id)));
  }, 180_000, 'copies on every phone', 250);
  trace('copies placed');
  if (method === 'skip-connection') {
    // the output layer runs on the desktop, as a DFG cloud holds it: fetch it there if Algorithm 1 put it elsewhere
    const last = (await offload()).partitions[parts - 1];
    if (!last.replicas.includes(room.desktop.id)) await room.desktop.page.evaluate(({ hash, from }) => window.frimDebug!.fetchReplica(hash, from), { hash: last.hash, from: last.replicas });
    await until(async () => (await offload()).partitions[parts - 1].replicas.includes(room.desktop.id), 60_000, 'the output layer on the desktop', 250);
  }
  for (const d of [room.desktop, ...room.phones]) {
    await until(async () => (await d.page.locator('[data-testid=replica-cell][data-state=verified]:not([data-backend])').count()) === 0, 180_000, 'every copy loaded', 250);
  }
  trace('sessions loaded');
  await stream(room, parts, method, 3);
}

const pathOf = (room: Room, parts: number, method: Method) => (method === 'frim' ? [] : [...room.phones.map((d) => d.id), ...(parts === 4 ? [room.desktop.id] : [])]);

/**
 * Sends `n` images from the desktop and waits for the run to end, calling `during` once a fiftieth
 * (at least one image) is answered. The snapshot is published on a timer, so the new run is known by its "streaming" event:
 * until that shows, the snapshot may still be the last run's.
 */
async function stream(room: Room, parts: number, method: Method, n: number, during?: () => Promise<void>) {
  const page = room.desktop.page;
  const seq0 = Math.max(0, ...(await snapshot(page)).events.map((e) => e.seq));
  await page.evaluate(({ n, rate, method, path, batch }) => window.frimDebug!.infer(n, rate, method, path, batch), { n, rate: RATE, method, path: pathOf(room, parts, method), batch: BATCH });
  const fresh = async () => {
    const s = await snapshot(page);
    const started = s.events.some((e) => e.seq > seq0 && e.kind === 'inference' && e.detail.startsWith(`streaming ${n} images`));
    const refused = !started && s.inference.error !== null && s.events.some((e) => e.seq > seq0 && e.detail === s.inference.error);
    return started || refused ? s.inference : null;
  };
  const first = await until(fresh, 10_000, 'the run to start');
  if (first.error) throw new Error(`the run did not start: ${first.error}`);
  const inference = async () => (await snapshot(page)).inference;
  if (during) {
    await until(async () => (await inference()).answered >= Math.max(1, n / 50), 300_000, 'the first answers', 100);
    await during();
  }
  await until(async () => { const v = await inference(); return !v.active && v.sent === n; }, 600_000, `${n} images through ${method}`, 200);
  return inference();
}

/** `work`, with what each device logged last printed when it fails (the room did not settle, or a run stalled). */
async function explained<T>(room: Room, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (e) {
    await explain(room);
    throw e;
  }
}

async function explain(room: Room): Promise<void> {
  for (const [name, d] of [['D4', room.desktop], ...room.phones.map((p, k) => [`D${k + 1}`, p] as const)] as const) {
    const events = (await snapshot(d.page).catch(() => null))?.events ?? [];
    console.error(`--- ${name} (${d.id}), last events:`);
    for (const e of events.slice(-12)) console.error(`  ${e.kind} ${e.deviceId ?? ''} ${e.detail}`);
  }
}

async function openRoom(browser: Browser, model: string, method: Method): Promise<{ room: Room; parts: number }> {
  const desktop = await open(browser, `${BASE}/${DEBUG_QUERY}`);
  const link = (await desktop.page.getAttribute('[data-testid=share-link]', 'href'))!;
  const url = link.replace('/#', `/${DEBUG_QUERY}#`);
  // the desktop only sends requests, but for skip-connection it holds the output layer (a few KiB): room for that alone
  await setBudget(desktop, method === 'skip-connection' ? 0.01 : 0);
  const phones = await Promise.all([0, 1, 2].map(() => phone(browser, url)));
  const room = { desktop, phones, url };
  await drop(desktop.page, fileOf(model, method), new Uint8Array(readFileSync(`public/models/${fileOf(model, method)}`)), 3);
  await until(async () => (await snapshot(desktop.page)).offload?.partitions.length, 60_000, 'the cut');
  const parts = (await snapshot(desktop.page)).offload.partitions.length;
  await ready(room, parts, method);
  return { room, parts };
}

async function cell(room: Room, parts: number, model: string, method: Method, failed: string[]): Promise<PaperRow> {
  // the phone dies without a word (the paper's crash failures): its renderer crashes, so no
  // departure is announced and FRIM 4.1's heartbeat detector has to notice; the dead tab is closed
  // when the phone comes back
  const kill = async () => {
    for (const name of failed) {
      const page = room.phones[Number(name.slice(1)) - 1].page;
      void (await page.context().newCDPSession(page)).send('Page.crash').catch(() => undefined);
    }
  };
  const t0 = Date.now();
  const v = await stream(room, parts, method, N, failed.length ? kill : undefined);
  const row: PaperRow = { model, failed, method, n: N, answered: v.answered, lost: v.lost, correct: v.correct, accuracy: v.correct / N, p50Ms: v.p50, p99Ms: v.p99, seconds: (Date.now() - t0) / 1000, restoreSeconds: 0 };
  if (process.env.BENCH_PAPER_TRACE && row.lost) await explain(room);
  console.log(`${since()}  ${model} ${method.padEnd(15)} ${(failed.join('+') || 'healthy').padEnd(7)} accuracy ${(100 * row.accuracy).toFixed(2)} %  answered ${v.answered}/${N}  p50 ${v.p50?.toFixed(0)} ms  p99 ${v.p99?.toFixed(0)} ms`);
  return row;
}

/** The failed phones back, holding their copies again, before the next cell. */
async function replace(room: Room, failed: string[], parts: number, method: Method): Promise<void> {
  const back = await Promise.all(failed.map((name) => reopen(room.phones[Number(name.slice(1)) - 1], room.url)));
  failed.forEach((name, i) => (room.phones[Number(name.slice(1)) - 1] = back[i]));
  await ready(room, parts, method);
}

/** The methods of `methods` that run on the same model file, in order: one room serves each group. */
function byFile(model: string, methods: readonly Method[]): Method[][] {
  const groups = new Map<string, Method[]>();
  for (const m of methods) groups.set(fileOf(model, m), [...(groups.get(fileOf(model, m)) ?? []), m]);
  return [...groups.values()];
}

export async function paperTable(browser: Browser): Promise<PaperRow[]> {
  const rows: PaperRow[] = [];
  for (const model of PAPER_MODELS) {
    for (const methods of byFile(model, PAPER_METHODS_RUN)) {
      const { room, parts } = await openRoom(browser, model, methods[0]);
      console.log(`${since()}  ${model} ${methods.join(', ')}: room ready`);
      try {
        const cells = methods.flatMap((method) => PAPER_FAILURES.map((failed) => ({ method, failed })));
        for (const [k, { method, failed }] of cells.entries()) {
          const row = await explained(room, cell(room, parts, model, method, failed));
          rows.push(row);
          if (failed.length && k < cells.length - 1) {
            const t0 = Date.now();
            await replace(room, failed, parts, cells[k + 1].method);
            row.restoreSeconds = (Date.now() - t0) / 1000;
            console.log(`${since()}  ${failed.join(', ')} back`);
          }
        }
      } finally {
        for (const d of [room.desktop, ...room.phones]) await d.context.close().catch(() => undefined);
      }
    }
  }
  return rows;
}

async function main(): Promise<void> {
  const server = await startServer(PORT);
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
  const at = new Date().toISOString();
  try {
    const rows = await paperTable(browser);
    const file = saveResult('paper', at, { bench: 'paper', at, quick: QUICK, n: N, batch: BATCH, ratePerSec: RATE, phoneSlowdown: PHONE_SLOWDOWN, rows, published: PAPER });
    console.log(`\nwrote ${file}`);
  } finally {
    await browser.close();
    stopServer(server);
  }
}

if (process.argv[1]?.endsWith('paper.ts')) await main();
