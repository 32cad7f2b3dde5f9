/**
 * npm run bench:detector — how soon a room knows a device is gone, measured on real browsers.
 *
 * A 4-device room (one Chromium context per device) against a real server. 20 times: wait until
 * every survivor's detector for the oldest device is warm (k windows), close that device's only
 * tab (a clean departure: it says so as it goes, issue 15), and record when each survivor logged
 * it as left, when its data channel closed and when the same browsers' ICE reported the connection
 * disconnected. Then BENCH_CRASHES more kills by crashing the device's renderers instead (a device
 * that dies without a word), where FRIM 4.1's heartbeat detector must notice, and ICE on its own.
 * Last, 5 minutes of induced heartbeat jitter on every device (log-normal answer delays,
 * p99 = 10x median), counting false alarms.
 *
 * Env: BENCH_KILLS (20), BENCH_CRASHES (10), BENCH_JITTER_S (300), BENCH_JITTER_MEDIAN_MS (20), BENCH_PORT (8799),
 * BENCH_SETTLE_MS (25 000: how long after the last join a kill waits; shorter kills land on untrained detectors).
 */
import { chromium, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { CHROMIUM_ARGS } from '../playwright.config.js';
import { events } from '../e2e/helpers.js';
import { startServer, stopServer } from './lib/server.js';
import { quantile } from '../src/core/stats.js';
import { saveResult } from './lib/results.js';

const KILLS = Number(process.env.BENCH_KILLS ?? 20);
const CRASHES = Number(process.env.BENCH_CRASHES ?? 10);
const JITTER_S = Number(process.env.BENCH_JITTER_S ?? 300);
const JITTER_MEDIAN = Number(process.env.BENCH_JITTER_MEDIAN_MS ?? 20);
const PORT = Number(process.env.BENCH_PORT ?? 8799);
const BASE = `http://127.0.0.1:${PORT}`;
const H = 250;
const SETTLE_MS = Number(process.env.BENCH_SETTLE_MS ?? 25_000);

interface Device { context: BrowserContext; page: Page; id: string; joinedAt: number }

async function open(browser: Browser, url: string): Promise<Device> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(url);
  await page.waitForSelector('[data-testid=self][data-device-id]:not([data-device-id=""])');
  const id = (await page.getAttribute('[data-testid=self]', 'data-device-id'))!;
  return { context, page, id, joinedAt: Date.now() };
}

async function peerAttr(page: Page, id: string, attr: string): Promise<string | null> {
  return page.getAttribute(`[data-testid=peer][data-device-id="${id}"]`, attr, { timeout: 1000 }).catch(() => null);
}

async function waitFor(cond: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function allAlive(devices: Device[]): Promise<boolean> {
  for (const d of devices) for (const o of devices) if (d !== o && (await peerAttr(d.page, o.id, 'data-status')) !== 'alive') return false;
  return true;
}

function summary(xs: number[]): { n: number; p50: number; p99: number; max: number } {
  return { n: xs.length, p50: Math.round(quantile(xs, 0.5)), p99: Math.round(quantile(xs, 0.99)), max: Math.round(Math.max(...xs)) };
}

async function main(): Promise<void> {
  const server = await startServer(PORT);
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
  const q = '?debug=1&backend=wasm';
  try {
    const first = await open(browser, `${BASE}/${q}`);
    const link = (await first.page.getAttribute('[data-testid=share-link]', 'href'))!;
    const url = link.replace('/#', `/${q}#`);
    const devices = [first];
    for (let i = 0; i < 3; i++) devices.push(await open(browser, url));
    await waitFor(() => allAlive(devices), 60_000, 'full mesh');

    type Mode = 'close' | 'crash';
    const byMode: Record<Mode, { detect: number[]; ice: number[]; closed: number[]; iceMissing: number; kills: unknown[]; how: Record<string, number> }> = {
      close: { detect: [], ice: [], closed: [], iceMissing: 0, kills: [], how: {} },
      crash: { detect: [], ice: [], closed: [], iceMissing: 0, kills: [], how: {} },
    };
    const plan: Mode[] = [...Array<Mode>(KILLS).fill('close'), ...Array<Mode>(CRASHES).fill('crash')];
    for (const [k, mode] of plan.entries()) {
      const m = byMode[mode];
      const victim = devices.reduce((a, b) => (a.joinedAt <= b.joinedAt ? a : b));
      const observers = devices.filter((d) => d !== victim);
      // Kill in steady state: every ring of k windows (20 s) must postdate the last join, whose
      // browser start-up loads both cores and would otherwise inflate the thresholds under test.
      const lastJoin = Math.max(...devices.map((d) => d.joinedAt));
      await new Promise((r) => setTimeout(r, Math.max(0, lastJoin + SETTLE_MS - Date.now())));
      await waitFor(async () => {
        for (const o of observers) if ((await peerAttr(o.page, victim.id, 'data-warm')) !== 'true' || (await peerAttr(o.page, victim.id, 'data-status')) !== 'alive') return false;
        return true;
      }, 90_000, 'warm detectors');
      const thresholds = await Promise.all(observers.map((o) => peerAttr(o.page, victim.id, 'data-threshold-ms')));
      const killedAt = Date.now();
      if (mode === 'close') {
        // the user closes the tab: the page runs its pagehide, as a browser does
        await victim.page.close({ runBeforeUnload: true });
      }
      else {
        // a device that dies without a word (battery, out of range): its renderers crash, nothing is closed
        for (const p of victim.context.pages()) void (await victim.context.newCDPSession(p)).send('Page.crash').catch(() => undefined);
      }
      devices.splice(devices.indexOf(victim), 1);
      await waitFor(async () => {
        for (const o of observers) if ((await peerAttr(o.page, victim.id, 'data-status')) !== 'failed') return false;
        return true;
      }, 30_000, 'failure detection');
      // ICE needs several seconds; wait up to 15 s for it (the next kill's warm-up takes longer anyway)
      const iceDeadline = Date.now() + 15_000;
      const perObserver: { detectMs: number; iceMs: number | null; channelClosedMs: number | null; thresholdMs: number }[] = [];
      for (const [i, o] of observers.entries()) {
        let evs = await events(o.page);
        const iceSeen = () => evs.some((e) => e.kind === 'ice' && e.deviceId === victim.id && e.at >= killedAt);
        const closedSeen = () => evs.some((e) => e.kind === 'closed' && e.deviceId === victim.id && e.at >= killedAt);
        while (!iceSeen() && !(mode === 'close' && closedSeen()) && Date.now() < iceDeadline) {
          await new Promise((r) => setTimeout(r, 250));
          evs = await events(o.page);
        }
        // a departure is known from the device's own word (`left`); a crash only from silence (`failed`)
        const failed = evs.find((e) => (e.kind === 'failed' || e.kind === 'left') && e.deviceId === victim.id && e.at >= killedAt)!;
        m.how[failed.kind === 'left' ? failed.detail : `silence (${failed.kind})`] = (m.how[failed.kind === 'left' ? failed.detail : `silence (${failed.kind})`] ?? 0) + 1;
        const ice = evs.find((e) => e.kind === 'ice' && e.deviceId === victim.id && e.at >= killedAt);
        const closed = evs.find((e) => e.kind === 'closed' && e.deviceId === victim.id && e.at >= killedAt);
        m.detect.push(failed.at - killedAt);
        if (ice) m.ice.push(ice.at - killedAt);
        else m.iceMissing++;
        if (closed) m.closed.push(closed.at - killedAt);
        perObserver.push({ detectMs: failed.at - killedAt, iceMs: ice ? ice.at - killedAt : null, channelClosedMs: closed ? closed.at - killedAt : null, thresholdMs: Number(thresholds[i]) });
      }
      await victim.context.close();
      m.kills.push({ kill: k + 1, mode, victim: victim.id, observers: perObserver });
      console.log(`kill ${k + 1}/${plan.length} (${mode}): detection ${perObserver.map((p) => p.detectMs).join(', ')} ms (T ${thresholds.join(', ')}); ICE ${perObserver.map((p) => p.iceMs ?? '–').join(', ')} ms; channel closed ${perObserver.map((p) => p.channelClosedMs ?? '–').join(', ')} ms`);
      devices.push(await open(browser, url));
      await waitFor(() => allAlive(devices), 60_000, 'mesh after replacement');
    }
    // the heartbeat detector's own figures come from the crashes: a closed tab says it left
    const detections = byMode.crash.detect;
    const departures = byMode.close.detect;

    // Jitter phase: every device answers heartbeats after a log-normal delay (p99 = 10x median).
    const before = await Promise.all(devices.map((d) => events(d.page)));
    const since = Date.now();
    await Promise.all(devices.map((d) => d.page.evaluate((m) => {
      window.frimDebug!.faults.jitter = { medianMs: m, p99Ms: 10 * m };
    }, JITTER_MEDIAN)));
    console.log(`jitter: ${JITTER_S} s of heartbeat answers delayed log-normally (median ${JITTER_MEDIAN} ms, p99 ${10 * JITTER_MEDIAN} ms)…`);
    const counts = { failed: 0, suspected: 0 };
    const seen = new Set<string>();
    const end = Date.now() + JITTER_S * 1000;
    // the log keeps the last 100 events: read it often enough to see every alarm
    while (Date.now() < end) {
      await new Promise((r) => setTimeout(r, 5000));
      for (const [i, d] of devices.entries()) {
        for (const e of await events(d.page)) {
          const key = `${i}:${e.at}:${e.kind}:${e.deviceId}`;
          if (e.at < since || seen.has(key) || before[i].some((b) => b.at === e.at && b.kind === e.kind)) continue;
          seen.add(key);
          if (e.kind === 'failed' || e.kind === 'left') counts.failed++;
          if (e.kind === 'suspected') counts.suspected++;
        }
      }
    }
    const finalThresholds = await Promise.all(devices.flatMap((d) => devices.filter((o) => o !== d).map((o) => peerAttr(d.page, o.id, 'data-threshold-ms'))));

    const modeSummary = (m: (typeof byMode)[Mode]) => ({
      detectionMs: m.detect.length ? summary(m.detect) : null,
      iceDisconnectedMs: m.ice.length ? summary(m.ice) : null,
      iceNotReported: m.iceMissing,
      channelClosedMs: m.closed.length ? summary(m.closed) : null,
      knownBy: m.how,
      kills: m.kills,
    });
    const result = {
      bench: 'detector',
      at: new Date().toISOString(),
      config: { devices: 4, contextCloseKills: KILLS, crashKills: CRASHES, heartbeatMs: H, settleMs: SETTLE_MS, jitterSeconds: JITTER_S, jitterMedianMs: JITTER_MEDIAN, jitterP99Ms: 10 * JITTER_MEDIAN },
      /** crashes: FRIM 4.1's heartbeat detector */
      detectionMs: detections.length ? summary(detections) : null,
      detectionInHeartbeats: detections.length ? { p50: +(quantile(detections, 0.5) / H).toFixed(2), p99: +(quantile(detections, 0.99) / H).toFixed(2) } : null,
      /** closed tabs: the device's own departure */
      departureMs: departures.length ? summary(departures) : null,
      tabClose: modeSummary(byMode.close),
      crash: modeSummary(byMode.crash),
      jitter: { falseAlarms: counts.failed, suspicions: counts.suspected, thresholdsAtEndMs: finalThresholds.map(Number) },
      goal: {
        detectionP99AtMost3Heartbeats: detections.length ? quantile(detections, 0.99) <= 3 * H : null,
        departureP50AtMost50Ms: departures.length ? quantile(departures, 0.5) <= 50 : null,
        departureP99AtMost150Ms: departures.length ? quantile(departures, 0.99) <= 150 : null,
        zeroFalseAlarms: counts.failed === 0,
      },
    };
    const file = saveResult('detector', result.at, result);
    const row = (name: string, s: { p50: number; p99: number; max: number; n: number } | null) =>
      `${name.padEnd(34)} ${s ? `${String(s.p50).padStart(6)} ${String(s.p99).padStart(6)} ${String(s.max).padStart(6)} ${String(s.n).padStart(4)}` : '   n/a'}`;
    console.log(`\n${'metric (ms after the kill)'.padEnd(34)}    p50    p99    max    n`);
    console.log(row('tab closed: known as left', result.departureMs));
    console.log(row('  tab closed: data channel', result.tabClose.channelClosedMs));
    console.log(row('  tab closed: ICE', result.tabClose.iceDisconnectedMs));
    console.log(row('crashed: FRIM detector', result.detectionMs));
    console.log(row('  crashed: ICE disconnected', result.crash.iceDisconnectedMs));
    console.log(`how closed tabs were known: ${Object.entries(byMode.close.how).map(([k, n]) => `${n} × ${k}`).join(', ') || 'none'}`);
    console.log(`ICE not reported within 15 s: ${byMode.close.iceMissing} of ${byMode.close.detect.length} closes (the channel closed first), ${byMode.crash.iceMissing} of ${byMode.crash.detect.length} crashes`);
    const verdict = (ok: boolean | null) => (ok === null ? 'not measured' : ok ? 'met' : 'NOT met');
    if (departures.length) console.log(`closed tab known p50 ${Math.round(quantile(departures, 0.5))} ms (goal <= 50): ${verdict(result.goal.departureP50AtMost50Ms)}; p99 ${Math.round(quantile(departures, 0.99))} ms (goal <= 150): ${verdict(result.goal.departureP99AtMost150Ms)}`);
    console.log(`crash detection p99 = ${result.detectionInHeartbeats?.p99 ?? 'n/a'} heartbeat intervals (goal <= 3): ${verdict(result.goal.detectionP99AtMost3Heartbeats)}`);
    console.log(`jitter ${JITTER_S} s: ${counts.failed} false alarms (goal 0), ${counts.suspected} suspicions cleared by late replies`);
    console.log(`written ${file}`);
  } finally {
    await browser.close();
    stopServer(server);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
