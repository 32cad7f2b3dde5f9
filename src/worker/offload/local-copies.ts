/**
 * This device's replicas: the verified copies it holds (IndexedDB, keyed by content hash), the
 * ones it is fetching, and the budget it offers the room. Orders from the coordinator land here.
 */
import { formatBytes } from '../../core/format.js';
import type { Manifest } from '../../core/onnx/manifest.js';
import { OFFLOADING } from '../../core/policy.js';
import type { MessageOf } from '../../core/protocol.js';
import { manifestKey, usedBytes, type DefaultBudget, type DeviceHoldings } from '../../core/room.js';
import type { EventKind, OffloadView } from '../../core/views.js';
import { StorageFullError, type ReplicaStore } from '../../store/replicas.js';
import type { SettingsStore } from '../../store/settings.js';
import { ReplicaFetch } from './replica-fetch.js';
import { batteryLow, type BatteryState } from '../../core/availability.js';

export interface CopiesDeps {
  /** this device's id: never a source of its own fetches */
  readonly self: string;
  log(kind: EventKind, by: string | null, detail: string): void;
  /** what this device offers or holds changed: announce it, and let the coordinator re-plan */
  changed(): void;
  announce(): void;
  /** only the dashboard needs to hear of it */
  dirty(): void;
  manifest(): Manifest | null;
  label(hash: string): string;
  alive(device: string): boolean;
  request(to: string, hash: string, chunks: number[] | null): void;
  /** stop serving a copy (all of them when `hash` is absent) */
  forgetServed(hash?: string): void;
  mono(): number;
  budgetDefault(heldBytes: number): Promise<DefaultBudget>;
}

export class LocalCopies {
  readonly holds = new Set<string>();
  budget: OffloadView['budget'] = { bytes: 256 * 1024 * 1024, from: 'default', user: false };
  ready = false;
  bytesReceived = 0;
  mismatches = 0;
  resumes = 0;
  private readonly fetches = new Map<string, ReplicaFetch>();
  /**
   * The browser refused a write: the budget stays at what was stored then until the user sets one
   * or the device starts again. Its quota estimate cannot be trusted to say when there is room
   * again: Chrome reports a fixed quota (usage + 10 GiB) whatever the real limit.
   */
  private refused = false;
  private lastQuotaCheck = -Infinity;
  /** this device's battery, where the browser reads one */
  battery: BatteryState | null = null;
  private checkingQuota = false;

  constructor(
    private readonly store: ReplicaStore,
    private readonly settings: SettingsStore,
    private readonly deps: CopiesDeps,
  ) {}

  /** Loads the budget and every replica that still verifies, a slice at a time: big replicas never sit in memory here. */
  async start(): Promise<void> {
    const [userBudget, hashes] = await Promise.all([this.settings.budget(), this.store.replicaHashes()]);
    const t0 = this.deps.mono();
    let bytes = 0;
    for (const h of hashes) {
      const size = await this.store.verify(h);
      if (size) {
        this.holds.add(h);
        bytes += size;
      }
    }
    // no manifest yet: the copies held are not the room model's, so they count as the browser's usage
    this.budget = userBudget ? { bytes: userBudget, from: 'set on this device', user: true } : { ...(await this.deps.budgetDefault(0)), user: false };
    this.lastQuotaCheck = this.deps.mono();
    const n = this.holds.size;
    if (n) this.deps.log('copy-added', null, `${n} verified cop${n === 1 ? 'y' : 'ies'} (${(bytes / 1024).toFixed(0)} KiB) loaded from this browser's storage in ${Math.round(this.deps.mono() - t0)} ms; nothing downloaded`);
    this.ready = true;
  }

  /**
   * The budget offered to the room: the budget, or nothing while the battery is low and
   * discharging. A device offering nothing keeps its copies until the room holds them elsewhere
   * (Algorithm 1 plans as if they were gone, and they are retired once replaced), so it hands its
   * work off before it dies rather than taking it with it.
   */
  get offer(): OffloadView['budget'] {
    const b = this.battery;
    if (!b || !batteryLow(b)) return this.budget;
    return { bytes: 0, from: `battery at ${Math.round(b.level * 100)} % and discharging: its copies go to other devices`, user: this.budget.user, batteryLow: true };
  }

  /** A new battery reading; says so in the log when the device crosses into low battery, or out of it. */
  setBattery(b: BatteryState | null): boolean {
    const wasLow = batteryLow(this.battery);
    const changed = JSON.stringify(b) !== JSON.stringify(this.battery);
    this.battery = b;
    if (batteryLow(b) !== wasLow) {
      this.deps.log('battery', null, batteryLow(b)
        ? `battery at ${Math.round(b!.level * 100)} % and discharging: this device offers the room nothing now, and its copies go to other devices before it dies`
        : `battery ${b?.charging ? 'charging' : `at ${Math.round((b?.level ?? 1) * 100)} %`}: this device offers its budget again`);
    }
    return changed;
  }

  /** What this device tells the room it holds, fetches and offers (sessions are added by the offloader). */
  holdings(): Omit<DeviceHoldings, 'sessions'> {
    return {
      holds: [...this.holds].sort(),
      fetching: [...this.fetches.values()].map((f) => ({ hash: f.hash, verified: f.verifiedBytes })),
      budget: this.offer.bytes,
      used: usedBytes(this.deps.manifest(), this.holds),
      ...(this.battery ? { battery: this.battery } : {}),
    };
  }

  fetching(): string[] {
    return [...this.fetches.keys()];
  }

  transfers(): ReplicaFetch[] {
    return [...this.fetches.values()];
  }

  /** The partitions of a model dropped here, stored by the tab that cut them: they are ours now. */
  async adoptStored(manifest: Manifest): Promise<void> {
    for (const p of manifest.partitions) {
      if (!(await this.store.has(p.sha256))) throw new Error(`partition ${p.id} was not stored on this device`);
    }
    for (const p of manifest.partitions) this.holds.add(p.sha256);
  }

  /** Fetch `hash` from these holders, in order (a coordinator's order `by` it, or a debug request). */
  fetch(hash: string, from: string[], by: string | null): void {
    if (this.holds.has(hash) || !this.ready) return this.deps.announce();
    const sources = from.filter((d) => d !== this.deps.self);
    const existing = this.fetches.get(hash);
    if (existing) return existing.addSources(sources);
    const maxBytes = Math.max(0, this.offer.bytes - usedBytes(this.deps.manifest(), this.holds));
    const label = this.deps.label(hash);
    const part = this.deps.manifest()?.partitions.find((p) => p.sha256 === hash);
    if (part && part.bytes > maxBytes) {
      this.deps.log('storage', by, `${label} (${(part.bytes / 1024).toFixed(0)} KiB) does not fit in what is left of this device's budget`);
      return;
    }
    const f = new ReplicaFetch(hash, label, sources, maxBytes, {
      now: () => this.deps.mono(),
      alive: (d) => this.deps.alive(d),
      request: (to, h, chunks) => this.deps.request(to, h, chunks),
      log: (kind, detail) => {
        if (kind === 'resumed') this.resumes++;
        this.deps.log(kind, null, detail);
      },
    });
    this.fetches.set(hash, f);
    this.deps.log('transfer', by, `fetching ${label} from ${sources.join(', ') || 'nobody'}`);
    this.deps.changed();
    f.start();
    void f.done.then(async (r) => {
      this.fetches.delete(hash);
      if (r.ok) {
        try {
          // verified chunk by chunk and as a whole (SHA-256 against the manifest) while it arrived
          await this.store.putVerified(hash, r.blob);
          this.holds.add(hash);
          this.deps.log('copy-added', null, `${label} verified and stored (${(r.bytes / 1024).toFixed(0)} KiB in ${Math.round(r.ms)} ms from ${r.from.join(' + ')})`);
        } catch (e) {
          if (e instanceof StorageFullError) this.storageFull(e, label);
          else this.deps.log('storage', null, `could not store ${label}: ${(e as Error).message}`);
        }
      }
      this.deps.changed();
      this.deps.announce();
    });
  }

  onOffer(from: string, m: MessageOf<'replica-offer'>): void {
    this.fetches.get(m.hash)?.onOffer(from, m);
  }

  /** False for a chunk nobody asked for (no fetch of it here, and not a late one of a copy held now). */
  onChunk(from: string, hash: string, index: number, payload: Uint8Array): boolean {
    this.bytesReceived += payload.length;
    const f = this.fetches.get(hash);
    if (!f) return this.holds.has(hash);
    const before = f.corruptChunks;
    f.onChunk(from, index, payload);
    this.mismatches += f.corruptChunks - before;
    this.deps.dirty();
    return true;
  }

  onMissing(from: string, hash: string, reason: string): void {
    this.fetches.get(hash)?.onMissing(from, reason);
  }

  /** Fetches notice stalled or departed sources. */
  checkFetches(): void {
    for (const f of this.fetches.values()) f.check();
  }

  private storageFull(e: StorageFullError, label: string): void {
    const used = usedBytes(this.deps.manifest(), this.holds);
    this.budget = { bytes: used, from: 'the browser refused to store more', user: false, storageLimited: true };
    this.refused = true;
    this.deps.log('storage', null, `the browser refused to store ${label} (${formatBytes(e.bytes)}): its storage quota is used up. This device now offers only the ${formatBytes(used)} it holds, and the room places that copy elsewhere`);
    this.deps.changed();
  }

  /**
   * A default budget follows what the browser says it grants, which changes under us (the disk
   * fills, the user clears site data): checked every `OFFLOADING.quotaCheckMs`, and never raised
   * again after the browser refused a write. A budget the user set stays as set.
   */
  checkQuota(): void {
    const now = this.deps.mono();
    if (!this.ready || this.budget.user || this.checkingQuota || now - this.lastQuotaCheck < OFFLOADING.quotaCheckMs) return;
    this.lastQuotaCheck = now;
    this.checkingQuota = true;
    const used = usedBytes(this.deps.manifest(), this.holds);
    void this.deps.budgetDefault(used).then((def) => {
      this.checkingQuota = false;
      if (this.budget.user) return;
      const before = this.budget;
      if (this.refused && def.bytes > before.bytes) return;
      // the browser's usage moves by a few KiB with every write: follow only real changes
      if (Math.abs(def.bytes - before.bytes) <= Math.max(64 * 1024, before.bytes * 0.02)) return;
      this.budget = { ...def, user: false };
      if (def.bytes < before.bytes * 0.9 || before.storageLimited !== def.storageLimited) {
        this.deps.log('storage', null, `this device now offers ${formatBytes(def.bytes)} rather than ${formatBytes(before.bytes)}: ${def.from}`);
      }
      this.deps.changed();
    }, () => {
      this.checkingQuota = false;
    });
  }

  async retire(hash: string, by: string | null): Promise<void> {
    if (!this.holds.has(hash)) return;
    this.holds.delete(hash);
    this.deps.forgetServed(hash);
    await this.store.deleteReplica(hash);
    const why = this.offer.batteryLow ? 'its battery is low' : 'this device needs the space';
    this.deps.log('copy-retired', by, `${this.deps.label(hash)} retired: the room has enough copies elsewhere and ${why}`);
    this.deps.changed();
    this.deps.announce();
  }

  async setBudget(bytes: number | null): Promise<void> {
    await this.settings.saveBudget(bytes);
    this.refused = false;
    this.budget = bytes === null ? { ...(await this.deps.budgetDefault(usedBytes(this.deps.manifest(), this.holds))), user: false } : { bytes, from: 'set on this device', user: true };
    this.deps.log('storage', null, `replica budget is now ${formatBytes(this.budget.bytes)} (${this.budget.from})`);
    this.deps.changed();
    this.deps.announce();
  }

  /** Drops every cached replica here, keeping only the room model's manifest. */
  async forget(keep: Manifest | null): Promise<void> {
    const n = this.holds.size;
    await this.store.forget();
    this.holds.clear();
    this.deps.forgetServed();
    if (keep) await this.store.putManifest(manifestKey(keep), keep);
    this.deps.log('copy-retired', null, `forgot ${n} cached cop${n === 1 ? 'y' : 'ies'} on this device`);
    this.deps.changed();
    this.deps.announce();
  }
}
