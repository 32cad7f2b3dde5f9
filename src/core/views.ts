/** What the device worker publishes to its tabs: everything the dashboard shows. */
import type { Backend, InferenceMode } from './messages.js';
import type { VariantKind } from './onnx/variant.js';
import type { PartitionView } from './room.js';
import type { BatteryState } from './availability.js';

/**
 * The tab's line to the signalling server: `lost` while it is away (existing connections stay up,
 * new devices cannot join), `refused` when it turned this tab away and said why.
 */
export const SIGNALLING_STATES = ['connecting', 'open', 'lost', 'refused'] as const;
export interface SignallingView {
  state: (typeof SIGNALLING_STATES)[number];
  detail: string;
  attempts: number;
  since: number | null;
}

export const WORKER_KINDS = ['shared', 'dedicated'] as const;
/** a SharedWorker, or a dedicated worker per tab where the browser has no SharedWorker */
export type WorkerKind = (typeof WORKER_KINDS)[number];

export type PeerStatus = 'alive' | 'suspected' | 'failed' | 'rejected';

export interface PeerView {
  deviceId: string;
  name: string;
  backend: Backend | null;
  status: PeerStatus;
  rttMs: number | null;
  thresholdMs: number;
  /** the threshold comes from the bootstrap (k windows seen), not the default */
  warm: boolean;
  dropped: number;
  /** of those, frames over the per-peer rate limit (a peer flooding this device) */
  limited: number;
  /** epoch ms until which this device refuses it for flooding (CUT_OFF.forMs), or null */
  cutOffUntil: number | null;
  /** a_d: chance it stays up over the next minute, from its life in the room (FRIM.md) */
  availability: number;
  /** declared failures seen for it */
  failures: number;
  /** epoch ms of the last status change */
  since: number;
  reason: string;
}

export type EventKind =
  | 'joined' | 'suspected' | 'cleared' | 'failed' | 'recovered' | 'rejected' | 'dropped'
  // a peer that left on purpose: failed at once, without waiting for its silence
  | 'left'
  | 'closed' | 'ice' | 'leader' | 'signalling' | 'renamed'
  // a peer moving its connections to another of its tabs
  | 'handover' | 'moved'
  // offloading (FRIM 4.2)
  | 'model' | 'target' | 'copy-ordered' | 'copy-added' | 'copy-retired' | 'transfer' | 'resumed' | 'mismatch' | 'storage'
  // distributed inference (FRIM 4.3)
  | 'inference'
  // a partition's compute backend changed on this device (WebGPU failed to load or to run it)
  | 'backend'
  // this device's battery crossed into low (its copies go elsewhere) or back out
  | 'battery';

export interface MeshEvent {
  seq: number;
  /** epoch ms */
  at: number;
  kind: EventKind;
  deviceId: string | null;
  detail: string;
}

export interface PeerSeries {
  /** epoch seconds */
  t: number[];
  rtt: (number | null)[];
  threshold: number[];
}

export interface DeviceSnapshot {
  deviceId: string;
  name: string;
  platform: string;
  room: string;
  backend: Backend;
  backendDetail: string;
  workerKind: WorkerKind;
  tabs: number;
  leaderTabId: string | null;
  /** false once the user chose to leave the room (every tab of this device is out until they rejoin) */
  inRoom: boolean;
  signalling: SignallingView;
  heartbeatMs: number;
  peers: PeerView[];
  events: MeshEvent[];
  droppedTotal: number;
  series: Record<string, PeerSeries>;
  offload: OffloadView | null;
  inference: InferenceView | null;
}

/** The requester's view of a stream of inference requests, and what this device ran for others. */
export interface InferenceView {
  mode: InferenceMode;
  /** the run feeds the test sample (labels known); false: synthetic inputs, no accuracy */
  labelled: boolean;
  /** a run is in progress */
  active: boolean;
  /** images: asked for, sent, answered, answered correctly, lost (a request carries `batch` of them) */
  count: number;
  sent: number;
  answered: number;
  correct: number;
  lost: number;
  /** requests: re-issued, in flight; latency percentiles are per request */
  reissued: number;
  inFlight: number;
  p50: number | null;
  p99: number | null;
  error: string | null;
  /** per answered (ok) or lost request: when it was issued (epoch s) and how long it took */
  points: { t: number; ms: number; ok: boolean }[];
  /** detector failures during the run (epoch s) */
  failures: { t: number; device: string }[];
  /** images per request */
  batch: number;
  /** the last requests: (first) image, label, prediction, images in the request, latency, which device's copy won each stage, attempts */
  recent: { image: number; label: number; predicted: number | null; images: number; ms: number | null; path: string[]; attempts: number; note: string }[];
  /** the baselines: the fixed path */
  path: string[];
  /** the last image the user gave: its answer (null if lost), latency, the copy that won each stage */
  classified: { predicted: number | null; ms: number | null; path: string[]; note: string } | null;
  /** top-1 per image in the order they were sent; null while unanswered or when lost */
  predictions: (number | null)[];
  /** stages this device ran for the room */
  /** stages this device ran for the room, copies dropped because the other finished first, second copies it sent (hedged), of them because the first was late, and warm-up requests it sent (WARM_UP) */
  running: { queued: number; ran: number; cancelled: number; computeMs: number; hedged: number; hedgedLate: number; warmUps: number };
}

export interface OffloadDevice {
  id: string;
  name: string;
  self: boolean;
  alive: boolean;
  /** it has told the room what it holds */
  announced: boolean;
  budget: number;
  used: number;
  availability: number;
  /** its battery, where its browser has the Battery Status API */
  battery: BatteryState | null;
}

export interface TransferView {
  hash: string;
  partition: number | null;
  from: string | null;
  verified: number;
  bytes: number;
  resumes: number;
}

/** The room's offloading state as this device sees it: the placement matrix and its numbers. */
export interface OffloadView {
  ready: boolean;
  coordinator: string | null;
  target: number;
  targetBy: string;
  /** `variant`: the baseline the model was trained for (early exits, skip hyper-connections), null for an ordinary model */
  model: { name: string; sha256: string; by: string; at: number; inputs: string; variant: VariantKind | null } | null;
  /** the room names a model whose manifest has not reached this device yet */
  waitingForManifest: boolean;
  modelDependability: number;
  met: boolean;
  partitions: PartitionView[];
  devices: OffloadDevice[];
  unmet: { partition: number; reason: string }[];
  /** `storageLimited`: the browser's storage, not a rule of ours, holds it down (its quota is nearly used up, or it refused a write) */
  budget: { bytes: number; from: string; user: boolean; storageLimited?: boolean; batteryLow?: boolean };
  used: number;
  bytesReceived: number;
  bytesSent: number;
  mismatches: number;
  resumes: number;
  transfers: TransferView[];
  lastRestoreMs: number | null;
}
