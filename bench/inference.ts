/**
 * npm run bench:inference — robust distributed inference (FRIM 4.3) on real browsers.
 *
 * One 4-device room, resnet cut in four partitions with three copies each; the requester is the
 * device holding the fewest copies. Phases of BENCH_N requests at BENCH_RATE per second:
 *   1. warm-up (discarded), 2. frim healthy, 3. no-config healthy, 4. no-config with a device
 *   on its fixed path closed after a third was answered, then a fresh device joins and the room
 *   re-places, 5. frim with the device its requests used most closed after a third.
 * Also: whole-model latency on the requester through the same compute-worker path, the hop and
 * transfer costs measured in the room, and the compute spent on duplicate (hedged) stages.
 *
 * Env: BENCH_N (200), BENCH_RATE (5), BENCH_PORT (8797).
 */
import { chromium, type Browser, type Page } from '@playwright/test';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHROMIUM_ARGS } from '../playwright.config.js';
import { quantile } from '../src/core/stats.js';
import type { InferenceView } from '../src/worker/snapshot.js';
import { startServer, stopServer } from './lib/server.js';
import { drop, meshUp, open, openRoom, snapshot, until, type Device } from './lib/room.js';

const N = Number(process.env.BENCH_N ?? 200);
const RATE = Number(process.env.BENCH_RATE ?? 5);
const PORT = Number(process.env.BENCH_PORT ?? 8797);
const BASE = `http://127.0.0.1:${PORT}`;
const STAGES = 4;

const inference = async (page: Page): Promise<InferenceView> => (await snapshot(page)).inference;

async function placed(devices: Device[]): Promise<boolean> {
  for (const d of devices) {
    const o = (await snapshot(d.page))?.offload;
    if (!o?.met || o.partitions.length !== STAGES || o.partitions.some((p: { replicas: string[] }) => p.replicas.some((r) => !devices.some((x) => x.id === r)))) return false;
  }
  return true;
}

/** Stage runs and cancellations summed over the devices (counters since each worker started). */
async function runnerTotals(devices: Device[]): Promise<{ ran: number; cancelled: number; computeMs: number }> {
  const t = { ran: 0, cancelled: 0, computeMs: 0 };
  for (const d of devices) {
    const r = (await inference(d.page))?.running;
    if (r) { t.ran += r.ran; t.cancelled += r.cancelled; t.computeMs += r.computeMs; }
  }
  return t;
}

async function phase(req: Device, mode: 'frim' | 'no-config', count: number, kill?: () => Promise<string>): Promise<InferenceView & { killed: string | null; ms: number }> {
  const t0 = Date.now();
  await req.page.evaluate(({ count, rate, mode }) => (window as any).frimDebug.client.infer(count, rate, mode), { count, rate: RATE, mode });
  await until(async () => (await inference(req.page))?.active, 10_000, 'the run to start');
  let killed: string | null = null;
  if (kill) {
    await until(async () => (await inference(req.page)).answered >= Math.floor(count / 3), 120_000, 'a third answered', 100);
    killed = await kill();
  }
  await until(async () => { const v = await inference(req.page); return !v.active && v.sent === count; }, 300_000, `${mode} run`, 200);
  return { ...(await inference(req.page)), killed, ms: Date.now() - t0 };
}

function summary(v: InferenceView) {
  return { answered: v.answered, lost: v.lost, correct: v.correct, reissued: v.reissued, p50: v.p50, p99: v.p99 };
}

async function main(): Promise<void> {
  const server = await startServer(PORT);
  const browser: Browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
  const out: Record<string, unknown> = { bench: 'inference', at: new Date().toISOString(), n: N, ratePerSec: RATE };
  try {
    const { devices, url } = await openRoom(browser, BASE, 4);
    const dropper = devices[0];
    await drop(dropper.page, 'resnet.onnx', new Uint8Array(readFileSync('public/models/resnet.onnx')), STAGES);
    await until(() => placed(devices), 120_000, 'placement');
    const replicas: string[][] = (await snapshot(dropper.page)).offload.partitions.map((p: { replicas: string[] }) => p.replicas);
    const held = (d: Device) => replicas.filter((r) => r.includes(d.id)).length;
    const req = [...devices].sort((a, b) => held(a) - held(b))[0];
    const inBytes = await dropper.page.locator('[data-testid=plan-partition]').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-input-bytes'))));
    console.log(`room: ${devices.map((d) => `${d.id} (${held(d)} copies)`).join(', ')}; requester ${req.id}; bytes into each stage ${inBytes.join(' / ')}`);

    await phase(req, 'frim', 40);
    const before = await runnerTotals(devices);
    const healthy = await phase(req, 'frim', N);
    const after = await runnerTotals(devices);
    console.log(`frim healthy: ${JSON.stringify(summary(healthy))}`);

    // hop and transfer costs, measured: RTT from the requester's detector, bandwidth over a raw channel
    const peers: { deviceId: string; rttMs: number | null }[] = (await snapshot(req.page)).peers;
    const rtt = quantile(peers.map((p) => p.rttMs).filter((x): x is number => x !== null), 0.5);
    const other = devices.find((d) => d !== req)!;
    const rawMs: number = await req.page.evaluate(({ id }) => (window as any).frimDebug.rawBaseline(id, 1 << 20), { id: other.id });
    const bytesPerMs = (1 << 20) / rawMs;
    const local: number[] = await req.page.evaluate((n) => (window as any).frimDebug.localLatencies('/models/resnet.onnx', n), 100);
    const hopCosts = healthy.recent.filter((r) => r.ms !== null && r.path.length === STAGES).map((r) => {
      const route = [req.id, ...r.path, req.id];
      let c = 0;
      for (let i = 1; i < route.length; i++) if (route[i] !== route[i - 1]) c += rtt / 2 + (i <= STAGES ? inBytes[i - 1] : 40) / bytesPerMs;
      return c;
    });
    const expected = quantile(local, 0.5) + quantile(hopCosts, 0.5);
    const meshRatio = healthy.p50! / expected;
    const runs = after.ran - before.ran;
    const duplicate = (runs - healthy.answered * STAGES) / Math.max(1, runs);
    console.log(`local whole-model p50 ${quantile(local, 0.5).toFixed(1)} ms; RTT p50 ${rtt.toFixed(1)} ms; ${(bytesPerMs / 1000).toFixed(1)} MB/s; hop+transfer p50 ${quantile(hopCosts, 0.5).toFixed(1)} ms`);

    // the baseline, same room, same kind of kill: a device on its fixed path
    let live = [...devices];
    const ncHealthy = await phase(req, 'no-config', N);
    console.log(`no-config healthy: ${JSON.stringify(summary(ncHealthy))}`);
    const ncFailure = await phase(req, 'no-config', N, async () => {
      const path = (await inference(req.page)).path;
      const victim = live.find((d) => d !== req && path.includes(d.id)) ?? live.find((d) => d !== req)!;
      await victim.context.close();
      live = live.filter((d) => d !== victim);
      return victim.id;
    });
    console.log(`no-config along ${ncFailure.path.join(' → ')}, ${ncFailure.killed} closed: ${JSON.stringify(summary(ncFailure))}`);

    // a fresh device joins and the room re-places; then frim with the device its recent requests used most closed
    live.push(await open(browser, url));
    await until(() => meshUp(live), 60_000, 'mesh with the newcomer');
    await until(() => placed(live), 120_000, 're-placement');
    const failover = await phase(req, 'frim', N, async () => {
      const recent = (await inference(req.page)).recent.flatMap((r) => r.path);
      const victim = live.filter((d) => d !== req).sort((a, b) => recent.filter((x) => x === b.id).length - recent.filter((x) => x === a.id).length)[0];
      await victim.context.close();
      live = live.filter((d) => d !== victim);
      return victim.id;
    });
    console.log(`frim, ${failover.killed} closed: ${JSON.stringify(summary(failover))}`);

    Object.assign(out, {
      requester: req.id,
      frim: { healthy: summary(healthy), failure: { killed: failover.killed, ...summary(failover) } },
      noConfig: { healthy: summary(ncHealthy), failure: { killed: ncFailure.killed, ...summary(ncFailure) } },
      failoverP99Ratio: failover.p99! / healthy.p99!,
      mesh: { p50: healthy.p50, localWholeP50: quantile(local, 0.5), hopTransferP50: quantile(hopCosts, 0.5), rttP50: rtt, bytesPerMs, ratio: meshRatio },
      hedging: { stageRuns: runs, needed: healthy.answered * STAGES, duplicateFraction: duplicate, cancelledBeforeRunning: after.cancelled - before.cancelled, computeMs: after.computeMs - before.computeMs },
    });
    const pct = (v: { correct: number }) => `${((100 * v.correct) / N).toFixed(1)} %`;
    console.log('\n                          p50 ms   p99 ms   lost   accuracy (lost = wrong)');
    for (const [name, v] of [['frim healthy', healthy], ['frim, 1 closed', failover], ['no-config healthy', ncHealthy], ['no-config, 1 closed', ncFailure]] as const) {
      console.log(`${name.padEnd(24)}  ${(v.p50 ?? NaN).toFixed(1).padStart(6)}   ${(v.p99 ?? NaN).toFixed(1).padStart(6)}   ${String(v.lost).padStart(4)}   ${pct(v)}`);
    }
    console.log(`failover p99 / healthy p99: ${(failover.p99! / healthy.p99!).toFixed(2)}x (goal <= 1.5x); lost in frim: ${failover.lost} (goal 0)`);
    console.log(`mesh p50 / (local whole-model p50 + hop and transfer costs): ${meshRatio.toFixed(2)}x (${healthy.p50!.toFixed(1)} / ${expected.toFixed(1)} ms; goal <= 1.10x)`);
    console.log(`compute on duplicate stages: ${(100 * duplicate).toFixed(1)} % of ${runs} stage runs (${after.cancelled - before.cancelled} dropped before running)`);
    for (const d of live) await d.context.close();
  } finally {
    await browser.close();
    stopServer(server);
  }
  mkdirSync('bench/results', { recursive: true });
  const file = join('bench/results', `inference-${String(out.at).replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(out, null, 2));
  console.log(`written ${file}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
