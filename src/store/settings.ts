/** Small per-device settings that must survive a reload: the room's last known settings and the user's replica budget. */
import { createStore, del, get, set, type UseStore } from 'idb-keyval';
import type { RoomSettings } from '../core/room.js';

export class SettingsStore {
  private readonly db: UseStore;

  constructor(dbPrefix = 'frim-mesh') {
    this.db = createStore(`${dbPrefix}-settings`, 'settings');
  }

  roomSettings(room: string): Promise<RoomSettings | undefined> {
    return get<RoomSettings>(`room:${room}`, this.db);
  }

  saveRoomSettings(room: string, s: RoomSettings): Promise<void> {
    return set(`room:${room}`, s, this.db);
  }

  /** bytes the user chose to offer, or undefined for the browser-derived default */
  budget(): Promise<number | undefined> {
    return get<number>('budget', this.db);
  }

  saveBudget(bytes: number | null): Promise<void> {
    return bytes === null ? del('budget', this.db) : set('budget', bytes, this.db);
  }
}
