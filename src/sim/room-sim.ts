/**
 * A discrete-event simulation of one room, driving the same core code the product runs: the
 * failure detector (through detection.ts), availability, Algorithm 1 and room adaptation, the
 * execution graph and its ranking of copies, the hedging policy and its deadlines. Only the world is
 * simulated: devices that fail and rejoin (exponential times up and down, each device with its own
 * mean time up: a room mixes steady laptops and flaky phones; a rejoining device still has its
 * cached copies), heterogeneous compute, budgets and links, a stream of requests. The room has been
 * running a while before the simulated minutes start, so each device comes with the history the
 * detector would have recorded for it (uptime and failures), as after an hour in the product.
 *
 * Placement policies: `frim` (Algorithm 1 at θ, at least two copies), `fixedK` (Algorithm 1 asked
 * for exactly K copies of each partition, whatever the devices' availability). Inference is FRIM's
 * for every policy: each stage on the two best copies the room believes alive, the first to finish
 * wins, a stage whose copies all die is re-issued after its deadline or their detection.
 * Not modelled: queues on devices (a copy runs every stage it is given at its own speed) and the
 * resource confirmation round trip.
 */
import { adapt, type RoomDevice, type RoomPartition } from '../core/adaptation.js';
import { DEFAULT_AVAILABILITY, availability } from '../core/availability.js';
import { DEFAULT_DETECTOR } from '../core/detector.js';
import { rankNextStage, type ExecutionGraph, type Position } from '../core/execution-graph.js';
import { StageTimes } from '../core/hedging.js';
import { COPIES, afterTrouble, stageDeadlineMs } from '../core/hedging-policy.js';
import { OFFLOADING } from '../core/policy.js';
import { seededRng, type Rng } from '../core/rng.js';
import { quantile } from '../core/stats.js';
import { detectionDelayMs } from './detection.js';
import { EventQueue } from './event-queue.js';

export type Policy = 'frim' | 'fixed1' | 'fixed2' | 'fixed3';

export interface SimPartition { bytes: number; flops: number; inBytes: number }

export interface SimConfig {
  devices: number;
  minutes: number;
  seed: number;
  /** mean minutes a device stays up (the room's median: each device's own mean is spread around it), and stays away before it rejoins */
  meanUpMin: number;
  meanDownMin: number;
  /** sigma of the lognormal spread of the devices' own mean times up (0: every device alike) */
  upSpread?: number;
  /** minutes the room ran before the simulated ones: the devices' recorded history (0: none) */
  historyMin?: number;
  requestsPerSec: number;
  partitions: SimPartition[];
  outBytes: number;
  target: number;
  /** the availability horizon H in seconds (core/availability.ts; the product's default when absent) */
  horizonSec?: number;
  /** fixed devices instead of drawn ones (tests): device i's speed (FLOP/ms), budget, RTT and bandwidth (bytes/ms) */
  profiles?: { speed: number; budget: number; rtt: number; bw: number }[];
  /** fixed failures instead of drawn ones (tests): device i goes down at `downAt` ms and rejoins at `backAt` */
  schedule?: { device: number; downAt: number; backAt: number }[];
}

export interface SimResult {
  policy: Policy;
  requests: number;
  answered: number;
  answeredFraction: number;
  latencyP50Ms: number | null;
  latencyP99Ms: number | null;
  bytesMoved: number;
  failures: number;
  detectionP50Ms: number | null;
  /** copies per partition on devices the room believes up, sampled every 10 s: mean and the lowest seen */
  copiesMean: number;
  copiesMin: number;
  copiesOverTime: { t: number; mean: number }[];
  placementMsMean: number;
  events: number;
  msPerEvent: number;
}

interface Device {
  id: string;
  up: boolean;
  /** the room's belief: false from detection to rejoin */
  known: boolean;
  speed: number;
  budget: number;
  rtt: number;
  bw: number;
  holds: Set<string>;
  incoming: Set<string>;
  sending: number;
  uptimeSec: number;
  knownSince: number;
  failures: number;
  /** the current stay: when it goes down (Infinity for the requester) */
  downAt: number;
  /** this device's own mean time up, ms */
  meanUpMs: number;
}

type Event =
  | { kind: 'down'; d: Device; back: number; detectMs: number }
  | { kind: 'detected'; d: Device; at: number }
  | { kind: 'rejoin'; d: Device }
  | { kind: 'coordinate' }
  | { kind: 'transfer'; to: Device; from: Device; p: number; start: number }
  | { kind: 'request' }
  | { kind: 'stage'; req: Req; stage: number; pos: Device | null; t0: number }
  | { kind: 'sample' };

interface Req { issued: number; attempts: number; done: boolean }

const DRAIN_MS = 60_000;

const lognormal = (rng: Rng, median: number, sigma: number) => median * Math.exp(sigma * Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng()));
const exp = (rng: Rng, mean: number) => -mean * Math.log(1 - rng());
const hashOf = (p: number) => p.toString(16).padStart(64, '0');

export function simulate(cfg: SimConfig, policy: Policy): SimResult {
  // one stream per concern, so the devices, their failures and the requests are the same under every policy
  const rng = seededRng(cfg.seed);
  const churn = seededRng(cfg.seed + 1);
  const arrivals = seededRng(cfg.seed + 2);
  const wall0 = performance.now();
  const end = cfg.minutes * 60_000;
  const q = new EventQueue<Event>();
  // device 0 sends the requests (the paper's desktop): it does not fail and holds no copy
  const devices: Device[] = Array.from({ length: cfg.devices }, (_, i) => ({
    id: `d${String(i).padStart(5, '0')}`, up: true, known: true,
    ...(cfg.profiles?.[i] ?? { speed: i === 0 ? 1e8 : lognormal(rng, 2e7, 0.6), budget: i === 0 ? 0 : lognormal(rng, 512 * 2 ** 20, 0.5), rtt: lognormal(rng, 6, 0.5), bw: lognormal(rng, 20_000, 0.5) }),
    holds: new Set<string>(), incoming: new Set<string>(), sending: 0, uptimeSec: 0, knownSince: 0, failures: 0, downAt: Infinity,
    meanUpMs: cfg.meanUpMin * 60_000 * (cfg.upSpread ? lognormal(churn, 1, cfg.upSpread) : 1),
  }));
  const byId = new Map(devices.map((d) => [d.id, d]));
  const partitions: RoomPartition[] = cfg.partitions.map((p, id) => ({ id, hash: hashOf(id), bytes: p.bytes, flops: p.flops }));
  // the churn schedule depends only on the seed: every policy faces the same failures
  const fixed = cfg.schedule ? [...cfg.schedule] : null;
  // the room has been running: each device has already been up a while (as long as a stay lasts, on
  // average), and over the history the room recorded it came and went at its own rate
  if (!fixed) for (const d of devices.slice(1)) {
    d.uptimeSec = exp(churn, d.meanUpMs / 1000);
    for (let t = 0, horizon = (cfg.historyMin ?? 0) * 60_000; ; d.failures++) {
      const up = Math.min(exp(churn, d.meanUpMs), horizon - t);
      d.uptimeSec += up / 1000;
      t += up + exp(churn, cfg.meanDownMin * 60_000);
      if (t >= horizon) break;
    }
  }
  for (const d of devices.slice(1)) scheduleDown(d, 0);
  function scheduleDown(d: Device, from: number): void {
    const i = devices.indexOf(d);
    const planned = fixed ? fixed.filter((f) => f.device === i && f.downAt >= from).sort((a, b) => a.downAt - b.downAt)[0] : undefined;
    d.downAt = fixed ? planned?.downAt ?? Infinity : from + exp(churn, d.meanUpMs);
    const back = planned?.backAt ?? d.downAt + exp(churn, cfg.meanDownMin * 60_000);
    if (d.downAt < end) q.push(d.downAt, { kind: 'down', d, back, detectMs: detectionDelayMs({ rttMs: d.rtt, jitterMs: d.rtt / 4 }, churn) });
  }
  // the model was dropped on the requester, which places it: start with one copy of each on the fastest devices
  const bySpeed = devices.slice(1).sort((a, b) => b.speed - a.speed);
  partitions.forEach((p, k) => bySpeed[k % bySpeed.length].holds.add(p.hash));

  const times = new StageTimes();
  const latencies: number[] = [];
  const detections: number[] = [];
  const placementMs: number[] = [];
  const copiesOverTime: { t: number; mean: number }[] = [];
  let copiesMin = Infinity;
  let bytesMoved = 0;
  let requests = 0;
  let answered = 0;
  let failures = 0;
  let events = 0;
  let dirty = true;

  const minCopies = policy === 'frim' ? 2 : Number(policy.slice(5));
  const target = policy === 'frim' ? cfg.target : 0;
  const link = (a: Device, b: Device) => ({ rttMs: (a.rtt + b.rtt) / 2, bandwidth: Math.min(a.bw, b.bw) });
  const model = { ...DEFAULT_AVAILABILITY, horizonSec: cfg.horizonSec ?? DEFAULT_AVAILABILITY.horizonSec };
  const availabilityOf = (d: Device, now: number) => availability({ uptimeSec: d.uptimeSec + (d.known ? (now - d.knownSince) / 1000 : 0), failures: d.failures }, model);

  function coordinate(now: number): void {
    const view: RoomDevice[] = devices.slice(1).map((d) => ({
      id: d.id, alive: d.known, budgetBytes: d.budget, availability: availabilityOf(d, now), speed: d.speed,
      holds: d.holds, incoming: d.incoming, sending: d.sending, rttMs: new Map(),
    }));
    const w0 = performance.now();
    const r = adapt(view, partitions, target, minCopies);
    placementMs.push(performance.now() - w0);
    for (const o of r.transfers) {
      const to = byId.get(o.to)!;
      const from = o.from.map((id) => byId.get(id)!).find((d) => d.up);
      if (!to.up || !from || to.incoming.has(o.hash)) continue;
      to.incoming.add(o.hash);
      from.sending++;
      const l = link(from, to);
      q.push(now + l.rttMs + partitions[o.partition].bytes / l.bandwidth, { kind: 'transfer', to, from, p: o.partition, start: now });
    }
    for (const o of r.retirements) byId.get(o.device)?.holds.delete(o.hash);
  }

  function graph(): ExecutionGraph {
    const req = devices[0];
    return {
      requester: req.id,
      stages: cfg.partitions.map((p, k) => ({ partition: k, inBytes: p.inBytes, devices: devices.filter((d) => d.known && d.holds.has(hashOf(k))).map((d) => d.id) })),
      outBytes: cfg.outBytes,
      computeMs: (k, id) => cfg.partitions[k].flops / byId.get(id)!.speed,
      link: (a, b) => (a === b ? { rttMs: 0, bandwidth: Infinity } : link(byId.get(a)!, byId.get(b)!)),
    };
  }

  function trouble(r: Req, now: number, why: string): void {
    const next = afterTrouble('frim', r.attempts, why);
    if (next.reissue) q.push(now, { kind: 'stage', req: r, stage: 0, pos: null, t0: now });
    else r.done = true;
  }

  /** One stage of one attempt: the two best copies the room believes up; the first to finish alive wins. */
  function stage(r: Req, k: number, pos: Device | null, t: number): void {
    if (k === 0) r.attempts++;
    const g = graph();
    const start: Position = pos ? { stage: k - 1, device: pos.id } : { stage: -1 };
    const chosen = rankNextStage(g, start).slice(0, COPIES).map((x) => byId.get(x.device)!);
    const from = pos ?? devices[0];
    const finishes = chosen.map((c) => ({ c, at: t + (c === from ? 0 : link(from, c).rttMs / 2 + cfg.partitions[k].inBytes / link(from, c).bandwidth) + g.computeMs(k, c.id) }));
    const ok = finishes.filter((f) => f.c.up && f.c.downAt > f.at).sort((a, b) => a.at - b.at)[0];
    if (ok) {
      times.record(k, ok.at - t);
      if (k + 1 < cfg.partitions.length) return q.push(ok.at, { kind: 'stage', req: r, stage: k + 1, pos: ok.c, t0: t });
      const back = ok.c === devices[0] ? 0 : link(ok.c, devices[0]).rttMs / 2 + cfg.outBytes / link(ok.c, devices[0]).bandwidth;
      r.done = true;
      answered++;
      latencies.push(ok.at + back - r.issued);
      return;
    }
    // nothing will come back: the requester notices at the stage's deadline, or when the detector declares every chosen copy failed
    // devices run each stage without queueing here (no contention is modelled): one request's load
    const deadline = t + stageDeadlineMs(times, k, r.attempts, 'frim', 1);
    const detected = chosen.length ? Math.max(...chosen.map((c) => detectionAt.get(c) ?? Infinity)) : t + 100;
    const at = Math.min(deadline, detected);
    if (at < end + DRAIN_MS) q.push(at, { kind: 'stage', req: r, stage: -1, pos: null, t0: t });
  }
  /** when the room will declare each device that is down or dying failed */
  const detectionAt = new Map<Device, number>();

  q.push(0, { kind: 'coordinate' });
  q.push(0, { kind: 'request' });
  q.push(0, { kind: 'sample' });
  // requests arrive until the end; those still in flight then get a minute to finish, so the last
  // moments do not count as lost
  for (let x = q.pop(); x && x.t <= end + DRAIN_MS; x = q.pop()) {
    const { t, e } = x;
    if (t > end && (e.kind === 'request' || e.kind === 'sample')) continue;
    events++;
    switch (e.kind) {
      case 'down':
        e.d.up = false;
        detectionAt.set(e.d, t + e.detectMs);
        q.push(t + e.detectMs, { kind: 'detected', d: e.d, at: t });
        q.push(e.back, { kind: 'rejoin', d: e.d });
        break;
      case 'detected':
        if (e.d.up) break;
        e.d.known = false;
        e.d.failures++;
        e.d.uptimeSec += (t - e.d.knownSince) / 1000;
        e.d.incoming.clear();
        failures++;
        detections.push(t - e.at);
        dirty = true;
        break;
      case 'rejoin':
        e.d.up = true;
        e.d.known = true;
        e.d.knownSince = t;
        detectionAt.delete(e.d);
        scheduleDown(e.d, t);
        dirty = true;
        break;
      case 'coordinate':
        if (dirty) coordinate(t);
        dirty = false;
        q.push(t + OFFLOADING.coordinateMs, { kind: 'coordinate' });
        break;
      case 'transfer': {
        const h = hashOf(e.p);
        e.from.sending--;
        e.to.incoming.delete(h);
        const ok = e.to.up && e.from.up && e.to.downAt > t && e.from.downAt > t;
        // a transfer cut short moved the bytes it had sent
        bytesMoved += ok ? cfg.partitions[e.p].bytes : cfg.partitions[e.p].bytes * Math.min(1, (Math.min(e.to.downAt, e.from.downAt) - e.start) / Math.max(1, t - e.start));
        if (ok) e.to.holds.add(h);
        dirty = true;
        break;
      }
      case 'request': {
        requests++;
        const r: Req = { issued: t, attempts: 0, done: false };
        q.push(t, { kind: 'stage', req: r, stage: 0, pos: null, t0: t });
        q.push(t + exp(arrivals, 1000 / cfg.requestsPerSec), { kind: 'request' });
        break;
      }
      case 'stage':
        if (e.req.done) break;
        if (e.stage < 0) trouble(e.req, t, 'no copy of a stage finished');
        else stage(e.req, e.stage, e.pos, t);
        break;
      case 'sample': {
        const g = graph();
        const counts = g.stages.map((s) => s.devices.length);
        const mean = counts.reduce((a, b) => a + b, 0) / counts.length;
        if (t > 0) copiesMin = Math.min(copiesMin, ...counts);
        copiesOverTime.push({ t: t / 1000, mean });
        q.push(t + 10_000, { kind: 'sample' });
        break;
      }
    }
  }
  const q50 = (xs: number[], p: number) => (xs.length ? quantile(xs, p) : null);
  const wall = performance.now() - wall0;
  return {
    policy, requests, answered, answeredFraction: requests ? answered / requests : 1,
    latencyP50Ms: q50(latencies, 0.5), latencyP99Ms: q50(latencies, 0.99), bytesMoved, failures, detectionP50Ms: q50(detections, 0.5),
    copiesMean: copiesOverTime.reduce((a, c) => a + c.mean, 0) / Math.max(1, copiesOverTime.length), copiesMin: Number.isFinite(copiesMin) ? copiesMin : 0, copiesOverTime,
    placementMsMean: placementMs.reduce((a, b) => a + b, 0) / Math.max(1, placementMs.length), events, msPerEvent: wall / Math.max(1, events),
  };
}

/** Heartbeat messages each device sends per second in a full mesh of `n` devices (a ping and a pong per peer per interval). */
export function heartbeatsPerDevicePerSec(n: number): number {
  return (2 * (n - 1) * 1000) / DEFAULT_DETECTOR.heartbeatMs;
}
