/**
 * npm run soak [-- --minutes N] [--seed S] — the chaos soak (issue 14, item 6).
 *
 * --faults a,b: draw only these (CI runs `--minutes 3 --faults crash,network`).
 *
 * Four devices: three laptops in one browser and a phone in a browser of its own, started inside a
 * network namespace this run makes (where root and iproute2 allow; otherwise the phone is a fourth
 * context of the laptops' browser and the network fault is left out). One laptop streams requests
 * at a steady rate; every minute one fault hits one of the three others, the kinds taken in turn
 * in an order shuffled by the seed (every kind as often as any other), the target drawn by it: its network dropped for 10 s (the phone), a full-speed flood from it, the signalling
 * server killed and back 3 s later, its tab closed (reopened 10 s later), its renderer crashed
 * (reopened 10 s later), its tab reloaded, its storage quota lowered to what it stores. The
 * requester is never a fault's target: its open requests die with it by definition.
 *
 * Reports per minute: answered, lost, wrong (not onnxruntime-node's answer), false failures (a
 * device declared failed with no fault of its own, or of the device that declared it, in the 45 s
 * before), how long the full mesh took to come back, and each device's JS heap after a forced GC.
 * Writes bench/results/soak-*.json and two plots beside it, and exits non-zero when a goal is
 * missed: 0 lost, 0 wrong, 0 false failures, and (runs of 10 minutes or more) each device's heap
 * grows by less than 10 % from minute 5 (or a minute after its last restart) to the end.
 *
 * Traffic stays on this machine: the server listens on loopback, or on this machine's end of the
 * namespace's veth pair. Every wait is bounded; the run ends at --minutes plus one segment.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { chromium, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { CHROMIUM_ARGS } from '../playwright.config.js';
import { makeNetns, type Netns } from '../e2e/netns.js';
import { MODEL, referencePredictions } from '../e2e/reference.js';
import { HeapReader, heapGrowth, type HeapSummary } from './lib/heap.js';
import { drop, meshUp, snapshot, until } from './lib/room.js';
import { saveResult } from './lib/results.js';
import { serveOne } from './lib/server.js';
import { lineChart } from './lib/svg-chart.js';
import { seededRng } from '../src/core/rng.js';
import type { FloodKind } from '../src/mesh/flood.js';

type FaultKind = 'network' | 'flood' | 'server' | 'close' | 'crash' | 'reload' | 'quota';
const FAULTS: readonly FaultKind[] = ['network', 'flood', 'server', 'close', 'crash', 'reload', 'quota'];

const { values: opts } = parseArgs({ options: { minutes: { type: 'string', default: '60' }, seed: { type: 'string', default: '1' }, faults: { type: 'string', default: FAULTS.join(',') } } });
const MINUTES = Number(opts.minutes);
const SEED = Number(opts.seed);
const CHOSEN = opts.faults.split(',') as FaultKind[];
if (!(MINUTES >= 1 && MINUTES <= 24 * 60) || !Number.isInteger(SEED)) throw new Error('--minutes takes 1 to 1440, --seed an integer');
const unknown = CHOSEN.filter((f) => !FAULTS.includes(f));
if (unknown.length || !CHOSEN.length) throw new Error(`--faults takes some of ${FAULTS.join(', ')}, not ${unknown.join(', ')}`);
const PORT = Number(process.env.SOAK_PORT ?? 8794);
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** requests per second, and per segment (one segment a minute) */
const RATE = 3;
const SEGMENT = 60 * RATE;
/** a device with a fault of its own this long before (after the fault ends) may be declared failed */
const EXCUSE_MS = 45_000;
const QUERY = '?debug=1&backend=wasm';
const FLOODS: FloodKind[] = ['junk', 'oversized', 'pings', 'stray-results', 'stray-chunks', 'stage-starts'];

interface Dev {
  name: string;
  browser: Browser;
  context: BrowserContext;
  page: Page | null;
  id: string;
  contextId: string;
  /** ms (since the start) of each time its page started afresh */
  restarts: number[];
  errors: string[];
}

interface Fault { minute: number; kind: FaultKind; target: string | null; detail: string; from: number; to: number; meshBackMs: number | null }
interface Segment { endedAt: number; sent: number; answered: number; lost: number; wrong: number; reissued: number; p50: number; p99: number }
interface MeshEvent { observer: string; at: number; kind: string; deviceId: string | null; detail: string }
/** a measurement that paused a device (a heap snapshot): failures of it or by it then are not the room's */
interface Pause { device: string; from: number; to: number; why: string }
interface Snapshots { device: string; fromMinute: number; toMinute: number; before: HeapSummary; after: HeapSummary }

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, Math.max(0, ms)));
const t0 = Date.now();
const since = () => Date.now() - t0;
const stamp = () => `${(since() / 60_000).toFixed(1).padStart(5)} min`;

async function openPage(d: Dev, url: string): Promise<void> {
  const page = await d.context.newPage();
  page.on('pageerror', (e) => d.errors.push(`${stamp()} ${String(e)}`));
  await page.goto(url);
  await page.waitForSelector('[data-testid=self][data-device-id]:not([data-device-id=""])', { timeout: 60_000 });
  d.page = page;
  d.restarts.push(since());
}

async function newDevice(name: string, browser: Browser, url: string): Promise<Dev> {
  const d: Dev = { name, browser, context: await browser.newContext(), page: null, id: '', contextId: '', restarts: [], errors: [] };
  await openPage(d, url);
  d.id = (await d.page!.getAttribute('[data-testid=self]', 'data-device-id'))!;
  d.contextId = await HeapReader.contextId(d.context);
  return d;
}

/** What a run leaves on this machine, undone on any exit (Ctrl-C included). */
const cleanups: (() => void)[] = [];
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    for (const c of cleanups.splice(0)) c();
    process.exit(130);
  });
}

async function main(): Promise<void> {
  let netns: Netns | null = null;
  try {
    netns = makeNetns(CHROMIUM);
  } catch (e) {
    console.log(`${(e as Error).message.split('\n')[0]}: the phone shares the laptops' browser and the network fault is left out`);
  }
  if (netns) cleanups.push(() => netns!.remove());
  const host = netns?.hostIp ?? '127.0.0.1';
  const origin = `http://${host}:${PORT}`;
  const browsers: Browser[] = [];
  let server = await serveOne(PORT, host);
  cleanups.push(() => server.kill('SIGKILL'));
  const expected = await referencePredictions(SEGMENT);
  const devices: Dev[] = [];
  const faults: Fault[] = [];
  const segments: Segment[] = [];
  const heap: { at: number; device: string; bytes: number }[] = [];
  const seen = new Map<string, MeshEvent>();
  const pauses: Pause[] = [];
  let snaps: Snapshots | null = null;
  let stopping = false;
  try {
    // an address that is not localhost is no secure context over plain HTTP: the room key's HMAC needs one
    const args = [...CHROMIUM_ARGS, ...(netns ? [`--unsafely-treat-insecure-origin-as-secure=${origin}`] : [])];
    const laptops = await chromium.launch({ executablePath: CHROMIUM, args });
    browsers.push(laptops);
    const phones = netns ? await chromium.launch({ executablePath: netns.chromium, args: [...args, '--disable-features=WebRtcHideLocalIpsWithMdns'] }) : laptops;
    if (netns) browsers.push(phones);

    const first = await newDevice('laptop-1', laptops, `${origin}/${QUERY}`);
    const link = (await first.page!.getAttribute('[data-testid=share-link]', 'href'))!;
    const url = link.replace('/#', `/${QUERY}#`);
    devices.push(first, await newDevice('laptop-2', laptops, url), await newDevice('laptop-3', laptops, url), await newDevice('phone', phones, url));
    const live = () => devices.filter((d): d is Dev & { page: Page } => !!d.page && !d.page.isClosed());
    await until(() => meshUp(live()), 90_000, 'the four-device mesh');
    await drop(first.page!, 'resnet.onnx', MODEL, 4);
    // every copy placed, loaded and run once before the stream starts
    await until(async () => {
      for (const d of live()) {
        const s = await snapshot(d.page);
        if (!s.offload.partitions.length || !s.offload.partitions.every((p) => p.replicas.length >= 2)) return false;
        if ((await d.page.getAttribute('[data-testid=warming]', 'data-count')) !== '0') return false;
        if ((await d.page.getAttribute('[data-testid=model-dependability]', 'data-met')) !== 'true') return false;
      }
      return true;
    }, 240_000, 'the model placed and warm on every device', 500);
    // the laptop holding the fewest copies asks, so its requests cross the mesh
    const placed = (await snapshot(first.page!)).offload.partitions;
    const held = (d: Dev) => placed.filter((p) => p.replicas.includes(d.id)).length;
    const requester = devices.slice(0, 3).sort((a, b) => held(a) - held(b))[0];
    const targets = devices.filter((d) => d !== requester);
    console.log(`${stamp()}  room placed: ${devices.map((d) => `${d.name} ${d.id} (${held(d)} copies)`).join(', ')}; ${requester.name} asks, ${RATE} requests/s; ${MINUTES} min, seed ${SEED}`);

    const started = since();
    const endAt = t0 + started + MINUTES * 60_000;
    const rng = seededRng(SEED);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)];

    const collectEvents = async () => {
      for (const d of live()) {
        // read once: a fault may close and clear the page while an earlier device is read
        const page = d.page;
        const evs = await page.evaluate(() => window.frimDebug?.snapshot()?.events ?? []).catch(() => []);
        for (const e of evs) seen.set(`${d.id}|${e.at}|${e.kind}|${e.deviceId}|${e.detail}`, { observer: d.id, at: e.at, kind: e.kind, deviceId: e.deviceId, detail: e.detail });
      }
    };
    const readers = new Map<Browser, HeapReader>();
    for (const b of browsers) readers.set(b, await HeapReader.of(b));
    // the requester's heap by kind, a quarter into the run and at its end: where growth went
    const snapAt = MINUTES >= 10 ? started + Math.max(5, Math.round(MINUTES / 4)) * 60_000 : null;
    const mid: { snap: { at: number; summary: HeapSummary } | null } = { snap: null };
    const snapRequester = async (): Promise<HeapSummary | null> => {
      const from = since();
      const summary = await readers.get(requester.browser)!.summary(requester.contextId).catch((e: Error) => {
        console.log(`${stamp()}  heap snapshot of ${requester.name} failed: ${e.message}`);
        return null;
      });
      pauses.push({ device: requester.id, from, to: since(), why: 'heap snapshot' });
      return summary;
    };
    const sampleHeap = async () => {
      for (const b of browsers) {
        const used = await readers.get(b)!.usedByContext().catch(() => new Map<string, number>());
        for (const d of devices) if (d.browser === b && used.has(d.contextId)) heap.push({ at: since(), device: d.name, bytes: used.get(d.contextId)! });
      }
    };

    const stream = (async () => {
      while (Date.now() < endAt && !stopping) {
        const page = requester.page!;
        await page.evaluate(({ n, rate }) => window.frimDebug!.infer(n, rate, 'frim'), { n: SEGMENT, rate: RATE });
        const deadline = Date.now() + (SEGMENT / RATE) * 1000 + 120_000;
        let s: Record<string, string> = {};
        for (;;) {
          await sleep(1000);
          s = await page.getByTestId('stats').evaluate((el) => Object.fromEntries([...el.attributes].map((a) => [a.name, a.value])));
          if (s['data-active'] !== 'true' && Number(s['data-sent']) === SEGMENT) break;
          if (Date.now() > deadline) throw new Error(`a segment of ${SEGMENT} requests did not finish in ${(deadline - Date.now()) / 1000 + (SEGMENT / RATE) + 120} s`);
        }
        const predictions = (s['data-predictions'] ?? '').split(',').map((x) => (x === '' ? null : Number(x)));
        const seg: Segment = {
          endedAt: since(), sent: Number(s['data-sent']), answered: Number(s['data-answered']), lost: Number(s['data-lost']), reissued: Number(s['data-reissued']),
          wrong: predictions.filter((p, i) => p !== null && p !== expected[i]).length, p50: Number(s['data-p50-ms']), p99: Number(s['data-p99-ms']),
        };
        segments.push(seg);
        console.log(`${stamp()}  ${seg.answered}/${seg.sent} answered, ${seg.lost} lost, ${seg.wrong} wrong, ${seg.reissued} re-issued, p50 ${seg.p50.toFixed(0)} ms, p99 ${seg.p99.toFixed(0)} ms`);
      }
    })();

    const watch = (async () => {
      let lastHeap = -Infinity;
      while (Date.now() < endAt + 60_000 && !stopping) {
        await collectEvents();
        if (since() - lastHeap >= 60_000) {
          lastHeap = since();
          await sampleHeap();
        }
        if (snapAt !== null && !mid.snap && since() >= snapAt && !stopping) {
          const summary = await snapRequester();
          if (summary) mid.snap = { at: since(), summary };
        }
        await sleep(5000);
      }
    })();

    const kinds = CHOSEN.filter((k) => k !== 'network' || netns);
    if (!kinds.length) throw new Error('no fault to inject: the network fault needs a network namespace');
    // a seeded shuffle, taken in turn
    for (let i = kinds.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [kinds[i], kinds[j]] = [kinds[j], kinds[i]];
    }
    const chaos = (async () => {
      for (let minute = 1; t0 + started + minute * 60_000 < endAt && !stopping; minute++) {
        await sleep(t0 + started + minute * 60_000 - Date.now());
        const kind = kinds[(minute - 1) % kinds.length];
        const target = kind === 'network' ? devices[3] : kind === 'server' ? null : pick(targets);
        const f: Fault = { minute, kind, target: target?.id ?? null, detail: '', from: since(), to: since(), meshBackMs: null };
        faults.push(f);
        await collectEvents();
        console.log(`${stamp()}  fault ${minute}: ${kind}${target ? ` on ${target.name}` : ''}…`);
        f.detail = await Promise.race([inject(kind, target), sleep(120_000).then(() => 'did not finish in 120 s')]);
        f.to = since();
        const ok = await until(async () => live().length === devices.length && (await meshUp(live())), 55_000, 'the full mesh', 250).then(() => true, () => false);
        f.meshBackMs = ok ? since() - f.to : null;
        console.log(`${stamp()}  fault ${minute}: ${kind}${target ? ` on ${target.name}` : ''} (${f.detail}); full mesh ${ok ? `${f.meshBackMs} ms after it ended` : 'NOT back within 55 s'}`);
      }
    })();

    async function inject(kind: FaultKind, d: Dev | null): Promise<string> {
      switch (kind) {
        case 'network': {
          netns!.setLink(false);
          await sleep(10_000);
          netns!.setLink(true);
          return 'the phone\'s link down for 10 s';
        }
        case 'flood': {
          const what = pick(FLOODS);
          const n = await d!.page!.evaluate((k) => window.frimDebug!.flood(k, 5000), what).catch((e: Error) => `failed: ${e.message}`);
          return `${what} at full speed for 5 s: ${n} frames`;
        }
        case 'server': {
          server.kill('SIGKILL');
          await sleep(3000);
          server = await serveOne(PORT, host);
          return 'SIGKILL, back 3 s later';
        }
        case 'close':
        case 'crash': {
          const page = d!.page!;
          await collectEvents();
          if (kind === 'close') await page.close();
          // the crash answers nothing: not awaited
          else void (await d!.context.newCDPSession(page)).send('Page.crash').catch(() => undefined);
          await sleep(10_000);
          if (!page.isClosed()) await page.close().catch(() => undefined);
          d!.page = null;
          await openPage(d!, url);
          return `${kind === 'close' ? 'tab closed' : 'renderer crashed'}, a new tab 10 s later`;
        }
        case 'reload': {
          await collectEvents();
          await d!.page!.reload();
          await d!.page!.waitForSelector('[data-testid=self][data-device-id]:not([data-device-id=""])', { timeout: 60_000 });
          d!.restarts.push(since());
          return 'tab reloaded';
        }
        case 'quota': {
          const cdp = await d!.context.newCDPSession(d!.page!);
          const { usage } = (await cdp.send('Storage.getUsageAndQuota', { origin })) as { usage: number };
          await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: usage });
          await sleep(45_000);
          await cdp.send('Storage.overrideQuotaForOrigin', { origin });
          await cdp.detach().catch(() => undefined);
          return `quota at its ${(usage / 1024).toFixed(0)} KiB used for 45 s`;
        }
      }
    }

    // a run that breaks off still reports what it saw, and fails
    const aborted = await Promise.all([stream, chaos]).then(() => null, (e: Error) => e.message);
    stopping = true;
    if (aborted) console.log(`${stamp()}  the run broke off: ${aborted}`);
    await collectEvents();
    await sampleHeap();
    await watch;
    if (mid.snap) {
      const end = await snapRequester();
      if (end) snaps = { device: requester.name, fromMinute: Math.round((mid.snap.at - started) / 60_000), toMinute: Math.round((since() - started) / 60_000), before: mid.snap.summary, after: end };
    }
    report(devices, requester, faults, segments, heap, [...seen.values()], !!netns, started, aborted, pauses, snaps);
  } finally {
    stopping = true;
    for (const b of browsers) await b.close().catch(() => undefined);
    server.kill('SIGKILL');
    netns?.remove();
  }
}

function report(devices: Dev[], requester: Dev, faults: Fault[], segments: Segment[], heap: { at: number; device: string; bytes: number }[], events: MeshEvent[], withNetns: boolean, started: number, aborted: string | null, pauses: Pause[], snaps: Snapshots | null): void {
  const name = (id: string | null) => devices.find((d) => d.id === id)?.name ?? id ?? '?';
  const epochOf = (ms: number) => t0 + ms;
  // a failure is excused when the failed device, or the one that declared it, had a fault of its own shortly before
  const excused = (e: MeshEvent) =>
    faults.some((f) => f.target !== null && (f.target === e.deviceId || f.target === e.observer) && e.at >= epochOf(f.from) - 1000 && e.at <= epochOf(f.to) + EXCUSE_MS) ||
    pauses.some((p) => (p.device === e.deviceId || p.device === e.observer) && e.at >= epochOf(p.from) - 1000 && e.at <= epochOf(p.to) + 10_000);
  // what every device logged around a false failure: whose tab or worker stalled, how soon it recovered
  const around = (e: MeshEvent) => events
    .filter((x) => x.at >= e.at - 5000 && x.at <= e.at + 5000 && x.kind !== 'dropped')
    .sort((a, b) => a.at - b.at)
    .slice(0, 40)
    .map((x) => `${((x.at - e.at) / 1000).toFixed(2)} s ${name(x.observer)}: ${x.kind}${x.deviceId ? ` ${name(x.deviceId)}` : ''} ${x.detail}`);
  // a device taken for gone, by its silence or by a departure (its tab closing, or a connection closed from its side)
  const failures = events.filter((e) => e.kind === 'failed' || e.kind === 'left');
  const falseFailures = failures.filter((e) => !excused(e));
  const total = segments.reduce((a, s) => ({ answered: a.answered + s.answered, lost: a.lost + s.lost, wrong: a.wrong + s.wrong, sent: a.sent + s.sent }), { answered: 0, lost: 0, wrong: 0, sent: 0 });
  const minuteOf = (ms: number) => Math.max(0, Math.ceil((ms - started) / 60_000));
  // heap growth per device: from its fifth minute (of the run, or after its last restart) to its
  // last sample, judged only over a window of a quarter of the run or more (a fresh device's
  // bounded tables fill in its first minutes; a short window is a fill, not a trend)
  const minWindow = Math.max(3, MINUTES / 4) * 60_000;
  const growth = devices.map((d) => {
    const from = Math.max(started, d.restarts.at(-1) ?? 0) + 5 * 60_000;
    const xs = heap.filter((h) => h.device === d.name && h.at >= from);
    if (xs.length < 2 || xs.at(-1)!.at - xs[0].at < minWindow) return { device: d.name, from: null, to: null, growth: null, why: `restarted at minute ${minuteOf(d.restarts.at(-1) ?? 0)}: under ${minWindow / 60_000} min left to judge` };
    return { device: d.name, from: xs[0].bytes, to: xs.at(-1)!.bytes, growth: xs.at(-1)!.bytes / xs[0].bytes - 1, fromMinute: minuteOf(xs[0].at), toMinute: minuteOf(xs.at(-1)!.at) };
  });
  const gateHeap = MINUTES >= 10;
  const heapOk = growth.every((g) => g.growth === null || g.growth < 0.1);
  const goals = [
    { goal: 'the run went its length', ok: !aborted, value: aborted ?? 'yes' },
    { goal: '0 lost', ok: total.lost === 0, value: total.lost },
    { goal: '0 wrong answers', ok: total.wrong === 0, value: total.wrong },
    { goal: '0 false failures', ok: falseFailures.length === 0, value: falseFailures.length },
    { goal: `heap growth < 10 % after a device's fifth minute, over ${minWindow / 60_000} min or more${gateHeap ? '' : ' (not judged under 10 minutes)'}`, ok: !gateHeap || heapOk, value: growth.map((g) => `${g.device} ${g.growth === null ? 'n/a' : `${(100 * g.growth).toFixed(1)} %`}`).join(', ') },
  ];
  console.log(`\nchaos soak, ${MINUTES} min, seed ${SEED}${withNetns ? '' : ' (no network namespace: no network fault)'}: ${total.answered}/${total.sent} answered, ${total.lost} lost, ${total.wrong} wrong; ${faults.length} faults (${[...new Set(faults.map((f) => f.kind))].map((k) => `${faults.filter((f) => f.kind === k).length} ${k}`).join(', ')}); ${failures.length} failures declared, ${falseFailures.length} false`);
  for (const e of falseFailures) {
    console.log(`  false failure: ${name(e.observer)} declared ${name(e.deviceId)} failed at ${((e.at - t0) / 60_000).toFixed(2)} min: ${e.detail}`);
    for (const line of around(e)) console.log(`      ${line}`);
  }
  const grew = snaps ? heapGrowth(snaps.before, snaps.after) : [];
  if (snaps) {
    console.log(`  ${snaps.device}'s heap from minute ${snaps.fromMinute} to ${snaps.toMinute}, by kind (growth, bytes and count):`);
    for (const g of grew.slice(0, 12)) console.log(`      ${g.bytes >= 0 ? '+' : ''}${g.bytes} B  ${g.count >= 0 ? '+' : ''}${g.count}  ${g.kind}`);
  }
  for (const g of goals) console.log(`  ${g.ok ? 'met    ' : 'NOT met'}  ${g.goal}: ${g.value}`);
  const errors = devices.flatMap((d) => d.errors.map((e) => `${d.name}: ${e}`));
  for (const e of errors) console.log(`  page error ${e}`);

  const at = new Date(t0).toISOString();
  const file = saveResult('soak', at, {
    bench: 'soak', at, minutes: MINUTES, seed: SEED, faultKinds: CHOSEN, ratePerSec: RATE, networkFault: withNetns, requester: requester.name,
    devices: devices.map((d) => ({ name: d.name, id: d.id, restartsMin: d.restarts.map((r) => +(r / 60_000).toFixed(2)) })),
    totals: { ...total, failures: failures.length, falseFailures: falseFailures.length, pageErrors: errors.length },
    goals, heapGrowth: growth, faults, segments, heap,
    falseFailures: falseFailures.map((e) => ({ observer: name(e.observer), device: name(e.deviceId), minute: (e.at - t0) / 60_000, detail: e.detail, around: around(e) })),
    pauses, heapByKind: snaps ? { device: snaps.device, fromMinute: snaps.fromMinute, toMinute: snaps.toMinute, grew } : null,
  });
  mkdirSync('bench/results/charts', { recursive: true });
  const x = (ms: number) => +((ms - started) / 60_000).toFixed(2);
  const requests = lineChart(`soak, ${MINUTES} min: requests per segment`, [
    { name: 'answered', points: segments.map((s) => ({ x: x(s.endedAt), y: s.answered })) },
    { name: 'lost', points: segments.map((s) => ({ x: x(s.endedAt), y: s.lost })) },
    { name: 'wrong', points: segments.map((s) => ({ x: x(s.endedAt), y: s.wrong })) },
    { name: 'false failures (cumulative)', points: segments.map((s) => ({ x: x(s.endedAt), y: falseFailures.filter((e) => e.at <= epochOf(s.endedAt)).length })) },
  ], { x: 'minutes', y: 'requests', xTicks: 12 });
  const heaps = lineChart(`soak, ${MINUTES} min: JS heap per device after GC (MiB; page + device worker)`, devices.map((d) => ({
    name: d.name, points: heap.filter((h) => h.device === d.name).map((h) => ({ x: x(h.at), y: +(h.bytes / 2 ** 20).toFixed(2) })),
  })), { x: 'minutes', y: 'MiB', xTicks: 12 });
  const base = file.replace(/\.json$/, '');
  writeFileSync(`${base}-requests.svg`, requests);
  writeFileSync(`${base}-heap.svg`, heaps);
  console.log(`written ${file}, ${base}-requests.svg, ${base}-heap.svg`);
  process.exitCode = goals.every((g) => g.ok) && errors.length === 0 ? 0 : 1;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
