/**
 * This device's part of the room's shared state (FRIM 4.2): what it holds, has loaded and is
 * fetching, announced to every live peer when it changes and again on a period (shorter while
 * copies are on their way), so whichever device coordinates next decides from the same state.
 */
import { OFFLOADING } from '../../core/policy.js';
import type { Backend, Message } from '../../core/protocol.js';
import type { DeviceHoldings, RoomSettings } from '../../core/room.js';
import type { WarmSession } from '../../core/device-protocol.js';
import type { LocalCopies } from './local-copies.js';

export interface AnnouncerDeps {
  copies: LocalCopies;
  settings(): RoomSettings;
  broadcast(m: Message): void;
  changed(): void;
  mono(): number;
}

export class Announcer {
  /** partition sessions the leader tab has loaded, and their backends */
  private sessions: Record<string, Backend> = {};
  /** those of them that have run once, with a warm run's time once measured */
  private warm = new Map<string, number | null>();
  private last = -Infinity;
  dirty = true;

  constructor(private readonly deps: AnnouncerDeps) {}

  holdings(): DeviceHoldings {
    const holds = this.deps.copies.holds;
    return {
      ...this.deps.copies.holdings(),
      sessions: Object.entries(this.sessions).filter(([h]) => holds.has(h)).map(([hash, backend]) => ({ hash, backend, warm: this.warm.has(hash), ...(typeof this.warm.get(hash) === 'number' ? { ms: this.warm.get(hash)! } : {}) })).sort((a, b) => a.hash.localeCompare(b.hash)),
    };
  }

  /** What the leader tab's compute worker has loaded now (empty while no tab leads), and which of those have run once. */
  setSessions(backends: Record<string, Backend>, warm: readonly WarmSession[]): void {
    const before = JSON.stringify([this.sessions, [...this.warm].sort()]);
    this.sessions = { ...backends };
    this.warm = new Map(warm.filter((w) => w.hash in backends).map((w) => [w.hash, w.ms]));
    if (JSON.stringify([this.sessions, [...this.warm].sort()]) !== before) this.deps.changed();
  }

  /** whether this device's session of partition `hash` is loaded and has run once */
  isWarm(hash: string): boolean {
    return this.warm.has(hash);
  }

  /** a warm run's time of this device's session of `hash`, once measured */
  warmMs(hash: string): number | undefined {
    return this.warm.get(hash) ?? undefined;
  }

  /** The announcement, as sent to one peer that just joined. */
  message(): Message {
    return { type: 'announce', holdings: this.holdings(), room: this.deps.settings() };
  }

  announce(): void {
    if (!this.deps.copies.ready) return;
    this.deps.broadcast(this.message());
    this.last = this.deps.mono();
    this.dirty = false;
  }

  tick(now: number): void {
    const every = this.deps.copies.fetching().length ? OFFLOADING.announceFetchingMs : OFFLOADING.announceMs;
    if (this.dirty || now - this.last > every) this.announce();
  }
}
