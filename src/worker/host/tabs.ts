/**
 * The tabs of this device (browser profile) and which one leads: the leader tab holds the WebRTC
 * connections and the compute worker. A tab is gone when it says so, when its Web Lock is
 * released (it crashed), or when it stops answering pings; the next tab in line then leads.
 */
import type { WorkerToTab } from '../../core/device-protocol.js';

export interface TabPort {
  post(msg: WorkerToTab, transfer?: Transferable[]): void;
}

export interface Tab {
  id: string;
  port: TabPort;
  lastSeen: number;
}

export interface TabEvents {
  /** `next` leads now (null: no tab is left); `previous` led before */
  leaderChanged(next: Tab | null, previous: Tab | null): void;
  /** the leader left: its connections, compute jobs and sessions went with it */
  leaderLeft(tab: Tab): void;
  changed(): void;
}

export class Tabs {
  list: Tab[] = [];
  leader: Tab | null = null;
  private readonly byPort = new Map<TabPort, Tab>();

  constructor(private readonly events: TabEvents) {}

  add(port: TabPort, id: string, now: number): Tab {
    const tab: Tab = { id, port, lastSeen: now };
    this.byPort.set(port, tab);
    this.list.push(tab);
    return tab;
  }

  of(port: TabPort): Tab | undefined {
    return this.byPort.get(port);
  }

  /** A message from `tab`: it is alive. One we gave up on (it stalled past the timeout) is taken back as a follower. */
  heardFrom(tab: Tab, now: number): void {
    tab.lastSeen = now;
    if (this.list.includes(tab)) return;
    this.list.push(tab);
    tab.port.post({ kind: 'role', leader: false });
    this.elect();
  }

  /** Keeps a leader while any tab is left, and tells it how many tabs could follow it (after any change of the list). */
  elect(): void {
    if (!this.leader || !this.list.includes(this.leader)) {
      const previous = this.leader;
      this.leader = this.list[0] ?? null;
      if (this.leader) this.leader.port.post({ kind: 'role', leader: true });
      this.events.leaderChanged(this.leader, previous);
    }
    this.leader?.port.post({ kind: 'successors', count: this.list.length - 1 });
  }

  drop(tab: Tab): void {
    if (!this.list.includes(tab)) return;
    this.list = this.list.filter((t) => t !== tab);
    if (this.leader === tab) {
      this.leader = null;
      this.events.leaderLeft(tab);
      // if it is only stalled, it must not keep a second set of connections when it wakes
      tab.port.post({ kind: 'role', leader: false });
    }
    this.elect();
    this.events.changed();
  }

  /** Pings every tab; drops those silent for longer than `timeoutMs`. */
  sweep(now: number, timeoutMs: number): void {
    for (const t of [...this.list]) {
      if (now - t.lastSeen > timeoutMs) this.drop(t);
      else t.port.post({ kind: 'tab-ping' });
    }
  }

  /** Where Web Locks exist, each tab holds a lock for its lifetime; it is released the instant the tab dies. */
  watchLock(tab: Tab, locks: LockManager | undefined): void {
    if (!locks) return;
    void locks.request(`frim-tab-${tab.id}`, () => this.drop(tab)).catch(() => undefined);
  }
}
