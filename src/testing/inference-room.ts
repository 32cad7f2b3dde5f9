/**
 * A room of devices for unit tests of distributed inference: the real Inference (requester,
 * router, stage runner), real failure detectors and the real wire protocol on every device; only
 * the links (frames delivered after `linkMs`), the compute (a tiny two-stage model in plain JS)
 * and the clock are the test's. Devices can be killed (silent: no heartbeats, no frames) or hung
 * (heartbeats go on, compute never answers), and their sessions can start cold (their first run
 * compiles kernels, as on WebGPU: see `coldFor`).
 */
import { DEFAULT_DETECTOR } from '../core/detector.js';
import type { Tensor } from '../core/tensors.js';
import { DeviceState } from '../worker/device-state.js';
import type { ChainStage } from '../core/device-protocol.js';
import type { Computed, Serving } from '../worker/inference/context.js';
import { Inference } from '../worker/inference/inference.js';
import { FakeClock } from './fake-clock.js';
import { TINY_CHAIN, TINY_SAMPLE, type TinyModel } from './tiny-models.js';

const KEY = 'ab'.repeat(32);
interface Member {
  id: string;
  state: DeviceState;
  inference: Inference;
  holds: Set<string>;
  dead: boolean;
  hung: boolean;
  computeMs: number;
  /** until then (mono ms) its sessions have not run: a run costs `coldMs` more, and it says so to the room */
  coldUntil: number;
  coldMs: number;
}

export interface RoomOptions {
  /** per stage, the devices holding a copy (devices are named by index: d0, d1, …) */
  holders: number[][];
  devices: number;
  linkMs?: number;
  computeMs?: number;
  /** the model the room serves (default: the two-stage TINY_CHAIN) */
  model?: TinyModel;
  /** devices announce what a warm run of their sessions takes (their own warm-up measured it), as the real runner does */
  announceWarmMs?: boolean;
}

export class InferenceRoom {
  readonly clock = new FakeClock();
  readonly members: Member[] = [];
  private readonly linkMs: number;
  private readonly announceWarmMs: boolean;
  readonly model: TinyModel;

  constructor(opts: RoomOptions) {
    this.linkMs = opts.linkMs ?? 1;
    this.announceWarmMs = opts.announceWarmMs ?? false;
    this.model = opts.model ?? TINY_CHAIN;
    const ids = Array.from({ length: opts.devices }, (_, i) => `device${String(i).padStart(6, '0')}`);
    for (const id of ids) {
      const state = new DeviceState(id, 'room', DEFAULT_DETECTOR, this.clock);
      const holds = new Set(opts.holders.flatMap((devices, stage) => (devices.includes(ids.indexOf(id)) ? [this.model.manifest.partitions[stage].sha256] : [])));
      const member = { id, state, holds, dead: false, hung: false, computeMs: opts.computeMs ?? 5, coldUntil: 0, coldMs: 0 } as Member;
      member.inference = new Inference({
        deviceId: id, room: 'room', state,
        serving: () => this.serving(member),
        send: (to, frames) => this.deliver(member, to, frames),
        compute: (stages, feeds, want) => this.compute(member, stages, feeds, want),
        canCompute: () => !member.dead,
        mono: this.clock.mono, epoch: this.clock.epoch, timers: this.clock,
      }, () => Promise.resolve(TINY_SAMPLE));
      // as the device worker wires it: a declared failure re-routes the requests it strands
      state.onMembership = (peer, change) => {
        if (change === 'failed') member.inference.onFailed(peer);
      };
      this.members.push(member);
    }
    for (const m of this.members) for (const p of this.members) if (p !== m) m.state.linkUp(p.id, p.id, 'wasm');
  }

  device(i: number): Member {
    return this.members[i];
  }

  /** The device stops: no heartbeats, no frames in or out, its compute never answers. */
  kill(i: number): void {
    this.members[i].dead = true;
  }

  /** The device's compute never answers (a hung GPU); it still answers heartbeats. */
  hang(i: number): void {
    this.members[i].hung = true;
  }

  /**
   * The device's sessions stay cold for `ms` (its own warm-up compiling kernels, as on WebGPU): a
   * stage run there meanwhile costs `penaltyMs` more.
   */
  coldFor(i: number, ms: number, penaltyMs: number): void {
    this.members[i].coldUntil = this.clock.mono() + ms;
    this.members[i].coldMs = penaltyMs;
  }

  private serving(m: Member): Serving {
    const up = (id: string) => id === m.id || m.state.peerStates().some((p) => p.deviceId === id && p.status !== 'failed');
    return {
      key: KEY,
      manifest: this.model.manifest,
      replicas: this.model.manifest.partitions.map((p) => this.members.filter((x) => x.holds.has(p.sha256) && up(x.id)).map((x) => x.id).sort()),
      holds: (h) => m.holds.has(h),
      keeps: (h) => m.holds.has(h),
      warm: (_stage, device) => (this.members.find((x) => x.id === device)?.coldUntil ?? 0) <= this.clock.mono(),
      // devices announce a warm run's time only when the test says so (as an older device, otherwise)
      warmMs: (_stage, device) => {
        const x = this.members.find((y) => y.id === device);
        return x && this.announceWarmMs && x.coldUntil <= this.clock.mono() ? x.computeMs : undefined;
      },
    };
  }

  private deliver(from: Member, to: string, frames: Uint8Array[]): void {
    const target = this.members.find((x) => x.id === to);
    for (const f of frames) {
      const copy = f.slice().buffer as ArrayBuffer;
      this.clock.set(() => {
        if (!from.dead && target && !target.dead) target.inference.onFrame(from.id, copy);
      }, this.linkMs);
    }
  }

  /** Runs the partitions one after another, `computeMs` each, as the compute worker would. */
  private compute(m: Member, stages: ChainStage[], feeds: Record<string, Tensor>, want: string[]): Promise<Computed> {
    const env = { ...feeds };
    let last: Record<string, Tensor> = {};
    for (const s of stages) Object.assign(env, (last = this.model.compute(this.model.manifest.partitions.findIndex((p) => p.sha256 === s.hash), env)));
    const outputs = want.length ? Object.fromEntries(want.map((k) => [k, env[k]])) : last;
    const ms = m.computeMs * stages.length + (m.coldUntil > this.clock.mono() ? m.coldMs : 0);
    return new Promise((resolve) => {
      if (m.hung || m.dead) return;
      this.clock.set(() => resolve({ outputs, ms, stageMs: stages.map(() => m.computeMs) }), ms);
    });
  }

  /** Runs the room for `ms`: heartbeats between live devices every beat, detectors and inference ticks. */
  async run(ms: number): Promise<void> {
    const beat = DEFAULT_DETECTOR.heartbeatMs;
    for (let t = 0; t < ms; t += beat) {
      for (const m of this.members) {
        if (m.dead) continue;
        for (const p of this.members) if (p !== m && !p.dead) m.state.rtt(p.id, 2 * this.linkMs);
        m.state.check();
        m.inference.tick();
      }
      await this.clock.advance(Math.min(beat, ms - t));
    }
  }
}
