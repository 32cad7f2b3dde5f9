import { describe, expect, it } from 'vitest';
import { DEFAULT_DETECTOR } from '../core/detector.js';
import { CUT_OFF, HANDOVER_GRACE_MS, OFFLOADING, REMEMBERED_DEVICES, TAB_LAG } from '../core/policy.js';
import { RATE_LIMITED } from '../core/device-protocol.js';
import { DeviceState } from './device-state.js';

function setup() {
  let t = 0;
  const clock = { mono: () => t, epoch: () => 1_700_000_000_000 + t };
  const state = new DeviceState('aaaaaaaaaaaa', 'room1234', DEFAULT_DETECTOR, clock);
  return { state, advance: (ms: number) => (t += ms), now: () => t };
}

const snap = (s: DeviceState) => s.snapshot({ name: 'me', platform: 'Chrome on Linux', backend: 'wasm', backendDetail: '', workerKind: 'shared', tabs: 1, leaderTabId: null, inRoom: true, signalling: { state: 'open', detail: '', attempts: 0, since: null }, heartbeatMs: 250, offload: null, inference: null });

describe('DeviceState', () => {
  it('follows a peer from joined through failed to recovered, logging each step', () => {
    const { state, advance, now } = setup();
    state.linkUp('bbbbbbbbbbbb', 'Phone', 'webgpu');
    for (let i = 0; i < 10; i++) { advance(250); state.rtt('bbbbbbbbbbbb', 5); }
    expect(snap(state).peers[0]).toMatchObject({ status: 'alive', rttMs: 5, backend: 'webgpu', warm: false });
    // jump to each deadline the state asks for, as the worker's timer does
    for (let i = 0; i < 2; i++) {
      advance(state.nextCheckAt() - now() + 1);
      expect(state.check()).toBe(true);
    }
    expect(snap(state).peers[0].status).toBe('failed');
    state.rtt('bbbbbbbbbbbb', 5);
    const kinds = snap(state).events.map((e) => e.kind);
    expect(kinds).toEqual(['joined', 'suspected', 'failed', 'recovered']);
    expect(snap(state).peers[0].failures).toBe(1);
    expect(snap(state).series.bbbbbbbbbbbb.rtt.length).toBe(11);
  });

  it('judges no peer while its own leader tab is late with a heartbeat round, and excuses the whole lag', () => {
    const { state, advance, now } = setup();
    state.linkUp('bbbbbbbbbbbb', 'Laptop', 'wasm');
    // a warm, quiet link: T at its floor of one interval, failed after T + 2h = 750 ms of silence
    for (let i = 0; i < 100; i++) { advance(250); state.tickSent(); advance(1); state.tickAnswered(); state.rtt('bbbbbbbbbbbb', 2); advance(-1); }
    expect(snap(state).peers[0].thresholdMs).toBe(DEFAULT_DETECTOR.heartbeatMs);
    const lastReply = now();
    // the tab starves for 900 ms: the round asked at 250 ms is confirmed only at 1150 ms
    advance(250);
    state.tickSent();
    for (let i = 0; i < 9; i++) {
      advance(100);
      expect(state.check()).toBe(false);
      if (state.deaf(now())) expect(state.nextCheckAt()).toBeGreaterThan(now());
    }
    expect(now() - lastReply).toBe(1150);
    expect(snap(state).peers[0].status).toBe('alive');
    state.tickAnswered();
    expect(snap(state).events.at(-1)?.detail).toBe("this device's tab that holds its connections stalled for 900 ms; peers' silence over that gap is not held against them");
    // the silence now counts from 900 ms later: the pongs read after the stall keep it alive
    state.rtt('bbbbbbbbbbbb', 2);
    expect(state.check()).toBe(false);
    // a peer that really died meanwhile is still declared, only the stall later
    advance(state.nextCheckAt() - now() + 1);
    expect(state.check()).toBe(true);
    advance(state.nextCheckAt() - now() + 1);
    expect(state.check()).toBe(true);
    expect(snap(state).peers[0].status).toBe('failed');
  });

  it('excuses short tab lags quietly and forgets a round asked of a leader tab that left', () => {
    const { state, advance } = setup();
    state.linkUp('bbbbbbbbbbbb', 'Laptop', 'wasm');
    state.tickSent();
    advance(TAB_LAG.excusedMs + 10);
    expect(state.deaf(TAB_LAG.excusedMs + 10)).toBe(true);
    state.tickAnswered();
    expect(snap(state).events.map((e) => e.kind)).toEqual(['joined']);
    state.tickSent();
    advance(5000);
    state.tickForgotten();
    expect(state.deaf(5000 + TAB_LAG.excusedMs + 10)).toBe(false);
  });

  it('fails a peer that left on purpose at once, says it left, and recovers it when it comes back', () => {
    const { state, advance } = setup();
    const membership: string[] = [];
    state.onMembership = (id, what) => membership.push(`${id} ${what}`);
    state.linkUp('bbbbbbbbbbbb', 'Phone', 'wasm');
    for (let i = 0; i < 10; i++) { advance(250); state.rtt('bbbbbbbbbbbb', 5); }
    advance(10);
    expect(state.departed('bbbbbbbbbbbb', 'its last tab closed, and it said so')).toBe(true);
    expect(snap(state).peers[0]).toMatchObject({ status: 'failed', reason: 'left the room', failures: 1 });
    expect(snap(state).events.at(-1)).toMatchObject({ kind: 'left', deviceId: 'bbbbbbbbbbbb', detail: 'its last tab closed, and it said so' });
    expect(membership).toEqual(['bbbbbbbbbbbb joined', 'bbbbbbbbbbbb failed']);
    // its connection closing after it said so, or the silence that follows, changes nothing more
    expect(state.departed('bbbbbbbbbbbb', 'it closed its connection')).toBe(false);
    advance(5000);
    expect(state.check()).toBe(false);
    expect(snap(state).events.map((e) => e.kind)).toEqual(['joined', 'left']);
    // a reload: back within seconds, recovered, and not held against its availability
    state.linkUp('bbbbbbbbbbbb', 'Phone', 'wasm');
    state.rtt('bbbbbbbbbbbb', 5);
    expect(snap(state).peers[0].status).toBe('alive');
    expect(snap(state).events.at(-1)?.detail).toMatch(/busy, not gone/);
  });

  it('judges nobody while its user has taken it out of the room, and counts silence from its return', () => {
    const { state, advance, now } = setup();
    state.linkUp('bbbbbbbbbbbb', 'Laptop', 'wasm');
    for (let i = 0; i < 10; i++) { advance(250); state.rtt('bbbbbbbbbbbb', 5); }
    expect(state.setAway(true)).toBe(true);
    expect(state.setAway(true)).toBe(false);
    expect(state.nextCheckAt()).toBe(Infinity);
    advance(60_000);
    expect(state.check()).toBe(false);
    expect(snap(state).peers[0].status).toBe('alive');
    expect(state.setAway(false)).toBe(true);
    const back = now();
    // the peer has until T + 2h from the return to answer, as if it had just answered
    advance(state.nextCheckAt() - back - 1);
    expect(state.check()).toBe(false);
    expect(snap(state).events.map((e) => [e.kind, e.deviceId])).toEqual([['joined', 'bbbbbbbbbbbb'], ['left', null], ['joined', null]]);
  });

  it('takes no departure from a device handing its connections to another of its tabs, nor from one it never verified', () => {
    const { state, advance } = setup();
    state.linkUp('bbbbbbbbbbbb', 'Laptop', 'wasm');
    for (let i = 0; i < 10; i++) { advance(250); state.rtt('bbbbbbbbbbbb', 5); }
    state.handover('bbbbbbbbbbbb');
    // the old tab's channel closes right after its handover frame
    expect(state.departed('bbbbbbbbbbbb', 'it closed its connection')).toBe(false);
    expect(snap(state).peers[0].status).toBe('alive');
    expect(state.departed('cccccccccccc', 'its last tab closed, and it said so')).toBe(false);
    expect(snap(state).peers).toHaveLength(1);
  });

  it('does not suspect a peer while another of its tabs takes its connections over, and counts silence from the new link', () => {
    const { state, advance, now } = setup();
    state.linkUp('bbbbbbbbbbbb', 'Laptop', 'wasm');
    for (let i = 0; i < 10; i++) { advance(250); state.rtt('bbbbbbbbbbbb', 5); }
    state.handover('bbbbbbbbbbbb');
    // 4 s without a heartbeat, far past T + 2h: no suspicion while the next tab connects
    for (let i = 0; i < 16; i++) { advance(250); expect(state.check()).toBe(false); }
    expect(state.nextCheckAt()).toBe(now() - 4000 + HANDOVER_GRACE_MS);
    state.linkUp('bbbbbbbbbbbb', 'Laptop', 'wasm');
    expect(snap(state).peers[0].status).toBe('alive');
    // the detector is back in charge, its silence counted from the new link
    advance(state.nextCheckAt() - now() - 1);
    expect(state.check()).toBe(false);
    advance(2);
    expect(state.check()).toBe(true);
    expect(snap(state).events.map((e) => e.kind)).toEqual(['joined', 'handover', 'moved', 'suspected']);
    expect(snap(state).events[2].detail).toBe('moved its connections to another of its tabs in 4000 ms');
  });

  it('fails a peer whose promised handover never comes, at the end of the grace', () => {
    const { state, advance, now } = setup();
    state.linkUp('bbbbbbbbbbbb', 'Laptop', 'wasm');
    for (let i = 0; i < 10; i++) { advance(250); state.rtt('bbbbbbbbbbbb', 5); }
    state.handover('bbbbbbbbbbbb');
    const said = now();
    advance(HANDOVER_GRACE_MS - 1);
    expect(state.check()).toBe(false);
    advance(state.nextCheckAt() - now());
    expect(state.check()).toBe(true);
    expect(now() - said).toBe(HANDOVER_GRACE_MS);
    expect(snap(state).peers[0].status).toBe('failed');
    expect(snap(state).events.map((e) => e.kind)).toEqual(['joined', 'handover', 'handover', 'suspected', 'failed']);
  });

  it('counts a flood of drops in full but logs one line per kind with a running count, and the rate-limited apart', () => {
    const { state, advance } = setup();
    state.linkUp('bbbbbbbbbbbb', 'Flooder', 'wasm');
    for (let i = 0; i < 100; i++) {
      state.dropped('bbbbbbbbbbbb', 'p', RATE_LIMITED, 'more than 4000 frames/s', 250);
      state.dropped('bbbbbbbbbbbb', 'p', 'unexpected frame', 'stage-result for a request this device did not make');
      advance(100);
    }
    const s = snap(state);
    expect(s.peers[0]).toMatchObject({ dropped: 100 * 251, limited: 100 * 250 });
    expect(s.droppedTotal).toBe(100 * 251);
    // ten seconds of flood at 100 ms per report: a line per kind (a new one only after a 2 s pause)
    const lines = s.events.filter((e) => e.kind === 'dropped').map((e) => e.detail);
    expect(lines).toEqual([
      `25000 × ${RATE_LIMITED} from bbbbbbbbbbbb: more than 4000 frames/s`,
      '100 × unexpected frame from bbbbbbbbbbbb: stage-result for a request this device did not make',
    ]);
    advance(2000);
    state.dropped('bbbbbbbbbbbb', 'p', 'unexpected frame', 'stage-result for a request this device did not make');
    expect(snap(state).events.filter((e) => e.kind === 'dropped')).toHaveLength(3);
  });

  it('reports a peer as flooding once it sends more frames it cannot use in one second than an honest one could, and not before', () => {
    const { state, advance } = setup();
    const reported: string[] = [];
    state.onFlooding = (id, why) => void reported.push(`${id}: ${why}`);
    state.linkUp('bbbbbbbbbbbb', 'Buggy', 'wasm');
    // an honest peer's late strays, spread over time: never
    for (let i = 0; i < 10 * CUT_OFF.unusablePerSecond; i++) {
      state.unusable('bbbbbbbbbbbb', 'unexpected frame', 'a replica chunk nobody asked for');
      advance(1000 / CUT_OFF.unusablePerSecond + 1);
    }
    expect(reported).toEqual([]);
    // a burst past the limit within one second: once, however long it lasts within that second
    for (let i = 0; i < 3 * CUT_OFF.unusablePerSecond; i++) state.unusable('bbbbbbbbbbbb', 'unexpected frame', 'stage-result for a request this device did not make');
    expect(reported).toEqual([`bbbbbbbbbbbb: ${CUT_OFF.unusablePerSecond + 1} frames it could not use in one second (stage-result for a request this device did not make)`]);
    expect(snap(state).peers[0].dropped).toBe(13 * CUT_OFF.unusablePerSecond);
    // a device that never verified has no detector: counted, never reported (the tab's link judges those)
    for (let i = 0; i < 3 * CUT_OFF.unusablePerSecond; i++) state.unusable('cccccccccccc', 'unexpected frame', 'x');
    expect(reported).toHaveLength(1);
  });

  it('remembers at most REMEMBERED_DEVICES devices, forgetting the longest-departed and never a live one', () => {
    const { state, advance } = setup();
    state.linkUp('bbbbbbbbbbbb', 'Live', 'wasm');
    for (let i = 0; i < 2 * REMEMBERED_DEVICES; i++) {
      advance(1);
      const id = i.toString(16).padStart(12, 'c');
      state.rejected(id, `frim-room1234-${id}-tab00001`, 'wrong room key');
    }
    const ids = snap(state).peers.map((p) => p.deviceId);
    expect(ids).toHaveLength(REMEMBERED_DEVICES);
    expect(snap(state).peers.find((p) => p.deviceId === 'bbbbbbbbbbbb')?.status).toBe('alive');
    // the newest refusals are the ones kept
    expect(ids).toContain((2 * REMEMBERED_DEVICES - 1).toString(16).padStart(12, 'c'));
    expect(ids).not.toContain('cccccccccccc');
  });

  it("takes a peer's new name without treating it as a rejoin, and ignores names of devices it never met", () => {
    const { state } = setup();
    state.linkUp('bbbbbbbbbbbb', 'Amber Otter', 'wasm');
    state.renamed('bbbbbbbbbbbb', 'Kitchen tablet');
    state.renamed('bbbbbbbbbbbb', 'Kitchen tablet');
    state.renamed('cccccccccccc', 'Stranger');
    expect(snap(state).peers.map((p) => [p.deviceId, p.name, p.status])).toEqual([['bbbbbbbbbbbb', 'Kitchen tablet', 'alive']]);
    expect(snap(state).events.map((e) => [e.kind, e.detail])).toEqual([['joined', 'joined the room'], ['renamed', 'Amber Otter is now called Kitchen tablet']]);
  });

  it('never lets an unverified connection downgrade a verified device, and counts dropped frames', () => {
    const { state } = setup();
    state.linkUp('bbbbbbbbbbbb', 'Phone', 'wasm');
    state.rejected('bbbbbbbbbbbb', 'frim-room1234-bbbbbbbbbbbb-tab00001', 'wrong room key');
    expect(snap(state).peers[0].status).toBe('alive');
    state.rejected('cccccccccccc', 'frim-room1234-cccccccccccc-tab00001', 'wrong room key');
    state.dropped('bbbbbbbbbbbb', 'p', 'malformed frame', 'magic');
    state.dropped(null, 'p', 'malformed frame', 'magic');
    const s = snap(state);
    expect(s.peers.find((p) => p.deviceId === 'cccccccccccc')?.status).toBe('rejected');
    expect(s.peers.find((p) => p.deviceId === 'bbbbbbbbbbbb')?.dropped).toBe(1);
    expect(s.droppedTotal).toBe(2);
    expect(s.series.cccccccccccc).toBeUndefined();
  });
});

describe('device availability from its life in the room', () => {
  it('rises with uptime and falls with failures', () => {
    const { state, advance, now } = setup();
    state.linkUp('bbbbbbbbbbbb', 'Phone', 'wasm');
    const fresh = snap(state).peers[0].availability;
    for (let i = 0; i < 2400; i++) { advance(250); state.rtt('bbbbbbbbbbbb', 3); } // ten minutes up
    const steady = snap(state).peers[0].availability;
    expect(steady).toBeGreaterThan(fresh);
    // back within a second each time: busy, not gone; its availability keeps rising
    const fail = () => { while (snap(state).peers[0].status !== 'failed') { advance(state.nextCheckAt() - now() + 1); state.check(); } };
    for (let k = 0; k < 3; k++) {
      fail();
      advance(1000);
      state.rtt('bbbbbbbbbbbb', 3);
    }
    const busy = snap(state).peers[0];
    expect(busy.failures).toBe(3);
    expect(busy.availability).toBeGreaterThanOrEqual(steady);
    expect(snap(state).events.filter((e) => e.kind === 'recovered').every((e) => /busy, not gone/.test(e.detail))).toBe(true);
    // away for longer: each failure counts
    for (let k = 0; k < 3; k++) {
      fail();
      advance(OFFLOADING.briefOutageMs + 1000);
      state.rtt('bbbbbbbbbbbb', 3);
    }
    const flaky = snap(state).peers[0];
    expect(flaky.failures).toBe(6);
    expect(flaky.availability).toBeLessThan(steady);
  });
});
