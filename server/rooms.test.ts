import { describe, expect, it } from 'vitest';
import { RoomRegistry } from './rooms.js';

describe('RoomRegistry', () => {
  it('tracks ids per room and tells subscribers of joins and leaves', () => {
    const r = new RoomRegistry();
    const seen: string[][] = [];
    const off = r.subscribe('room1234', (ids) => seen.push(ids));
    r.add('frim-room1234-aaaaaaaaaaaa-tab00001');
    r.add('frim-otherroom-bbbbbbbbbbbb-tab00001');
    r.add('not-a-frim-id');
    r.add('frim-room1234-cccccccccccc-tab00002');
    r.remove('frim-room1234-aaaaaaaaaaaa-tab00001');
    off();
    r.add('frim-room1234-dddddddddddd-tab00003');
    expect(seen).toEqual([
      [],
      ['frim-room1234-aaaaaaaaaaaa-tab00001'],
      ['frim-room1234-aaaaaaaaaaaa-tab00001', 'frim-room1234-cccccccccccc-tab00002'],
      ['frim-room1234-cccccccccccc-tab00002'],
    ]);
    expect(r.list('otherroom')).toEqual(['frim-otherroom-bbbbbbbbbbbb-tab00001']);
    expect(r.roomCount).toBe(2);
  });
});
