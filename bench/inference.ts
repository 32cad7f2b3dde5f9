/**
 * npm run bench:inference — robust distributed inference (FRIM 4.3) on real browsers.
 *
 * One 4-device room, resnet cut in four partitions with three copies each; the requester is the
 * device holding the fewest copies. Phases of BENCH_N requests at BENCH_RATE per second:
 *   1. warm-up (discarded), 2. frim healthy, 3. no-config healthy, 4. no-config with a device
 *   on its fixed path closed after a third was answered, then a fresh device joins and the room
 *   re-places, 5. frim with the device its requests used most closed after a third.
 * Also: whole-model latency on the requester through the same compute-worker path, the hop and
 * transfer costs measured in the room, the compute spent on duplicate (hedged) stages, the room's
 * throughput when flooded against one device running the whole model back to back, and the first
 * ten requests once the page shows every copy warm against the steady state (cold start), and how
 * long after loading the copies took to warm up.
 *
 * The same phases run in a WASM room and then a WebGPU room (SwiftShader here, so fewer requests
 * at a lower rate), reported side by side.
 *
 * Then, per backend, the partition chain against the whole model on one device (the page's own
 * "run here" tool, as bench:models).
 *
 * Env: BENCH_N (200), BENCH_RATE (5), BENCH_GPU_N (60; 0 skips the WebGPU room), BENCH_GPU_RATE (0.5),
 * BENCH_CHAIN_IMAGES_WASM (200), BENCH_CHAIN_IMAGES_WEBGPU (30),
 * BENCH_PORT (8797).
 */
import { chromium, type Browser, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { CHROMIUM_ARGS } from '../playwright.config.js';
import { quantile } from '../src/core/stats.js';
import type { InferenceView } from '../src/core/views.js';
import { startServer, stopServer } from './lib/server.js';
import { DEBUG_QUERY, GPU_QUERY, drop, meshUp, open, openRoom, snapshot, until, type Device } from './lib/room.js';
import { chainVsWhole, type ChainLatency } from './lib/local-chain.js';
import { saveResult } from './lib/results.js';

const N = Number(process.env.BENCH_N ?? 200);
const RATE = Number(process.env.BENCH_RATE ?? 5);
/** WebGPU here is SwiftShader: correct but slow, and one GPU process for every context */
const GPU_N = Number(process.env.BENCH_GPU_N ?? 60);
const GPU_RATE = Number(process.env.BENCH_GPU_RATE ?? 0.5);
const PORT = Number(process.env.BENCH_PORT ?? 8797);
const BASE = `http://127.0.0.1:${PORT}`;
const STAGES = 4;
/** images through the whole model and the chain, one device (BENCH_CHAIN_IMAGES_WASM / _WEBGPU) */
const CHAIN_IMAGES = { wasm: Number(process.env.BENCH_CHAIN_IMAGES_WASM ?? 200), webgpu: Number(process.env.BENCH_CHAIN_IMAGES_WEBGPU ?? 30) };

const inference = async (page: Page): Promise<InferenceView> => (await snapshot(page)).inference;

/** Until the placement shows no copy warming up (data-testid=warming). */
async function everyCopyWarm(page: Page): Promise<void> {
  await until(async () => (await page.getByTestId('warming').getAttribute('data-count')) === '0', 300_000, 'every copy warm', 200);
}

async function placed(devices: Device[]): Promise<boolean> {
  for (const d of devices) {
    const o = (await snapshot(d.page))?.offload;
    if (!o?.met || o.partitions.length !== STAGES || o.partitions.some((p: { replicas: string[] }) => p.replicas.some((r) => !devices.some((x) => x.id === r)))) return false;
  }
  return true;
}

/** Stage runs and cancellations summed over the devices (counters since each worker started). */
async function runnerTotals(devices: Device[]): Promise<{ ran: number; cancelled: number; computeMs: number; hedged: number; hedgedLate: number; warmUps: number }> {
  const t = { ran: 0, cancelled: 0, computeMs: 0, hedged: 0, hedgedLate: 0, warmUps: 0 };
  for (const d of devices) {
    const r = (await inference(d.page))?.running;
    if (r) { t.ran += r.ran; t.cancelled += r.cancelled; t.computeMs += r.computeMs; t.hedged += r.hedged; t.hedgedLate += r.hedgedLate; t.warmUps += r.warmUps; }
  }
  return t;
}

async function phase(req: Device, mode: 'frim' | 'no-config', count: number, rate: number, kill?: () => Promise<string>): Promise<InferenceView & { killed: string | null; ms: number }> {
  const t0 = Date.now();
  await req.page.evaluate(({ count, rate, mode }) => window.frimDebug!.infer(count, rate, mode), { count, rate, mode });
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

interface RoomResult {
  backend: 'wasm' | 'webgpu';
  n: number;
  ratePerSec: number;
  requester: string;
  frim: { healthy: ReturnType<typeof summary>; failure: ReturnType<typeof summary> & { killed: string | null } };
  noConfig: { healthy: ReturnType<typeof summary>; failure: ReturnType<typeof summary> & { killed: string | null } };
  failoverP99Ratio: number;
  mesh: { p50: number | null; localWholeP50: number; hopTransferP50: number; rttP50: number; bytesPerMs: number; ratio: number };
  /** `warmUpRequests`: sent by all devices up to the healthy phase (WARM_UP) */
  hedging: { stageRuns: number; needed: number; duplicateFraction: number; cancelledBeforeRunning: number; computeMs: number; secondCopies: number; secondCopiesLate: number; warmUpRequests: number };
  throughput: { roomPerSec: number; singlePerSec: number; ratio: number; flood: ReturnType<typeof summary> };
  /** `first`: the first ten requests once the page shows every copy warm, `warmUpMs` after every copy had loaded */
  coldStart: { p99: number; steadyP50: number; ratio: number; first: number[]; warmUpMs: number };
  /** the same model cut the same way on one device: the partition chain against the whole model */
  chain: ChainLatency;
}

/** Every phase in one 4-device room whose devices compute on `backend`. */
async function room(browser: Browser, backend: 'wasm' | 'webgpu', n: number, rate: number): Promise<RoomResult> {
  console.log(`\n=== ${backend === 'wasm' ? 'WASM' : 'WebGPU'} room: ${n} requests per phase at ${rate}/s ===`);
  const query = backend === 'wasm' ? DEBUG_QUERY : GPU_QUERY;
  const { devices, url } = await openRoom(browser, BASE, 4, query);
  let live = [...devices];
  try {
    const dropper = devices[0];
    await drop(dropper.page, 'resnet.onnx', new Uint8Array(readFileSync('public/models/resnet.onnx')), STAGES);
    await until(() => placed(devices), 120_000, 'placement');
    await until(async () => (await dropper.page.locator('[data-testid=replica-cell][data-state=verified]:not([data-backend])').count()) === 0, 180_000, 'every copy loaded');
    // each device runs its sessions once as it loads them (kernels compile); the page says when all are warm
    const loadedAt = Date.now();
    await everyCopyWarm(dropper.page);
    const warmUpMs = Date.now() - loadedAt;
    console.log(`every copy warm ${warmUpMs} ms after every copy loaded`);
    const replicas: string[][] = (await snapshot(dropper.page)).offload.partitions.map((p: { replicas: string[] }) => p.replicas);
    const held = (d: Device) => replicas.filter((r) => r.includes(d.id)).length;
    const req = [...devices].sort((a, b) => held(a) - held(b))[0];
    const inBytes = await dropper.page.locator('[data-testid=plan-partition]').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-input-bytes'))));
    console.log(`room: ${devices.map((d) => `${d.id} (${held(d)} copies)`).join(', ')}; requester ${req.id}; bytes into each stage ${inBytes.join(' / ')}`);

    // the room's first run after placement: its first requests pay for whatever is still cold
    const warmUp = await phase(req, 'frim', Math.min(40, n), rate);
    await new Promise((r) => setTimeout(r, 1500));
    const before = await runnerTotals(devices);
    const healthy = await phase(req, 'frim', n, rate);
    // the devices publish their counters every 500 ms: let the last runs reach the snapshots
    await new Promise((r) => setTimeout(r, 1500));
    const after = await runnerTotals(devices);
    console.log(`frim healthy: ${JSON.stringify(summary(healthy))}`);

    // hop and transfer costs, measured: RTT from the requester's detector, bandwidth over a raw channel
    const peers: { deviceId: string; rttMs: number | null }[] = (await snapshot(req.page)).peers;
    const rtt = quantile(peers.map((p) => p.rttMs).filter((x): x is number => x !== null), 0.5);
    const other = devices.find((d) => d !== req)!;
    const rawMs: number = await req.page.evaluate(({ id }) => window.frimDebug!.rawBaseline(id, 1 << 20), { id: other.id });
    const bytesPerMs = (1 << 20) / rawMs;
    const local: number[] = await req.page.evaluate((k) => window.frimDebug!.localLatencies('/models/resnet.onnx', k), backend === 'wasm' ? 100 : 30);
    // the first whole-model runs compile kernels: leave them out as the room's warm-up leaves them out
    const steady = local.slice(3);
    const hopCosts = healthy.recent.filter((r) => r.ms !== null && r.path.length === STAGES).map((r) => {
      const route = [req.id, ...r.path, req.id];
      let c = 0;
      for (let i = 1; i < route.length; i++) if (route[i] !== route[i - 1]) c += rtt / 2 + (i <= STAGES ? inBytes[i - 1] : 40) / bytesPerMs;
      return c;
    });
    const expected = quantile(steady, 0.5) + quantile(hopCosts, 0.5);
    const meshRatio = healthy.p50! / expected;
    // as many requests as the room takes (the requester keeps HEDGING.maxInFlight in flight), against
    // one device running the whole model back to back: the same model, measured in the same run
    const flood = await phase(req, 'frim', n, 1000);
    const roomPerSec = flood.answered / (flood.ms / 1000);
    const singlePerSec = 1000 / (steady.reduce((a, b) => a + b, 0) / steady.length);
    const first = [...warmUp.points].sort((a, b) => a.t - b.t).slice(0, 10).map((p) => p.ms);
    const firstP99 = quantile(first, 0.99);
    const coldStart = { p99: firstP99, steadyP50: healthy.p50!, ratio: firstP99 / healthy.p50!, first, warmUpMs };
    console.log(`throughput: room ${roomPerSec.toFixed(1)}/s, one device ${singlePerSec.toFixed(1)}/s; first 10 requests p99 ${coldStart.p99.toFixed(0)} ms`);
    const runs = after.ran - before.ran;
    const duplicate = (runs - healthy.answered * STAGES) / Math.max(1, runs);
    console.log(`local whole-model p50 ${quantile(steady, 0.5).toFixed(1)} ms; RTT p50 ${rtt.toFixed(1)} ms; ${(bytesPerMs / 1000).toFixed(1)} MB/s; hop+transfer p50 ${quantile(hopCosts, 0.5).toFixed(1)} ms`);

    // the baseline, same room, same kind of kill: a device on its fixed path
    const ncHealthy = await phase(req, 'no-config', n, rate);
    console.log(`no-config healthy: ${JSON.stringify(summary(ncHealthy))}`);
    const ncFailure = await phase(req, 'no-config', n, rate, async () => {
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
    await until(async () => (await req.page.locator('[data-testid=replica-cell][data-state=verified]:not([data-backend])').count()) === 0, 180_000, 'every copy loaded');
    await everyCopyWarm(req.page);
    const failover = await phase(req, 'frim', n, rate, async () => {
      const recent = (await inference(req.page)).recent.flatMap((r) => r.path);
      const victim = live.filter((d) => d !== req).sort((a, b) => recent.filter((x) => x === b.id).length - recent.filter((x) => x === a.id).length)[0];
      await victim.context.close();
      live = live.filter((d) => d !== victim);
      return victim.id;
    });
    console.log(`frim, ${failover.killed} closed: ${JSON.stringify(summary(failover))}`);
    return {
      backend, n, ratePerSec: rate, requester: req.id,
      frim: { healthy: summary(healthy), failure: { killed: failover.killed, ...summary(failover) } },
      noConfig: { healthy: summary(ncHealthy), failure: { killed: ncFailure.killed, ...summary(ncFailure) } },
      failoverP99Ratio: failover.p99! / healthy.p99!,
      mesh: { p50: healthy.p50, localWholeP50: quantile(steady, 0.5), hopTransferP50: quantile(hopCosts, 0.5), rttP50: rtt, bytesPerMs, ratio: meshRatio },
      hedging: { stageRuns: runs, needed: healthy.answered * STAGES, duplicateFraction: duplicate, cancelledBeforeRunning: after.cancelled - before.cancelled, computeMs: after.computeMs - before.computeMs, secondCopies: after.hedged - before.hedged, secondCopiesLate: after.hedgedLate - before.hedgedLate, warmUpRequests: before.warmUps },
      throughput: { roomPerSec, singlePerSec, ratio: roomPerSec / singlePerSec, flood: summary(flood) },
      coldStart,
      // measured once the room is closed, so its devices do not share the cores with it
      chain: null as unknown as ChainLatency,
    };
  } finally {
    for (const d of live) await d.context.close().catch(() => undefined);
  }
}

/** The two rooms side by side, one row per measure. */
function report(rooms: RoomResult[]): void {
  const f = (x: number | null | undefined, d = 1) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(d));
  const pct = (v: { correct: number }, r: RoomResult) => `${((100 * v.correct) / r.n).toFixed(1)} %`;
  const rows: [string, (r: RoomResult) => string][] = [
    ['requests per phase, rate', (r) => `${r.n} at ${r.ratePerSec}/s`],
    ['frim healthy p50 / p99 ms', (r) => `${f(r.frim.healthy.p50)} / ${f(r.frim.healthy.p99)}`],
    ['frim, 1 closed p50 / p99 ms', (r) => `${f(r.frim.failure.p50)} / ${f(r.frim.failure.p99)}`],
    ['frim, 1 closed: lost', (r) => String(r.frim.failure.lost)],
    ['frim, 1 closed: accuracy', (r) => pct(r.frim.failure, r)],
    ['no-config healthy p50 / p99 ms', (r) => `${f(r.noConfig.healthy.p50)} / ${f(r.noConfig.healthy.p99)}`],
    ['no-config, 1 closed: lost', (r) => String(r.noConfig.failure.lost)],
    ['no-config, 1 closed: accuracy', (r) => pct(r.noConfig.failure, r)],
    ['failover p99 / healthy p99 (goal <= 1.5x)', (r) => `${f(r.failoverP99Ratio, 2)}x`],
    ['whole model on the requester p50 ms', (r) => f(r.mesh.localWholeP50)],
    ['hop + transfer costs p50 ms', (r) => f(r.mesh.hopTransferP50)],
    ['mesh p50 / (whole + hops) (goal <= 1.3x)', (r) => `${f(r.mesh.ratio, 2)}x`],
    ['duplicate stage runs (goal <= 10 %)', (r) => `${f(100 * r.hedging.duplicateFraction)} % of ${r.hedging.stageRuns}`],
    ['requests/s: room / one device (goal >= 1.6x)', (r) => `${f(r.throughput.roomPerSec)} / ${f(r.throughput.singlePerSec)} = ${f(r.throughput.ratio, 2)}x`],
    ['copies warm after loading (ms)', (r) => f(r.coldStart.warmUpMs, 0)],
    ['first 10 requests p99 / steady p50 (goal <= 3x)', (r) => `${f(r.coldStart.p99, 0)} / ${f(r.coldStart.steadyP50)} = ${f(r.coldStart.ratio, 1)}x`],
    ['chain / whole on one device (goal <= 1.05x WASM, 1.10x WebGPU)', (r) => `${f(r.chain.chainMsPerImage)} / ${f(r.chain.wholeMsPerImage)} ms = ${f(r.chain.ratio, 2)}x`],
  ];
  const w = Math.max(...rows.map(([n]) => n.length));
  console.log(`\n${''.padEnd(w)}  ${rooms.map((r) => (r.backend === 'wasm' ? 'WASM room' : 'WebGPU room (SwiftShader)').padEnd(26)).join('')}`);
  for (const [name, get] of rows) console.log(`${name.padEnd(w)}  ${rooms.map((r) => get(r).padEnd(26)).join('')}`);
}

async function main(): Promise<void> {
  const server = await startServer(PORT);
  const browser: Browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
  const out: Record<string, unknown> = { bench: 'inference', at: new Date().toISOString() };
  const rooms: RoomResult[] = [];
  try {
    rooms.push(await room(browser, 'wasm', N, RATE));
    if (GPU_N > 0) rooms.push(await room(browser, 'webgpu', GPU_N, GPU_RATE));
    for (const r of rooms) r.chain = await chainVsWhole(browser, BASE, 'public/models/resnet.onnx', STAGES, r.backend, CHAIN_IMAGES[r.backend]);
  } finally {
    await browser.close();
    stopServer(server);
  }
  out.rooms = rooms;
  // per backend too, as issue 13 names them
  for (const r of rooms) out[r.backend] = { mesh: r.mesh, hedging: r.hedging, throughput: r.throughput, coldStart: r.coldStart, chain: r.chain };
  out.chain = Object.fromEntries(rooms.map((r) => [r.backend, r.chain.ratio]));
  report(rooms);
  console.log(`written ${saveResult('inference', String(out.at), out)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
