/**
 * The protocol between a tab and its device worker (SharedWorker, or a dedicated worker where
 * SharedWorker is missing), declared once per direction: each message's fields and their parsers.
 * Versioned; both ends check every message on arrival (the worker a tab's, the tab the worker's).
 */
import { deviceName } from './device-name.js';
import { DEVICE_ID_RE } from './ids.js';
import { mode } from './messages.js';
import type { BatteryState } from './availability.js';
import { checkBattery, checkManifest, isRunMs, isTarget } from './room.js';
import { backend, checked, guard, hash, invalid, isHash, isInvalid, isUint, listOf, oneOf, orNull, parseFields, text, time, type BodyOf, type Fields, type Invalid, type Parse, type Parsed } from './schema.js';
import type { TensorType } from './tensors.js';
import type { Manifest } from './onnx/manifest.js';
import { SIGNALLING_STATES, WORKER_KINDS, type DeviceSnapshot } from './views.js';

export const WORKER_PROTOCOL = 10;
/** the `dropped` reason for frames over a peer's rate limit (counted apart: that peer is flooding) */
export const RATE_LIMITED = 'over the rate limit';

/** A tensor as it crosses a postMessage boundary: its buffer is transferred, not copied. */
export interface WireTensor {
  type: TensorType;
  dims: number[];
  data: ArrayBuffer;
}

/**
 * A session that has run once (its kernels compiled); `ms`: what a run took once it was warm (null
 * until it has run twice: the first run's time is mostly compiling).
 */
export interface WarmSession {
  hash: string;
  ms: number | null;
}

export const isWarmSession = (v: unknown): v is WarmSession => {
  const w = v as Record<string, unknown> | null;
  return typeof w === 'object' && w !== null && Object.keys(w).length === 2 && isHash(w.hash) && (w.ms === null || isRunMs(w.ms));
};

/** A partition the leader tab loads ahead of any request, with its inputs' shapes for the warm-up runs. */
export interface WarmPartition {
  hash: string;
  inputs: { name: string; dims: number[] | null }[];
}

const str = text(256, 'bad text');
const strOrNull = orNull(str);
const num = guard<number>((v) => typeof v === 'number' && Number.isFinite(v), 'bad number');
const buffer = guard<ArrayBuffer>((v) => v instanceof ArrayBuffer, 'bad buffer');
const map = <T>(reason: string, value: (v: unknown) => boolean, max = 4096): Parse<Record<string, T>> =>
  guard<Record<string, T>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length <= max && Object.values(v).every(value), reason);
const wireTensor = (v: unknown): boolean => {
  const w = v as Record<string, unknown>;
  return typeof w === 'object' && w !== null && typeof w.type === 'string' && Array.isArray(w.dims) && w.dims.every(isUint) && w.data instanceof ArrayBuffer;
};
const tensors = map<WireTensor>('bad tensors', wireTensor, 1024);
const manifest = checked<Manifest>(checkManifest, 'bad manifest');
const workerKind = oneOf(WORKER_KINDS, 'bad worker kind');

/** Tab → worker. */
export const TAB_MESSAGES = {
  register: { v: guard<number>((v) => v === WORKER_PROTOCOL, 'protocol version'), tabId: str, room: str, deviceId: strOrNull,
    /** browser and system, as the user agent says ("Chrome on Linux") */
    platform: str, backend, backendDetail: str, workerKind },
  'tab-pong': {},
  /** the leader tab sent the heartbeat round a `tick` asked for (its lag is this device's own silence) */
  ticked: {},
  leaving: {},
  'link-up': { deviceId: str, peerId: str, name: deviceName, backend },
  /** a verified peer told us its new name */
  'peer-renamed': { deviceId: str, name: deviceName },
  /** a verified peer's leader tab is closing; another of its tabs takes over its connections */
  'peer-handover': { deviceId: str },
  /** a verified peer left on purpose: it `said` so, or `closed` its last connection to us while the network was up */
  'peer-left': { deviceId: str, how: oneOf(['said', 'closed'] as const, 'bad how') },
  /** `cutOffMs`: this side closed it for flooding and refuses the device that long (CUT_OFF.forMs); 0 otherwise */
  'link-down': { deviceId: str, peerId: str, reason: str, cutOffMs: guard<number>((v) => typeof v === 'number' && v >= 0 && v <= 3_600_000, 'bad cutOffMs') },
  /** `at`: when the pong arrived, as performance.timeOrigin + performance.now() in the tab */
  rtt: { deviceId: str, rttMs: time('bad rtt'), at: num },
  rejected: { deviceId: strOrNull, peerId: str, reason: str },
  /** `count` frames dropped for this reason since the last report */
  dropped: { deviceId: strOrNull, peerId: str, reason: str, detail: str, count: guard<number>((v) => isUint(v) && v >= 1, 'bad count') },
  ice: { deviceId: str, state: str, at: num },
  /** `attempts`: reconnects tried since the server went away; `since`: when it went away (epoch ms) or null */
  signalling: { state: oneOf(SIGNALLING_STATES, 'bad state'), detail: str, attempts: guard<number>(isUint, 'bad attempts'), since: guard<number | null>((v) => v === null || (typeof v === 'number' && Number.isFinite(v)), 'bad since') },
  /** a room frame from a verified peer, as it arrived (the worker decodes and validates it again) */
  frame: { deviceId: guard<string>((v) => typeof v === 'string' && DEVICE_ID_RE.test(v), 'bad device'), data: buffer },
  /** a model dropped on this tab, cut and its partitions stored in this browser: make it the room's model */
  offload: { manifest },
  'set-target': { target: guard<number>(isTarget, 'bad target') },
  /** bytes offered for replicas; null returns to the browser-derived default */
  'set-budget': { bytes: orNull(guard<number>((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 2 ** 45, 'bad budget')) },
  forget: {},
  /** the user's new name for this device */
  rename: { name: deviceName },
  /** this device's battery, as the Battery Status API reads it (sent on each change, at most once a second) */
  battery: { battery: checked<BatteryState>(checkBattery, 'bad battery') },
  /** the user leaves the room with this device (every tab of it), or comes back */
  'leave-room': {},
  'rejoin-room': {},
  /** fetch a replica from these holders in this order (debug API and benchmarks) */
  'fetch-replica': { hash: hash('bad hash'), from: listOf<string>((d) => typeof d === 'string' && d.length <= 256, 64, 'bad holders') },
  /** stream images of the test sample into the room (this device is the requester) */
  infer: {
    count: guard<number>((v) => isUint(v) && v >= 1 && v <= 100_000, 'bad count'),
    ratePerSec: guard<number>((v) => typeof v === 'number' && v > 0 && v <= 1000, 'bad rate'),
    mode,
    /** the baselines' fixed path, a device per stage; [] lets the requester pick the shortest */
    path: listOf<string>((d) => typeof d === 'string' && d.length <= 256, 64, 'bad path'),
    /** images per request (a batch through the room) */
    batch: guard<number>((v) => isUint(v) && v >= 1 && v <= 256, 'bad batch'),
  },
  /** classify one image the user gave: grey pixels in [0, 1], row by row (float32) */
  classify: { pixels: guard<ArrayBuffer>((v) => v instanceof ArrayBuffer && v.byteLength > 0 && v.byteLength <= 4 * 1024 * 1024 && v.byteLength % 4 === 0, 'bad pixels') },
  /** the leader tab's answer to `compute` */
  computed: { job: num, outputs: tensors, ms: num, stageMs: listOf<number>((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0, 64, 'bad stage times') },
  'compute-failed': { job: num, message: text(4000, 'bad message') },
  /** the leader tab's loaded partition sessions and the backend each got, by replica hash; `warm`: those that have run once (kernels compiled) */
  sessions: {
    backends: guard<Record<string, Parsed<typeof backend>>>((v) => typeof v === 'object' && v !== null && Object.keys(v).length <= 4096 && Object.entries(v).every(([h, b]) => isHash(h) && !isInvalid(backend(b))), 'bad sessions'),
    warm: listOf<WarmSession>(isWarmSession, 4096, 'bad warm sessions'),
  },
  /** a partition left WebGPU for WASM on this device, and why */
  'backend-switched': { hash: hash('bad hash'), reason: text(1000, 'bad reason') },
} satisfies Record<string, Fields>;

const snapshot = guard<DeviceSnapshot>((v) => {
  const s = v as Record<string, unknown>;
  // the worker is this page's own code: a shape check is enough to catch a stale worker from an older build
  return typeof s === 'object' && s !== null && typeof s.deviceId === 'string' && Array.isArray(s.peers) && Array.isArray(s.events) && typeof s.series === 'object';
}, 'bad snapshot');
/** One partition of a compute chain: its replica hash and the names of its inputs. */
export interface ChainStage {
  hash: string;
  inputs: string[];
}
const chainStage = (v: unknown): boolean => {
  const c = v as Record<string, unknown>;
  return typeof c === 'object' && c !== null && isHash(c.hash) && Array.isArray(c.inputs) && c.inputs.length <= 1024 && c.inputs.every((n) => typeof n === 'string' && n.length <= 4096);
};
const warmPartition = (v: unknown): boolean => {
  const w = v as Record<string, unknown>;
  return typeof w === 'object' && w !== null && isHash(w.hash) && Array.isArray(w.inputs);
};

/** Worker → tab. */
export const WORKER_MESSAGES = {
  welcome: { v: guard<number>((v) => v === WORKER_PROTOCOL, 'protocol version'), deviceId: str, tabId: str, name: deviceName },
  /** the device has a new name: the leader tab tells its peers */
  renamed: { name: deviceName },
  role: { leader: oneOf([true, false] as const, 'bad role') },
  /** to the leader: how many other tabs of this device could take its connections over */
  successors: { count: guard<number>(isUint, 'bad count') },
  tick: {},
  'tab-ping': {},
  state: { state: snapshot },
  fatal: { message: text(4000, 'bad message') },
  /** frames for the leader tab to send to one device, in order */
  send: { to: str, frames: listOf<ArrayBuffer>((f) => f instanceof ArrayBuffer, 100_000, 'bad frames') },
  /** a peer sends more frames than an honest one could use (CUT_OFF): close its links and refuse it for a while */
  'cut-off': { deviceId: str, reason: text(1000, 'bad reason') },
  /** the answer to something this tab asked for, for its error banner */
  notice: { error: orNull(text(4000, 'bad notice')) },
  /**
   * run partitions (by replica hash) one after another in the leader tab's compute worker: the
   * activations between them stay there; `want`: the tensors to send back ([] = every output of a
   * single stage)
   */
  compute: { job: num, stages: listOf<ChainStage>(chainStage, 64, 'bad stages'), feeds: tensors, want: listOf<string>((n) => typeof n === 'string' && n.length <= 4096, 1024, 'bad names') },
  /** load sessions for these partitions now (and run them once on zeros), so no request waits for that */
  warm: { partitions: listOf<WarmPartition>(warmPartition, 4096, 'bad partitions') },
} satisfies Record<string, Fields>;

type Union<T extends Record<string, Fields>> = { [K in keyof T]: { [F in 'kind' | keyof T[K]]: F extends 'kind' ? K : BodyOf<T[K]>[F & keyof T[K]] } }[keyof T];
export type TabToWorker = Union<typeof TAB_MESSAGES>;
export type WorkerToTab = Union<typeof WORKER_MESSAGES>;
export type TabMessageOf<K extends TabToWorker['kind']> = Extract<TabToWorker, { kind: K }>;

function parseIn<T extends Record<string, Fields>>(table: T, x: unknown): { kind: keyof T } | Invalid {
  if (typeof x !== 'object' || x === null) return invalid('not an object');
  const kind = (x as { kind?: unknown }).kind;
  if (typeof kind !== 'string' || !Object.hasOwn(table, kind)) return invalid(`unknown kind ${String(kind)}`);
  const body = parseFields(table[kind], x, ['kind']);
  return isInvalid(body) ? invalid(`${kind}: ${body.invalid}`) : { kind, ...body };
}

/** A tab's message as the worker received it, checked; or why it was refused. */
export function parseTabMessage(x: unknown): TabToWorker | Invalid {
  return parseIn(TAB_MESSAGES, x) as TabToWorker | Invalid;
}
/** The worker's message as a tab received it, checked; or why it was refused. */
export function parseWorkerMessage(x: unknown): WorkerToTab | Invalid {
  return parseIn(WORKER_MESSAGES, x) as WorkerToTab | Invalid;
}
