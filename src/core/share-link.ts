/**
 * The share link: `<origin>/#room=<name>&key=<base64url>`. Everything after `#` stays in the
 * browser, so the server learns the room name (from PeerJS ids) but never the key.
 */
import { ROOM_KEY_RE, ROOM_RE } from './ids.js';

export interface RoomCredentials {
  room: string;
  key: string;
}

export type FragmentParse =
  | { kind: 'empty' }
  | { kind: 'ok'; creds: RoomCredentials }
  | { kind: 'error'; message: string };

export function parseShareFragment(hash: string): FragmentParse {
  const body = hash.startsWith('#') ? hash.slice(1) : hash;
  if (!body) return { kind: 'empty' };
  const params = new URLSearchParams(body);
  const room = params.get('room');
  const key = params.get('key');
  if (!room) return { kind: 'error', message: 'This link names no room. Open the app without a # part to create a room.' };
  if (!ROOM_RE.test(room)) return { kind: 'error', message: `"${room}" is not a valid room name (4-32 lowercase letters and digits).` };
  if (!key) return { kind: 'error', message: `This link to room "${room}" has no room key. Ask for the full share link (it ends in &key=…).` };
  if (!ROOM_KEY_RE.test(key)) return { kind: 'error', message: `The room key in this link is damaged (expected 43 characters of base64url).` };
  return { kind: 'ok', creds: { room, key } };
}

export function shareFragment(c: RoomCredentials): string {
  return `#room=${c.room}&key=${c.key}`;
}
