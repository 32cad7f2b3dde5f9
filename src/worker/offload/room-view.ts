/**
 * The room as this device knows it from announcements: its settings (model and target, merged
 * last-writer-wins), the manifests it has seen, and what every peer holds and is fetching.
 */
import type { RoomDevice } from '../../core/adaptation.js';
import type { Manifest } from '../../core/onnx/manifest.js';
import { OFFLOADING, REMEMBERED_DEVICES } from '../../core/policy.js';
import { initialSettings, mergeSettings, sameSettings, type DeviceHoldings, type RoomSettings } from '../../core/room.js';
import { isUp, type PeerState } from '../device-state.js';
import type { Orders } from './orders.js';
import { withBattery } from '../../core/availability.js';

export class RoomView {
  settings: RoomSettings = initialSettings();
  readonly manifests = new Map<string, Manifest>();
  /** what each live peer last announced */
  readonly peers = new Map<string, DeviceHoldings>();
  /** what each device last announced, kept across its failures, so a rejoin is told apart from new copies */
  private readonly announcedBefore = new Map<string, Set<string>>();

  /** The room's model, once its manifest is here. */
  get manifest(): Manifest | null {
    return this.settings.model ? this.manifests.get(this.settings.model) ?? null : null;
  }

  /** `P2` for a partition of the room's model, else a short hash. */
  label(hash: string): string {
    const p = this.manifest?.partitions.find((x) => x.sha256 === hash);
    return p ? `P${p.id}` : `replica ${hash.slice(0, 8)}`;
  }

  /** Merges another view of the settings; returns what changed, or null when nothing did. */
  adopt(theirs: RoomSettings): { model: boolean; target: boolean } | null {
    const merged = mergeSettings(this.settings, theirs);
    if (sameSettings(merged, this.settings)) return null;
    const before = this.settings;
    this.settings = merged;
    return { model: merged.model !== before.model, target: merged.target !== before.target };
  }

  /**
   * Records a peer's announcement. Returns whether what it holds changed (the coordinator must
   * re-plan) and, for the event log, the copies of the room's model the room can count on from now.
   */
  announced(from: string, h: DeviceHoldings): { changed: boolean; line: string | null } {
    const prev = this.peers.get(from);
    const m = this.manifest;
    let line: string | null = null;
    if (m) {
      // a finished transfer, or a device back with its cache
      const had = new Set(prev?.holds ?? []);
      const fresh = m.partitions.filter((p) => h.holds.includes(p.sha256) && !had.has(p.sha256));
      const before = this.announcedBefore.get(from);
      const back = !prev && before && fresh.every((p) => before.has(p.sha256));
      if (fresh.length) line = `${back ? 'is back with its copies of' : 'holds a verified copy of'} ${fresh.map((p) => `P${p.id}`).join(', ')}`;
    }
    // re-inserted, so the map's order is last-announced first-forgotten
    this.announcedBefore.delete(from);
    if (this.announcedBefore.size >= REMEMBERED_DEVICES) this.announcedBefore.delete(this.announcedBefore.keys().next().value!);
    this.announcedBefore.set(from, new Set(h.holds));
    this.peers.set(from, h);
    return { changed: !prev || prev.holds.join() !== h.holds.join(), line };
  }

  /** A failed peer's copies are gone until it comes back and announces them again. */
  forgetPeer(deviceId: string): void {
    this.peers.delete(deviceId);
  }

  /** Keeps a manifest, evicting the oldest that is not the room's when full; returns the evicted key. */
  addManifest(key: string, m: Manifest): string | null {
    let evicted: string | null = null;
    if (!this.manifests.has(key) && this.manifests.size >= OFFLOADING.maxManifests) {
      evicted = [...this.manifests.keys()].find((k) => k !== this.settings.model) ?? null;
      if (evicted) this.manifests.delete(evicted);
    }
    this.manifests.set(key, m);
    return evicted;
  }

  /** A peer's a_d: its history's, and its battery's where it announced one (what Algorithm 1 plans with and the matrix shows). */
  availability(p: PeerState): number {
    return withBattery(p.availability, this.peers.get(p.deviceId)?.battery ?? null);
  }

  /** Every peer that has announced, as Algorithm 1 sees it, with the copies ordered to it counted as arriving. */
  peerDevices(peerStates: readonly PeerState[], orders: Orders, now: number): RoomDevice[] {
    return peerStates.filter((p) => this.peers.has(p.deviceId)).map((p): RoomDevice => {
      const h = this.peers.get(p.deviceId)!;
      return {
        id: p.deviceId, alive: isUp(p.status), budgetBytes: h.budget, availability: this.availability(p), speed: 1,
        holds: new Set(h.holds), incoming: new Set([...h.fetching.map((f) => f.hash), ...orders.pending(p.deviceId, now)]),
        sending: 0, rttMs: new Map(),
      };
    });
  }
}
