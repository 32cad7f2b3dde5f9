/**
 * The laptop running `npm start` restarts: the signalling server is SIGKILLed mid-stream and started
 * again 3 s later, on a server of this test's own (the suite's shared one keeps serving the others).
 */
import type { ChildProcess } from 'node:child_process';
import { expect, test } from '@playwright/test';
import { events, expectFullMesh, openDevice, record, withQuery, type Device } from './helpers.js';
import { startServer as startOwnServer } from './own-server.js';
import { COUNT, expectedPredictions, finished, placedRoom, QUERY, start, stats } from './room.js';

const PORT = Number(process.env.E2E_PORT ?? 8787) + 11;
const ORIGIN = `http://127.0.0.1:${PORT}`;

const startServer = (env: Record<string, string> = {}): Promise<ChildProcess> => startOwnServer(PORT, '127.0.0.1', env);

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

test('the signalling server killed mid-stream and back 3 s later: nothing lost, every dashboard shows it away and reconnecting, a device opened afterwards joins the full mesh', async ({ browser }) => {
  test.setTimeout(360_000);
  const expected = await expectedPredictions();
  let server = await startServer();
  const devices: Device[] = [];
  try {
    const room = await placedRoom(browser, undefined, ORIGIN);
    devices.push(...room.devices);
    const { requester } = room;
    await start(requester.page, 'frim');
    await expect.poll(async () => (await stats(requester.page)).answered, { timeout: 90_000 }).toBeGreaterThanOrEqual(30);

    const answeredBefore = (await stats(requester.page)).answered;
    server.kill('SIGKILL');
    const killedAt = Date.now();
    for (const d of devices) await expect(d.page.getByTestId('signalling')).toHaveAttribute('data-state', 'lost', { timeout: 10_000 });
    const lostAfter = Date.now() - killedAt;
    await expect.poll(async () => Number(await requester.page.getByTestId('signalling').getAttribute('data-attempts')), { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
    await expect(requester.page.getByTestId('signalling')).toContainText(/server unreachable since .+ · reconnect attempt \d+/);
    await sleep(killedAt + 3000 - Date.now());
    const attempts = Number(await requester.page.getByTestId('signalling').getAttribute('data-attempts'));

    server = await startServer();
    const restartedAt = Date.now();
    for (const d of devices) await expect(d.page.getByTestId('signalling')).toHaveAttribute('data-state', 'open', { timeout: 20_000 });
    const backAfter = Date.now() - restartedAt;
    await expect(requester.page.getByTestId('signalling')).toHaveAttribute('data-attempts', '0');

    const s = await finished(requester.page);
    record('server', `killed with ${answeredBefore} of ${COUNT} answered; every dashboard showed it lost ${lostAfter} ms after the kill, ${attempts} reconnect attempts in 3 s, open again on every device ${backAfter} ms after the restart; ${s.answered}/${COUNT} answered, ${s.lost} lost, p50 ${s.p50.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms`);
    expect(s.lost).toBe(0);
    expect(s.answered).toBe(COUNT);
    expect(s.predictions).toEqual(expected);
    for (const d of devices) {
      const log = await events(d.page);
      // the data channels never noticed: nobody was declared failed, and the log has one line per change, not per attempt
      expect(log.filter((e) => e.kind === 'failed' || e.kind === 'left'), `${d.id}'s log`).toEqual([]);
      expect(log.filter((e) => e.kind === 'signalling' && e.detail.startsWith('lost')).length, `${d.id}'s log`).toBe(1);
    }

    const link = (await devices[0].page.getByTestId('share-link').getAttribute('href'))!;
    expect(link.startsWith(ORIGIN)).toBe(true);
    const late = await openDevice(browser, withQuery(link));
    devices.push(late);
    await expectFullMesh(devices);
  } finally {
    server.kill('SIGKILL');
    for (const d of devices) await d.context.close().catch(() => undefined);
  }
});

test('a device the server turns away (its room is full) is told why on its page, and the room carries on', async ({ browser }) => {
  const server = await startServer({ MAX_DEVICES_PER_ROOM: '2' });
  const devices: Device[] = [];
  try {
    devices.push(await openDevice(browser, `${ORIGIN}/${QUERY.wasm}`));
    const link = (await devices[0].page.getByTestId('share-link').getAttribute('href'))!;
    devices.push(await openDevice(browser, withQuery(link)));
    await expectFullMesh(devices);
    const third = await openDevice(browser, withQuery(link));
    devices.push(third);
    const line = third.page.getByTestId('signalling');
    await expect(line).toHaveAttribute('data-state', 'refused');
    await expect(line).toHaveText('the signalling server refused this tab: this room is full: 2 devices is the most this server takes in one room');
    await expect(line.locator('[role=alert]')).toBeVisible();
    // it stays out of the room, and the two inside neither see it nor lose each other
    await expect(third.page.getByTestId('peer')).toHaveCount(0);
    for (const d of devices.slice(0, 2)) {
      await expect(d.page.getByTestId('signalling')).toHaveAttribute('data-state', 'open');
      await expect(d.page.getByTestId('peer')).toHaveCount(1);
    }
  } finally {
    server.kill('SIGKILL');
    for (const d of devices) await d.context.close().catch(() => undefined);
  }
});
