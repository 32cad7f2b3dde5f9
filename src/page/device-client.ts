/**
 * A tab's handle on its device worker. The worker decides which tab leads; the leading tab owns
 * the `Mesh` (RTCPeerConnection only exists in pages) and relays what happens on it.
 */
import { DEVICE_ID_RE, randomName } from '../core/ids.js';
import type { RoomCredentials } from '../core/share-link.js';
import { hmacSha256 } from '../mesh/hmac.js';
import { Mesh } from '../mesh/mesh.js';
import type { BackendInfo } from '../runtime/backend.js';
import type { Manifest } from '../core/onnx/manifest.js';
import type { InferenceMode } from '../core/protocol.js';
import type { GpuFault } from '../runtime/compute-messages.js';
import { PartitionRunner } from '../runtime/partition-runner.js';
import { WORKER_PROTOCOL, parseWorkerMessage, type TabToWorker, type WorkerToTab } from '../core/device-protocol.js';
import { isInvalid } from '../core/schema.js';
import type { DeviceSnapshot, WorkerKind } from '../core/views.js';
import { WakeLockSwitch } from './wake-lock.js';
import { BatteryWatch } from './battery.js';

export interface ClientOptions {
  creds: RoomCredentials;
  /** browser and system, as the user agent says */
  platform: string;
  backend: BackendInfo;
  iceServers: RTCIceServer[];
  /** debug pages: accept benchmark baselines */
  benchmarks?: boolean;
  /** debug pages: refuse a flooder this long rather than CUT_OFF.forMs */
  cutOffMs?: number;
}

function randomId(length: number): string {
  return randomName(crypto.getRandomValues(new Uint8Array(length * 2)), length);
}

/** Where SharedWorker is missing, each tab is its own device; its id survives reloads of that tab. */
function tabScopedDeviceId(): string {
  const key = 'frim-device-id';
  let id = sessionStorage.getItem(key);
  if (!id || !DEVICE_ID_RE.test(id)) {
    id = randomId(12);
    sessionStorage.setItem(key, id);
  }
  return id;
}

/** onnxruntime in the leader tab's compute worker, for the device card */
export interface RuntimeState {
  state: 'starting' | 'ready' | 'failed';
  ms: number | null;
  /** why it did not start (failed), or why it started on WASM rather than WebGPU (ready) */
  error: string | null;
}

export class DeviceClient extends EventTarget {
  readonly tabId = randomId(8);
  readonly workerKind: WorkerKind = typeof SharedWorker === 'function' ? 'shared' : 'dedicated';
  deviceId: string | null = null;
  /** what people call this device (the worker's, shared by every tab) */
  name = '';
  leader = false;
  snapshot: DeviceSnapshot | null = null;
  fatal: string | null = null;
  mesh: Mesh | null = null;
  /** other tabs of this device that could take the connections over when this leader closes */
  private successors = 0;
  /** the worker's answer to this tab's last request (an offload that failed), or null */
  notice: string | null = null;
  private post!: (m: TabToWorker, transfer?: Transferable[]) => void;
  private runner: PartitionRunner | null = null;
  /** onnxruntime in this tab's compute worker: started once the room has a model (null before) */
  runtime: RuntimeState | null = null;

  /** "Keep this device awake": a screen wake lock held by this tab */
  readonly wake = new WakeLockSwitch();
  /** this device's battery; the leader tab's readings are the device's */
  private readonly battery = new BatteryWatch((b) => {
    if (this.leader) this.post({ kind: 'battery', battery: b });
  });

  constructor(readonly opts: ClientOptions) {
    super();
    this.wake.addEventListener('change', () => this.emit());
  }

  start(): void {
    const name = `frim-${this.opts.creds.room}`;
    let port: { postMessage(m: unknown, transfer: Transferable[]): void; onmessage: ((e: MessageEvent) => void) | null };
    if (this.workerKind === 'shared') {
      const w = new SharedWorker(new URL('../worker/device-worker.ts', import.meta.url), { type: 'module', name });
      port = w.port;
      w.port.start();
    } else {
      port = new Worker(new URL('../worker/device-worker.ts', import.meta.url), { type: 'module', name });
    }
    this.post = (m, transfer = []) => port.postMessage(m, transfer);
    port.onmessage = (e) => {
      const m = parseWorkerMessage(e.data);
      if (!isInvalid(m)) return this.onMessage(m);
      // an older device worker still running for another tab of an earlier build, most likely
      this.fatal = `the device worker sent a message this page cannot read (${m.invalid}): close every tab of this room and reopen it`;
      this.emit();
    };
    addEventListener('pagehide', () => {
      // peers wait for the next tab's links instead of suspecting this device meanwhile, or, with
      // no tab left, know at once that it left
      this.mesh?.stop(this.successors > 0 ? 'handover' : 'leaving');
      this.post({ kind: 'leaving' });
    });
    void this.holdTabLock().then(() => this.register());
  }

  /**
   * Held for the tab's lifetime: the worker waits on the same lock and learns of our death the
   * moment it is released. We register only once we hold it, or the worker could take it first.
   */
  private holdTabLock(): Promise<void> {
    const locks = navigator.locks;
    if (!locks) return Promise.resolve();
    return new Promise<void>((held) => {
      locks.request(`frim-tab-${this.tabId}`, () => {
        held();
        return new Promise<void>(() => undefined);
      }).catch(() => held());
    });
  }

  private register(): void {
    this.post({
      kind: 'register',
      v: WORKER_PROTOCOL,
      tabId: this.tabId,
      room: this.opts.creds.room,
      deviceId: this.workerKind === 'dedicated' ? tabScopedDeviceId() : null,
      platform: this.opts.platform,
      backend: this.opts.backend.backend,
      backendDetail: this.opts.backend.detail,
      workerKind: this.workerKind,
    });
  }

  private emit(): void {
    this.dispatchEvent(new Event('change'));
  }

  private onMessage(m: WorkerToTab): void {
    switch (m.kind) {
      case 'welcome':
        this.deviceId = m.deviceId;
        this.name = m.name;
        break;
      case 'renamed':
        this.name = m.name;
        this.mesh?.rename(m.name);
        break;
      case 'role':
        this.setLeader(m.leader);
        break;
      case 'successors':
        this.successors = m.count;
        return;
      case 'tick':
        this.mesh?.heartbeat();
        this.post({ kind: 'ticked' });
        return;
      case 'tab-ping':
        this.post({ kind: 'tab-pong' });
        return;
      case 'state':
        this.snapshot = m.state;
        this.followPresence();
        this.startRuntimeForModel();
        break;
      case 'fatal':
        this.fatal = m.message;
        break;
      case 'send':
        this.mesh?.sendTo(m.to, m.frames.map((f) => new Uint8Array(f)));
        return;
      case 'cut-off':
        this.mesh?.cutOff(m.deviceId, m.reason);
        return;
      case 'notice':
        this.notice = m.error;
        break;
      case 'compute':
        void this.compute(m);
        return;
      case 'warm':
        void this.partitions().warm(m.partitions, true);
        return;
    }
    this.emit();
  }

  /** Makes a model the room's model; its partitions are already in this browser's store. */
  offload(manifest: Manifest): void {
    this.notice = null;
    this.post({ kind: 'offload', manifest });
  }

  setTarget(target: number): void {
    this.post({ kind: 'set-target', target });
  }

  setBudget(bytes: number | null): void {
    this.post({ kind: 'set-budget', bytes });
  }

  /** `name` already checked by checkDeviceName; the worker checks it again. */
  rename(name: string): void {
    this.post({ kind: 'rename', name });
  }

  forget(): void {
    this.post({ kind: 'forget' });
  }

  /** Streams `count` test images into the room at `ratePerSec`, this device as the requester. */
  infer(count: number, ratePerSec: number, mode: InferenceMode, path: string[] = [], batch = 1): void {
    this.post({ kind: 'infer', count, ratePerSec, mode, path, batch });
  }

  classify(pixels: Float32Array): void {
    const buf = pixels.slice().buffer;
    this.post({ kind: 'classify', pixels: buf }, [buf]);
  }

  /**
   * The room has a model and this tab computes for it (the leader): onnxruntime starts now, while
   * this device's copies are still on their way, not after the first one arrives. A room with no
   * model yet costs nothing.
   */
  private startRuntimeForModel(): void {
    if (this.leader && !this.runtime && this.snapshot?.offload?.model) void this.startRuntime();
  }

  private async startRuntime(): Promise<void> {
    this.runtime = { state: 'starting', ms: null, error: null };
    this.emit();
    try {
      const r = await this.partitions().startRuntime();
      this.runtime = { state: 'ready', ms: r.ms, error: r.fallback };
    } catch (e) {
      // each copy's own load says again what went wrong, and falls back to WASM where it can
      this.runtime = { state: 'failed', ms: null, error: (e as Error).message };
    }
    this.emit();
  }

  /** Runs partitions for the room in this tab's compute worker, reporting each session's backend. */
  private partitions(): PartitionRunner {
    this.runner ??= new PartitionRunner(this.opts.backend.backend, {
      sessions: (backends, warm) => this.post({ kind: 'sessions', backends, warm }),
      switched: (hash, reason) => this.post({ kind: 'backend-switched', hash, reason }),
    });
    return this.runner;
  }

  /** Test-only (debug pages): the next `gpuRuns` WebGPU stage runs in this tab fail (see `GpuFault`). */
  breakGpuRuns(gpuRuns: number, how: GpuFault = 'hang'): Promise<void> {
    return this.partitions().fault(gpuRuns, how);
  }

  /** Test-only (debug pages): partitions run here take `factor` times as long, as on a slower device. */
  slowCompute(factor: number): Promise<void> {
    return this.partitions().slow(factor);
  }

  private async compute(m: Extract<WorkerToTab, { kind: 'compute' }>): Promise<void> {
    try {
      const r = await this.partitions().chain(m.stages, m.feeds, m.want);
      this.post({ kind: 'computed', job: m.job, outputs: r.outputs, ms: r.ms, stageMs: r.stageMs }, Object.values(r.outputs).map((o) => o.data));
    } catch (e) {
      this.post({ kind: 'compute-failed', job: m.job, message: (e as Error).message });
    }
  }

  fetchReplica(hash: string, from: string[]): void {
    this.post({ kind: 'fetch-replica', hash, from });
  }

  /** The user takes this device (all its tabs) out of the room, or back in. */
  leaveRoom(leave: boolean): void {
    this.post({ kind: leave ? 'leave-room' : 'rejoin-room' });
  }

  /** The leader tab holds connections only while the device is in the room: out, it says goodbye; back, it dials again. */
  private followPresence(): void {
    if (!this.leader) return;
    const inRoom = this.snapshot?.inRoom !== false;
    if (!inRoom && this.mesh) {
      this.mesh.stop('leaving');
      this.mesh = null;
    } else if (inRoom && !this.mesh) this.openMesh();
  }

  private setLeader(leader: boolean): void {
    if (leader === this.leader) return;
    this.leader = leader;
    if (leader && this.battery.reading) this.post({ kind: 'battery', battery: this.battery.reading });
    if (leader) {
      this.openMesh();
      this.startRuntimeForModel();
    } else {
      this.mesh?.stop();
      this.mesh = null;
    }
  }

  private openMesh(): void {
    if (this.deviceId && this.snapshot?.inRoom !== false) {
      this.mesh = new Mesh({
        creds: this.opts.creds,
        deviceId: this.deviceId,
        tabId: this.tabId,
        name: this.name,
        backend: this.opts.backend.backend,
        hmac: hmacSha256,
        iceServers: this.opts.iceServers,
        report: (msg) => this.post(msg),
        benchmarks: this.opts.benchmarks,
        cutOffMs: this.opts.cutOffMs,
        onRoomFrame: (deviceId, data) => this.post({ kind: 'frame', deviceId, data }, [data]),
      });
      this.mesh.start();
    }
  }
}
