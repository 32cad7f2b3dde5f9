/**
 * The one typed protocol between a tab and its device worker (SharedWorker, or a dedicated
 * worker where SharedWorker is missing). Versioned; every message is checked on arrival.
 */
import type { Backend } from '../core/protocol.js';
import type { DeviceSnapshot } from './snapshot.js';

export const WORKER_PROTOCOL = 1;

export type WorkerKind = 'shared' | 'dedicated';

export type TabToWorker =
  | { kind: 'register'; v: number; tabId: string; room: string; deviceId: string | null; name: string; backend: Backend; backendDetail: string; workerKind: WorkerKind }
  | { kind: 'tab-pong' }
  | { kind: 'leaving' }
  | { kind: 'link-up'; deviceId: string; peerId: string; name: string; backend: Backend }
  | { kind: 'link-down'; deviceId: string; peerId: string; reason: string }
  /** `at`: when the pong arrived, as performance.timeOrigin + performance.now() in the tab */
  | { kind: 'rtt'; deviceId: string; rttMs: number; at: number }
  | { kind: 'rejected'; deviceId: string | null; peerId: string; reason: string }
  | { kind: 'dropped'; deviceId: string | null; peerId: string; reason: string; detail: string }
  | { kind: 'ice'; deviceId: string; state: string; at: number }
  | { kind: 'signalling'; state: 'connecting' | 'open' | 'lost'; detail: string };

export type WorkerToTab =
  | { kind: 'welcome'; v: number; deviceId: string; tabId: string }
  | { kind: 'role'; leader: boolean }
  | { kind: 'tick' }
  | { kind: 'tab-ping' }
  | { kind: 'state'; state: DeviceSnapshot }
  | { kind: 'fatal'; message: string };

const str = (v: unknown): v is string => typeof v === 'string' && v.length <= 256;
const strOrNull = (v: unknown): boolean => v === null || str(v);
const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const backend = (v: unknown): boolean => v === 'webgpu' || v === 'wasm';

const TAB_SHAPES: Record<TabToWorker['kind'], (m: Record<string, unknown>) => boolean> = {
  register: (m) => m.v === WORKER_PROTOCOL && str(m.tabId) && str(m.room) && strOrNull(m.deviceId) && str(m.name) && backend(m.backend) && str(m.backendDetail) && (m.workerKind === 'shared' || m.workerKind === 'dedicated'),
  'tab-pong': () => true,
  leaving: () => true,
  'link-up': (m) => str(m.deviceId) && str(m.peerId) && str(m.name) && backend(m.backend),
  'link-down': (m) => str(m.deviceId) && str(m.peerId) && str(m.reason),
  rtt: (m) => str(m.deviceId) && num(m.rttMs) && m.rttMs >= 0 && num(m.at),
  rejected: (m) => strOrNull(m.deviceId) && str(m.peerId) && str(m.reason),
  dropped: (m) => strOrNull(m.deviceId) && str(m.peerId) && str(m.reason) && str(m.detail),
  ice: (m) => str(m.deviceId) && str(m.state) && num(m.at),
  signalling: (m) => (m.state === 'connecting' || m.state === 'open' || m.state === 'lost') && str(m.detail),
};

export function isTabToWorker(x: unknown): x is TabToWorker {
  if (typeof x !== 'object' || x === null) return false;
  const m = x as Record<string, unknown>;
  const check = TAB_SHAPES[m.kind as TabToWorker['kind']];
  return typeof check === 'function' && check(m);
}

const WORKER_KINDS = new Set(['welcome', 'role', 'tick', 'tab-ping', 'state', 'fatal']);

export function isWorkerToTab(x: unknown): x is WorkerToTab {
  return typeof x === 'object' && x !== null && WORKER_KINDS.has((x as { kind: string }).kind);
}
