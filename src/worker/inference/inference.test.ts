import { describe, expect, it } from 'vitest';
import { HEDGING, STAGE_QUEUE, WARM_UP } from '../../core/policy.js';
import { encodeFrame, roomTag } from '../../core/protocol.js';
import { InferenceRoom } from '../../testing/inference-room.js';
import { TINY_SAMPLE } from '../../testing/tiny-models.js';

/** device 0 asks; P0 on devices 1 and 2, P1 on devices 2 and 3 */
const ROOM = { devices: 4, holders: [[1, 2], [2, 3]] };

async function stream(room: InferenceRoom, count: number, ratePerSec: number, mode: 'frim' | 'no-config' = 'frim') {
  room.device(0).inference.run({ count, ratePerSec, mode });
  await room.clock.advance(0);
  return room.device(0).inference;
}

describe('distributed inference in a room (requester, router, stage runner, hedging)', () => {
  it('answers every request with the right label; once stage times are measured each stage runs once, a second copy only for a late first', async () => {
    const room = new InferenceRoom(ROOM);
    room.device(2).computeMs = 30; // device 2 is slow: its copies lose the race
    await room.run(2000);
    const total = () => room.members.map((m) => m.inference.view().running).reduce((a, r) => ({ ran: a.ran + r.ran, hedged: a.hedged + r.hedged, cancelled: a.cancelled + r.cancelled }), { ran: 0, hedged: 0, cancelled: 0 });
    // the room warmed up on its own: every device sent a few requests, to both holders of each stage (nothing was measured yet)
    const warm = total();
    expect(warm.ran).toBeGreaterThanOrEqual(4 * WARM_UP.requests * 2);
    expect(warm.cancelled).toBeGreaterThan(0);
    const inf = await stream(room, 40, 20);
    await room.run(8000);
    const v = inf.view();
    expect(v.error).toBeNull();
    expect([v.answered, v.correct, v.lost, v.reissued]).toEqual([40, 40, 0, 0]);
    expect(v.predictions).toEqual(Array.from({ length: 40 }, (_, i) => TINY_SAMPLE.labels[i % TINY_SAMPLE.count]));
    // then one copy per stage: 80 stage runs for 40 requests, and a probe or two of the slow device
    const t = total();
    expect(t.ran - warm.ran).toBeLessThanOrEqual(80 + 2 * (HEDGING.hedge.minSamples + 2));
    expect(t.hedged - warm.hedged).toBeLessThanOrEqual(3);
    // the slow device is tried at most once (it was never measured by the requester); everything else takes the fast path
    expect(v.recent.filter((r) => r.path.includes('device000002')).length).toBeLessThanOrEqual(1);
    expect(v.recent.filter((r) => r.path[0] === 'device000001' && r.path[1] === 'device000003').length).toBeGreaterThanOrEqual(v.recent.length - 1);
  });

  it('ignores a late answer to a request it made (a device back from an outage), and counts an answer to one it never made', async () => {
    const room = new InferenceRoom(ROOM);
    await room.run(2000);
    const inf = await stream(room, 10, 20);
    await room.run(3000);
    expect(inf.view().answered).toBe(10);
    const asker = room.device(0);
    const strays: string[] = [];
    const unusable = asker.state.unusable.bind(asker.state);
    asker.state.unusable = (d, reason, detail) => { strays.push(`${d}: ${detail}`); unusable(d, reason, detail); };
    const late = (req: string) => encodeFrame({ type: 'stage-result', req, by: 'device000003', part: 0, parts: 1, table: [] }, roomTag('room'));
    for (const req of ['device000000-1', 'device000000-5']) asker.inference.onFrame('device000003', late(req).slice().buffer as ArrayBuffer);
    expect(strays).toEqual([]);
    for (const req of ['device000000-99999', 'device000001-1', 'device000000-0', 'device000000-01', 'device000000-x']) asker.inference.onFrame('device000003', late(req).slice().buffer as ArrayBuffer);
    expect(strays).toHaveLength(5);
    expect(inf.view().answered).toBe(10);
  });

  it('sends the second copy of a stage the moment its first device is late: a device that hangs costs a short delay, not a re-issue', async () => {
    const room = new InferenceRoom(ROOM);
    await room.run(2000);
    const inf = await stream(room, 40, 10);
    await room.run(2500);
    const before = inf.view().answered;
    // device 2 holds both partitions and so runs every request alone; it hangs, its heartbeats go on, so only lateness tells
    expect(inf.view().recent.slice(-5).every((r) => r.path.join() === 'device000002,device000002')).toBe(true);
    room.hang(2);
    await room.run(5000);
    const v = inf.view();
    expect(before).toBeLessThan(40);
    expect([v.answered, v.correct, v.lost, v.reissued]).toEqual([40, 40, 0, 0]);
    const late = room.members.reduce((a, m) => a + m.inference.view().running.hedgedLate, 0);
    expect(late).toBeGreaterThan(0);
    // each request after the hang waited about one hedge delay for its second stage, far below a deadline
    expect(Math.max(...v.recent.slice(-5).map((r) => r.ms ?? Infinity))).toBeLessThan(HEDGING.deadline.floorMs / 2);
  });

  it('passes over a copy whose session has not run yet: requests during a device\'s warm-up never wait for its kernels to compile', async () => {
    // device 1 (the only other holder of P0 besides device 2) is still compiling: a run there costs 3 s more
    const room = new InferenceRoom(ROOM);
    room.coldFor(1, 4000, 3000);
    await room.run(500);
    const inf = await stream(room, 20, 10);
    await room.run(3000);
    const v = inf.view();
    expect([v.answered, v.lost, v.reissued]).toEqual([20, 0, 0]);
    expect(v.p99).toBeLessThan(200);
    expect(v.recent.some((r) => r.path.includes('device000001'))).toBe(false);
    // once warm it is a copy like any other: a steady stream spreads onto it again
    await room.run(2000);
    room.device(2).computeMs = 30;
    const again = await stream(room, 40, 20);
    await room.run(8000);
    expect(again.view().recent.some((r) => r.path[0] === 'device000001')).toBe(true);
  });

  it('with warm run times announced by the devices, the first requests already send one copy per stage', async () => {
    const room = new InferenceRoom({ ...ROOM, announceWarmMs: true });
    room.device(2).computeMs = 30;
    const inf = await stream(room, 40, 20);
    await room.run(8000);
    const v = inf.view();
    expect([v.answered, v.correct, v.lost, v.reissued]).toEqual([40, 40, 0, 0]);
    const total = room.members.map((m) => m.inference.view().running).reduce((a, r) => ({ hedged: a.hedged + r.hedged, cancelled: a.cancelled + r.cancelled }), { hedged: 0, cancelled: 0 });
    // warm-up and requests alike: a stage is sent twice only when its first copy is late (the
    // warm-ups of four devices start with the stream, so a queue or two forms); without the
    // announced times every stage went twice until measured (12 second copies here)
    expect(total.hedged).toBeLessThanOrEqual(2);
    expect(total.cancelled).toBeLessThanOrEqual(2);
    // and the slow device was passed over from the start
    expect(v.recent.some((r) => r.path.includes('device000002'))).toBe(false);
  });

  it('sends no warm-up through a room in use: a copy turning warm mid-run starts no wave from the devices serving the run', async () => {
    const room = new InferenceRoom(ROOM);
    room.coldFor(1, 3000, 0); // device 1's copy of P0 turns warm 3 s in, during the run
    await room.run(2000);
    const warmUps = () => room.members.reduce((a, m) => a + m.inference.view().running.warmUps, 0);
    const before = warmUps();
    const serving = room.device(2).inference.view().running.warmUps;
    const inf = await stream(room, 40, 10);
    await room.run(6000);
    expect(inf.view().answered).toBe(40);
    // the requester runs and device 2 serves it (both partitions in one chain): only the idle
    // devices 1 and 3 may warm up (12 warm-up requests when device 2 warmed up too)
    expect(warmUps() - before).toBeLessThanOrEqual(2 * WARM_UP.requests);
    expect(room.device(2).inference.view().running.warmUps).toBe(serving);
  });

  it('a slow room with a hung holder and a death answers at compute speed: the warm-up stops early and nothing queues behind the hung device', async () => {
    // three devices hold both partitions, 800 ms each (a slow GPU); one hangs, later another dies
    const room = new InferenceRoom({ devices: 4, holders: [[1, 2, 3], [1, 2, 3]], computeMs: 800 });
    await room.run(2000);
    room.hang(2);
    const inf = await stream(room, 40, 0.5);
    await room.run(30_000);
    room.kill(3);
    await room.run(120_000);
    const v = inf.view();
    expect([v.answered, v.correct, v.lost, v.reissued]).toEqual([40, 40, 0, 0]);
    // two partitions of 800 ms, run as one chain: the median request waits for nothing else
    expect(v.p50).toBeLessThan(2 * 1600);
  });

  it('carries a batch of images per request: 30 images in requests of 8 (the last one of 6), each answered in its place', async () => {
    const room = new InferenceRoom(ROOM);
    await room.run(2000);
    room.device(0).inference.run({ count: 30, ratePerSec: 5, mode: 'frim', batch: 8 });
    await room.run(5000);
    const v = room.device(0).inference.view();
    expect([v.sent, v.answered, v.correct, v.lost, v.batch]).toEqual([30, 30, 30, 0, 8]);
    expect(v.predictions).toEqual(Array.from({ length: 30 }, (_, i) => TINY_SAMPLE.labels[i % TINY_SAMPLE.count]));
    expect(v.recent.map((r) => r.images).sort()).toEqual([6, 8, 8, 8]);
  });

  it('loses nothing when a holder dies mid-stream: its stages go to the other copy and requests re-route around it', async () => {
    const room = new InferenceRoom(ROOM);
    await room.run(2000);
    const inf = await stream(room, 40, 10);
    await room.run(1500);
    room.kill(3);
    await room.run(15_000);
    const v = inf.view();
    expect([v.answered, v.correct, v.lost]).toEqual([40, 40, 0]);
    expect(v.failures.map((f) => f.device)).toContain('device000003');
    expect(v.recent.slice(-5).every((r) => r.path[1] === 'device000002')).toBe(true);
  });

  it('loses nothing when one slow device is left holding every partition and requests arrive faster than it can answer', async () => {
    // devices 1 and 2 hold both partitions; 2 dies, 1 finishes each stage in 150 ms, requests come every 50 ms
    const room = new InferenceRoom({ devices: 3, holders: [[1, 2], [1, 2]], computeMs: 150 });
    await room.run(2000);
    const inf = await stream(room, 40, 20);
    await room.run(500);
    room.kill(2);
    await room.run(60_000);
    const v = inf.view();
    expect([v.answered, v.correct, v.lost]).toEqual([40, 40, 0]);
    expect(v.recent.some((r) => /no device could take the next stage/.test(r.note ?? ''))).toBe(false);
  });

  it('re-issues a stage that misses its deadline, doubling it per attempt, and counts the request lost after the last attempt', async () => {
    const room = new InferenceRoom(ROOM);
    await room.run(2000);
    room.hang(2);
    room.hang(3); // nobody will ever finish P1, yet every device still answers heartbeats
    const inf = await stream(room, 1, 1);
    // deadlines 4 s, 8 s, 16 s, … (no times measured yet): six attempts take 4 × (2^6 − 1) s
    await room.run(4000 * (2 ** HEDGING.maxAttempts - 1) - 2000);
    expect(inf.view().lost).toBe(0);
    expect(inf.view().reissued).toBe(HEDGING.maxAttempts - 1);
    await room.run(4000);
    const v = inf.view();
    expect([v.answered, v.lost]).toEqual([0, 1]);
    expect(v.recent[0].note).toMatch(/stage 1 overdue; gave up after 6 attempts/);
  });

  it('no-config (the paper baseline) keeps one fixed path and loses what was to pass through a device that fails', async () => {
    const room = new InferenceRoom(ROOM);
    await room.run(2000);
    const inf = await stream(room, 40, 10, 'no-config');
    const path = inf.view().path;
    expect(path).toHaveLength(2);
    await room.run(1500);
    room.kill(Number(path[1].slice(-1)));
    await room.run(15_000);
    const v = inf.view();
    expect(v.reissued).toBe(0);
    expect(v.lost).toBeGreaterThan(20);
    expect(v.answered + v.lost).toBe(40);
    expect(v.recent.at(-1)!.note).toMatch(/fixed path/);
  });

  it('a flooded room is slow, not failing: deadlines and second copies scale with the queue, so neither re-issues nor hedges add to it', async () => {
    // every stage on two devices, 60 ms each: measured at 4 requests/s (one in flight), then flooded (the requester keeps its limit in flight)
    const room = new InferenceRoom({ devices: 4, holders: [[1, 2], [2, 3]], computeMs: 60 });
    await room.run(2000);
    const paced = await stream(room, 20, 4);
    await room.run(8000);
    expect(paced.view().answered).toBe(20);
    const runs = () => room.members.reduce((a, m) => ({ ran: a.ran + m.inference.view().running.ran, hedged: a.hedged + m.inference.view().running.hedged }), { ran: 0, hedged: 0 });
    const before = runs();
    const inf = await stream(room, 60, 1000);
    await room.run(30_000);
    const v = inf.view();
    expect([v.answered, v.correct, v.lost]).toEqual([60, 60, 0]);
    // queued behind up to five others, stages took several times their paced p99 without a single re-issue
    expect(v.reissued).toBe(0);
    const after = runs();
    expect(after.hedged - before.hedged).toBeLessThanOrEqual(6);
    expect(after.ran - before.ran).toBeLessThanOrEqual(60 * 2 * 1.1);
  });

  it('a device never queues more stages than its bound; the room waits instead of flooding it', async () => {
    const room = new InferenceRoom({ devices: 3, holders: [[1], [2]], computeMs: 200 });
    await room.run(2000);
    const inf = await stream(room, 30, 50);
    let most = 0;
    for (let t = 0; t < 20_000; t += 250) {
      await room.run(250);
      most = Math.max(most, ...room.members.map((m) => m.inference.view().running.queued));
      expect(inf.view().inFlight).toBeLessThanOrEqual(HEDGING.maxInFlight);
    }
    const v = inf.view();
    expect(most).toBeLessThanOrEqual(STAGE_QUEUE.maxJobs);
    expect([v.answered, v.correct, v.lost]).toEqual([30, 30, 0]);
  });
});
