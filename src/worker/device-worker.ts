/**
 * The device worker: one per browser profile and room (a SharedWorker named after the room),
 * or one per tab where SharedWorker is missing. It owns the device identity, the detectors and
 * the event log, elects the leader tab (the one that holds the WebRTC connections) and drives
 * the heartbeat clock, because worker timers are not throttled in hidden tabs the way page
 * timers are.
 */
import { DEFAULT_DETECTOR } from '../core/detector.js';
import { randomName } from '../core/ids.js';
import { loadDeviceId } from '../store/identity.js';
import { checkManifest, defaultBudget } from '../core/room.js';
import { DeviceState } from './device-state.js';
import { Offloader } from './offload.js';
import { Inference } from './inference.js';
import { MessageType } from '../core/protocol.js';
import type { Tensor } from '../core/tensors.js';

const INFERENCE_CODES = new Set<number>([MessageType['stage-confirm'], MessageType['stage-ack'], MessageType['stage-run'], MessageType['stage-done'], MessageType['stage-result'], MessageType['stage-error']]);
import { WORKER_PROTOCOL, isTabToWorker, type TabToWorker, type WorkerKind, type WorkerToTab } from './messages.js';
import type { Backend } from '../core/protocol.js';

interface TabPort {
  post(msg: WorkerToTab, transfer?: Transferable[]): void;
}

interface Tab {
  id: string;
  port: TabPort;
  lastSeen: number;
}

const TAB_PING_MS = 400;
/**
 * A tab that has not answered for this long is gone. Closing sends `leaving` and Web Locks report
 * a crash at once; this timeout only covers plain-HTTP pages, which have neither lock nor reliable pagehide.
 */
const TAB_TIMEOUT_MS = 4000;
/** Status changes are published at once; this only paces RTT and chart updates. */
const PUBLISH_MS = 500;

const clock = { mono: () => performance.now(), epoch: () => Date.now() };

let tabs: Tab[] = [];
let leader: Tab | null = null;
let state: DeviceState | null = null;
let offloader: Offloader | null = null;
let inference: Inference | null = null;
/** compute jobs handed to the leader tab, by job number */
const computeJobs = new Map<number, { resolve(r: { outputs: Record<string, Tensor>; ms: number }): void; reject(e: Error): void; timer: ReturnType<typeof setTimeout> }>();
let nextJob = 1;
const COMPUTE_TIMEOUT_MS = 30_000;
let identity: { deviceId: string; room: string; name: string; backend: Backend; backendDetail: string; workerKind: WorkerKind } | null = null;
let signalling = 'connecting';
let checkTimer: ReturnType<typeof setTimeout> | undefined;
const ports = new Map<TabPort, Tab | null>();

function post(tab: Tab, msg: WorkerToTab): void {
  tab.port.post(msg);
}

function snapshot() {
  if (!state || !identity) return null;
  return state.snapshot({
    name: identity.name,
    backend: identity.backend,
    backendDetail: identity.backendDetail,
    workerKind: identity.workerKind,
    tabs: tabs.length,
    leaderTabId: leader?.id ?? null,
    signalling,
    heartbeatMs: DEFAULT_DETECTOR.heartbeatMs,
    offload: offloader?.view() ?? null,
    inference: inference?.view() ?? null,
  });
}

/** What this browser reports about its memory and storage, for the default replica budget. */
async function browserBudget(): Promise<{ bytes: number; from: string }> {
  const nav = self.navigator as Navigator & { deviceMemory?: number };
  const est = await nav.storage?.estimate?.().catch(() => undefined);
  return defaultBudget({ deviceMemoryGiB: nav.deviceMemory, quotaBytes: est?.quota, usageBytes: est?.usage });
}

/** Runs one partition in the leader tab's compute worker (the device worker itself must stay responsive). */
function runOnLeader(hash: string, feeds: Record<string, Tensor>): Promise<{ outputs: Record<string, Tensor>; ms: number }> {
  const tab = leader;
  if (!tab) return Promise.reject(new Error('no tab holds the connections'));
  const job = nextJob++;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      computeJobs.delete(job);
      reject(new Error('the compute worker did not answer in time'));
    }, COMPUTE_TIMEOUT_MS);
    computeJobs.set(job, { resolve, reject, timer });
    const wire = Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, { type: t.type, dims: t.dims, data: t.data.slice().buffer as ArrayBuffer }]));
    tab.port.post({ kind: 'compute', job, hash, feeds: wire }, Object.values(wire).map((w) => w.data));
  });
}

let warmed = '';
/**
 * Has the leader tab load the partitions this device holds for the room's model, once per change,
 * up to its budget: a device holding more than it offers (the one a model was dropped on) keeps
 * the rest only until the room has copies elsewhere, and loads them on demand meanwhile.
 */
function warmLeader(): void {
  const s = offloader?.serving();
  if (!leader || !s) return;
  let room = s.budget;
  const held = s.manifest.partitions.filter((p) => s.holds(p.sha256) && (room -= p.bytes) >= 0);
  const key = `${leader.id}:${held.map((p) => p.sha256).join()}`;
  if (key === warmed) return;
  warmed = key;
  leader.port.post({ kind: 'warm', partitions: held.map((p) => ({ hash: p.sha256, inputs: p.inputs.map((name, i) => ({ name, dims: p.inputShapes[i] })) })) });
}

/** A leader tab that leaves takes its compute jobs with it. */
function failComputeJobs(why: string): void {
  for (const [id, j] of computeJobs) {
    clearTimeout(j.timer);
    j.reject(new Error(why));
    computeJobs.delete(id);
  }
}

function sendFrames(to: string, frames: Uint8Array[]): void {
  if (!leader) return;
  const buffers = frames.map((f) => (f.byteOffset === 0 && f.byteLength === f.buffer.byteLength ? f.buffer : f.slice().buffer) as ArrayBuffer);
  leader.port.post({ kind: 'send', to, frames: buffers }, buffers);
}

function publish(force = false): void {
  if (!state || (!state.dirty && !force)) return;
  const snap = snapshot();
  if (!snap) return;
  state.dirty = false;
  for (const t of tabs) post(t, { kind: 'state', state: snap });
}

/** Schedules the next detector check exactly at the earliest deadline, so detection is not quantised by a polling period. */
function scheduleCheck(): void {
  if (!state) return;
  clearTimeout(checkTimer);
  const next = state.nextCheckAt();
  if (!Number.isFinite(next)) return;
  checkTimer = setTimeout(() => {
    if (state?.check()) publish();
    scheduleCheck();
  }, Math.max(0, next - clock.mono() + 1));
}

function electLeader(): void {
  if (leader && tabs.includes(leader)) return;
  const previous = leader;
  leader = tabs[0] ?? null;
  if (leader) {
    post(leader, { kind: 'role', leader: true });
    state?.log('leader', null, previous ? `tab ${leader.id} took over the connections from tab ${previous.id}` : `tab ${leader.id} holds the connections`);
  }
  publish(true);
}

function dropTab(tab: Tab): void {
  if (!tabs.includes(tab)) return;
  tabs = tabs.filter((t) => t !== tab);
  if (leader === tab) {
    leader = null;
    failComputeJobs('the tab running it closed');
    // its sessions went with it; the next leader reports its own as it loads them
    offloader?.setSessions({});
    // if it is only stalled, it must not keep a second set of connections when it wakes
    post(tab, { kind: 'role', leader: false });
  }
  electLeader();
  if (state) state.dirty = true;
}

async function register(port: TabPort, msg: Extract<TabToWorker, { kind: 'register' }>): Promise<void> {
  if (identity && identity.room !== msg.room) {
    port.post({ kind: 'fatal', message: `this device worker serves room ${identity.room}, not ${msg.room}` });
    return;
  }
  if (!identity) {
    const deviceId = msg.deviceId ?? (await loadDeviceId(() => randomName(crypto.getRandomValues(new Uint8Array(32)), 12)));
    if (!identity) {
      identity = { deviceId, room: msg.room, name: msg.name, backend: msg.backend, backendDetail: msg.backendDetail, workerKind: msg.workerKind };
      state = new DeviceState(deviceId, msg.room, DEFAULT_DETECTOR, clock);
      offloader = new Offloader({ deviceId, room: msg.room, state, send: sendFrames, mono: clock.mono, epoch: clock.epoch, budgetDefault: browserBudget });
      inference = new Inference({ deviceId, room: msg.room, state, serving: () => offloader?.serving() ?? null, send: sendFrames, compute: runOnLeader, canCompute: () => !!leader, mono: clock.mono, epoch: clock.epoch });
      state.onMembership = (id, change) => {
        offloader?.onMembership(id, change);
        if (change === 'failed') inference?.onFailed(id);
      };
      void offloader.start().catch((e: unknown) => state?.log('storage', null, `could not read this browser's replica cache: ${(e as Error).message}`));
    }
  }
  const tab: Tab = { id: msg.tabId, port, lastSeen: clock.mono() };
  ports.set(port, tab);
  tabs.push(tab);
  post(tab, { kind: 'welcome', v: WORKER_PROTOCOL, deviceId: identity.deviceId, tabId: tab.id });
  post(tab, { kind: 'role', leader: false });
  watchTabLock(tab);
  electLeader();
  publish(true);
}

/** Where Web Locks exist, each tab holds a lock for its lifetime; it is released the instant the tab dies. */
function watchTabLock(tab: Tab): void {
  const locks = (self.navigator as Navigator & { locks?: LockManager }).locks;
  if (!locks) return;
  void locks.request(`frim-tab-${tab.id}`, () => dropTab(tab)).catch(() => undefined);
}

function handle(port: TabPort, raw: unknown): void {
  if (!isTabToWorker(raw)) return;
  const msg = raw;
  if (msg.kind === 'register') {
    void register(port, msg).catch((e: unknown) => port.post({ kind: 'fatal', message: `device worker failed to start: ${String(e)}` }));
    return;
  }
  const tab = ports.get(port);
  if (!tab || !state) return;
  tab.lastSeen = clock.mono();
  if (!tabs.includes(tab) && msg.kind !== 'leaving') {
    // a tab we gave up on (it stalled past the timeout) is alive after all: take it back as a follower
    tabs.push(tab);
    post(tab, { kind: 'role', leader: false });
    electLeader();
  }
  switch (msg.kind) {
    case 'tab-pong':
      return;
    case 'leaving':
      dropTab(tab);
      return;
    case 'link-up':
      if (tab === leader) state.linkUp(msg.deviceId, msg.name, msg.backend);
      break;
    case 'link-down':
      if (tab === leader) state.linkDown(msg.deviceId, msg.reason);
      break;
    case 'rtt':
      if (tab === leader) state.rtt(msg.deviceId, msg.rttMs, msg.at - performance.timeOrigin);
      break;
    case 'rejected':
      state.rejected(msg.deviceId, msg.peerId, msg.reason);
      break;
    case 'dropped':
      state.dropped(msg.deviceId, msg.peerId, msg.reason, msg.detail);
      break;
    case 'ice':
      state.ice(msg.deviceId, msg.state);
      break;
    case 'frame':
      if (tab !== leader) return;
      if (INFERENCE_CODES.has(new Uint8Array(msg.data, 0, Math.min(3, msg.data.byteLength))[2])) inference?.onFrame(msg.deviceId, msg.data);
      else offloader?.onFrame(msg.deviceId, msg.data);
      return;
    case 'infer':
      inference?.run({ count: msg.count, ratePerSec: msg.ratePerSec, mode: msg.mode });
      break;
    case 'classify':
      inference?.requester.classify(new Float32Array(msg.pixels));
      break;
    case 'computed':
    case 'compute-failed': {
      const job = computeJobs.get(msg.job);
      if (!job) return;
      computeJobs.delete(msg.job);
      clearTimeout(job.timer);
      if (msg.kind === 'computed') job.resolve({ outputs: Object.fromEntries(Object.entries(msg.outputs).map(([k, t]) => [k, { type: t.type, dims: t.dims, data: new Uint8Array(t.data) }])), ms: msg.ms });
      else job.reject(new Error(msg.message));
      return;
    }
    case 'sessions':
      if (tab === leader) offloader?.setSessions(msg.backends);
      return;
    case 'backend-switched':
      if (tab === leader) state.log('backend', null, `${offloader?.label(msg.hash) ?? msg.hash.slice(0, 8)} now runs on WASM here: ${msg.reason}`);
      return;
    case 'offload': {
      const manifest = checkManifest(msg.manifest);
      if (typeof manifest === 'string' || !offloader) return;
      offloader.offload(manifest)
        .then(() => post(tab, { kind: 'notice', error: null }))
        .catch((e: unknown) => post(tab, { kind: 'notice', error: `Could not offload ${manifest.model.name}: ${(e as Error).message}` }));
      break;
    }
    case 'set-target':
      offloader?.setTarget(msg.target);
      break;
    case 'set-budget':
      void offloader?.setBudget(msg.bytes);
      break;
    case 'forget':
      void offloader?.forget();
      break;
    case 'fetch-replica':
      offloader?.order(msg.hash, msg.from, null);
      break;
    case 'signalling':
      if (msg.state !== signalling) state.log('signalling', null, `${msg.state}${msg.detail ? `: ${msg.detail}` : ''}`);
      signalling = msg.state;
      state.dirty = true;
      break;
  }
  scheduleCheck();
}

let lastTick = clock.mono();
setInterval(() => {
  const now = clock.mono();
  // a tick this late means our own event loop stalled and no pings went out: not the peers' fault
  const stalled = now - lastTick - 2 * DEFAULT_DETECTOR.heartbeatMs;
  lastTick = now;
  if (stalled > 0 && state) {
    state.excuse(stalled);
    scheduleCheck();
  }
  if (leader) post(leader, { kind: 'tick' });
  offloader?.tick();
  inference?.tick();
  warmLeader();
}, DEFAULT_DETECTOR.heartbeatMs);

setInterval(() => {
  const now = clock.mono();
  for (const t of [...tabs]) {
    if (now - t.lastSeen > TAB_TIMEOUT_MS) dropTab(t);
    else post(t, { kind: 'tab-ping' });
  }
}, TAB_PING_MS);

setInterval(() => publish(), PUBLISH_MS);

function portOf(target: { postMessage(m: unknown, transfer: Transferable[]): void }): TabPort {
  return { post: (m, transfer = []) => target.postMessage(m, transfer) };
}

const scope = self as unknown as { onconnect?: unknown; postMessage(m: unknown, transfer: Transferable[]): void; onmessage: ((e: MessageEvent) => void) | null };
if ('SharedWorkerGlobalScope' in self) {
  (self as unknown as SharedWorkerGlobalScope).onconnect = (e: MessageEvent) => {
    const mp = e.ports[0];
    const port = portOf(mp);
    mp.onmessage = (ev) => handle(port, ev.data);
    mp.start();
  };
} else {
  const port = portOf(scope);
  scope.onmessage = (ev) => handle(port, ev.data);
}
