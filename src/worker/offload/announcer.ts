/**
 * This device's part of the room's shared state (FRIM 4.2): what it holds, has loaded and is
 * fetching, announced to every live peer when it changes and again on a period (shorter while
 * copies are on their way), so whichever device coordinates next decides from the same state.
 */
import { OFFLOADING } from '../../core/policy.js';
import type { Backend, Message } from '../../core/protocol.js';
import type { DeviceHoldings, RoomSettings } from '../../core/room.js';
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
  private last = -Infinity;
  dirty = true;

  constructor(private readonly deps: AnnouncerDeps) {}

  holdings(): DeviceHoldings {
    const holds = this.deps.copies.holds;
    return {
      ...this.deps.copies.holdings(),
      sessions: Object.entries(this.sessions).filter(([h]) => holds.has(h)).map(([hash, backend]) => ({ hash, backend })).sort((a, b) => a.hash.localeCompare(b.hash)),
    };
  }

  /** What the leader tab's compute worker has loaded now (empty while no tab leads). */
  setSessions(backends: Record<string, Backend>): void {
    const before = JSON.stringify(this.sessions);
    this.sessions = { ...backends };
    if (JSON.stringify(this.sessions) !== before) this.deps.changed();
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
