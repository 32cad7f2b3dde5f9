/** What the device worker publishes to its tabs: everything the dashboard shows. */
import type { Backend } from '../core/protocol.js';
import type { WorkerKind } from './messages.js';

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
  | 'closed' | 'ice' | 'leader' | 'signalling';

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
  room: string;
  backend: Backend;
  backendDetail: string;
  workerKind: WorkerKind;
  tabs: number;
  leaderTabId: string | null;
  signalling: string;
  heartbeatMs: number;
  peers: PeerView[];
  events: MeshEvent[];
  droppedTotal: number;
  series: Record<string, PeerSeries>;
}
