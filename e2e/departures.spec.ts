/**
 * Phones as first-class devices (issue 15): a device that leaves on purpose is known to have left
 * at once, by every peer, without waiting for the heartbeat detector, and nobody can make a device
 * look gone by claiming it left; a device whose battery runs low hands its copies off before it
 * dies. Batteries are driven through a test-only stand-in for navigator.getBattery in each
 * browser: what is tested is the policy, not the browser's battery.
 */
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { createRoom, events, expectFullMesh, expectStatus, offload, openDevice, partitions, peerRow, record, withQuery, type Device } from './helpers.js';
import { expectedPredictions, finished, placedRoom, start, stats } from './room.js';

/** Every device starts at 80 %, discharging; `window.setTestBattery(level, charging)` changes it as a real battery's events would. */
async function fakeBattery(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    const battery = Object.assign(new EventTarget(), { level: 0.8, charging: false, chargingTime: Infinity, dischargingTime: Infinity });
    Object.defineProperty(navigator, 'getBattery', { value: () => Promise.resolve(battery), configurable: true });
    (window as unknown as { setTestBattery(level: number, charging: boolean): void }).setTestBattery = (level, charging) => {
      battery.level = level;
      battery.charging = charging;
      battery.dispatchEvent(new Event('levelchange'));
      battery.dispatchEvent(new Event('chargingchange'));
    };
  });
}

const setBattery = (page: Page, level: number, charging: boolean) =>
  page.evaluate(([l, c]) => (window as unknown as { setTestBattery(level: number, charging: boolean): void }).setTestBattery(l, c), [level, charging] as const);

/**
 * Samples the coordinator's view every 50 ms until `stopWatch()`: each time a partition the
 * phone held at the start is no longer among its holders, its dependability over the copies
 * elsewhere must meet θ.
 */
async function watchHandOff(page: Page, phone: string): Promise<void> {
  await page.evaluate((phoneId) => {
    const held = new Set(window.frimDebug!.snapshot()!.offload!.partitions.filter((p) => p.replicas.includes(phoneId)).map((p) => p.id));
    const dips: { partition: number; dependability: number; target: number; replicas: string[] }[] = [];
    const timer = setInterval(() => {
      const v = window.frimDebug!.snapshot()?.offload;
      for (const p of v?.partitions ?? []) {
        if (held.has(p.id) && !p.replicas.includes(phoneId) && p.dependability < v!.target) dips.push({ partition: p.id, dependability: p.dependability, target: v!.target, replicas: p.replicas });
      }
    }, 50);
    (window as unknown as { stopWatch(): unknown[] }).stopWatch = () => (clearInterval(timer), dips);
  }, phone);
}

/** When each of `observers` logged `victim` as left (epoch ms), and how, after it went at `closedAt`. */
async function departures(observers: Device[], victim: Device, closedAt: number): Promise<{ at: number; detail: string }[]> {
  const out = [];
  for (const d of observers) {
    await expectStatus(d.page, victim.id, 'failed', 15_000);
    const log = (await events(d.page)).filter((e) => e.deviceId === victim.id && e.at >= closedAt - 1000);
    const left = log.find((e) => e.kind === 'left');
    expect(left, `${d.id}'s log about ${victim.id}: ${JSON.stringify(log)}`).toBeTruthy();
    // known by its departure, not by its silence
    expect(log.filter((e) => e.kind === 'suspected' || e.kind === 'failed')).toEqual([]);
    out.push({ at: left!.at, detail: left!.detail });
  }
  return out;
}

test('mid-stream, a phone at 5 % hands its copies off and its tab closes, and another device leaves with its button: every peer knows each left at once, nothing is lost, and the one that left rejoins', async ({ browser }) => {
  test.setTimeout(360_000);
  // 40 s of requests: the hand-off and both departures happen in its first 15-20 s
  const COUNT = 200;
  const expected = await expectedPredictions(COUNT);
  const { devices, requester } = await placedRoom(browser, undefined, '', undefined, fakeBattery);
  // every device's battery is in the room's matrix, as each device reported it
  for (const d of devices) await expect(requester.page.locator(`[data-testid=device-battery][data-device-id="${d.id}"]`)).toHaveAttribute('data-level', '0.8');
  const others = devices.filter((d) => d !== requester);
  const held = async (id: string) => (await partitions(requester.page)).filter((p) => p.replicas.includes(id)).length;
  // the holder with the most copies runs low; another leaves later
  const counts = await Promise.all(others.map((d) => held(d.id)));
  const phone = others[counts.indexOf(Math.max(...counts))];
  const leaver = others.find((d) => d !== phone)!;
  const before = Math.max(...counts);

  await start(requester.page, 'frim', COUNT, 5);
  await expect.poll(async () => (await stats(requester.page)).answered, { timeout: 90_000 }).toBeGreaterThanOrEqual(20);

  // 1. the phone's battery: 5 %, discharging. It says so and offers the room nothing
  const coordinatorId = (await offload(requester.page)).coordinator;
  const coordinator = devices.find((d) => d.id === coordinatorId)!;
  await watchHandOff(coordinator.page, phone.id);
  const lowAt = Date.now();
  await setBattery(phone.page, 0.05, false);
  await expect(phone.page.getByTestId('budget-source')).toHaveAttribute('data-battery-low', 'true');
  await expect(requester.page.locator(`[data-testid=device-battery][data-device-id="${phone.id}"]`)).toHaveAttribute('data-low', 'true');
  // the room copies its partitions elsewhere first, then it lets its own go, still alive
  await expect.poll(async () => held(phone.id), { timeout: 90_000, intervals: [250] }).toBe(0);
  const handedOffAt = Date.now();
  for (const d of devices) await expect(d.page.getByTestId('model-dependability')).toHaveAttribute('data-met', 'true');
  expect((await stats(requester.page)).active, 'the stream was still running when the hand-off finished').toBe(true);
  const log = await events(phone.page);
  expect(log.find((e) => e.kind === 'battery')?.detail).toMatch(/battery at 5 % and discharging: this device offers the room nothing now/);
  const retired = log.filter((e) => e.kind === 'copy-retired' && e.at >= lowAt);
  expect(retired.length).toBe(before);
  // copies first, retirement after: as the coordinator saw the room every 50 ms, no partition the
  // phone no longer held was ever below θ on the copies elsewhere
  const dips = await coordinator.page.evaluate(() => (window as unknown as { stopWatch(): unknown[] }).stopWatch());
  expect(dips, 'partitions the phone had let go before the copies elsewhere met θ').toEqual([]);

  // 2. then it dies: its only tab closes, and it says so on its way out
  let closedAt = Date.now();
  await phone.page.close({ runBeforeUnload: true });
  let stayed = devices.filter((d) => d !== phone);
  let seen = await departures(stayed, phone, closedAt);
  record('battery', `${phone.id} (${before} copies) at 5 %: copies elsewhere and its own retired ${handedOffAt - lowAt} ms later (last retired at ${Math.max(...retired.map((e) => e.at)) - lowAt} ms), its tab closed at ${closedAt - lowAt} ms`);
  record('departure', `tab closed: ${stayed.map((d, k) => `${d.id} knew ${seen[k].at - closedAt} ms later (${seen[k].detail})`).join('; ')}`);
  await expect.poll(async () => (await stats(requester.page)).answered, { timeout: 90_000 }).toBeGreaterThanOrEqual(Math.min(COUNT, (await stats(requester.page)).answered + 25));

  // 3. its user takes another device out of the room: the tab stays open, out of the room
  closedAt = Date.now();
  await leaver.page.getByTestId('leave-room').click();
  await expect(leaver.page.getByTestId('self')).toHaveAttribute('data-in-room', 'false');
  stayed = stayed.filter((d) => d !== leaver);
  seen = await departures(stayed, leaver, closedAt);
  record('departure', `left with its button: ${stayed.map((d, k) => `${d.id} knew ${seen[k].at - closedAt} ms later (${seen[k].detail})`).join('; ')}`);

  const s = await finished(requester.page, COUNT);
  record('departure', `stream: ${s.answered}/${s.sent} answered, ${s.lost} lost, ${s.reissued} re-issued, p50 ${s.p50.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms`);
  expect(s.lost).toBe(0);
  expect(s.predictions).toEqual(expected);
  // out of the room, it judged nobody: no peer of its own turned failed for its silence
  expect((await events(leaver.page)).filter((e) => e.at >= closedAt && (e.kind === 'failed' || e.kind === 'suspected'))).toEqual([]);

  // 4. it comes back with its button: one entry for it everywhere, alive again, serving copies
  // again, and the room more dependable for it. (Whether θ is met again is arithmetic: two devices
  // stayed, and its departure stays on its record, as FRIM's availability counts it.)
  const dependability = async () => Number(await requester.page.getByTestId('model-dependability').getAttribute('data-value'));
  const away = await dependability();
  await leaver.page.getByTestId('rejoin-room').click();
  await expect(leaver.page.getByTestId('self')).toHaveAttribute('data-in-room', 'true');
  await expectFullMesh([...stayed, leaver]);
  for (const d of stayed) await expect(d.page.locator(`[data-testid=peer][data-device-id="${leaver.id}"]`)).toHaveCount(1);
  await expect.poll(async () => held(leaver.id), { timeout: 60_000 }).toBeGreaterThan(0);
  await expect.poll(dependability, { timeout: 60_000 }).toBeGreaterThan(away);
  record('departure', `rejoined: it holds ${await held(leaver.id)} partition(s) again; D ${away.toFixed(6)} while it was away, ${(await dependability()).toFixed(6)} now`);
  // a battery charging again, however low, offers its budget again
  await setBattery(leaver.page, 0.05, true);
  await expect(leaver.page.getByTestId('budget-source')).toHaveAttribute('data-battery-low', 'false');
  expect([...stayed, leaver].flatMap((d) => d.errors)).toEqual([]);
  for (const d of [...stayed, leaver]) await d.context.close();
});

test('a departure claimed for another device is dropped and counted; that device stays in the room', async ({ browser }) => {
  const { device: a, link } = await createRoom(browser);
  const b = await openDevice(browser, withQuery(link));
  const c = await openDevice(browser, withQuery(link));
  await expectFullMesh([a, b, c]);
  // a, hostile, tells c that b is leaving
  expect(await a.page.evaluate((id) => window.frimDebug!.forgeDeparture(id), b.id)).toBe(1);
  await expect.poll(async () => (await events(c.page)).filter((e) => e.kind === 'dropped' && /forged departure/.test(e.detail)).length).toBe(1);
  await expect(peerRow(c.page, a.id)).toHaveAttribute('data-dropped', '1');
  const log = (await events(c.page)).find((e) => e.kind === 'dropped' && /forged departure/.test(e.detail))!;
  record('departure', `forged: ${c.id} logged "${log.detail}"`);
  expect(log.deviceId).toBe(a.id);
  // b was never taken for gone, here or anywhere
  for (const d of [a, c]) {
    await expectStatus(d.page, b.id, 'alive');
    expect((await events(d.page)).filter((e) => e.deviceId === b.id && e.kind !== 'joined')).toEqual([]);
  }
  expect([...a.errors, ...b.errors, ...c.errors]).toEqual([]);
  for (const d of [a, b, c]) await d.context.close();
});
