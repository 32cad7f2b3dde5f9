/**
 * Distributed inference in the device worker (FRIM section 4.3): wires the stage runner (this
 * device runs partitions for others), the requester (this device asks the room) and the router
 * (execution graph and resource confirmation) to the wire. The compute itself runs in the leader
 * tab's compute worker, never on a thread that keeps the heartbeat clock.
 */
import { MAX_FRAME_BYTES, decodeFrame, encodeFrame, roomTag, type InferenceMode, type Message } from '../../core/protocol.js';
import { WARM_UP } from '../../core/policy.js';
import { RouteStats } from '../../core/route-stats.js';
import { packTensors, splitParts, type Tensor, type TensorEntry } from '../../core/tensors.js';
import type { InferenceView } from '../../core/views.js';
import { isUp } from '../device-state.js';
import type { ChooseNext, InferenceContext, InferenceDeps, Serving } from './context.js';
import { Requester, type LoadSample } from './requester.js';
import { Hedger } from './hedger.js';
import { Router } from './router.js';
import { StageRunner } from './stage-runner.js';

export type { InferenceDeps, Serving } from './context.js';

/** room left in a frame for the header and the msgpack body of a tensor part */
const PART_BYTES = MAX_FRAME_BYTES - 8 * 1024;

export class Inference implements InferenceContext {
  readonly tag: number;
  readonly stats = new RouteStats();
  readonly runner: StageRunner;
  readonly requester: Requester;
  readonly router: Router;
  readonly hedger: Hedger;
  private warmedFor = '';
  private warmedAt = -Infinity;

  constructor(readonly deps: InferenceDeps, loadSample: LoadSample) {
    this.tag = roomTag(deps.room);
    this.router = new Router({
      self: deps.deviceId, state: deps.state, stats: this.stats, mono: deps.mono,
      send: (to, m) => this.send(to, m),
      canRunHere: (key, stage) => this.runner.canRun(key, stage),
      queuedHere: () => this.runner.queued,
      timers: deps.timers,
    });
    this.hedger = new Hedger(this);
    this.runner = new StageRunner(this);
    this.requester = new Requester(this, loadSample);
  }

  get self(): string {
    return this.deps.deviceId;
  }

  readonly chooseNext: ChooseNext = (...args) => this.router.chooseNext(...args);

  graphFor(s: Serving, requester: string, exclude: ReadonlySet<string>) {
    return this.router.graphFor(s, requester, exclude);
  }

  late(device: string): void {
    this.router.late(device);
  }

  queuedAt(device: string): number {
    return this.router.queuedAt(device);
  }

  log(deviceId: string | null, detail: string): void {
    this.deps.state.log('inference', deviceId, detail);
  }

  upPeers(): string[] {
    return this.deps.state.peerStates().filter((p) => isUp(p.status)).map((p) => p.deviceId);
  }

  failed(): Set<string> {
    return new Set(this.deps.state.peerStates().filter((p) => p.status === 'failed').map((p) => p.deviceId));
  }

  send(to: string, message: Message, payload?: Uint8Array): void {
    if (to === this.self) return this.dispatch(this.self, message, payload ?? new Uint8Array(0));
    this.deps.send(to, [encodeFrame(message, this.tag, payload)]);
  }

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

  // ---- the wire (frames already checked once by the tab; checked again here, at our boundary) ----

  onFrame(from: string, data: ArrayBuffer): void {
    const d = decodeFrame(data, this.tag);
    if (!d.ok) return this.deps.state.unusable(from, 'malformed frame', `${d.error}: ${d.detail}`);
    this.dispatch(from, d.message, d.payload);
  }

  private dispatch(from: string, m: Message, payload: Uint8Array): void {
    switch (m.type) {
      case 'stage-confirm':
        return this.send(from, { type: 'stage-ack', req: m.req, stage: m.stage, ok: this.runner.canRun(m.key, m.stage), queued: this.runner.queued });
      case 'stage-ack':
        return this.router.onAck(from, m);
      case 'stage-run':
        return this.runner.onRun(from, m, payload);
      case 'stage-done':
        this.stats.recordCompute(m.stage, m.by, m.computeMs);
        this.router.onTime(m.by);
        this.hedger.onDone(m.req, m.stage);
        this.runner.onDone(m);
        return this.requester.onDone(m);
      case 'stage-result':
      case 'stage-error':
      case 'stage-exit':
        // answers to a request this device never made: a confused or hostile peer, counted and shown
        if (!this.requester.made(m.req)) return this.deps.state.unusable(from, 'unexpected frame', `${m.type} for a request this device did not make`);
        if (m.type === 'stage-result') return this.requester.onResult(m, payload);
        if (m.type === 'stage-error') return this.requester.onError(from, m);
        return this.requester.onExit(m, payload);
      default:
        return this.deps.state.unusable(from, 'unexpected frame', `${m.type} is not for inference`);
    }
  }

  /** The connection to a device closed (it may be back, but what we sent it is lost). */
  onLinkDown(deviceId: string): void {
    this.hedger.onFailed(deviceId);
  }

  onFailed(deviceId: string): void {
    this.hedger.onFailed(deviceId);
    this.runner.onFailed(deviceId);
    this.requester.onFailed(deviceId);
  }

  tick(): void {
    this.warmUp();
    this.hedger.tick();
    this.requester.tick();
    this.runner.tick(this.deps.mono());
  }

  /**
   * WARM_UP: a few requests of the room's own whenever the devices ready to run the partitions
   * change. Ready: their sessions have run once (each device runs its own on zeros as it loads
   * them); before that a request would only queue behind the compiling of kernels.
   */
  private warmUp(): void {
    const s = this.deps.serving();
    if (!s || !this.deps.canCompute()) return;
    const ready = s.replicas.map((r, stage) => r.filter((d) => s.warm(stage, d)));
    if (ready.some((r) => !r.length)) return;
    if (s.manifest.partitions.reduce((a, p) => a + p.flops, 0) > WARM_UP.maxFlops) return;
    const holders = `${s.key}|${ready.map((r) => r.join()).join(';')}`;
    const now = this.deps.mono();
    if (holders === this.warmedFor || now - this.warmedAt < WARM_UP.minGapMs) return;
    this.warmedFor = holders;
    this.warmedAt = now;
    // a room in use keeps itself warm: this device's own run, or stages it ran for others moments
    // ago (another device's requests, or the room's warm-up); a warm-up now would only compete with
    // them (bench:inference: a second wave 1.9 s into the user's first requests took them from
    // 15–60 ms to 100–240 ms)
    if (this.requester.active || now - this.runner.lastRanAt < WARM_UP.minGapMs) return;
    // the devices measured their sessions as they warmed them: where a request's compute alone is
    // past maxRequestMs, the first warm-up request would end the warm-up, having only loaded the room
    const computeMs = ready.reduce((a, r, stage) => a + Math.min(...r.map((d) => s.warmMs(stage, d) ?? 0)), 0);
    if (computeMs >= WARM_UP.maxRequestMs) return;
    this.requester.probe(WARM_UP.requests);
  }

  run(opts: { count: number; ratePerSec: number; mode: InferenceMode; path?: string[]; batch?: number }): void {
    void this.requester.run(opts);
  }

  view(): InferenceView {
    return { ...this.requester.view(), running: { ...this.runner.view(), ...this.hedger.view(), warmUps: this.requester.warmUps } };
  }
}
