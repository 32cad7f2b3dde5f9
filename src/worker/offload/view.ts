/** The room's offloading state as this device's dashboard shows it: the placement matrix and its numbers. */
import { coordinatorOf } from '../../core/adaptation.js';
import { partitionViews, usedBytes, type DeviceHoldings } from '../../core/room.js';
import type { OffloadDevice, OffloadView } from '../../core/views.js';
import { isUp, type PeerState } from '../device-state.js';
import type { LocalCopies } from './local-copies.js';
import type { RoomView } from './room-view.js';

type Member = OffloadDevice & { holdings: DeviceHoldings | null };

/** This device and every peer, with what each holds, for the placement matrix and D. */
export function roomMembers(room: RoomView, copies: LocalCopies, mine: DeviceHoldings, self: string, selfAvailability: number, peerStates: readonly PeerState[]): Member[] {
  return [
    { id: self, name: 'this device', self: true, alive: true, announced: true, budget: copies.offer.bytes, used: usedBytes(room.manifest, copies.holds), availability: selfAvailability, battery: copies.battery, holdings: mine },
    ...peerStates.map((p) => {
      const h = room.peers.get(p.deviceId) ?? null;
      return { id: p.deviceId, name: p.name, self: false, alive: isUp(p.status), announced: !!h, budget: h?.budget ?? 0, used: h?.used ?? 0, availability: room.availability(p), battery: h?.battery ?? null, holdings: h };
    }),
  ];
}

export interface ViewParts {
  room: RoomView;
  copies: LocalCopies;
  /** this device and every peer, with what each holds */
  devices: Member[];
  unmet: OffloadView['unmet'];
  bytesSent: number;
  lastRestoreMs: number | null;
}

export function offloadView({ room, copies, devices, unmet, bytesSent, lastRestoreMs }: ViewParts): OffloadView {
  const m = room.manifest;
  const s = room.settings;
  const pv = m ? partitionViews(m, devices) : { partitions: [], model: 0 };
  const partitionOf = (hash: string) => m?.partitions.find((p) => p.sha256 === hash);
  return {
    ready: copies.ready,
    coordinator: coordinatorOf(devices.filter((d) => d.self || d.announced)),
    target: s.target,
    targetBy: s.targetBy,
    model: m ? { name: m.model.name, sha256: m.model.sha256, by: s.modelBy, at: s.modelAt, inputs: m.model.inputs.map((i) => `${i.name} [${i.dims.join(', ')}]`).join(', '), variant: m.model.variant?.kind ?? null } : null,
    waitingForManifest: !!s.model && !m,
    modelDependability: pv.model,
    met: !!m && pv.partitions.every((p) => p.dependability >= s.target),
    partitions: pv.partitions,
    devices: devices.map(({ holdings: _h, ...d }) => d),
    unmet: m ? unmet : [],
    budget: copies.offer,
    used: usedBytes(m, copies.holds),
    bytesReceived: copies.bytesReceived,
    bytesSent,
    mismatches: copies.mismatches,
    resumes: copies.resumes,
    transfers: copies.transfers().map((f) => ({ hash: f.hash, partition: partitionOf(f.hash)?.id ?? null, from: f.current, verified: f.verifiedBytes, bytes: partitionOf(f.hash)?.bytes ?? 0, resumes: f.resumes })),
    lastRestoreMs,
  };
}
