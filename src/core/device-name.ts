/**
 * What people call a device. Every device starts with a short name of its own, picked from its id
 * (so two laptops of one kind are not both "Chrome on Linux"), and the user can change it.
 */

const ADJECTIVES = [
  'Amber', 'Azure', 'Brisk', 'Calm', 'Coral', 'Crimson', 'Dusty', 'Eager', 'Golden', 'Hazel', 'Indigo', 'Ivory',
  'Jade', 'Lilac', 'Lucky', 'Mellow', 'Misty', 'Olive', 'Plum', 'Quiet', 'Rusty', 'Silver', 'Swift', 'Teal',
];
const ANIMALS = [
  'Badger', 'Beaver', 'Bison', 'Crane', 'Dingo', 'Falcon', 'Ferret', 'Gecko', 'Heron', 'Ibis', 'Koala', 'Lemur',
  'Lynx', 'Marten', 'Moose', 'Newt', 'Otter', 'Panda', 'Puffin', 'Quail', 'Raven', 'Robin', 'Tapir', 'Walrus',
];

import { invalid, type Parse } from './schema.js';

export const MAX_NAME_LENGTH = 32;

/** FNV-1a: a stable spread of the id over the word lists (not a security property). */
function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** "Amber Otter": the same for the same device id, one of 576. */
export function defaultDeviceName(deviceId: string): string {
  const h = hash32(deviceId);
  return `${ADJECTIVES[h % ADJECTIVES.length]} ${ANIMALS[Math.floor(h / ADJECTIVES.length) % ANIMALS.length]}`;
}

/**
 * The names to show for devices, told apart: two devices may pick the same default name (one in 576)
 * or be given the same one, so any name held by more than one device gets the start of its id.
 */
export function screenNames(devices: readonly { deviceId: string; name: string }[]): Map<string, string> {
  const holders = new Map<string, number>();
  for (const d of devices) holders.set(d.name, (holders.get(d.name) ?? 0) + 1);
  return new Map(devices.map((d) => [d.deviceId, holders.get(d.name)! > 1 ? `${d.name} (${d.deviceId.slice(0, 4)})` : d.name]));
}

/** The name as it will be kept (trimmed, inner spaces collapsed), or why it cannot be. */
export function checkDeviceName(v: unknown): string | { problem: string } {
  if (typeof v !== 'string') return { problem: 'a name is text' };
  const name = v.trim().replace(/\s+/g, ' ');
  if (!name) return { problem: 'a name cannot be empty' };
  if ([...name].length > MAX_NAME_LENGTH) return { problem: `a name has at most ${MAX_NAME_LENGTH} characters` };
  // control and bidi-override characters would let a name disguise itself in other devices' tables
  if (/[\p{Cc}\p{Cf}]/u.test(name)) return { problem: 'a name cannot hold control or formatting characters' };
  return name;
}

/** The parser every protocol table uses for a device name: a peer's, a tab's, the worker's. */
export const deviceName: Parse<string> = (v) => {
  const r = checkDeviceName(v);
  return typeof r === 'string' ? r : invalid(r.problem);
};
