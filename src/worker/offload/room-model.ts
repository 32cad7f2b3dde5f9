/**
 * Which model the room serves and to what dependability target (FRIM 4.2's θ): merged from every
 * device's view (last writer wins), kept in this browser with the manifests it has seen, and
 * written to the event log when it changes.
 */
import type { Manifest } from '../../core/onnx/manifest.js';
import { OFFLOADING } from '../../core/policy.js';
import type { Message } from '../../core/protocol.js';
import { isTarget, manifestKey, type RoomSettings } from '../../core/room.js';
import type { ReplicaStore } from '../../store/replicas.js';
import type { SettingsStore } from '../../store/settings.js';
import type { RoomView } from './room-view.js';

export interface RoomModelDeps {
  self: string;
  room: string;
  view: RoomView;
  store: ReplicaStore;
  settingsStore: SettingsStore;
  send(to: string, m: Message): void;
  log(kind: 'model' | 'target', by: string | null, detail: string): void;
  /** the room's model changed: what was tracked for the old one no longer holds */
  modelChanged(): void;
  changed(): void;
  mono(): number;
  epoch(): number;
}

export class RoomModel {
  private lastManifestRequest = -Infinity;

  constructor(private readonly deps: RoomModelDeps) {}

  private get view(): RoomView {
    return this.deps.view;
  }

  /** What this browser kept from the last visit. */
  async load(): Promise<void> {
    const [stored, manifests] = await Promise.all([this.deps.settingsStore.roomSettings(this.deps.room), this.deps.store.allManifests()]);
    if (stored) this.view.adopt(stored);
    for (const m of manifests) this.view.addManifest(manifestKey(m), m);
  }

  adopt(theirs: RoomSettings, from: string | null): void {
    const what = this.view.adopt(theirs);
    if (!what) return;
    void this.deps.settingsStore.saveRoomSettings(this.deps.room, this.view.settings);
    if (what.model) {
      const m = this.view.manifest;
      this.deps.log('model', from, m ? `the room now serves ${m.model.name} (${m.partitions.length} partitions)` : 'the room serves a new model; waiting for its manifest');
      this.deps.modelChanged();
    }
    if (what.target) this.deps.log('target', from, `dependability target is now ${this.view.settings.target}`);
    this.deps.changed();
  }

  /** A peer's view of the settings, from its announcement. */
  heard(from: string, settings: RoomSettings): void {
    this.adopt(settings, from);
    // the room serves an offload we have no manifest for (its first copy was lost): ask who knows it
    const key = this.view.settings.model;
    const now = this.deps.mono();
    if (key && !this.view.manifests.has(key) && settings.model === key && now - this.lastManifestRequest > OFFLOADING.announceMs) {
      this.lastManifestRequest = now;
      this.deps.send(from, { type: 'manifest-request', key });
    }
  }

  async onManifest(from: string, m: Manifest): Promise<void> {
    const key = manifestKey(m);
    if (this.view.manifests.has(key)) return;
    const evicted = this.view.addManifest(key, m);
    if (evicted) await this.deps.store.deleteManifest(evicted);
    await this.deps.store.putManifest(key, m);
    if (key === this.view.settings.model) this.deps.log('model', from, `the room serves ${m.model.name} (${m.partitions.length} partitions)`);
    this.deps.changed();
  }

  /** This device offloads `m`: it becomes the room's model. */
  async serve(m: Manifest): Promise<void> {
    const key = manifestKey(m);
    await this.deps.store.putManifest(key, m);
    this.view.addManifest(key, m);
    const s = this.view.settings;
    this.adopt({ ...s, model: key, modelAt: Math.max(this.deps.epoch(), s.modelAt + 1), modelBy: this.deps.self }, null);
  }

  /** Returns whether the target was valid (and so set). */
  setTarget(target: number): boolean {
    if (!isTarget(target)) return false;
    const s = this.view.settings;
    this.adopt({ ...s, target, targetAt: Math.max(this.deps.epoch(), s.targetAt + 1), targetBy: this.deps.self }, null);
    return true;
  }

  /** Forgets every manifest but the room's own (metadata the dashboard still needs). */
  forgetOthers(): void {
    const m = this.view.manifest;
    this.view.manifests.clear();
    if (m) this.view.addManifest(manifestKey(m), m);
  }
}
