/**
 * The one typed protocol between a tab and its device worker (SharedWorker, or a dedicated
 * worker where SharedWorker is missing). Versioned; every message is checked on arrival.
 */
import type { Backend, InferenceMode } from '../core/protocol.js';
import type { Manifest } from '../core/onnx/manifest.js';
import { checkManifest, isTarget } from '../core/room.js';
import type { WireTensor } from '../runtime/compute-messages.js';
import type { WarmPartition } from '../runtime/partition-runner.js';
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
  | { kind: 'signalling'; state: 'connecting' | 'open' | 'lost'; detail: string }
  /** a room frame from a verified peer, as it arrived (the worker validates it again) */
  | { kind: 'frame'; deviceId: string; data: ArrayBuffer }
  /** a model dropped on this tab, cut and its partitions stored in this browser: make it the room's model */
  | { kind: 'offload'; manifest: Manifest }
  | { kind: 'set-target'; target: number }
  /** bytes offered for replicas; null returns to the browser-derived default */
  | { kind: 'set-budget'; bytes: number | null }
  | { kind: 'forget' }
  /** fetch a replica from these holders in this order (debug API and benchmarks) */
  | { kind: 'fetch-replica'; hash: string; from: string[] }
  /** stream images of the test sample into the room (this device is the requester) */
  | { kind: 'infer'; count: number; ratePerSec: number; mode: InferenceMode }
  /** classify one image the user gave: grey pixels in [0, 1], row by row (float32) */
  | { kind: 'classify'; pixels: ArrayBuffer }
  /** the leader tab's answer to `compute` */
  | { kind: 'computed'; job: number; outputs: Record<string, WireTensor>; ms: number }
  | { kind: 'compute-failed'; job: number; message: string }
  /** the leader tab's loaded partition sessions and the backend each got, by replica hash */
  | { kind: 'sessions'; backends: Record<string, Backend> }
  /** a partition left WebGPU for WASM on this device, and why */
  | { kind: 'backend-switched'; hash: string; reason: string };

export type WorkerToTab =
  | { kind: 'welcome'; v: number; deviceId: string; tabId: string }
  | { kind: 'role'; leader: boolean }
  | { kind: 'tick' }
  | { kind: 'tab-ping' }
  | { kind: 'state'; state: DeviceSnapshot }
  | { kind: 'fatal'; message: string }
  /** frames for the leader tab to send to one device, in order */
  | { kind: 'send'; to: string; frames: ArrayBuffer[] }
  /** the answer to something this tab asked for, for its error banner */
  | { kind: 'notice'; error: string | null }
  /** run one partition (by its replica hash) in the leader tab's compute worker */
  | { kind: 'compute'; job: number; hash: string; feeds: Record<string, WireTensor> }
  /** load sessions for these partitions now (and run them once on zeros), so no request waits for that */
  | { kind: 'warm'; partitions: WarmPartition[] };

const str = (v: unknown): v is string => typeof v === 'string' && v.length <= 256;
const strOrNull = (v: unknown): boolean => v === null || str(v);
const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const backend = (v: unknown): boolean => v === 'webgpu' || v === 'wasm';
const isHash = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);

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
  frame: (m) => str(m.deviceId) && m.data instanceof ArrayBuffer,
  offload: (m) => typeof checkManifest(m.manifest) !== 'string',
  'set-target': (m) => isTarget(m.target),
  'set-budget': (m) => m.bytes === null || (num(m.bytes) && m.bytes >= 0 && m.bytes <= 2 ** 45),
  forget: () => true,
  infer: (m) => num(m.count) && Number.isInteger(m.count) && m.count >= 1 && m.count <= 100_000 && num(m.ratePerSec) && m.ratePerSec > 0 && m.ratePerSec <= 1000 && (m.mode === 'frim' || m.mode === 'no-config'),
  classify: (m) => m.pixels instanceof ArrayBuffer && m.pixels.byteLength > 0 && m.pixels.byteLength <= 4 * 1024 * 1024 && m.pixels.byteLength % 4 === 0,
  computed: (m) => num(m.job) && num(m.ms) && isTensorMap(m.outputs),
  'compute-failed': (m) => num(m.job) && str(m.message),
  sessions: (m) => typeof m.backends === 'object' && m.backends !== null && Object.keys(m.backends).length <= 4096
    && Object.entries(m.backends).every(([h, b]) => isHash(h) && backend(b)),
  'backend-switched': (m) => isHash(m.hash) && typeof m.reason === 'string' && m.reason.length <= 1000,
  'fetch-replica': (m) => isHash(m.hash) && Array.isArray(m.from) && m.from.length <= 64 && m.from.every(str),
};

export function isTabToWorker(x: unknown): x is TabToWorker {
  if (typeof x !== 'object' || x === null) return false;
  const m = x as Record<string, unknown>;
  const check = TAB_SHAPES[m.kind as TabToWorker['kind']];
  return typeof check === 'function' && check(m);
}

function isTensorMap(x: unknown): boolean {
  if (typeof x !== 'object' || x === null) return false;
  return Object.values(x).every((t) => {
    const w = t as Record<string, unknown>;
    return typeof w === 'object' && w !== null && typeof w.type === 'string' && Array.isArray(w.dims) && w.data instanceof ArrayBuffer;
  });
}

const WORKER_KINDS = new Set(['welcome', 'role', 'tick', 'tab-ping', 'state', 'fatal', 'send', 'notice', 'compute', 'warm']);

export function isWorkerToTab(x: unknown): x is WorkerToTab {
  return typeof x === 'object' && x !== null && WORKER_KINDS.has((x as { kind: string }).kind);
}
