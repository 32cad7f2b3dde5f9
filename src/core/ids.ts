/**
 * Names of rooms, devices and tabs, and how they combine into the PeerJS id a tab registers
 * with the signalling server. Only the room name and ids reach the server; the room key never does.
 */

export const ROOM_RE = /^[a-z0-9]{4,32}$/;
export const DEVICE_ID_RE = /^[a-z0-9]{12}$/;
/** 32 random bytes, base64url without padding */
export const ROOM_KEY_RE = /^[A-Za-z0-9_-]{43}$/;

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** A random lowercase alphanumeric string from caller-supplied random bytes (core does no I/O). */
export function randomName(bytes: Uint8Array, length: number): string {
  let s = '';
  // 252 = 7 * 36: bytes at or above it are skipped so every character is equally likely
  for (const b of bytes) {
    if (s.length === length) break;
    if (b < 252) s += ALPHABET[b % 36];
  }
  if (s.length < length) throw new RangeError('randomName ran out of random bytes; pass about twice the length');
  return s;
}

export function base64url(bytes: Uint8Array): string {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function fromBase64url(s: string): Uint8Array {
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4);
  const bin = atob(b64);
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

export interface PeerAddress {
  room: string;
  deviceId: string;
  tabId: string;
}

export function toPeerId(a: PeerAddress): string {
  return `frim-${a.room}-${a.deviceId}-${a.tabId}`;
}

export function parsePeerId(peerId: string): PeerAddress | null {
  const m = /^frim-([a-z0-9]{4,32})-([a-z0-9]{12})-([a-z0-9]{8})$/.exec(peerId);
  return m ? { room: m[1], deviceId: m[2], tabId: m[3] } : null;
}
