/** The room's offload as inference sees it: which live devices hold each stage, and what this device keeps. */
import { leavingCopies } from '../../core/adaptation.js';
import { sessionWarm } from '../../core/room.js';
import { isUp, type PeerState } from '../device-state.js';
import type { Serving } from '../inference/context.js';
import { roomPartitions } from './coordinator.js';
import type { LocalCopies } from './local-copies.js';
import type { RoomView } from './room-view.js';

/** `here`: whether this device's session of a partition has run once, and a warm run's time */
export function servingOf(room: RoomView, copies: LocalCopies, self: string, peerStates: readonly PeerState[], here: { warm(hash: string): boolean; ms(hash: string): number | undefined }): Serving | null {
  const m = room.manifest;
  const key = room.settings.model;
  if (!m || !key) return null;
  const holds = copies.holds;
  const peers = peerStates.filter((p) => isUp(p.status));
  const replicas = m.partitions.map((p) => [
    ...(holds.has(p.sha256) ? [self] : []),
    ...peers.filter((x) => room.peers.get(x.deviceId)?.holds.includes(p.sha256)).map((x) => x.deviceId),
  ].sort());
  // the same rule the coordinator plans with: the largest copies that fit the budget stay; worked
  // out only when asked (serving() is called for every stage, keeps() only by the warm-up)
  let kept: Set<string> | null = null;
  const keeps = (h: string) => {
    if (!kept) {
      const leaving = leavingCopies({ holds, budgetBytes: copies.budget.bytes }, roomPartitions(m));
      kept = new Set(m.partitions.filter((p) => holds.has(p.sha256) && !leaving.has(p.id)).map((p) => p.sha256));
    }
    return kept.has(h);
  };
  // a device whose session of a partition has not run yet pays for compiling its kernels first
  // (seconds on WebGPU)
  const session = (stage: number, device: string) => {
    const hash = m.partitions[stage]?.sha256;
    return hash ? room.peers.get(device)?.sessions.find((x) => x.hash === hash) : undefined;
  };
  const warm = (stage: number, device: string) => {
    if (device === self) return here.warm(m.partitions[stage]?.sha256 ?? '');
    return sessionWarm(session(stage, device));
  };
  const warmMs = (stage: number, device: string) => (device === self ? here.ms(m.partitions[stage]?.sha256 ?? '') : session(stage, device)?.ms);
  return { key, manifest: m, replicas, holds: (h) => holds.has(h), keeps, warm, warmMs };
}
