/**
 * Offloading in the device worker (FRIM section 4.2): wires the room view (settings, manifests,
 * what every device holds), this device's copies, the coordinator (Algorithm 1), replica fetches
 * and serves, and the target tracker to the wire and the clock.
 *
 * Every device announces its holdings and the copies it is fetching, so when the coordinator dies
 * the next one decides from the same state, and copies already on their way are not ordered twice.
 */
import { availability, withBattery, type BatteryState } from '../../core/availability.js';
import type { RoomDevice } from '../../core/adaptation.js';
import type { Manifest } from '../../core/onnx/manifest.js';
import { OFFLOADING } from '../../core/policy.js';
import { decodeFrame, encodeFrame, roomTag, type Backend, type Message } from '../../core/protocol.js';
import { partitionViews, type DefaultBudget, type DeviceHoldings, type RoomSettings } from '../../core/room.js';
import type { OffloadView } from '../../core/views.js';
import type { WarmSession } from '../../core/device-protocol.js';
import { sha256Bytes } from '../../store/digest.js';
import { ReplicaStore } from '../../store/replicas.js';
import { SettingsStore } from '../../store/settings.js';
import { isUp, type DeviceState } from '../device-state.js';
import type { Serving } from '../inference/context.js';
import { Announcer } from './announcer.js';
import { Coordinator } from './coordinator.js';
import { LocalCopies } from './local-copies.js';
import { ReplicaServer } from './replica-server.js';
import { RoomModel } from './room-model.js';
import { RoomView } from './room-view.js';
import { TargetTracker } from './target-tracker.js';
import { servingOf } from './serving.js';
import { offloadView, roomMembers } from './view.js';

export interface OffloadDeps {
  deviceId: string;
  room: string;
  state: DeviceState;
  /** frames to one device, through the leader tab */
  send(to: string, frames: Uint8Array[]): void;
  mono(): number;
  epoch(): number;
  /** what the browser reports, for the default budget */
  budgetDefault(heldBytes: number): Promise<DefaultBudget>;
}

export class Offloader {
  private readonly tag: number;
  private readonly store = new ReplicaStore();
  private readonly settingsStore = new SettingsStore();
  private readonly server: ReplicaServer;
  private readonly room = new RoomView();
  readonly copies: LocalCopies;
  private readonly coordinator = new Coordinator();
  private readonly tracker = new TargetTracker();
  private readonly announcer: Announcer;
  private readonly model: RoomModel;
  private lastCoordinate = -Infinity;
  private coordinateDue = true;
  private offloadedAt: number | null = null;
  private readonly startedAt: number;

  constructor(private readonly deps: OffloadDeps) {
    this.tag = roomTag(deps.room);
    this.startedAt = deps.mono();
    this.server = new ReplicaServer({
      holds: (h) => this.copies.holds.has(h),
      blob: (h) => this.store.getBlob(h),
      send: (to, m, p) => this.send(to, m, p),
      digest: sha256Bytes,
    }, deps.mono);
    this.copies = new LocalCopies(this.store, this.settingsStore, {
      self: deps.deviceId,
      log: (kind, by, detail) => this.deps.state.log(kind, by, detail),
      changed: () => this.changed(),
      announce: () => this.announcer.announce(),
      dirty: () => (this.deps.state.dirty = true),
      manifest: () => this.room.manifest,
      label: (h) => this.room.label(h),
      alive: (d) => this.deps.state.peerStates().some((p) => p.deviceId === d && isUp(p.status)),
      request: (to, hash, chunks) => this.send(to, { type: 'replica-request', hash, chunks }),
      forgetServed: (h) => this.server.forget(h),
      mono: deps.mono,
      budgetDefault: deps.budgetDefault,
    });
    this.announcer = new Announcer({
      copies: this.copies,
      settings: () => this.room.settings,
      broadcast: (m) => this.broadcast(m),
      changed: () => this.changed(),
      mono: deps.mono,
    });
    this.model = new RoomModel({
      self: deps.deviceId, room: deps.room, view: this.room, store: this.store, settingsStore: this.settingsStore,
      send: (to, m) => this.send(to, m),
      log: (kind, by, detail) => this.deps.state.log(kind, by, detail),
      modelChanged: () => this.tracker.reset(),
      changed: () => this.changed(),
      mono: deps.mono,
      epoch: deps.epoch,
    });
  }

  private changed(): void {
    this.announcer.dirty = true;
    this.coordinateDue = true;
    this.deps.state.dirty = true;
  }

  /** Loads what this device kept: settings, budget, manifests, and every replica that still verifies. */
  async start(): Promise<void> {
    await this.model.load();
    await this.copies.start();
    this.changed();
  }

  // ---- the wire ----

  private send(to: string, message: Message, payload?: Uint8Array): void {
    this.deps.send(to, [encodeFrame(message, this.tag, payload)]);
  }

  /** One frame per peer: `send` hands its buffer over to the tab (transferred, not copied). */
  private broadcast(message: Message): void {
    for (const p of this.deps.state.peerStates()) if (isUp(p.status)) this.send(p.deviceId, message);
  }

  /** What the leader tab's compute worker has loaded now (empty while no tab leads), and which of those have run once. */
  setSessions(backends: Record<string, Backend>, warm: readonly WarmSession[]): void {
    this.announcer.setSessions(backends, warm);
  }

  onMembership(deviceId: string, change: 'joined' | 'failed' | 'recovered'): void {
    // a failed device's copies are gone until it announces them again; a (re)joining tab starts
    // with nothing in flight: either way orders sent to it are void
    this.coordinator.orders.forget(deviceId);
    if (change === 'failed') {
      this.room.forgetPeer(deviceId);
      this.copies.checkFetches();
    } else if (this.copies.ready) {
      // the newcomer learns the room's model and our holdings; ordered channel: manifest first
      const m = this.room.manifest;
      if (m) this.send(deviceId, { type: 'manifest', manifest: m });
      this.send(deviceId, this.announcer.message());
    }
    this.changed();
  }

  /** Frames already checked once by the tab; checked again here, at our boundary. */
  onFrame(from: string, data: ArrayBuffer): void {
    const d = decodeFrame(data, this.tag);
    if (!d.ok) return this.deps.state.unusable(from, 'malformed frame', `${d.error}: ${d.detail}`);
    const m = d.message;
    switch (m.type) {
      case 'announce':
        return this.onAnnounce(from, m.holdings, m.room);
      case 'manifest':
        return void this.model.onManifest(from, m.manifest);
      case 'fetch':
        return this.copies.fetch(m.hash, m.from, from);
      case 'retire':
        return void this.copies.retire(m.hash, from);
      case 'replica-request':
        return void this.server.serve(from, m.hash, m.chunks).catch((e: unknown) => this.deps.state.log('transfer', from, `could not serve a replica: ${(e as Error).message}`));
      case 'replica-offer':
        return this.copies.onOffer(from, m);
      case 'replica-chunk':
        if (!this.copies.onChunk(from, m.hash, m.index, d.payload)) this.deps.state.unusable(from, 'unexpected frame', 'a replica chunk nobody asked for');
        return;
      case 'replica-missing':
        return this.copies.onMissing(from, m.hash, m.reason);
      case 'manifest-request': {
        const wanted = this.room.manifests.get(m.key);
        if (wanted) this.send(from, { type: 'manifest', manifest: wanted });
        return;
      }
      default:
        this.deps.state.unusable(from, 'unexpected frame', `${m.type} is not for offloading`);
    }
  }

  private onAnnounce(from: string, h: DeviceHoldings, settings: RoomSettings): void {
    const { changed, line } = this.room.announced(from, h);
    if (line) this.deps.state.log('copy-added', from, line);
    if (changed) this.coordinateDue = true;
    this.coordinator.orders.settle(from, h, this.deps.mono());
    this.model.heard(from, settings);
    this.deps.state.dirty = true;
  }

  // ---- what the user does on this device ----

  /**
   * A model dropped on one of this device's tabs, whose partitions that tab's compute worker has
   * cut and stored in this browser (verified as they were written): serve them, and make it the
   * room's model. Copies beyond this device's budget are retired once the room holds enough elsewhere.
   */
  async offload(manifest: Manifest): Promise<void> {
    await this.copies.adoptStored(manifest);
    this.offloadedAt = this.deps.mono();
    this.broadcast({ type: 'manifest', manifest });
    await this.model.serve(manifest);
    this.announcer.announce();
  }

  setTarget(target: number): void {
    if (this.model.setTarget(target)) this.announcer.announce();
  }

  setBudget(bytes: number | null): Promise<void> {
    return this.copies.setBudget(bytes);
  }

  /** "Forget models": drop every cached replica here; the room re-places what it still needs. */
  async forget(): Promise<void> {
    this.model.forgetOthers();
    await this.copies.forget(this.room.manifest);
  }

  /** Fetch `hash` from these holders, in order (the debug API and benchmarks). */
  fetchReplica(hash: string, from: string[]): void {
    this.copies.fetch(hash, from, null);
  }

  label(hash: string): string {
    return this.room.label(hash);
  }

  // ---- the coordinator and the clock ----

  private roomDevices(): RoomDevice[] {
    const peers = this.deps.state.peerStates();
    const now = this.deps.mono();
    const mine: RoomDevice = {
      id: this.deps.deviceId, alive: true, budgetBytes: this.copies.offer.bytes, availability: this.selfAvailability(), speed: 1,
      holds: this.copies.holds, incoming: new Set([...this.copies.fetching(), ...this.coordinator.orders.pending(this.deps.deviceId, now)]), sending: this.server.sending,
      rttMs: new Map(peers.filter((p) => p.rttMs !== null).map((p) => [p.deviceId, p.rttMs!])),
    };
    return [mine, ...this.room.peerDevices(peers, this.coordinator.orders, now)];
  }

  private selfAvailability(): number {
    return withBattery(availability({ uptimeSec: (this.deps.mono() - this.startedAt) / 1000, failures: 0 }), this.copies.battery);
  }

  /** This device's battery changed (from the leader tab's Battery Status API): the room hears at the next announcement. */
  setBattery(b: BatteryState): void {
    if (this.copies.setBattery(b)) this.changed();
  }

  private coordinate(): void {
    this.coordinateDue = false;
    const d = this.coordinator.decide(this.deps.deviceId, this.roomDevices(), this.room.manifest, this.room.settings.target, this.deps.mono());
    for (const o of d.fetch) {
      this.deps.state.log('copy-ordered', o.to, o.why);
      if (o.to === this.deps.deviceId) this.copies.fetch(o.hash, o.from, null);
      else this.send(o.to, { type: 'fetch', hash: o.hash, from: o.from });
    }
    for (const x of d.retire) {
      if (x.device === this.deps.deviceId) void this.copies.retire(x.hash, null);
      else this.send(x.device, { type: 'retire', hash: x.hash });
    }
  }

  /** Called by the worker every few hundred ms. */
  tick(): void {
    if (!this.copies.ready) return;
    this.copies.checkFetches();
    this.copies.checkQuota();
    const now = this.deps.mono();
    this.announcer.tick(now);
    if (this.coordinateDue || now - this.lastCoordinate > OFFLOADING.coordinateMs) {
      this.lastCoordinate = now;
      this.coordinate();
    }
    const m = this.room.manifest;
    if (!m) return;
    const pv = partitionViews(m, this.devicesNow());
    const line = this.tracker.update({ partitions: pv.partitions, modelDependability: pv.model, target: this.room.settings.target }, now, this.offloadedAt);
    if (line) this.deps.state.log('target', null, line);
  }

  /** The room's offload as inference needs it, or null while there is none (or no manifest yet). */
  serving(): Serving | null {
    return servingOf(this.room, this.copies, this.deps.deviceId, this.deps.state.peerStates(), { warm: (h) => this.announcer.isWarm(h), ms: (h) => this.announcer.warmMs(h) });
  }

  /** This device and every peer, with what each holds, for the placement matrix and D. */
  private devicesNow() {
    return roomMembers(this.room, this.copies, this.announcer.holdings(), this.deps.deviceId, this.selfAvailability(), this.deps.state.peerStates());
  }

  view(): OffloadView {
    return offloadView({
      room: this.room, copies: this.copies, devices: this.devicesNow(), unmet: this.coordinator.unmet,
      bytesSent: this.server.bytesSent, lastRestoreMs: this.tracker.lastRestoreMs,
    });
  }
}
