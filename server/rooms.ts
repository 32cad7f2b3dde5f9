/**
 * Which PeerJS ids are registered in which room, fed by the PeerServer's connect/disconnect
 * events, and a per-room subscription so tabs learn of joins and leaves at once.
 */
import { parsePeerId } from '../src/core/ids.js';

type Listener = (ids: string[]) => void;

export class RoomRegistry {
  private readonly rooms = new Map<string, Set<string>>();
  private readonly listeners = new Map<string, Set<Listener>>();

  add(peerId: string): void {
    const addr = parsePeerId(peerId);
    if (!addr) return;
    let ids = this.rooms.get(addr.room);
    if (!ids) this.rooms.set(addr.room, (ids = new Set()));
    if (ids.has(peerId)) return;
    ids.add(peerId);
    this.notify(addr.room);
  }

  remove(peerId: string): void {
    const addr = parsePeerId(peerId);
    const ids = addr && this.rooms.get(addr.room);
    if (!ids?.delete(peerId)) return;
    if (ids.size === 0) this.rooms.delete(addr!.room);
    this.notify(addr!.room);
  }

  list(room: string): string[] {
    return [...(this.rooms.get(room) ?? [])].sort();
  }

  subscribe(room: string, fn: Listener): () => void {
    let set = this.listeners.get(room);
    if (!set) this.listeners.set(room, (set = new Set()));
    set.add(fn);
    fn(this.list(room));
    return () => {
      set!.delete(fn);
      if (set!.size === 0) this.listeners.delete(room);
    };
  }

  get roomCount(): number {
    return this.rooms.size;
  }

  private notify(room: string): void {
    const ids = this.list(room);
    for (const fn of this.listeners.get(room) ?? []) fn(ids);
  }
}
