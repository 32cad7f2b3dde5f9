/**
 * Distributed inference in the device worker (FRIM section 4.3): the glue between the stage
 * runner (this device runs partitions for others), the requester (this device asks the room), the
 * execution graph and the wire. Decisions live here; the compute itself runs in the leader tab's
 * compute worker, never on a thread that keeps the heartbeat clock.
 */
import { rankNextStage, type Position } from '../core/execution-graph.js';
import type { Manifest } from '../core/onnx/manifest.js';
import { MAX_FRAME_BYTES, decodeFrame, encodeFrame, roomTag, type InferenceMode, type Message } from '../core/protocol.js';
import { RouteStats } from '../core/route-stats.js';
import { packTensors, splitParts, type Tensor, type TensorEntry } from '../core/tensors.js';
import type { DeviceState } from './device-state.js';
import { Requester } from './requester.js';
import type { InferenceView } from './snapshot.js';
import { MAX_JOBS, StageRunner } from './stage-runner.js';

/** The room's offload as inference needs it. */
export interface Serving {
  key: string;
  manifest: Manifest;
  /** per stage: live devices holding a verified copy */
  replicas: string[][];
  holds(hash: string): boolean;
  /** bytes this device offers for copies */
  budget: number;
}

export interface InferenceDeps {
  deviceId: string;
  room: string;
  state: DeviceState;
  serving(): Serving | null;
  send(to: string, frames: Uint8Array[]): void;
  /** runs one partition in the leader tab's compute worker */
  compute(hash: string, feeds: Record<string, Tensor>): Promise<{ outputs: Record<string, Tensor>; ms: number }>;
  canCompute(): boolean;
  mono(): number;
  epoch(): number;
}

/** room left in a frame for the header and the msgpack body of a tensor part */
const PART_BYTES = MAX_FRAME_BYTES - 8 * 1024;
const CONFIRM_TIMEOUT_MS = 300;
const UNRESPONSIVE_MS = 2000;
/** how long an acknowledgement with room to spare stands for further jobs */
const LEASE_MS = 1000;

export class Inference {
  readonly tag: number;
  readonly stats = new RouteStats();
  readonly runner: StageRunner;
  readonly requester: Requester;
  private readonly acks = new Map<string, (ok: boolean, queued: number) => void>();
  private readonly leases = new Map<string, { until: number; slots: number }>();

  constructor(readonly deps: InferenceDeps) {
    this.tag = roomTag(deps.room);
    this.runner = new StageRunner(this);
    this.requester = new Requester(this);
  }

  get self(): string {
    return this.deps.deviceId;
  }

  log(kind: 'inference', deviceId: string | null, detail: string): void {
    this.deps.state.log(kind, deviceId, detail);
  }

  isUp(device: string): boolean {
    if (device === this.self) return true;
    const p = this.deps.state.peerStates().find((x) => x.deviceId === device);
    return !!p && (p.status === 'alive' || p.status === 'suspected');
  }

  upPeers(): string[] {
    return this.deps.state.peerStates().filter((p) => p.status === 'alive' || p.status === 'suspected').map((p) => p.deviceId);
  }

  send(to: string, message: Message, payload?: Uint8Array): void {
    if (to === this.self) return this.dispatch(this.self, message, payload ?? new Uint8Array(0));
    this.deps.send(to, [encodeFrame(message, this.tag, payload)]);
  }

  /** Sends a tensor set as one frame per part; `make` builds each part's message. */
  sendTensors(to: string, tensors: Record<string, Tensor>, make: (part: number, parts: number, table: TensorEntry[] | null) => Message): number {
    const { table, payload } = packTensors(tensors);
    const parts = splitParts(payload, PART_BYTES);
    if (to === this.self) {
      parts.forEach((p, i) => this.dispatch(this.self, make(i, parts.length, i === 0 ? table : null), p));
      return payload.length;
    }
    this.deps.send(to, parts.map((p, i) => encodeFrame(make(i, parts.length, i === 0 ? table : null), this.tag, p)));
    return payload.length;
  }

  // ---- routing: the execution graph and resource confirmation ----

  rttMs(a: string, b: string): number {
    if (a === b) return 0;
    const peers = this.deps.state.peerStates();
    const known = peers.map((p) => p.rttMs).filter((x): x is number => x !== null).sort((x, y) => x - y);
    const typical = known.length ? known[Math.floor(known.length / 2)] : 2;
    const other = a === this.self ? b : b === this.self ? a : null;
    return other ? peers.find((p) => p.deviceId === other)?.rttMs ?? typical : typical;
  }

  graphFor(s: Serving, requester: string, exclude: ReadonlySet<string>) {
    return this.stats.graph({
      requester,
      stages: s.manifest.partitions.map((p, i) => ({ partition: p.id, flops: p.flops, devices: s.replicas[i].filter((d) => !exclude.has(d) && this.isUp(d)) })),
      outBytes: s.manifest.model.outputs.length * 64,
      rttMs: (a, b) => this.rttMs(a, b),
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
    const ranked = rankNextStage(this.graphFor(s, requester, skip), from).map((r) => r.device);
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

  /** devices that let a confirmation time out, skipped until then (they are dead or drowning) */
  private readonly unresponsive = new Map<string, number>();

  /**
   * Resource confirmation. A device that acknowledged with room to spare moments ago is taken at
   * its word for a few more jobs (a short lease), so a steady stream does not pay a round trip per
   * stage; anything else is asked.
   */
  private confirm(to: string, req: string, stage: number, key: string): Promise<boolean> {
    if (to === this.self) return Promise.resolve(this.runner.canRun(key, stage));
    const lease = this.leases.get(`${to}#${stage}`);
    if (lease && lease.until > this.deps.mono() && lease.slots > 0) {
      lease.slots--;
      return Promise.resolve(true);
    }
    const k = `${req}#${stage}@${to}`;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.acks.delete(k);
        this.unresponsive.set(to, this.deps.mono() + UNRESPONSIVE_MS);
        resolve(false);
      }, CONFIRM_TIMEOUT_MS);
      this.acks.set(k, (ok, queued) => {
        clearTimeout(timer);
        this.acks.delete(k);
        if (ok) this.leases.set(`${to}#${stage}`, { until: this.deps.mono() + LEASE_MS, slots: Math.max(0, MAX_JOBS - 2 - queued) });
        else this.leases.delete(`${to}#${stage}`);
        resolve(ok);
      });
      this.send(to, { type: 'stage-confirm', req, stage, key });
    });
  }

  // ---- the wire ----

  onFrame(from: string, data: ArrayBuffer): void {
    const d = decodeFrame(data, this.tag);
    if (!d.ok) return this.deps.state.dropped(from, from, 'malformed frame', `${d.error}: ${d.detail}`);
    this.dispatch(from, d.message, d.payload);
  }

  dispatch(from: string, m: Message, payload: Uint8Array): void {
    switch (m.type) {
      case 'stage-confirm':
        return this.send(from, { type: 'stage-ack', req: m.req, stage: m.stage, ok: this.runner.canRun(m.key, m.stage), queued: this.runner.queued });
      case 'stage-ack':
        return this.acks.get(`${m.req}#${m.stage}@${from}`)?.(m.ok, m.queued);
      case 'stage-run':
        return this.runner.onRun(from, m, payload);
      case 'stage-done':
        this.stats.recordCompute(m.stage, m.by, m.computeMs);
        this.runner.onDone(m);
        return this.requester.onDone(m);
      case 'stage-result':
        return this.requester.onResult(m, payload);
      case 'stage-error':
        return this.requester.onError(from, m);
      default:
        return;
    }
  }

  onFailed(deviceId: string): void {
    this.requester.onFailed(deviceId);
  }

  tick(): void {
    this.requester.tick();
    this.runner.tick(this.deps.mono());
  }

  run(opts: { count: number; ratePerSec: number; mode: InferenceMode }): void {
    void this.requester.run(opts);
  }

  view(): InferenceView {
    return { ...this.requester.view(), running: this.runner.view() };
  }
}

