import { describe, expect, it } from 'vitest';
import { DEFAULT_DETECTOR } from '../core/detector.js';
import { OFFLOADING } from '../core/policy.js';
import { DeviceState } from './device-state.js';

function setup() {
  let t = 0;
  const clock = { mono: () => t, epoch: () => 1_700_000_000_000 + t };
  const state = new DeviceState('aaaaaaaaaaaa', 'room1234', DEFAULT_DETECTOR, clock);
  return { state, advance: (ms: number) => (t += ms), now: () => t };
}

const snap = (s: DeviceState) => s.snapshot({ name: 'me', platform: 'Chrome on Linux', backend: 'wasm', backendDetail: '', workerKind: 'shared', tabs: 1, leaderTabId: null, signalling: { state: 'open', detail: '', attempts: 0, since: null }, heartbeatMs: 250, offload: null, inference: null });

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
