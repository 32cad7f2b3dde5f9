/**
 * Storage limits provoked in the browser (issue 14, item 5): one device's origin quota is lowered
 * through the DevTools protocol, as a full disk or a browser's own eviction policy would leave it.
 */
import { expect, test, type CDPSession, type Page } from '@playwright/test';
import { events, expectFullMesh, offload, openDevice, record, withQuery, type Device } from './helpers.js';
import { MODEL_PATH } from './files.js';

const KiB = 1024;

/** What this page's origin stores and may store, as the browser's quota manager counts it. */
async function usage(cdp: CDPSession, origin: string): Promise<{ usage: number; quota: number }> {
  const r = await cdp.send('Storage.getUsageAndQuota', { origin });
  return { usage: r.usage, quota: r.quota };
}

/**
 * Every entry of the device's replica database, read straight from IndexedDB: its key, its size
 * and whether its bytes hash to its key. A half-written replica would show as a key whose bytes
 * do not match, or as bytes nobody announces.
 */
async function storedReplicas(page: Page): Promise<{ key: string; bytes: number; intact: boolean }[]> {
  return page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((ok, fail) => {
      const r = indexedDB.open('frim-mesh-replicas');
      r.onsuccess = () => ok(r.result);
      r.onerror = () => fail(r.error);
    });
    const all = await new Promise<[IDBValidKey[], unknown[]]>((ok, fail) => {
      const tx = db.transaction('replicas', 'readonly');
      const keys = tx.objectStore('replicas').getAllKeys();
      const values = tx.objectStore('replicas').getAll();
      tx.oncomplete = () => ok([keys.result, values.result]);
      tx.onerror = () => fail(tx.error);
    });
    db.close();
    const hex = (b: ArrayBuffer) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, '0')).join('');
    return Promise.all(all[0].map(async (key, i) => {
      const v = all[1][i] as Blob | Uint8Array;
      const bytes = v instanceof Blob ? await v.arrayBuffer() : (v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength) as ArrayBuffer);
      return { key: String(key), bytes: bytes.byteLength, intact: hex(await crypto.subtle.digest('SHA-256', bytes)) === key };
    }));
  });
}

/**
 * Chrome's `navigator.storage.estimate()` reports a fixed quota (usage + 10 GiB) whatever the real
 * limit, so a device learns its limit when the browser refuses a write: that is what this provokes.
 */
test('a device whose storage quota runs out offers less, says why, and the room places its copies elsewhere; nothing half-written stays', async ({ browser }) => {
  test.setTimeout(240_000);
  const a = await openDevice(browser, '/?debug=1&backend=wasm');
  const link = (await a.page.getByTestId('share-link').getAttribute('href'))!;
  const devices: Device[] = [a];
  for (let k = 0; k < 2; k++) devices.push(await openDevice(browser, withQuery(link)));
  const origin = new URL(link).origin;
  // what a device that has joined stores before it holds any copy (identity, settings, empty databases)
  const joined = await usage(await devices[1].context.newCDPSession(devices[1].page), origin);
  // The quota is lowered before the device's first page opens: IndexedDB lets a write through
  // against free space it looked up less than 30 s earlier, so a quota lowered under an open
  // database takes effect only that much later (Chromium's BucketContext)
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${origin}/healthz`);
  const cdp = await context.newCDPSession(page);
  const quota = joined.usage + 150 * KiB;
  await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: quota });
  expect((await usage(cdp, origin)).quota).toBe(quota);
  await page.goto(withQuery(link));
  await expect(page.getByTestId('self')).toHaveAttribute('data-device-id', /^[a-z0-9]{12}$/);
  const short: Device = { context, page, id: (await page.getByTestId('self').getAttribute('data-device-id'))!, errors };
  devices.push(short);
  await expectFullMesh(devices);
  const before = await usage(cdp, origin);
  const offeredBefore = Number(await short.page.getByTestId('budget').getAttribute('data-bytes'));

  // the room places copies on it as on every device; the browser refuses the ones past its quota
  await a.page.getByTestId('parts').fill('4');
  await a.page.getByTestId('parts').dispatchEvent('change');
  await a.page.getByTestId('model-input').setInputFiles(MODEL_PATH);
  const refused = async () => (await events(short.page)).filter((e) => e.kind === 'storage' && /refused to store/.test(e.detail));
  await expect.poll(async () => (await refused()).length, { timeout: 60_000 }).toBeGreaterThanOrEqual(1);

  // 1. it offers less and says why, and the room hears it
  const source = short.page.getByTestId('budget-source');
  await expect(source).toHaveAttribute('data-storage-limited', 'true');
  await expect(source).toContainText('the browser refused to store more');
  const offered = Number(await short.page.getByTestId('budget').getAttribute('data-bytes'));
  // Chromium enforces a quota against free space it looked up a little earlier, so copies written
  // side by side may together pass it before one is refused: what is offered is what got stored
  expect(offered).toBeLessThan(offeredBefore);
  await expect.poll(async () => (await offload(a.page)).devices.find((d) => d.id === short.id)?.budget, { timeout: 20_000 }).toBe(offered);
  // the quota is this device's (its own browser profile), not the origin's everywhere
  for (const d of devices) if (d !== short) await expect(d.page.getByTestId('budget-source')).toHaveAttribute('data-storage-limited', 'false');

  // 2. the room places what it refused elsewhere and meets its target without it
  for (const d of devices) await expect(d.page.getByTestId('model-dependability')).toHaveAttribute('data-met', 'true', { timeout: 90_000 });
  await expect.poll(async () => (await offload(a.page)).partitions.every((p) => p.replicas.length >= 3), { timeout: 60_000 }).toBe(true);
  const placed = await offload(a.page);
  const held = placed.partitions.filter((p) => p.replicas.includes(short.id));
  const refusedAt = (await refused()).map((e) => e.detail);
  record('storage', `quota lowered to ${(quota / KiB).toFixed(0)} KiB (${(before.usage / KiB).toFixed(0)} KiB used); offered ${(offeredBefore / 1048576).toFixed(0)} MiB before. Refused: ${refusedAt.join(' | ')}`);
  record('storage', `placed: ${placed.partitions.map((p) => `P${p.id} (${(p.bytes / KiB).toFixed(0)} KiB) on ${p.replicas.length}`).join(', ')}; the short device offers ${(offered / KiB).toFixed(0)} KiB and holds ${held.map((p) => `P${p.id}`).join(', ') || 'none'}`);
  expect(held.reduce((n, p) => n + p.bytes, 0)).toBeLessThanOrEqual(offered);
  expect(held.length).toBeLessThan(placed.partitions.length);

  // 3. nothing half-written: its IndexedDB holds exactly the copies it announces, each intact
  const stored = await storedReplicas(short.page);
  expect(stored.every((s) => s.intact)).toBe(true);
  expect(stored.map((s) => s.key).sort()).toEqual(held.map((p) => p.hash).sort());
  record('storage', `IndexedDB on the short device: ${stored.length} replica(s) (${stored.map((s) => `${(s.bytes / KiB).toFixed(0)} KiB`).join(', ') || 'none'}), all intact`);

  // 4. it stays so: no second attempt at what the browser refused
  const transfers = async () => (await events(short.page)).filter((e) => e.kind === 'transfer').length;
  const n = await transfers();
  await short.page.waitForTimeout(8000);
  expect(await transfers()).toBe(n);
  // the browser's own count still includes the refused transaction's files until it cleans them up
  const end = await usage(cdp, origin);
  record('storage', `origin usage as the browser counts it: ${(end.usage / KiB).toFixed(0)} KiB of ${(end.quota / KiB).toFixed(0)} KiB`);
  for (const d of devices) expect(d.errors).toEqual([]);
  for (const d of devices) await d.context.close();
});
