/**
 * Offloading in the device worker (FRIM section 4.2): the room's model and target, what every
 * device holds, Algorithm 1 run by the coordinator on every membership change, replica fetches
 * and serves, and the IndexedDB cache behind them.
 *
 * Decision: one coordinator (the live device with the smallest id, `coordinatorOf`) decides and
 * sends `fetch` / `retire` orders; everyone else follows. Every device announces its holdings and
 * the copies it is fetching, so when the coordinator dies the next one decides from the same
 * state, and copies already on their way are not ordered twice.
 */
import { adapt, coordinatorOf, type RoomDevice } from '../core/adaptation.js';
import type { Manifest } from '../core/onnx/manifest.js';
import { decodeFrame, encodeFrame, roomTag, type Backend, type Message } from '../core/protocol.js';
import { initialSettings, manifestKey, mergeSettings, partitionViews, sameSettings, usedBytes, isTarget, type DeviceHoldings, type RoomSettings } from '../core/room.js';
import { availability } from '../core/availability.js';
import { sha256Bytes } from '../store/digest.js';
import { ReplicaStore, StorageFullError } from '../store/replicas.js';
import { SettingsStore } from '../store/settings.js';
import type { DeviceState } from './device-state.js';
import { ReplicaFetch } from './replica-fetch.js';
import { ReplicaServer } from './replica-server.js';
import type { Serving } from './inference.js';
import type { OffloadView } from './snapshot.js';

export interface OffloadDeps {
  deviceId: string;
  room: string;
  state: DeviceState;
  /** frames to one device, through the leader tab */
  send(to: string, frames: Uint8Array[]): void;
  mono(): number;
  epoch(): number;
  /** what the browser reports, for the default budget */
  budgetDefault(): Promise<{ bytes: number; from: string }>;
}

const ANNOUNCE_MS = 2000;
const ANNOUNCE_FETCHING_MS = 500;
/** how long an order counts as "on its way" before the coordinator may order it again */
const ORDER_GRACE_MS = 8000;
const MAX_MANIFESTS = 16;
const COORDINATE_MS = 1000;
/** a receiver announces an order it accepted within one tick; this leaves room for a busy device */
const ORDER_ACK_MS = 1500;

/** A suspected device still counts: its copies are not written off before the detector declares it failed. */
const isUp = (status: string) => status === 'alive' || status === 'suspected';

/** The manifest's partitions as Algorithm 1 sees them. */
const roomPartitions = (m: Manifest) => m.partitions.map((p) => ({ id: p.id, hash: p.sha256, bytes: p.bytes, flops: p.flops }));

export class Offloader {
  private readonly tag: number;
  private readonly store = new ReplicaStore();
  private readonly settingsStore = new SettingsStore();
  private readonly server: ReplicaServer;
  private settings: RoomSettings = initialSettings();
  private readonly manifests = new Map<string, Manifest>();
  private holds = new Set<string>();
  /** partition sessions the leader tab has loaded, and their backends */
  private sessions: Record<string, Backend> = {};
  private readonly peers = new Map<string, DeviceHoldings>();
  /** what each device last announced, kept across its failures, so a rejoin is told apart from new copies */
  private readonly announcedBefore = new Map<string, Set<string>>();
  private readonly fetches = new Map<string, ReplicaFetch>();
  /** `${hash}>${device}` -> when the coordinator sent the order, and until when it counts as on its way */
  private readonly orders = new Map<string, { sentAt: number; until: number }>();
  private budget = { bytes: 256 * 1024 * 1024, from: 'default', user: false };
  private ready = false;
  private lastAnnounce = -Infinity;
  private lastCoordinate = -Infinity;
  private lastManifestRequest = -Infinity;
  private wasMet = false;
  private announceDirty = true;
  private coordinateDue = true;
  private bytesReceived = 0;
  private mismatches = 0;
  private resumes = 0;
  private met: boolean | null = null;
  private belowSince: number | null = null;
  private lastRestoreMs: number | null = null;
  private offloadedAt: number | null = null;
  private readonly startedAt: number;

  constructor(private readonly deps: OffloadDeps) {
    this.tag = roomTag(deps.room);
    this.startedAt = deps.mono();
    this.server = new ReplicaServer({
      holds: (h) => this.holds.has(h),
      blob: (h) => this.store.getBlob(h),
      send: (to, m, p) => this.send(to, m, p),
      digest: sha256Bytes,
    }, deps.mono);
  }

  private get manifest(): Manifest | null {
    return this.settings.model ? this.manifests.get(this.settings.model) ?? null : null;
  }

  private get log() {
    return this.deps.state.log.bind(this.deps.state);
  }

  private changed(): void {
    this.announceDirty = true;
    this.coordinateDue = true;
    this.deps.state.dirty = true;
  }

  /** Loads what this device kept: settings, budget, manifests, and every replica that still verifies. */
  async start(): Promise<void> {
    const [stored, userBudget, def, manifests, hashes] = await Promise.all([
      this.settingsStore.roomSettings(this.deps.room),
      this.settingsStore.budget(),
      this.deps.budgetDefault(),
      this.store.allManifests(),
      this.store.replicaHashes(),
    ]);
    if (stored) this.settings = mergeSettings(this.settings, stored);
    this.budget = userBudget ? { bytes: userBudget, from: 'set on this device', user: true } : { ...def, user: false };
    for (const m of manifests) this.manifests.set(manifestKey(m), m);
    const t0 = this.deps.mono();
    let bytes = 0;
    // each copy is checked before it is announced, a slice at a time: big replicas never sit in memory here
    for (const h of hashes) {
      const size = await this.store.verify(h);
      if (size) {
        this.holds.add(h);
        bytes += size;
      }
    }
    if (this.holds.size) this.log('copy-added', null, `${this.holds.size} verified cop${this.holds.size === 1 ? 'y' : 'ies'} (${(bytes / 1024).toFixed(0)} KiB) loaded from this browser's storage in ${Math.round(this.deps.mono() - t0)} ms; nothing downloaded`);
    this.ready = true;
    this.changed();
  }

  // ---- sending ----

  private send(to: string, message: Message, payload?: Uint8Array): void {
    this.deps.send(to, [encodeFrame(message, this.tag, payload)]);
  }

  private livePeers(): string[] {
    return this.deps.state.peerStates().filter((p) => isUp(p.status)).map((p) => p.deviceId);
  }

  /** One frame per peer: `send` hands its buffer over to the tab (transferred, not copied). */
  private broadcast(message: Message): void {
    for (const p of this.livePeers()) this.send(p, message);
  }

  private holdings(): DeviceHoldings {
    return {
      holds: [...this.holds].sort(),
      fetching: [...this.fetches.values()].map((f) => ({ hash: f.hash, verified: f.verifiedBytes })),
      budget: this.budget.bytes,
      used: usedBytes(this.manifest, this.holds),
      sessions: Object.entries(this.sessions).filter(([h]) => this.holds.has(h)).map(([hash, backend]) => ({ hash, backend })).sort((a, b) => a.hash.localeCompare(b.hash)),
    };
  }

  /** What the leader tab's compute worker has loaded now (empty while no tab leads). */
  setSessions(backends: Record<string, Backend>): void {
    const before = JSON.stringify(this.sessions);
    this.sessions = { ...backends };
    if (JSON.stringify(this.sessions) !== before) this.changed();
  }

  private announce(): void {
    if (!this.ready) return;
    this.broadcast({ type: 'announce', holdings: this.holdings(), room: this.settings });
    this.lastAnnounce = this.deps.mono();
    this.announceDirty = false;
  }

  // ---- membership ----

  onMembership(deviceId: string, change: 'joined' | 'failed' | 'recovered'): void {
    if (change === 'failed') {
      // its copies are gone until it comes back and announces them again, and so are orders to it
      this.peers.delete(deviceId);
      for (const key of [...this.orders.keys()]) if (key.endsWith(`>${deviceId}`)) this.orders.delete(key);
      for (const f of this.fetches.values()) f.check();
    } else if (this.ready) {
      // a (re)joining tab starts with nothing in flight: orders sent to its predecessor are void
      for (const key of [...this.orders.keys()]) if (key.endsWith(`>${deviceId}`)) this.orders.delete(key);
      // the newcomer learns the room's model and our holdings; ordered channel: manifest first
      const m = this.manifest;
      if (m) this.send(deviceId, { type: 'manifest', manifest: m });
      this.send(deviceId, { type: 'announce', holdings: this.holdings(), room: this.settings });
    }
    this.changed();
  }

  // ---- incoming frames (already checked once by the tab; checked again here, at our boundary) ----

  onFrame(from: string, data: ArrayBuffer): void {
    const d = decodeFrame(data, this.tag);
    if (!d.ok) {
      this.deps.state.dropped(from, from, 'malformed frame', `${d.error}: ${d.detail}`);
      return;
    }
    const m = d.message;
    switch (m.type) {
      case 'announce':
        return this.onAnnounce(from, m.holdings, m.room);
      case 'manifest':
        return void this.onManifest(from, m.manifest);
      case 'fetch':
        return this.order(m.hash, m.from, from);
      case 'retire':
        return void this.retire(m.hash, from);
      case 'replica-request':
        return void this.server.serve(from, m.hash, m.chunks).catch((e: unknown) => this.log('transfer', from, `could not serve a replica: ${(e as Error).message}`));
      case 'replica-offer':
        return this.fetches.get(m.hash)?.onOffer(from, m);
      case 'replica-chunk': {
        this.bytesReceived += d.payload.length;
        const f = this.fetches.get(m.hash);
        if (!f) return;
        const before = f.corruptChunks;
        f.onChunk(from, m.index, d.payload);
        this.mismatches += f.corruptChunks - before;
        this.deps.state.dirty = true;
        return;
      }
      case 'replica-missing':
        return this.fetches.get(m.hash)?.onMissing(from, m.reason);
      case 'manifest-request': {
        const wanted = this.manifests.get(m.key);
        if (wanted) this.send(from, { type: 'manifest', manifest: wanted });
        return;
      }
      default:
        this.deps.state.dropped(from, from, 'unexpected frame', `${m.type} is not for the device worker`);
    }
  }

  private onAnnounce(from: string, h: DeviceHoldings, room: RoomSettings): void {
    const prev = this.peers.get(from);
    const m = this.manifest;
    if (m) {
      // copies the room can count on from now: a finished transfer, or a device back with its cache
      const had = new Set(prev?.holds ?? []);
      const fresh = m.partitions.filter((p) => h.holds.includes(p.sha256) && !had.has(p.sha256));
      const before = this.announcedBefore.get(from);
      const back = !prev && before && fresh.every((p) => before.has(p.sha256));
      if (fresh.length) this.log('copy-added', from, `${back ? 'is back with its copies of' : 'holds a verified copy of'} ${fresh.map((p) => `P${p.id}`).join(', ')}`);
    }
    this.announcedBefore.set(from, new Set(h.holds));
    this.peers.set(from, h);
    if (prev && prev.holds.join() !== h.holds.join()) this.coordinateDue = true;
    if (!prev) this.coordinateDue = true;
    // an order is done once the copy is announced, and lost if a later announcement shows no trace of it
    // (the receiver reloaded or gave up): then the coordinator may order it again at once
    const now = this.deps.mono();
    for (const [key, o] of this.orders) {
      const [hash, to] = key.split('>');
      if (to !== from) continue;
      const traced = h.fetching.some((f) => f.hash === hash);
      if (h.holds.includes(hash) || (!traced && now - o.sentAt > ORDER_ACK_MS)) this.orders.delete(key);
    }
    this.adoptSettings(room, from);
    // the room serves an offload we have no manifest for (its first copy was lost): ask who knows it
    const key = this.settings.model;
    if (key && !this.manifests.has(key) && room.model === key && this.deps.mono() - this.lastManifestRequest > ANNOUNCE_MS) {
      this.lastManifestRequest = this.deps.mono();
      this.send(from, { type: 'manifest-request', key });
    }
    this.deps.state.dirty = true;
  }

  private adoptSettings(theirs: RoomSettings, from: string | null): void {
    const merged = mergeSettings(this.settings, theirs);
    if (sameSettings(merged, this.settings)) return;
    const before = this.settings;
    this.settings = merged;
    void this.settingsStore.saveRoomSettings(this.deps.room, merged);
    if (merged.model !== before.model) {
      const m = this.manifest;
      this.log('model', from, m ? `the room now serves ${m.model.name} (${m.partitions.length} partitions)` : 'the room serves a new model; waiting for its manifest');
      this.met = null;
      this.wasMet = false;
    }
    if (merged.target !== before.target) this.log('target', from, `dependability target is now ${merged.target}`);
    this.changed();
  }

  private async onManifest(from: string, m: Manifest): Promise<void> {
    const key = manifestKey(m);
    if (this.manifests.has(key)) return;
    if (this.manifests.size >= MAX_MANIFESTS) {
      const old = [...this.manifests.keys()].find((k) => k !== this.settings.model);
      if (old) {
        this.manifests.delete(old);
        await this.store.deleteManifest(old);
      }
    }
    this.manifests.set(key, m);
    await this.store.putManifest(key, m);
    if (key === this.settings.model) this.log('model', from, `the room serves ${m.model.name} (${m.partitions.length} partitions)`);
    this.changed();
  }

  // ---- what the user does on this device ----

  /**
   * A model dropped on one of this device's tabs, whose partitions that tab's compute worker has
   * cut and stored in this browser (verified as they were written): serve them, and make it the
   * room's model. Copies beyond this device's budget are retired once the room holds enough
   * elsewhere.
   */
  async offload(manifest: Manifest): Promise<void> {
    for (const p of manifest.partitions) {
      if (!(await this.store.has(p.sha256))) throw new Error(`partition ${p.id} was not stored on this device`);
    }
    for (const p of manifest.partitions) this.holds.add(p.sha256);
    const key = manifestKey(manifest);
    await this.store.putManifest(key, manifest);
    this.manifests.set(key, manifest);
    this.offloadedAt = this.deps.mono();
    this.broadcast({ type: 'manifest', manifest });
    this.adoptSettings({ ...this.settings, model: key, modelAt: Math.max(this.deps.epoch(), this.settings.modelAt + 1), modelBy: this.deps.deviceId }, null);
    this.announce();
  }

  setTarget(target: number): void {
    if (!isTarget(target)) return;
    this.adoptSettings({ ...this.settings, target, targetAt: Math.max(this.deps.epoch(), this.settings.targetAt + 1), targetBy: this.deps.deviceId }, null);
    this.announce();
  }

  async setBudget(bytes: number | null): Promise<void> {
    await this.settingsStore.saveBudget(bytes);
    this.budget = bytes === null ? { ...(await this.deps.budgetDefault()), user: false } : { bytes, from: 'set on this device', user: true };
    this.log('storage', null, `replica budget is now ${(this.budget.bytes / 1048576).toFixed(0)} MiB (${this.budget.from})`);
    this.changed();
    this.announce();
  }

  /** "Forget models": drop every cached replica here; the room re-places what it still needs. */
  async forget(): Promise<void> {
    const n = this.holds.size;
    await this.store.forget();
    this.holds.clear();
    this.server.forget();
    // the room's model stays known (it is metadata the dashboard needs), its copies are gone
    const m = this.manifest;
    this.manifests.clear();
    if (m) {
      const key = manifestKey(m);
      this.manifests.set(key, m);
      await this.store.putManifest(key, m);
    }
    this.log('copy-retired', null, `forgot ${n} cached cop${n === 1 ? 'y' : 'ies'} on this device`);
    this.changed();
    this.announce();
  }

  // ---- orders ----

  /** `P2` for a partition of the room's model, else a short hash. */
  label(hash: string): string {
    const p = this.manifest?.partitions.find((x) => x.sha256 === hash);
    return p ? `P${p.id}` : `replica ${hash.slice(0, 8)}`;
  }

  /** Fetch `hash` from these holders, in order (a coordinator's order, or a debug request). */
  order(hash: string, from: string[], by: string | null): void {
    if (this.holds.has(hash) || !this.ready) return this.announce();
    const sources = from.filter((d) => d !== this.deps.deviceId);
    const existing = this.fetches.get(hash);
    if (existing) return existing.addSources(sources);
    const maxBytes = Math.max(0, this.budget.bytes - usedBytes(this.manifest, this.holds));
    const label = this.label(hash);
    const part = this.manifest?.partitions.find((p) => p.sha256 === hash);
    if (part && part.bytes > maxBytes) {
      this.log('storage', by, `${label} (${(part.bytes / 1024).toFixed(0)} KiB) does not fit in what is left of this device's budget`);
      return;
    }
    const f = new ReplicaFetch(hash, label, sources, maxBytes, {
      now: () => this.deps.mono(),
      alive: (d) => this.deps.state.peerStates().some((p) => p.deviceId === d && isUp(p.status)),
      request: (to, h, chunks) => this.send(to, { type: 'replica-request', hash: h, chunks }),
      log: (kind, detail) => {
        if (kind === 'resumed') this.resumes++;
        this.log(kind, null, detail);
      },
    });
    this.fetches.set(hash, f);
    this.log('transfer', by, `fetching ${label} from ${sources.join(', ') || 'nobody'}`);
    this.changed();
    f.start();
    void f.done.then(async (r) => {
      this.fetches.delete(hash);
      if (r.ok) {
        try {
          // verified chunk by chunk and as a whole (SHA-256 against the manifest) while it arrived
          await this.store.putVerified(hash, r.blob);
          this.holds.add(hash);
          this.log('copy-added', null, `${label} verified and stored (${(r.bytes / 1024).toFixed(0)} KiB in ${Math.round(r.ms)} ms from ${r.from.join(' + ')})`);
        } catch (e) {
          if (e instanceof StorageFullError) this.storageFull(e);
          else this.log('storage', null, `could not store ${label}: ${(e as Error).message}`);
        }
      }
      this.changed();
      this.announce();
    });
  }

  private storageFull(e: StorageFullError): void {
    const used = usedBytes(this.manifest, this.holds);
    this.budget = { bytes: used, from: 'the browser refused to store more', user: false };
    this.log('storage', null, `${e.message}; offering only the ${(used / 1048576).toFixed(1)} MiB already used`);
    this.changed();
  }

  private async retire(hash: string, by: string | null): Promise<void> {
    if (!this.holds.has(hash)) return;
    this.holds.delete(hash);
    this.server.forget(hash);
    await this.store.deleteReplica(hash);
    this.log('copy-retired', by, `${this.label(hash)} retired: the room has enough copies and this device needs the space`);
    this.changed();
    this.announce();
  }

  // ---- the coordinator (FRIM Algorithm 1 over the room) ----

  private roomDevices(): RoomDevice[] {
    const peers = this.deps.state.peerStates();
    const now = this.deps.mono();
    // copies this coordinator ordered that have not been announced yet
    const ordered = (id: string) => [...this.orders].filter(([k, o]) => o.until > now && k.endsWith(`>${id}`)).map(([k]) => k.split('>')[0]);
    const selfUp = (this.deps.mono() - this.startedAt) / 1000;
    const mine: RoomDevice = {
      id: this.deps.deviceId, alive: true, budgetBytes: this.budget.bytes, availability: availability({ uptimeSec: selfUp, failures: 0 }), speed: 1,
      holds: this.holds, incoming: new Set([...this.fetches.keys(), ...ordered(this.deps.deviceId)]), sending: this.server.sending,
      rttMs: new Map(peers.filter((p) => p.rttMs !== null).map((p) => [p.deviceId, p.rttMs!])),
    };
    const others = peers.filter((p) => this.peers.has(p.deviceId)).map((p): RoomDevice => {
      const h = this.peers.get(p.deviceId)!;
      return {
        id: p.deviceId, alive: isUp(p.status), budgetBytes: h.budget, availability: p.availability, speed: 1,
        holds: new Set(h.holds), incoming: new Set([...h.fetching.map((f) => f.hash), ...ordered(p.deviceId)]),
        sending: 0, rttMs: new Map(),
      };
    });
    return [mine, ...others];
  }

  private coordinate(): void {
    this.coordinateDue = false;
    const m = this.manifest;
    if (!this.ready || !m) return;
    const devices = this.roomDevices();
    if (coordinatorOf(devices) !== this.deps.deviceId) return;
    const r = adapt(devices, roomPartitions(m), this.settings.target);
    const now = this.deps.mono();
    for (const [k, o] of this.orders) if (o.until <= now) this.orders.delete(k);
    for (const t of r.transfers) {
      const key = `${t.hash}>${t.to}`;
      if (this.orders.has(key)) continue;
      const p = m.partitions[t.partition];
      this.orders.set(key, { sentAt: now, until: now + ORDER_GRACE_MS + p.bytes / 1000 });
      const added = r.plan.added.find((a) => a.partition === t.partition && a.device === t.to);
      this.log('copy-ordered', t.to, `P${t.partition} at D = ${added ? added.before.toFixed(4) : '?'} < θ ${this.settings.target}: new copy on ${t.to}, from ${t.from.join(', ')}`);
      if (t.to === this.deps.deviceId) this.order(t.hash, t.from, null);
      else this.send(t.to, { type: 'fetch', hash: t.hash, from: t.from });
    }
    for (const x of r.retirements) {
      if (x.device === this.deps.deviceId) void this.retire(x.hash, null);
      else this.send(x.device, { type: 'retire', hash: x.hash });
    }
  }

  // ---- the clock ----

  /** Called by the worker every few hundred ms. */
  tick(): void {
    if (!this.ready) return;
    for (const f of this.fetches.values()) f.check();
    const now = this.deps.mono();
    const every = this.fetches.size ? ANNOUNCE_FETCHING_MS : ANNOUNCE_MS;
    if (this.announceDirty || now - this.lastAnnounce > every) this.announce();
    if (this.coordinateDue || now - this.lastCoordinate > COORDINATE_MS) {
      this.lastCoordinate = now;
      this.coordinate();
    }
    this.trackTarget();
  }

  /** Logs when the target is lost and when it is met again, with how long that took. */
  private trackTarget(): void {
    const m = this.manifest;
    if (!m) return;
    const pv = partitionViews(m, this.devicesNow());
    const v = { partitions: pv.partitions, modelDependability: pv.model, target: this.settings.target, met: pv.partitions.every((p) => p.dependability >= this.settings.target) };
    const now = this.deps.mono();
    if (!v.met) {
      if (this.met !== false) {
        this.belowSince = now;
        if (this.met === true) {
          const worst = v.partitions.filter((p) => p.dependability < v.target).map((p) => `P${p.id} ${p.dependability.toFixed(4)}`).join(', ');
          this.log('target', null, `below target: ${worst} < θ ${v.target}`);
        }
      }
    } else if (this.met !== true) {
      if (this.wasMet && this.belowSince !== null) {
        this.lastRestoreMs = now - this.belowSince;
        this.log('target', null, `every partition meets θ ${v.target} again, ${Math.round(this.lastRestoreMs)} ms after it was lost (D = ${v.modelDependability.toFixed(5)})`);
      } else {
        const since = this.offloadedAt !== null ? `, ${Math.round(now - this.offloadedAt)} ms after the model was dropped here` : '';
        this.log('target', null, `every partition meets θ ${v.target} (D = ${v.modelDependability.toFixed(5)})${since}`);
      }
      this.wasMet = true;
    }
    this.met = v.met;
  }

  /** The room's offload as inference needs it, or null while there is none (or no manifest yet). */
  serving(): Serving | null {
    const m = this.manifest;
    const key = this.settings.model;
    if (!m || !key) return null;
    const peers = this.deps.state.peerStates().filter((p) => isUp(p.status));
    const replicas = m.partitions.map((p) => [
      ...(this.holds.has(p.sha256) ? [this.deps.deviceId] : []),
      ...peers.filter((x) => this.peers.get(x.deviceId)?.holds.includes(p.sha256)).map((x) => x.deviceId),
    ].sort());
    return { key, manifest: m, replicas, holds: (h) => this.holds.has(h), budget: this.budget.bytes };
  }

  /** This device and every peer, with what each holds, for the placement matrix and D. */
  private devicesNow() {
    const m = this.manifest;
    const selfUp = (this.deps.mono() - this.startedAt) / 1000;
    return [
      { id: this.deps.deviceId, name: 'this device', self: true, alive: true, announced: true, budget: this.budget.bytes, used: usedBytes(m, this.holds), availability: availability({ uptimeSec: selfUp, failures: 0 }), holdings: this.holdings() },
      ...this.deps.state.peerStates().map((p) => {
        const h = this.peers.get(p.deviceId) ?? null;
        return { id: p.deviceId, name: p.name, self: false, alive: isUp(p.status), announced: !!h, budget: h?.budget ?? 0, used: h?.used ?? 0, availability: p.availability, holdings: h };
      }),
    ];
  }

  view(): OffloadView {
    const m = this.manifest;
    const devices = this.devicesNow();
    const pv = m ? partitionViews(m, devices) : { partitions: [], model: 0 };
    let unmet: OffloadView['unmet'] = [];
    if (m) {
      const r = adapt(this.roomDevices(), roomPartitions(m), this.settings.target);
      unmet = [...r.plan.unmet.map((u) => ({ partition: u.partition, reason: u.reason })), ...r.lost.map((p) => ({ partition: p, reason: 'no live device holds a verified copy' }))];
    }
    return {
      ready: this.ready,
      coordinator: coordinatorOf(devices.filter((d) => d.self || d.announced)),
      target: this.settings.target,
      targetBy: this.settings.targetBy,
      model: m ? { name: m.model.name, sha256: m.model.sha256, by: this.settings.modelBy, at: this.settings.modelAt, inputs: m.model.inputs.map((i) => `${i.name} [${i.dims.join(', ')}]`).join(', ') } : null,
      waitingForManifest: !!this.settings.model && !m,
      modelDependability: pv.model,
      met: !!m && pv.partitions.every((p) => p.dependability >= this.settings.target),
      partitions: pv.partitions,
      devices: devices.map(({ holdings: _h, ...d }) => d),
      unmet,
      budget: this.budget,
      used: usedBytes(m, this.holds),
      bytesReceived: this.bytesReceived,
      bytesSent: this.server.bytesSent,
      mismatches: this.mismatches,
      resumes: this.resumes,
      transfers: [...this.fetches.values()].map((f) => ({ hash: f.hash, partition: m?.partitions.find((p) => p.sha256 === f.hash)?.id ?? null, from: f.current, verified: f.verifiedBytes, bytes: m?.partitions.find((p) => p.sha256 === f.hash)?.bytes ?? 0, resumes: f.resumes })),
      lastRestoreMs: this.lastRestoreMs,
    };
  }
}
