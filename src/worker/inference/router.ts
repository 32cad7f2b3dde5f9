/**
 * Routing (FRIM 4.3): the execution graph of the room's offload, which devices run the next stage
 * (ranked by the shortest paths through it), and resource confirmation — a device is asked before
 * a stage is sent to it, and one that refuses or does not answer is passed over for the next.
 */
import { cheapestFirst, rankNextStage, type ExecutionGraph, type Position } from '../../core/execution-graph.js';
import { CONFIRMATION, HEDGING, STAGE_QUEUE } from '../../core/policy.js';
import type { Message } from '../../core/protocol.js';
import type { RouteStats } from '../../core/route-stats.js';
import { Calls, CallTimeout, type Timers } from '../../shared/calls.js';
import { isUp, type DeviceState } from '../device-state.js';
import type { Serving } from './context.js';

export interface RouterDeps {
  self: string;
  state: Pick<DeviceState, 'peerStates'>;
  stats: RouteStats;
  mono(): number;
  send(to: string, message: Message): void;
  /** whether this device can take `stage` of offload `key` now */
  canRunHere(key: string, stage: number): boolean;
  /** jobs queued or running on this device */
  queuedHere(): number;
  timers?: Timers;
}

type Ack = { ok: boolean; queued: number };
const ackKey = (req: string, stage: number, device: string) => `${req}#${stage}@${device}`;

export class Router {
  private readonly acks: Calls<string, Ack>;
  /** per device and stage: an acknowledgement with room to spare, taken at its word until `until` */
  private readonly leases = new Map<string, Map<number, { until: number; slots: number }>>();
  /** devices that let a confirmation time out, skipped until then (they are dead or drowning) */
  private readonly unresponsive = new Map<string, number>();
  /** devices that were late with a stage: ranked after every other copy until then, or until they finish one */
  private readonly lateUntil = new Map<string, number>();
  /** per device: its queue as its last acknowledgement gave it, plus the jobs sent there since */
  private readonly queues = new Map<string, { jobs: number; at: number }>();

  constructor(private readonly deps: RouterDeps) {
    this.acks = new Calls(deps.timers);
  }

  isUp(device: string): boolean {
    if (device === this.deps.self) return true;
    const p = this.deps.state.peerStates().find((x) => x.deviceId === device);
    return !!p && isUp(p.status);
  }

  /** Measured round trip between two devices; the room's median where one of them is not this device. */
  rttMs(a: string, b: string): number {
    if (a === b) return 0;
    const peers = this.deps.state.peerStates();
    const known = peers.map((p) => p.rttMs).filter((x): x is number => x !== null).sort((x, y) => x - y);
    const typical = known.length ? known[Math.floor(known.length / 2)] : 2;
    const other = a === this.deps.self ? b : b === this.deps.self ? a : null;
    return other ? peers.find((p) => p.deviceId === other)?.rttMs ?? typical : typical;
  }

  graphFor(s: Serving, requester: string, exclude: ReadonlySet<string>): ExecutionGraph {
    this.seedStats(s);
    return this.deps.stats.graph({
      requester,
      stages: s.manifest.partitions.map((p, i) => ({ partition: p.id, flops: p.flops, devices: s.replicas[i].filter((d) => !exclude.has(d) && this.isUp(d)) })),
      outBytes: s.manifest.model.outputs.length * 64,
      rttMs: (a, b) => this.rttMs(a, b),
    });
  }

  /**
   * Each device measures its own sessions as it warms them and announces a warm run's time: until
   * requests measure a device on a stage, routing and hedging go by that, so the first requests
   * neither guess nor send every stage twice for want of a measure.
   */
  private seedStats(s: Serving): void {
    s.replicas.forEach((devices, stage) => {
      for (const d of devices) {
        if (this.deps.stats.measuredMs(stage, d) !== undefined) continue;
        const ms = s.warmMs(stage, d);
        if (ms !== undefined) this.deps.stats.recordCompute(stage, d, ms);
      }
    });
  }

  /**
   * Up to `want` devices for the stage after `from`, best path first, each confirmed before it is
   * used (an overloaded or departed device refuses, and the next one on the ranking is asked).
   */
  async chooseNext(s: Serving, req: string, requester: string, from: Position, want: number, exclude: ReadonlySet<string> = new Set()): Promise<string[]> {
    const stage = from.stage + 1;
    const now = this.deps.mono();
    const skip = new Set([...exclude, ...[...this.unresponsive].filter(([, until]) => until > now).map(([d]) => d)]);
    // a device late with a stage (hung, or drowning) goes last: it is asked only when no other copy can take it
    const isLate = (d: string) => (this.lateUntil.get(d) ?? 0) > now;
    // one copy per stage: the best path alone would send every request to the same device, so a
    // device's queue counts (its jobs x its compute time for this stage) and the load spreads
    const flops = s.manifest.partitions[stage]?.flops ?? 0;
    const byRank = rankNextStage(this.graphFor(s, requester, skip), from)
      .map((r) => ({ device: r.device, costMs: r.costMs + this.queuedAt(r.device) * this.deps.stats.computeMs(stage, r.device, flops) }))
      .sort(cheapestFirst)
      .map((r) => r.device);
    // a copy whose session has not run yet compiles its kernels first (seconds on WebGPU): warm copies go first
    const isCold = (d: string) => !s.warm(stage, d);
    const ranked = [...byRank.filter((d) => !isLate(d) && !isCold(d)), ...byRank.filter((d) => !isLate(d) && isCold(d)), ...byRank.filter(isLate)];
    // ask the best few at once and take the first `want` that accept: a dead or drowning device
    // costs nothing while others answer; the rest of the ranking is the fall-through
    const chosen = await this.firstAccepting(ranked.slice(0, want + 1), want, req, stage, s.key);
    for (const d of ranked.slice(want + 1)) {
      if (chosen.length >= want) break;
      if (await this.confirm(d, req, stage, s.key)) chosen.push(d);
    }
    // best-ranked first, so the primary copy is the one the graph prefers
    return chosen.sort((a, b) => ranked.indexOf(a) - ranked.indexOf(b));
  }

  /** Jobs waiting at `device` as far as this device knows: what its last acknowledgement said (within a lease's time) plus what was sent since. */
  queuedAt(device: string): number {
    if (device === this.deps.self) return this.deps.queuedHere();
    const q = this.queues.get(device);
    return q && this.deps.mono() - q.at <= CONFIRMATION.leaseMs ? q.jobs : 0;
  }

  /** `device` was late with a stage (the hedger sent its second copy). */
  late(device: string): void {
    if (device !== this.deps.self) this.lateUntil.set(device, this.deps.mono() + HEDGING.lateMs);
  }

  /** `device` finished a stage: it is not hung, whatever it was late with. */
  onTime(device: string): void {
    this.lateUntil.delete(device);
  }

  /** A device's answer to our `stage-confirm`. */
  onAck(from: string, m: Extract<Message, { type: 'stage-ack' }>): void {
    this.acks.settle(ackKey(m.req, m.stage, from), { ok: m.ok, queued: m.queued });
  }

  private firstAccepting(devices: string[], want: number, req: string, stage: number, key: string): Promise<string[]> {
    return new Promise((resolve) => {
      const ok: string[] = [];
      let pending = devices.length;
      if (!pending) return resolve(ok);
      for (const d of devices) {
        void this.confirm(d, req, stage, key).then((yes) => {
          pending--;
          if (yes) ok.push(d);
          if (ok.length >= want || pending === 0) resolve(ok.slice(0, want));
        });
      }
    });
  }

  /**
   * Resource confirmation. A device that acknowledged with room to spare moments ago is taken at
   * its word for a few more jobs (a short lease), so a steady stream does not pay a round trip per
   * stage; anything else is asked.
   */
  private async confirm(to: string, req: string, stage: number, key: string): Promise<boolean> {
    if (to === this.deps.self) return this.deps.canRunHere(key, stage);
    const lease = this.leases.get(to)?.get(stage);
    if (lease && lease.until > this.deps.mono() && lease.slots > 0) {
      lease.slots--;
      const q = this.queues.get(to);
      if (q) q.jobs++;
      return true;
    }
    try {
      const ack = await this.acks.call(ackKey(req, stage, to), CONFIRMATION.timeoutMs, () => this.deps.send(to, { type: 'stage-confirm', req, stage, key }));
      const leases = this.leases.get(to) ?? new Map<number, { until: number; slots: number }>();
      this.leases.set(to, leases);
      this.queues.set(to, { jobs: ack.queued + (ack.ok ? 1 : 0), at: this.deps.mono() });
      if (ack.ok) leases.set(stage, { until: this.deps.mono() + CONFIRMATION.leaseMs, slots: Math.max(0, STAGE_QUEUE.maxJobs - CONFIRMATION.leaseMargin - ack.queued) });
      else leases.delete(stage);
      return ack.ok;
    } catch (e) {
      if (!(e instanceof CallTimeout)) throw e;
      this.unresponsive.set(to, this.deps.mono() + CONFIRMATION.unresponsiveMs);
      return false;
    }
  }
}
