/**
 * The device worker: one per browser profile and room (a SharedWorker named after the room), or
 * one per tab where SharedWorker is missing. It owns the device identity, the detectors and the
 * event log, elects the leader tab (the one that holds the WebRTC connections) and drives the
 * heartbeat clock, because worker timers are not throttled in hidden tabs the way page timers are.
 * This file is the host: ports, registration and timers; host/device.ts is the device itself.
 */
import { DEFAULT_DETECTOR } from '../core/detector.js';
import { defaultDeviceName } from '../core/device-name.js';
import { WORKER_PROTOCOL, parseTabMessage, type TabMessageOf } from '../core/device-protocol.js';
import { isInvalid } from '../core/schema.js';
import { randomName } from '../core/ids.js';
import { defaultBudget, type DefaultBudget } from '../core/room.js';
import { loadDeviceId, loadDeviceName } from '../store/identity.js';
import { Device } from './host/device.js';
import type { TabPort } from './host/tabs.js';

const TAB_PING_MS = 400;
/**
 * A tab that has not answered for this long is gone. Closing sends `leaving` and Web Locks report
 * a crash at once; this timeout only covers plain-HTTP pages, which have neither lock nor reliable pagehide.
 */
const TAB_TIMEOUT_MS = 4000;
/** Status changes are published at once; this only paces RTT and chart updates. */
const PUBLISH_MS = 500;

const clock = { mono: () => performance.now(), epoch: () => Date.now() };
const locks = (self.navigator as Navigator & { locks?: LockManager }).locks;

let device: Device | null = null;
let starting: Promise<Device> | null = null;
let checkTimer: ReturnType<typeof setTimeout> | undefined;

/** What this browser reports about its memory and storage, for the default replica budget. */
async function browserBudget(heldBytes: number): Promise<DefaultBudget> {
  const nav = self.navigator as Navigator & { deviceMemory?: number };
  const est = await nav.storage?.estimate?.().catch(() => undefined);
  return defaultBudget({ deviceMemoryGiB: nav.deviceMemory, quotaBytes: est?.quota, usageBytes: est?.usage, heldBytes });
}

/** Schedules the next detector check exactly at the earliest deadline, so detection is not quantised by a polling period. */
function scheduleCheck(): void {
  if (!device) return;
  clearTimeout(checkTimer);
  const next = device.state.nextCheckAt();
  if (!Number.isFinite(next)) return;
  checkTimer = setTimeout(() => {
    if (device?.state.check()) device.publish();
    scheduleCheck();
  }, Math.max(0, next - clock.mono() + 1));
}

/** The first tab to register creates the device; every later one must be of the same room. */
async function deviceFor(msg: TabMessageOf<'register'>): Promise<Device> {
  if (device) return device;
  starting ??= (async () => {
    const deviceId = msg.deviceId ?? (await loadDeviceId(() => randomName(crypto.getRandomValues(new Uint8Array(32)), 12)));
    const name = (await loadDeviceName(deviceId)) ?? defaultDeviceName(deviceId);
    device = new Device(
      { deviceId, room: msg.room, name, platform: msg.platform, backend: msg.backend, backendDetail: msg.backendDetail, workerKind: msg.workerKind },
      { clock, budgetDefault: browserBudget, timeOrigin: performance.timeOrigin },
    );
    return device;
  })();
  return starting;
}

async function register(port: TabPort, msg: TabMessageOf<'register'>): Promise<void> {
  const d = await deviceFor(msg);
  if (d.identity.room !== msg.room) {
    port.post({ kind: 'fatal', message: `this device worker serves room ${d.identity.room}, not ${msg.room}` });
    return;
  }
  const tab = d.tabs.add(port, msg.tabId, clock.mono());
  port.post({ kind: 'welcome', v: WORKER_PROTOCOL, deviceId: d.identity.deviceId, tabId: tab.id, name: d.identity.name });
  port.post({ kind: 'role', leader: false });
  d.tabs.watchLock(tab, locks);
  d.tabs.elect();
  d.publish(true);
}

function handle(port: TabPort, raw: unknown): void {
  const msg = parseTabMessage(raw);
  if (isInvalid(msg)) {
    const registering = (raw as { kind?: unknown } | null)?.kind === 'register';
    port.post(registering
      ? { kind: 'fatal', message: `this tab cannot join the device worker (${msg.invalid}): close every tab of this room and reopen it` }
      : { kind: 'notice', error: `the device worker refused a message from this tab: ${msg.invalid}` });
    return;
  }
  if (msg.kind === 'register') {
    void register(port, msg).catch((e: unknown) => port.post({ kind: 'fatal', message: `device worker failed to start: ${String(e)}` }));
    return;
  }
  const tab = device?.tabs.of(port);
  if (!tab || !device) return;
  if (msg.kind !== 'leaving') device.tabs.heardFrom(tab, clock.mono());
  device.handle(tab, msg);
  scheduleCheck();
}

let lastTick = clock.mono();
setInterval(() => {
  const now = clock.mono();
  // a tick this late means our own event loop stalled and no pings went out: not the peers' fault
  const stalled = now - lastTick - 2 * DEFAULT_DETECTOR.heartbeatMs;
  lastTick = now;
  if (!device) return;
  if (stalled > 0) {
    device.state.excuse(stalled);
    scheduleCheck();
  }
  device.tick();
}, DEFAULT_DETECTOR.heartbeatMs);

setInterval(() => device?.tabs.sweep(clock.mono(), TAB_TIMEOUT_MS), TAB_PING_MS);
setInterval(() => device?.publish(), PUBLISH_MS);

function portOf(target: { postMessage(m: unknown, transfer: Transferable[]): void }): TabPort {
  return { post: (m, transfer = []) => target.postMessage(m, transfer) };
}

const scope = self as unknown as { postMessage(m: unknown, transfer: Transferable[]): void; onmessage: ((e: MessageEvent) => void) | null };
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
