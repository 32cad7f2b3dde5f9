import { describe, expect, it } from 'vitest';
import { DEFAULT_DETECTOR } from '../../core/detector.js';
import { STAGE_QUEUE } from '../../core/policy.js';
import type { Message, MessageOf } from '../../core/protocol.js';
import { RouteStats } from '../../core/route-stats.js';
import { packTensors, splitParts, type Tensor } from '../../core/tensors.js';
import { FakeClock } from '../../testing/fake-clock.js';
import { TINY_MANIFEST } from '../../testing/tiny-models.js';
import { DeviceState } from '../device-state.js';
import type { ChainStage } from '../../core/device-protocol.js';
import type { Computed, InferenceContext } from './context.js';
import { Hedger } from './hedger.js';
import { StageRunner } from './stage-runner.js';

const SELF = 'device000001';
const REQUESTER = 'device000000';
const TWIN = 'device000002';
const NEXT = ['device000003', 'device000004'];
const KEY = 'ab'.repeat(32);
const [P0, P1] = TINY_MANIFEST.partitions;

const tensor = (xs: number[]): Tensor => ({ type: 'float32', dims: [1, 1, 2, 2], data: new Uint8Array(Float32Array.from(xs).buffer) });

/**
 * One stage runner on its own: the wire, the compute and the next hop's choice are the test's.
 * Every compute call waits until the test finishes it, so a test decides what runs when.
 */
function harness(opts: { holds?: string[]; next?: string[] } = {}) {
  const clock = new FakeClock();
  const state = new DeviceState(SELF, 'room', DEFAULT_DETECTOR, clock);
  const sent: { to: string; m: Message; tensors?: Record<string, Tensor> }[] = [];
  const computes: { hash: string; stages: ChainStage[]; want: string[]; feeds: Record<string, Tensor>; finish(c: Omit<Computed, 'stageMs'> & { stageMs?: number[] }): void; fail(e: Error): void }[] = [];
  const holds = new Set(opts.holds ?? [P0.sha256, P1.sha256]);
  let chooseCalls = 0;
  const dropped: string[] = [];
  state.dropped = (_device, _peer, reason, detail) => void dropped.push(`${reason}: ${detail}`);
  const ctx: InferenceContext = {
    self: SELF,
    stats: new RouteStats(),
    deps: {
      deviceId: SELF, room: 'room', state,
      serving: () => ({ key: KEY, manifest: TINY_MANIFEST, replicas: [[SELF, TWIN], [SELF, ...NEXT]], holds: (h) => holds.has(h), keeps: (h) => holds.has(h), warm: () => true, warmMs: () => undefined }),
      send: () => {},
      compute: (stages, feeds, want) => new Promise((finish, fail) => computes.push({ hash: stages[0].hash, stages, want, feeds, finish: (c) => finish({ stageMs: stages.map(() => c.ms / stages.length), ...c }), fail })),
      canCompute: () => true,
      mono: clock.mono, epoch: clock.epoch, timers: clock,
    },
    send: (to, m) => void sent.push({ to, m }),
    sendTensors: (to, tensors, make) => {
      sent.push({ to, m: make(0, 1, []), tensors });
      return 0;
    },
    log: () => {},
    upPeers: () => [REQUESTER, TWIN, ...NEXT],
    failed: () => new Set(),
    chooseNext: async () => {
      chooseCalls++;
      return opts.next ?? NEXT;
    },
    // the execution graph, for whether the next stage stays here: 5 ms to any other device, none to itself
    graphFor: () => ctx.stats.graph({
      requester: REQUESTER,
      stages: TINY_MANIFEST.partitions.map((p, i) => ({ partition: p.id, flops: p.flops, devices: i === 0 ? [SELF, TWIN] : [SELF, ...NEXT] })),
      outBytes: 64,
      rttMs: (a, b) => (a === b ? 0 : 5),
    }),
    hedger: null as unknown as Hedger,
    late: () => {},
    queuedAt: () => 0,
  };
  Object.assign(ctx, { hedger: new Hedger(ctx) });
  const runner = new StageRunner(ctx);
  /** Sends stage `stage` of request `req` to the runner, its activations split into `partBytes`-sized frames. */
  const deliver = (req: string, stage: number, tensors: Record<string, Tensor>, o: { from?: string; partBytes?: number; parts?: number[] } = {}) => {
    const { table, payload } = packTensors(tensors);
    const parts = splitParts(payload, o.partBytes ?? 1 << 20);
    for (const i of o.parts ?? parts.map((_, k) => k)) {
      const m: MessageOf<'stage-run'> = { type: 'stage-run', req, stage, key: KEY, requester: REQUESTER, twin: TWIN, mode: 'frim', path: [], part: i, parts: parts.length, table: i === 0 ? table : null };
      runner.onRun(o.from ?? REQUESTER, m, parts[i]);
    }
  };
  const of = <T extends Message['type']>(type: T) => sent.filter((s) => s.m.type === type) as { to: string; m: MessageOf<T>; tensors?: Record<string, Tensor> }[];
  return { clock, dropped, runner, sent, computes, deliver, of, chooseCalls: () => chooseCalls };
}

const done = (req: string, stage: number, by = TWIN): MessageOf<'stage-done'> => ({ type: 'stage-done', req, stage, by, computeMs: 3, next: [] });

describe('stage runner (FRIM 4.3: bounded queue, hedged execution, forwarding)', () => {
  it('runs a stage whose activations arrive in several parts, tells the room it finished, and forwards to two devices', async () => {
    const h = harness({ holds: [P0.sha256] });
    h.deliver('r-1', 0, { input: tensor([0.1, 0.2, 0.3, 0.4]) }, { partBytes: 5 });
    expect(h.computes).toHaveLength(1);
    expect(h.computes[0].hash).toBe(P0.sha256);
    expect(new Float32Array(h.computes[0].feeds.input.data.slice().buffer)[2]).toBeCloseTo(0.3);
    h.computes[0].finish({ outputs: { h: tensor([1, 2, 3, 4]) }, ms: 7 });
    await h.clock.advance(0);
    // every copy of the stage learns it can stop; the requester learns where the next stage went
    expect(h.of('stage-done').map((s) => [s.to, s.m.next])).toEqual([[TWIN, []], ...NEXT.map((d) => [d, []]), [REQUESTER, NEXT]]);
    const runs = h.of('stage-run');
    expect(runs.map((s) => [s.to, s.m.stage, s.m.twin])).toEqual([[NEXT[0], 1, NEXT[1]], [NEXT[1], 1, NEXT[0]]]);
    // only what the next stage reads travels on
    expect(Object.keys(runs[0].tensors!)).toEqual(['h']);
    expect(h.runner.view()).toMatchObject({ queued: 0, ran: 1, cancelled: 0, computeMs: 7 });
  });

  it('runs consecutive partitions it holds as one chain when the execution graph keeps the request here', async () => {
    const h = harness();
    h.deliver('r-1', 0, { input: tensor([0.1, 0.2, 0.3, 0.4]) });
    expect(h.computes).toHaveLength(1);
    // one call for both partitions; only the model's output comes back (h stays in the compute worker)
    expect(h.computes[0].stages.map((s) => s.hash)).toEqual([P0.sha256, P1.sha256]);
    expect(h.computes[0].want).toEqual(['logits']);
    h.computes[0].finish({ outputs: { logits: { type: 'float32', dims: [1, 10], data: new Uint8Array(40) } }, ms: 6, stageMs: [4, 2] });
    await h.clock.advance(0);
    // both stages are announced done (the requester too hears of the first), then the result goes to the requester
    expect(h.of('stage-done').filter((s) => s.to === REQUESTER).map((s) => s.m.stage)).toEqual([0, 1]);
    expect(h.of('stage-done').filter((s) => s.to === TWIN).map((s) => [s.m.stage, s.m.computeMs])).toEqual([[0, 4], [1, 2]]);
    expect(h.of('stage-result').map((s) => s.to)).toEqual([REQUESTER]);
    expect(h.of('stage-run')).toHaveLength(0);
    expect(h.chooseCalls()).toBe(0);
    expect(h.runner.view()).toMatchObject({ ran: 2, computeMs: 6 });
  });

  it('sends the model outputs to the requester after the last stage', async () => {
    const h = harness();
    h.deliver('r-1', 1, { h: tensor([1, 2, 3, 4]) });
    h.computes[0].finish({ outputs: { logits: { type: 'float32', dims: [1, 10], data: new Uint8Array(40) } }, ms: 2 });
    await h.clock.advance(0);
    const result = h.of('stage-result');
    expect(result.map((s) => s.to)).toEqual([REQUESTER]);
    expect(Object.keys(result[0].tensors!)).toEqual(['logits']);
    expect(h.of('stage-run')).toHaveLength(0);
    expect(h.chooseCalls()).toBe(0);
  });

  it("drops a queued job when its twin finishes first, and forwards nothing from a running one", async () => {
    const h = harness({ holds: [P0.sha256] });
    h.deliver('r-1', 0, { input: tensor([1, 1, 1, 1]) });
    h.deliver('r-2', 0, { input: tensor([2, 2, 2, 2]) });
    expect(h.runner.view().queued).toBe(2);
    h.runner.onDone(done('r-2', 0)); // queued: never computed
    h.runner.onDone(done('r-1', 0)); // running: its result is thrown away
    expect(h.runner.view()).toMatchObject({ queued: 1, cancelled: 2 });
    h.computes[0].finish({ outputs: { h: tensor([1, 1, 1, 1]) }, ms: 4 });
    await h.clock.advance(0);
    expect(h.computes).toHaveLength(1);
    expect(h.sent).toHaveLength(0);
    expect(h.runner.view()).toMatchObject({ queued: 0, ran: 1, cancelled: 2 });
  });

  it("drops a stage whose twin finished before its activations even arrived", async () => {
    const h = harness();
    h.runner.onDone(done('r-1', 0));
    h.deliver('r-1', 0, { input: tensor([1, 1, 1, 1]) });
    await h.clock.advance(0);
    expect(h.computes).toHaveLength(0);
    expect(h.sent).toHaveLength(0);
  });

  it('takes a (request, stage) once: a re-send or a second forwarder is dropped', async () => {
    const h = harness();
    h.deliver('r-1', 0, { input: tensor([1, 1, 1, 1]) });
    h.deliver('r-1', 0, { input: tensor([1, 1, 1, 1]) }, { from: TWIN });
    expect(h.runner.view().queued).toBe(1);
    h.computes[0].finish({ outputs: { h: tensor([1, 1, 1, 1]) }, ms: 1 });
    await h.clock.advance(0);
    expect(h.computes).toHaveLength(1);
  });

  it(`refuses more than ${STAGE_QUEUE.maxJobs} jobs, and partitions it does not hold or that belong to another model`, () => {
    const h = harness({ holds: [P0.sha256] });
    expect(h.runner.canRun(KEY, 0)).toBe(true);
    expect(h.runner.canRun(KEY, 1)).toBe(false);
    expect(h.runner.canRun('cd'.repeat(32), 0)).toBe(false);
    for (let i = 0; i < STAGE_QUEUE.maxJobs; i++) h.deliver(`r-${i}`, 0, { input: tensor([i, i, i, i]) });
    expect(h.runner.view().queued).toBe(STAGE_QUEUE.maxJobs);
    expect(h.runner.canRun(KEY, 0)).toBe(false);
  });

  it(`takes a later stage of a request already under way beyond that bound, up to ${STAGE_QUEUE.maxJobsInPipeline} jobs, and runs the furthest stage first`, async () => {
    const h = harness();
    for (let i = 0; i < STAGE_QUEUE.maxJobs; i++) h.deliver(`r-${i}`, 0, { input: tensor([i, i, i, i]) });
    expect(h.runner.canRun(KEY, 0)).toBe(false);
    expect(h.runner.canRun(KEY, 1)).toBe(true);
    for (let i = STAGE_QUEUE.maxJobs; i < STAGE_QUEUE.maxJobsInPipeline; i++) h.deliver(`r-${i}`, 1, { h: tensor([i, i, i, i]) });
    expect(h.runner.canRun(KEY, 1)).toBe(false);
    // r-0's stage 0 started first; once it is done the stage-1 jobs go before the other stage-0 ones
    h.computes[0].finish({ outputs: { h: tensor([1, 1, 1, 1]) }, ms: 1 });
    await h.clock.advance(0);
    expect(h.computes[1].hash).toBe(P1.sha256);
    h.computes[1].finish({ outputs: { logits: { type: 'float32', dims: [1, 10], data: new Uint8Array(40) } }, ms: 1 });
    await h.clock.advance(0);
    expect(h.computes[2].hash).toBe(P1.sha256);
  });

  it('answers the requester with a stage error for bad activations, a missing input, a failed compute, or no next device', async () => {
    const h = harness({ next: [], holds: [P0.sha256] });
    // a table that does not describe the payload
    h.runner.onRun(REQUESTER, { type: 'stage-run', req: 'r-1', stage: 0, key: KEY, requester: REQUESTER, twin: TWIN, mode: 'frim', path: [], part: 0, parts: 1, table: [{ name: 'input', type: 'float32', dims: [1, 1, 2, 2], bytes: 16 }] }, new Uint8Array(3));
    h.deliver('r-2', 0, { wrong: tensor([1, 1, 1, 1]) });
    h.deliver('r-3', 0, { input: tensor([1, 1, 1, 1]) });
    await h.clock.advance(0);
    h.computes[0].fail(new Error('GPU device lost'));
    await h.clock.advance(0);
    h.deliver('r-4', 0, { input: tensor([1, 1, 1, 1]) });
    h.computes[1].finish({ outputs: { h: tensor([1, 1, 1, 1]) }, ms: 1 });
    // the next hop is tried again after each pause of the backoff before giving up
    await h.clock.advance(60_000);
    const errors = h.of('stage-error').map((s) => [s.to, s.m.req, s.m.reason]);
    expect(errors).toEqual([
      [REQUESTER, 'r-1', expect.stringMatching(/^bad activations/)],
      [REQUESTER, 'r-2', 'activation input is missing'],
      [REQUESTER, 'r-3', 'compute failed: GPU device lost'],
      [REQUESTER, 'r-4', 'no device could take the next stage'],
    ]);
    expect(h.chooseCalls()).toBeGreaterThan(1);
    expect(h.dropped).toEqual([expect.stringMatching(/^malformed frame: stage 0 activations/)]);
  });

  it('forgets a stage whose parts stopped arriving', async () => {
    const h = harness();
    h.deliver('r-1', 0, { input: tensor([1, 2, 3, 4]) }, { partBytes: 5, parts: [0, 1] });
    h.runner.tick(h.clock.mono() + STAGE_QUEUE.assemblyTimeoutMs + 1);
    // the missing parts arrive after all: too late, the half-assembled stage is gone
    h.deliver('r-1', 0, { input: tensor([1, 2, 3, 4]) }, { partBytes: 5, parts: [2, 3] });
    await h.clock.advance(0);
    expect(h.computes).toHaveLength(0);
  });

  it(`keeps at most ${STAGE_QUEUE.assemblingPerPeer} half-sent stages from one sender, counts the rest, and others are not held back`, async () => {
    const h = harness();
    const x = { input: tensor([1, 2, 3, 4]) };
    // a flood of first parts that never complete, from one peer
    for (let i = 0; i < 500; i++) h.deliver(`flood-${i}`, 0, x, { from: TWIN, partBytes: 5, parts: [0] });
    expect(h.dropped.filter((d) => d.includes('half-sent'))).toHaveLength(500 - STAGE_QUEUE.assemblingPerPeer);
    // an honest requester's stage still assembles and runs
    h.deliver('r-1', 0, x, { partBytes: 5 });
    await h.clock.advance(0);
    expect(h.computes).toHaveLength(1);
    // once the flood's stages time out, the flooder's place is free again
    h.runner.tick(h.clock.mono() + STAGE_QUEUE.assemblyTimeoutMs + 1);
    h.dropped.length = 0;
    h.deliver('later', 0, x, { from: TWIN, partBytes: 5, parts: [0] });
    expect(h.dropped).toEqual([]);
  });

  it(`keeps at most ${STAGE_QUEUE.assemblingBytesPerPeer / 2 ** 20} MiB of half-sent stages from one sender`, async () => {
    const h = harness();
    // 16 MiB of activations sent in 1 MiB parts, the last part never sent
    const big: Record<string, Tensor> = { input: { type: 'float32', dims: [1, 4 << 20], data: new Uint8Array(16 << 20) } };
    const all = Array.from({ length: 16 }, (_, k) => k);
    const held = Math.floor(STAGE_QUEUE.assemblingBytesPerPeer / (15 << 20));
    for (let i = 0; i < held + 2; i++) h.deliver(`big-${i}`, 0, big, { from: TWIN, partBytes: 1 << 20, parts: all.slice(0, 15) });
    const refused = h.dropped.filter((d) => d.includes('MiB of stages half-sent'));
    expect(refused.length).toBeGreaterThan(0);
    // the stages refused are forgotten whole: what is held stays under the bound, and an honest sender is not held back
    h.dropped.length = 0;
    h.deliver('r-1', 0, { input: tensor([1, 2, 3, 4]) }, { partBytes: 5 });
    await h.clock.advance(0);
    expect(h.computes).toHaveLength(1);
    expect(h.dropped).toEqual([]);
  });
});
