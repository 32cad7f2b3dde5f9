/**
 * The requesting side of distributed inference (FRIM 4.3): stream images of the shipped test
 * sample into the room at a chosen rate, follow each request stage by stage, and re-issue it on a
 * path around the failure when a stage produces nothing within its deadline or every device
 * running it is declared failed. No request is given up while attempts remain; the first result
 * of a request counts, later ones are dropped. `no-config` mode is the paper's baseline: one fixed
 * path chosen at the start, one copy per stage, no re-issue — a request whose path breaks is lost.
 */
import { shortestPath } from '../../core/execution-graph.js';
import { RequestTracker, StageTimes } from '../../core/hedging.js';
import { HEDGING } from '../../core/policy.js';
import type { InferenceMode, Message, MessageOf } from '../../core/protocol.js';
import { argmax, takesSample, type ImageSample } from '../../core/sample.js';
import { unpackTensors, PartsAssembler } from '../../core/tensors.js';
import type { InferenceView } from '../../core/views.js';
import type { InferenceContext } from './context.js';
import { COPIES, afterTrouble, stageDeadlineMs, twinOf } from './hedging.js';
import { classifyInputProblem, inputTensors, newRequest, streamInputProblem, type LogicalRequest } from './request.js';
import { RunRecord } from './run-record.js';

/** Where the requester gets the test sample (the server, or a test's fixture). */
export type LoadSample = () => Promise<ImageSample>;

export class Requester {
  private sample: ImageSample | null = null;
  /** the run feeds the test sample (labels known), not synthetic inputs */
  private labelled = true;
  private readonly tracker = new RequestTracker();
  private readonly times = new StageTimes();
  private readonly attemptOf = new Map<string, number>();
  private readonly requests = new Map<number, LogicalRequest>();
  private readonly results = new Map<string, PartsAssembler>();
  private seq = 0;
  /** requests of the stream issued and not yet answered or lost (from issue, not from when a device took them) */
  private open = 0;
  private run_: { mode: InferenceMode; count: number; issued: number; path: string[]; startedAt: number } | null = null;
  private timer: unknown;
  private error: string | null = null;
  private record = new RunRecord();
  private runFinished = false;
  private classified: InferenceView['classified'] = null;
  private classifySeq = 0;

  constructor(
    private readonly ctx: InferenceContext,
    private readonly loadSample: LoadSample,
  ) {}

  private get mode(): InferenceMode {
    return this.run_?.mode ?? 'frim';
  }

  private get now(): number {
    return this.ctx.deps.mono();
  }

  async run(opts: { count: number; ratePerSec: number; mode: InferenceMode }): Promise<void> {
    this.ctx.deps.timers.clear(this.timer);
    // a new run forgets the last one's requests (the user's own images stay: their keys are negative)
    for (const [i] of this.requests) if (i >= 0) this.tracker.finish(String(i));
    for (const i of [...this.requests.keys()]) if (i >= 0) this.requests.delete(i);
    for (const [k, v] of this.attemptOf) if (v >= 0) this.attemptOf.delete(k);
    this.results.clear();
    this.open = 0;
    this.error = null;
    this.record = new RunRecord();
    this.runFinished = false;
    const s = this.ctx.deps.serving();
    if (!s) return this.fail('no model is offloaded in this room yet');
    try {
      this.sample ??= await this.loadSample();
    } catch (e) {
      return this.fail(`could not load the test sample: ${(e as Error).message}`);
    }
    const problem = streamInputProblem(s.manifest);
    if (problem) return this.fail(problem);
    // models the test sample does not fit (ImageNet-shaped ones) get seeded synthetic inputs, without labels
    this.labelled = takesSample(s.manifest.model.inputs, this.sample);
    let path: string[] = [];
    if (opts.mode === 'no-config') {
      const p = shortestPath(this.ctx.graphFor(s, this.ctx.self, new Set()), { stage: -1 });
      if (!p) return this.fail('some partition has no live copy');
      path = p.hops.map((h) => h.device);
    }
    this.run_ = { mode: opts.mode, count: opts.count, issued: 0, path, startedAt: this.now };
    this.ctx.log(null, `streaming ${opts.count} images at ${opts.ratePerSec}/s in ${opts.mode} mode${path.length ? ` along ${path.join(' → ')}` : ''}`);
    const gap = 1000 / Math.max(0.1, opts.ratePerSec);
    const t0 = this.now;
    const e0 = this.ctx.deps.epoch();
    const next = () => {
      const r = this.run_;
      if (!r || r.issued >= r.count) return;
      if (this.open >= HEDGING.maxInFlight) {
        this.timer = this.ctx.deps.timers.set(next, 5);
        return;
      }
      const i = r.issued++;
      this.open++;
      // due at its slot in the stream: waiting here for room counts towards its latency
      const due = t0 + i * gap;
      const image = this.labelled ? i % this.sample!.count : i;
      this.requests.set(i, newRequest({ image, label: this.labelled ? this.sample!.labels[image] : -1, mode: r.mode, issuedAt: due, issuedEpoch: e0 + i * gap }, this.now));
      void this.attempt(i);
      this.timer = this.ctx.deps.timers.set(next, Math.max(0, t0 + (i + 1) * gap - this.now));
    };
    next();
  }

  /** One image the user gave, `rows x cols` grey in [0, 1], through the room like any request. */
  classify(pixels: Float32Array): void {
    const s = this.ctx.deps.serving();
    if (!s) return this.fail('no model is offloaded in this room yet');
    const problem = classifyInputProblem(s.manifest, pixels.length);
    if (problem) return this.fail(problem);
    this.error = null;
    const i = -++this.classifySeq;
    this.classified = null;
    this.requests.set(i, newRequest({ image: -1, label: -1, mode: 'frim', pixels, issuedAt: this.now, issuedEpoch: this.ctx.deps.epoch() }, this.now));
    void this.attempt(i);
  }

  private fail(message: string): void {
    this.error = message;
    this.ctx.log(null, message);
    this.ctx.deps.state.dirty = true;
  }

  private async attempt(i: number): Promise<void> {
    const L = this.requests.get(i)!;
    const s = this.ctx.deps.serving();
    const r = i < 0 ? { mode: 'frim' as const, path: [] as string[] } : this.run_!;
    if (!s) return this.lose(i, 'the room no longer serves a model');
    L.attempts++;
    L.lastProgress = this.now;
    const req = `${this.ctx.self}-${++this.seq}`;
    this.attemptOf.set(req, i);
    const tensors = inputTensors(L, s.manifest, this.sample);
    if (r.mode === 'no-config') {
      const broken = r.path.find((d) => this.ctx.failed().has(d));
      if (broken) return this.lose(i, `the fixed path runs through ${broken}, which failed`);
    }
    const targets = r.mode === 'no-config' ? [r.path[0]] : await this.ctx.chooseNext(s, req, this.ctx.self, { stage: -1 }, COPIES, this.ctx.failed());
    // answered (by an earlier attempt) or given up while we were confirming devices
    if (L.done) return;
    if (!targets.length && r.mode === 'frim') {
      // every copy of the first stage refused (busy) or none is up: try again shortly, not an attempt
      L.attempts--;
      this.tracker.wait(String(i), 0, [], this.now, 100);
      return;
    }
    // a re-issue is counted when it is sent, not for each poll while every copy was busy
    if (L.attempts > 1) this.record.reissued++;
    this.tracker.wait(String(i), 0, targets, this.now, stageDeadlineMs(this.times, 0, L.attempts, r.mode));
    for (const to of targets) {
      this.ctx.sendTensors(to, tensors, (part, parts, table): Message => ({ type: 'stage-run', req, stage: 0, key: s.key, requester: this.ctx.self, twin: twinOf(targets, to), mode: r.mode, path: r.path, part, parts, table }));
    }
    this.ctx.deps.state.dirty = true;
  }

  private lose(i: number, why: string): void {
    const L = this.requests.get(i);
    if (!L || L.done) return;
    this.finish(i, L);
    if (i < 0) {
      this.classified = { predicted: null, ms: null, path: L.winners, note: why };
      this.ctx.deps.state.dirty = true;
      return;
    }
    this.record.lose(L, this.now - L.issuedAt, why);
    this.finishIfDone();
  }

  private finish(i: number, L: LogicalRequest): void {
    L.done = true;
    this.tracker.finish(String(i));
    if (i >= 0) this.open--;
  }

  private reissue(i: number, why: string): void {
    const L = this.requests.get(i);
    if (!L || L.done) {
      this.tracker.finish(String(i));
      return;
    }
    const next = afterTrouble(L.mode, L.attempts, why);
    if (next.reissue) void this.attempt(i);
    else this.lose(i, next.why);
  }

  onDone(m: MessageOf<'stage-done'>): void {
    const i = this.attemptOf.get(m.req);
    const L = i === undefined ? undefined : this.requests.get(i);
    if (i === undefined || !L || L.done) return;
    const n = this.ctx.deps.serving()?.manifest.partitions.length ?? 0;
    const now = this.now;
    if (L.winners[m.stage] === undefined) {
      L.winners[m.stage] = m.by;
      this.times.record(m.stage, now - L.lastProgress);
      L.lastProgress = now;
    }
    const p = this.tracker.get(String(i));
    if (!p || m.stage + 1 < p.stage) return;
    if (m.stage === n - 1) this.tracker.wait(String(i), n, [m.by], now, stageDeadlineMs(this.times, n, L.attempts, L.mode));
    else if (m.next.length) this.tracker.wait(String(i), m.stage + 1, m.next, now, stageDeadlineMs(this.times, m.stage + 1, L.attempts, L.mode));
  }

  onResult(m: MessageOf<'stage-result'>, payload: Uint8Array): void {
    const i = this.attemptOf.get(m.req);
    const L = i === undefined ? undefined : this.requests.get(i);
    if (i === undefined || !L || L.done) return;
    // per sender: two last-stage copies that both finished must not mix their parts
    const id = `${m.req}@${m.by}`;
    let a = this.results.get(id);
    if (!a) this.results.set(id, (a = new PartsAssembler(m.parts)));
    if (a.count !== m.parts || !a.add(m.part, payload, m.table) || !a.complete) return;
    this.results.delete(id);
    const out = unpackTensors(a.table, a.payload());
    const s = this.ctx.deps.serving();
    const name = s?.manifest.model.outputs[0]?.name ?? '';
    if (typeof out === 'string' || !out[name] || out[name].type !== 'float32') return this.reissue(i, `bad result from ${m.by}`);
    const n = s?.manifest.partitions.length ?? 0;
    if (n && L.winners[n - 1] === undefined) L.winners[n - 1] = m.by;
    const predicted = argmax(new Float32Array(out[name].data.slice().buffer));
    const ms = this.now - L.issuedAt;
    this.finish(i, L);
    if (i < 0) {
      this.classified = { predicted, ms, path: L.winners, note: '' };
      this.ctx.deps.state.dirty = true;
      return;
    }
    this.record.answer(i, L, predicted, ms);
    this.finishIfDone();
  }

  onError(from: string, m: MessageOf<'stage-error'>): void {
    const i = this.attemptOf.get(m.req);
    if (i === undefined) return;
    this.ctx.log(from, `request ${i}, stage ${m.stage}: ${m.reason}`);
    this.reissue(i, m.reason);
  }

  onFailed(device: string): void {
    this.record.failure(this.ctx.deps.epoch(), device);
    if (!this.run_) return;
    if (this.mode === 'no-config') {
      // the fixed path is broken: requests that still have to pass through it are lost; those already past it may finish
      const last = this.run_.path.lastIndexOf(device);
      if (last >= 0) for (const [i, L] of this.requests) if (!L.done && (this.tracker.get(String(i))?.stage ?? 0) <= last) this.lose(i, `${device} on the fixed path failed`);
      return;
    }
    for (const p of this.tracker.orphanedBy(this.ctx.failed())) this.reissue(Number(p.requestId), `every device running stage ${p.stage} failed`);
  }

  tick(): void {
    for (const p of this.tracker.overdue(this.now)) this.reissue(Number(p.requestId), `stage ${p.stage} overdue`);
    if (this.mode === 'frim') for (const p of this.tracker.orphanedBy(this.ctx.failed())) this.reissue(Number(p.requestId), `every device running stage ${p.stage} failed`);
  }

  private finishIfDone(): void {
    this.ctx.deps.state.dirty = true;
    const r = this.run_;
    if (!r || r.issued < r.count || this.open > 0) return;
    this.ctx.log(null, this.record.summary(r.count, this.labelled));
    this.runFinished = true;
  }

  view(): Omit<InferenceView, 'running'> {
    const r = this.run_;
    return {
      ...this.record.view(r?.issued ?? 0),
      mode: this.mode,
      labelled: this.labelled,
      active: !!r && !this.runFinished && (r.issued < r.count || this.open > 0),
      count: r?.count ?? 0,
      sent: r?.issued ?? 0,
      inFlight: this.open,
      error: this.error,
      path: r?.path ?? [],
      classified: this.classified,
    };
  }
}
