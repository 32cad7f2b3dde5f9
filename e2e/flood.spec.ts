/**
 * A buggy or hostile device floods the room (issue 14, item 3): frames as fast as its channels take
 * them, frames over the size limit, and valid frames at the wrong time. The others drop them
 * unread past a per-peer rate, count and show the flooder, and keep their heartbeats to each other.
 */
import { expect, test, type Page } from '@playwright/test';
import type { FloodKind } from '../src/mesh/flood.js';
import { createRoom, events, expectFullMesh, expectStatus, openDevice, peerRow, record, TEST_QUERY, withQuery } from './helpers.js';

const FLOOD_MS = 3000;
/** a flooder refused 5 s rather than the product's 30 (CUT_OFF.forMs): the test waits out two cut-offs */
const CUT_OFF_S = 5;
const QUERY = `${TEST_QUERY}&cutOffS=${CUT_OFF_S}`;

/** The RTTs `page` measured to `peer` in [from, to) (epoch ms), from its 90 s series. */
async function rtts(page: Page, peer: string, from: number, to: number): Promise<number[]> {
  const s = await page.evaluate((id) => window.frimDebug!.snapshot()!.series[id], peer);
  return s.t.flatMap((t, i) => (t * 1000 >= from && t * 1000 < to && s.rtt[i] !== null ? [s.rtt[i]!] : []));
}

const pct = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? NaN;

test('a device flooding the room is rate-limited, counted and shown, then cut off; the others keep their heartbeats, and it comes back after the cut-off', async ({ browser }) => {
  test.setTimeout(240_000);
  const { device: victim, link } = await createRoom(browser, QUERY);
  const bystander = await openDevice(browser, withQuery(link, QUERY));
  const flooder = await openDevice(browser, withQuery(link, QUERY));
  const room = [victim, bystander, flooder];
  await expectFullMesh(room);
  await victim.page.waitForTimeout(4000);
  const phases: string[] = [];
  const rttOf = async (label: string, from: number, to: number) => {
    const r = await rtts(victim.page, bystander.id, from, to);
    phases.push(`${label} ${pct(r, 0.5).toFixed(1)}/${pct(r, 0.99).toFixed(1)} ms (${r.length})`);
    return r;
  };
  await rttOf('quiet', Date.now() - 4000, Date.now());

  // 1. the wrong frames at the wrong time, within the rate limit: each counted, the flooder stays
  const sent: Record<string, number> = {};
  const paced: [FloodKind, number][] = [['stray-results', 100], ['stray-chunks', 100], ['stage-starts', 100], ['junk', 30], ['oversized', 30]];
  for (const [kind, rate] of paced) {
    const t0 = Date.now();
    sent[kind] = await flooder.page.evaluate(([k, ms, r]) => window.frimDebug!.flood(k, ms, r), [kind, FLOOD_MS, rate] as const);
    await rttOf(`${kind} at ${rate}/s`, t0, Date.now());
  }
  const row = peerRow(victim.page, flooder.id);
  await expect(row).toHaveAttribute('data-status', 'alive');
  await expect.poll(async () => Number(await row.getAttribute('data-dropped'))).toBeGreaterThan(0);
  const lines = async () => (await events(victim.page)).filter((e) => e.kind === 'dropped' && e.deviceId === flooder.id).map((e) => e.detail);
  for (const what of [/oversized frame/, /malformed frame/, /stage-result for a request this device did not make/, /a replica chunk nobody asked for/, /stages half-sent at once/]) {
    await expect.poll(async () => (await lines()).some((l) => what.test(l)), { message: `${what} in the victim's log` }).toBe(true);
  }
  // said once per kind with a running count, not a line per frame
  expect((await lines()).length, (await lines()).join('\n')).toBeLessThan(20);

  // 2. as fast as its channels go: cut off within about a second (well-formed frames nobody can
  // use here, judged by the device worker; malformed ones in step 4, judged by the tab's link)
  const fullSpeed: string[] = [];
  const cutOffBy = async (kind: FloodKind) => {
    const at = Date.now();
    const n = await flooder.page.evaluate(([k, ms]) => window.frimDebug!.flood(k, ms), [kind, FLOOD_MS] as const);
    const took = Date.now() - at;
    for (const d of [victim, bystander]) {
      await expect(peerRow(d.page, flooder.id)).toHaveAttribute('data-status', 'failed');
      await expect.poll(async () => (await events(d.page)).filter((e) => e.kind === 'closed' && e.deviceId === flooder.id && /cut off for flooding/.test(e.detail)).length).toBe(fullSpeed.length + 1);
    }
    const why = (await events(victim.page)).filter((e) => e.kind === 'closed' && e.deviceId === flooder.id).at(-1)!.detail;
    fullSpeed.push(`${kind}: ${n} frames in ${took} ms, then ${why}`);
    expect(took, 'the flood ended early: both its peers closed the connection').toBeLessThan(FLOOD_MS);
    return at;
  };
  const floodAt = await cutOffBy('stray-results');
  expect(fullSpeed[0]).toContain(`refused for ${CUT_OFF_S} s`);
  await expect(row.getByTestId('flooding')).toContainText('cut off, back in');
  expect(Number(await row.getAttribute('data-cut-off-until'))).toBeGreaterThan(Date.now());
  await victim.page.waitForTimeout(3000);
  await rttOf('full-speed stray results until cut off, and 3 s after', floodAt, Date.now());

  // 3. the two others never lost each other; the flooder is back after its cut-off
  for (const [d, o] of [[victim, bystander], [bystander, victim]]) {
    expect((await events(d.page)).filter((e) => e.deviceId === o.id && (e.kind === 'failed' || e.kind === 'left' || e.kind === 'closed')), `${d.id} about ${o.id}`).toEqual([]);
  }
  await expectStatus(victim.page, flooder.id, 'alive', 60_000);
  await expectFullMesh(room);

  // 4. back, it floods again with malformed frames: cut off again, sooner
  await cutOffBy('junk');

  // 5. past the rate limit, at a rate the link drops unread: rate-limited and shown
  await expectStatus(victim.page, flooder.id, 'alive', 60_000);
  await cutOffBy('pings');
  await expect(row.getByTestId('flooding')).toContainText('over the rate limit');
  const limited = Number(await row.getAttribute('data-rate-limited'));
  expect(limited).toBeGreaterThan(0);
  record('flood', `paced: ${paced.map(([k]) => `${k} ${sent[k]}`).join(', ')} frames in ${FLOOD_MS / 1000} s each; at full speed (${limited} over the rate limit at the victim): ${fullSpeed.join('; ')}`);
  record('flood', `victim → bystander heartbeat RTT p50/p99: ${phases.join('; ')}`);
  expect([...victim.errors, ...bystander.errors]).toEqual([]);
  for (const d of room) await d.context.close();
});
