/** The device id lives in IndexedDB, so it is the same for every tab and reload of one browser profile. */
import { createStore, get, update } from 'idb-keyval';
import { DEVICE_ID_RE } from '../core/ids.js';

const KEY = 'device-id';
let pending: Promise<string> | null = null;

/** Returns the stored id, creating it with `fresh` the first time (in one transaction, so two racing workers agree). */
export function loadDeviceId(fresh: () => string): Promise<string> {
  pending ??= (async () => {
    const store = createStore('frim-mesh', 'device');
    await update<string>(KEY, (old) => (typeof old === 'string' && DEVICE_ID_RE.test(old) ? old : fresh()), store);
    return (await get<string>(KEY, store))!;
  })();
  return pending;
}
