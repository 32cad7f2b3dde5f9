/** The device id and name live in IndexedDB, so they are the same for every tab and reload of one browser profile. */
import { createStore, get, set, update, type UseStore } from 'idb-keyval';
import { checkDeviceName } from '../core/device-name.js';
import { DEVICE_ID_RE } from '../core/ids.js';

const KEY = 'device-id';
let pending: Promise<string> | null = null;
let store: UseStore | null = null;
const deviceStore = () => (store ??= createStore('frim-mesh', 'device'));

/** Returns the stored id, creating it with `fresh` the first time (in one transaction, so two racing workers agree). */
export function loadDeviceId(fresh: () => string): Promise<string> {
  pending ??= (async () => {
    await update<string>(KEY, (old) => (typeof old === 'string' && DEVICE_ID_RE.test(old) ? old : fresh()), deviceStore());
    return (await get<string>(KEY, deviceStore()))!;
  })();
  return pending;
}

/** The name the user gave this device, if any (per id: tab-scoped devices have names of their own). */
export async function loadDeviceName(deviceId: string): Promise<string | null> {
  const v = await get<unknown>(`name:${deviceId}`, deviceStore());
  const name = checkDeviceName(v);
  return typeof name === 'string' ? name : null;
}

export function saveDeviceName(deviceId: string, name: string): Promise<void> {
  return set(`name:${deviceId}`, name, deviceStore());
}
