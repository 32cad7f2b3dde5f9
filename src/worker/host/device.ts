/**
 * One device (browser profile) in one room: its identity, failure detectors and event log, its
 * offloading and inference, and its tabs. Handles each checked message from a tab, and publishes
 * the device's state to every tab.
 */
import { DEFAULT_DETECTOR } from '../../core/detector.js';
import type { TabMessageOf, TabToWorker } from '../../core/device-protocol.js';
import { peekRoute } from '../../core/protocol.js';
import type { Backend } from '../../core/protocol.js';
import type { DefaultBudget } from '../../core/room.js';
import type { DeviceSnapshot, SignallingView, WorkerKind } from '../../core/views.js';
import { realTimers } from '../../shared/calls.js';
import { saveDeviceName } from '../../store/identity.js';
import { sampleFromServer } from '../../store/sample.js';
import { DeviceState, type Clock } from '../device-state.js';
import { Inference } from '../inference/inference.js';
import { Offloader } from '../offload/offloader.js';
import { LeaderCompute } from './leader-compute.js';
import { Tabs, type Tab } from './tabs.js';

export interface Identity {
  deviceId: string;
  room: string;
  /** what people call this device; the user can change it */
  name: string;
  /** browser and system, as the user agent says */
  platform: string;
  backend: Backend;
  backendDetail: string;
  workerKind: WorkerKind;
}

export interface DeviceDeps {
  clock: Clock;
  /** what the browser reports about its memory and storage, for the default replica budget */
  budgetDefault(heldBytes: number): Promise<DefaultBudget>;
  /** performance.timeOrigin of this worker, to place a tab's timestamps on our clock */
  timeOrigin: number;
}

export class Device {
  readonly state: DeviceState;
  readonly offloader: Offloader;
  readonly inference: Inference;
  readonly tabs: Tabs;
  private readonly compute: LeaderCompute;
  private signalling: SignallingView = { state: 'connecting', detail: '', attempts: 0, since: null };

  constructor(readonly identity: Identity, private readonly deps: DeviceDeps) {
    const { deviceId, room } = identity;
    const clock = deps.clock;
    this.state = new DeviceState(deviceId, room, DEFAULT_DETECTOR, clock);
    this.tabs = new Tabs({
      leaderChanged: (next, previous) => {
        if (next) this.state.log('leader', null, previous ? `tab ${next.id} took over the connections from tab ${previous.id}` : `tab ${next.id} holds the connections`);
        this.publish(true);
      },
      leaderLeft: () => {
        this.state.tickForgotten();
        this.compute.failAll('the tab running it closed');
        // its sessions went with it; the next leader reports its own as it loads them
        this.offloader.setSessions({}, []);
      },
      changed: () => (this.state.dirty = true),
    });
    this.compute = new LeaderCompute(() => this.tabs.leader);
    const send = (to: string, frames: Uint8Array[]) => this.sendFrames(to, frames);
    this.offloader = new Offloader({ deviceId, room, state: this.state, send, mono: clock.mono, epoch: clock.epoch, budgetDefault: deps.budgetDefault });
    this.inference = new Inference(
      { deviceId, room, state: this.state, serving: () => this.offloader.serving(), send, compute: (stages, feeds, want) => this.compute.run(stages, feeds, want), canCompute: () => !!this.tabs.leader, mono: clock.mono, epoch: clock.epoch, timers: realTimers },
      sampleFromServer,
    );
    this.state.onMembership = (id, change) => {
      this.offloader.onMembership(id, change);
      if (change === 'failed') this.inference.onFailed(id);
    };
    // the leader tab holds the links: it closes this one and refuses the device for a while
    this.state.onFlooding = (id, reason) => this.tabs.leader?.port.post({ kind: 'cut-off', deviceId: id, reason });
    void this.offloader.start().catch((e: unknown) => this.state.log('storage', null, `could not read this browser's replica cache: ${(e as Error).message}`));
  }

  private sendFrames(to: string, frames: Uint8Array[]): void {
    const leader = this.tabs.leader;
    if (!leader) return;
    const buffers = frames.map((f) => (f.byteOffset === 0 && f.byteLength === f.buffer.byteLength ? f.buffer : f.slice().buffer) as ArrayBuffer);
    leader.port.post({ kind: 'send', to, frames: buffers }, buffers);
  }

  snapshot(): DeviceSnapshot {
    const id = this.identity;
    return this.state.snapshot({
      name: id.name,
      platform: id.platform,
      backend: id.backend,
      backendDetail: id.backendDetail,
      workerKind: id.workerKind,
      tabs: this.tabs.list.length,
      leaderTabId: this.tabs.leader?.id ?? null,
      inRoom: !this.state.away,
      signalling: this.signalling,
      heartbeatMs: DEFAULT_DETECTOR.heartbeatMs,
      offload: this.offloader.view(),
      inference: this.inference.view(),
    });
  }

  publish(force = false): void {
    if (!this.state.dirty && !force) return;
    const snap = this.snapshot();
    this.state.dirty = false;
    for (const t of this.tabs.list) t.port.post({ kind: 'state', state: snap });
  }

  /** The heartbeat clock's beat: offloading, inference and the leader's warm-up move on. */
  tick(): void {
    const leader = this.tabs.leader;
    if (leader) {
      this.state.tickSent();
      leader.port.post({ kind: 'tick' });
    }
    this.offloader.tick();
    this.inference.tick();
    this.compute.warm(this.offloader.serving());
  }

  /** A checked message from one of this device's tabs (not `register`, which the host handles). */
  handle(tab: Tab, msg: Exclude<TabToWorker, { kind: 'register' }>): void {
    const fromLeader = tab === this.tabs.leader;
    const state = this.state;
    switch (msg.kind) {
      case 'tab-pong':
        return;
      case 'ticked':
        if (fromLeader) state.tickAnswered();
        return;
      case 'leaving':
        return this.tabs.drop(tab);
      case 'link-up':
        if (fromLeader) state.linkUp(msg.deviceId, msg.name, msg.backend);
        return;
      case 'peer-renamed':
        if (fromLeader) state.renamed(msg.deviceId, msg.name);
        return;
      case 'peer-left':
        if (fromLeader && state.departed(msg.deviceId, msg.how === 'said' ? 'it said it is leaving (its last tab closed, or its user left)' : 'it closed its connection')) this.publish(true);
        return;
      case 'peer-handover':
        if (fromLeader) state.handover(msg.deviceId);
        return;
      case 'link-down':
        if (fromLeader) {
          state.linkDown(msg.deviceId, msg.reason, msg.cutOffMs);
          // frames to it go nowhere now: the stages it was given go to their second device at once
          this.inference.onLinkDown(msg.deviceId);
        }
        return;
      case 'rtt':
        if (fromLeader) state.rtt(msg.deviceId, msg.rttMs, msg.at - this.deps.timeOrigin);
        return;
      case 'rejected':
        return state.rejected(msg.deviceId, msg.peerId, msg.reason);
      case 'dropped':
        return state.dropped(msg.deviceId, msg.peerId, msg.reason, msg.detail, msg.count);
      case 'ice':
        return state.ice(msg.deviceId, msg.state);
      case 'signalling':
        if (!fromLeader) return;
        // one log line per change of state, not per reconnect attempt while the server is away
        if (msg.state !== this.signalling.state) state.log('signalling', null, `${msg.state}${msg.detail ? `: ${msg.detail}` : ''}`);
        this.signalling = { state: msg.state, detail: msg.detail, attempts: msg.attempts, since: msg.since };
        state.dirty = true;
        return;
      case 'frame':
        if (!fromLeader) return;
        if (peekRoute(new Uint8Array(msg.data)) === 'inference') this.inference.onFrame(msg.deviceId, msg.data);
        else this.offloader.onFrame(msg.deviceId, msg.data);
        return;
      case 'computed':
        return this.compute.computed(msg.job, msg.outputs, msg.ms, msg.stageMs);
      case 'compute-failed':
        return this.compute.failed(msg.job, msg.message);
      case 'sessions':
        if (fromLeader) this.offloader.setSessions(msg.backends, msg.warm);
        return;
      case 'battery':
        // every tab reads the same battery: the leader's reading is the device's
        if (fromLeader) this.offloader.setBattery(msg.battery);
        return;
      case 'backend-switched':
        if (fromLeader) state.log('backend', null, `${this.offloader.label(msg.hash)} now runs on WASM here: ${msg.reason}`);
        return;
      default:
        return this.handleRequest(tab, msg);
    }
  }

  /** What the user asked for on a tab. */
  private handleRequest(tab: Tab, msg: Exclude<TabToWorker, { kind: 'register' }>): void {
    switch (msg.kind) {
      case 'infer':
        return this.inference.run({ count: msg.count, ratePerSec: msg.ratePerSec, mode: msg.mode, path: msg.path, batch: msg.batch });
      case 'classify':
        return this.inference.requester.classify(new Float32Array(msg.pixels));
      case 'offload':
        return this.offload(tab, msg);
      case 'set-target':
        return this.offloader.setTarget(msg.target);
      case 'set-budget':
        return void this.offloader.setBudget(msg.bytes);
      case 'forget':
        return void this.offloader.forget();
      case 'fetch-replica':
        return this.offloader.fetchReplica(msg.hash, msg.from);
      case 'rename':
        return this.rename(tab, msg.name);
      case 'leave-room':
      case 'rejoin-room':
        // the leader tab reads it from the state and closes, or opens, the connections
        if (this.state.setAway(msg.kind === 'leave-room')) this.publish(true);
        return;
    }
  }

  /** Every tab shows the new name; the leader tab tells the peers. */
  private rename(tab: Tab, name: string): void {
    if (name === this.identity.name) return;
    const before = this.identity.name;
    this.identity.name = name;
    this.state.log('renamed', null, `this device was ${before}, is now ${name}`);
    for (const t of this.tabs.list) t.port.post({ kind: 'renamed', name });
    this.publish(true);
    saveDeviceName(this.identity.deviceId, name).catch((e: unknown) => tab.port.post({ kind: 'notice', error: `The new name holds until this browser closes, but could not be saved: ${(e as Error).message}` }));
  }

  private offload(tab: Tab, msg: TabMessageOf<'offload'>): void {
    const manifest = msg.manifest;
    this.offloader.offload(manifest)
      .then(() => tab.port.post({ kind: 'notice', error: null }))
      .catch((e: unknown) => tab.port.post({ kind: 'notice', error: `Could not offload ${manifest.model.name}: ${(e as Error).message}` }));
  }
}
