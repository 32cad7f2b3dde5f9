/**
 * The requesting side of distributed inference (FRIM 4.3): stream images of the shipped test
 * sample into the room at a chosen rate, follow each request stage by stage, and re-issue it on a
 * path around the failure when a stage produces nothing within its deadline or every device
 * running it is declared failed. No request is given up while attempts remain; the first result
 * of a request counts, later ones are dropped. The paper's baselines (core/baselines.ts) follow one
 * fixed path instead, one copy per stage, and never re-issue.
 */
import { exitOf, firstHop, isBaseline, type BaselineMode } from '../../core/baselines.js';
import { shortestPath } from '../../core/execution-graph.js';
import { RequestTracker, StageTimes } from '../../core/hedging.js';
import { HEDGING, WARM_UP } from '../../core/policy.js';
import type { InferenceMode, Message, MessageOf } from '../../core/protocol.js';
import { takesSample, type ImageSample } from '../../core/sample.js';
import { unpackTensors, PartsAssembler, type Tensor } from '../../core/tensors.js';
import type { InferenceView } from '../../core/views.js';
import type { InferenceContext, Serving } from './context.js';
import { COPIES, afterTrouble, stageDeadlineMs } from '../../core/hedging-policy.js';
import { StreamRun, classifyInputProblem, inputTensors, newRequest, pace, runPath, streamInputProblem, topOnes, type LogicalRequest, type Paced } from './request.js';
import { RunRecord } from './run-record.js';

/** Where the requester gets the test sample (the server, or a test's fixture). */
export type LoadSample = () => Promise<ImageSample>;

/** senders whose results for one request are assembled at once */
const RESULT_SENDERS = 8;

export class Requester {
  private sample: ImageSample | null = null;
  /** the run feeds the test sample (labels known), not synthetic inputs */
  private labelled = true;
  private readonly tracker = new RequestTracker();
  private readonly times = new StageTimes();
  private readonly attemptOf = new Map<string, number>();
  private readonly requests = new Map<number, LogicalRequest>();
  /** last-stage results arriving in parts, per open request and sender (at most RESULT_SENDERS each; gone when the request is answered) */
  private readonly results = new Map<number, Map<string, PartsAssembler>>();
  private seq = 0;
  /** requests of the stream issued and not yet answered or lost (from issue, not from when a device took them) */
  private open = 0;
  private run_: StreamRun | null = null;
  private pacer: Paced | null = null;
  private error: string | null = null;
  private record = new RunRecord();
  private runFinished = false;
  private classified: InferenceView['classified'] = null;
  private classifySeq = 0;
  /** warm-up requests sent so far (WARM_UP) */
  private probeSeq = 0;

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

  async run(opts: { count: number; ratePerSec: number; mode: InferenceMode; path?: string[]; batch?: number }): Promise<void> {
    this.pacer?.stop();
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
    const path = runPath(opts.mode, s, opts.path, () => shortestPath(this.ctx.graphFor(s, this.ctx.self, new Set()), { stage: -1 })?.hops.map((h) => h.device) ?? null);
    if (typeof path === 'string') return this.fail(path);
    const r = (this.run_ = new StreamRun(opts.mode, opts.count, opts.batch ?? 1, path));
    this.ctx.log(null, `streaming ${opts.count} images${r.batch > 1 ? ` in requests of ${r.batch}` : ''} at ${opts.ratePerSec} requests/s in ${opts.mode} mode${path.length ? ` along ${path.join(' → ')}` : ''}`);
    const e0 = this.ctx.deps.epoch();
    const t0 = this.now;
    this.pacer = pace(this.ctx.deps.timers, () => this.now, { count: r.requests, ratePerSec: opts.ratePerSec }, () => this.open < HEDGING.maxInFlight, (i, due) => {
      this.open++;
      this.requests.set(i, r.request(i, due, e0 + (due - t0), this.labelled ? this.sample : null, this.now));
      void this.attempt(i);
    });
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
    this.requests.set(i, newRequest({ images: [-1], labels: [-1], position: -1, mode: 'frim', pixels, issuedAt: this.now, issuedEpoch: this.ctx.deps.epoch() }, this.now));
    void this.attempt(i);
  }

  get warmUps(): number {
    return this.probeSeq;
  }

  /** Warm-up requests (synthetic inputs, recorded nowhere), one after another: see WARM_UP. */
  probe(count: number): void {
    const s = this.ctx.deps.serving();
    if (!s || count < 1 || streamInputProblem(s.manifest)) return;
    const i = -1e9 - ++this.probeSeq;
    const L = newRequest({ images: [this.probeSeq], labels: [-1], position: -1, mode: 'frim', issuedAt: this.now, issuedEpoch: this.ctx.deps.epoch() }, this.now);
    this.requests.set(i, { ...L, probe: { left: count - 1 } });
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
    L.loadAtProgress = this.open;
    const req = this.newAttempt(i);
    const tensors = inputTensors(L, s.manifest, this.sample);
    if (isBaseline(r.mode)) return this.attemptFixed(i, L, req, r, s, tensors);
    const targets = await this.ctx.chooseNext(s, req, this.ctx.self, { stage: -1 }, COPIES, this.ctx.failed());
    // answered (by an earlier attempt) or given up while we were confirming devices
    if (L.done) return;
    if (!targets.length) {
      // every copy of the first stage refused (busy) or none is up: try again shortly, not an attempt
      L.attempts--;
      this.tracker.wait(String(i), 0, [], this.now, 100);
      return;
    }
    // a re-issue is counted when it is sent, not for each poll while every copy was busy
    if (L.attempts > 1) this.record.reissued++;
    this.tracker.wait(String(i), 0, targets, this.now, stageDeadlineMs(this.times, 0, L.attempts, r.mode, this.open));
    this.ctx.hedger.send(req, 0, targets, (to, twin) => {
      this.ctx.sendTensors(to, tensors, (part, parts, table): Message => ({ type: 'stage-run', req, stage: 0, key: s.key, requester: this.ctx.self, twin, mode: r.mode, path: r.path, part, parts, table }));
    });
    this.ctx.deps.state.dirty = true;
  }

  /** The baselines: one copy along the fixed path (where it starts: core/baselines.ts). */
  private attemptFixed(i: number, L: LogicalRequest, req: string, r: { mode: InferenceMode; path: string[] }, s: Serving, input: Record<string, Tensor>): void {
    const hop = firstHop(r.mode as BaselineMode, r.path, s.manifest, input, this.ctx.failed());
    if ('lost' in hop) return this.lose(i, hop.lost);
    const { stage, to, tensors } = hop;
    this.tracker.wait(String(i), stage, [to], this.now, stageDeadlineMs(this.times, stage, L.attempts, r.mode, this.open));
    this.ctx.sendTensors(to, tensors, (part, parts, table): Message => ({ type: 'stage-run', req, stage, key: s.key, requester: this.ctx.self, twin: '', mode: r.mode, path: r.path, part, parts, table }));
    this.ctx.deps.state.dirty = true;
  }

  /** skip-connection: the request this device sent to `device`, which failed, goes to the next live stage instead (not a re-issue: DFG's hyper-connection). */
  private bypassFirst(i: number, L: LogicalRequest, device: string): void {
    const s = this.ctx.deps.serving();
    if (!s || !this.run_) return this.lose(i, `${device} on the fixed path failed`);
    this.ctx.log(device, `request ${i}: the skip connection bypasses ${device}, which failed`);
    const req = this.newAttempt(i);
    this.attemptFixed(i, L, req, this.run_, s, inputTensors(L, s.manifest, this.sample));
  }

  private lose(i: number, why: string): void {
    const L = this.requests.get(i);
    if (!L || L.done) return;
    // early-exit: a request that cannot go on is answered by the last exit it passed
    if (L.exit && i >= 0) return this.answer(i, L, L.exit.predicted, `answered by the exit after partition ${L.exit.stage} (${why})`);
    this.finish(i, L);
    if (L.probe) return;
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
    this.results.delete(i);
    this.tracker.finish(String(i));
    if (i >= 0) this.open--;
    else {
      // a warm-up or a user's own image is nobody's record once it is done: nothing of it stays
      this.requests.delete(i);
      for (const [req, j] of this.attemptOf) if (j === i) this.attemptOf.delete(req);
    }
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
      this.times.record(m.stage, now - L.lastProgress, L.loadAtProgress);
      L.lastProgress = now;
      L.loadAtProgress = this.open;
    }
    const p = this.tracker.get(String(i));
    if (!p || m.stage + 1 < p.stage) return;
    if (m.stage === n - 1) this.tracker.wait(String(i), n, [m.by], now, stageDeadlineMs(this.times, n, L.attempts, L.mode, this.open));
    else if (m.next.length) this.tracker.wait(String(i), m.stage + 1, m.next, now, stageDeadlineMs(this.times, m.stage + 1, L.attempts, L.mode, this.open));
  }

  /** A new attempt at logical request `i`: its id, `<self>-<seq>` in issue order (what `made` reads back). */
  private newAttempt(i: number): string {
    const req = `${this.ctx.self}-${++this.seq}`;
    this.attemptOf.set(req, i);
    return req;
  }

  /**
   * Whether this device ever issued `req` (open, answered, given up, a warm-up, an earlier run's):
   * a late answer to one of those is routine (a device back from a network outage delivers what it
   * computed meanwhile) and is ignored; anything else is a stray.
   */
  made(req: string): boolean {
    const prefix = `${this.ctx.self}-`;
    if (!req.startsWith(prefix)) return false;
    const seq = req.slice(prefix.length);
    return /^[1-9][0-9]{0,15}$/.test(seq) && Number(seq) <= this.seq;
  }

  onResult(m: MessageOf<'stage-result'>, payload: Uint8Array): void {
    const i = this.attemptOf.get(m.req);
    const L = i === undefined ? undefined : this.requests.get(i);
    if (i === undefined || !L || L.done) return;
    // per sender: two last-stage copies that both finished must not mix their parts
    const bySender = this.results.get(i) ?? new Map<string, PartsAssembler>();
    this.results.set(i, bySender);
    const id = `${m.req}@${m.by}`;
    let a = bySender.get(id);
    if (!a) {
      // the last stage's two copies and a re-issue or two; a sender inventing names gets no more
      if (bySender.size >= RESULT_SENDERS) return;
      bySender.set(id, (a = new PartsAssembler(m.parts)));
    }
    if (a.count !== m.parts || !a.add(m.part, payload, m.table) || !a.complete) return;
    bySender.delete(id);
    const out = unpackTensors(a.table, a.payload());
    const s = this.ctx.deps.serving();
    const name = s?.manifest.model.outputs[0]?.name ?? '';
    const predicted = typeof out === 'string' ? null : topOnes(out[name], L.images.length);
    if (!predicted) return this.reissue(i, `bad result from ${m.by}`);
    const n = s?.manifest.partitions.length ?? 0;
    if (n && L.winners[n - 1] === undefined) L.winners[n - 1] = m.by;
    this.answer(i, L, predicted, '');
  }

  /** early-exit mode: an exit head's answer; the request keeps the latest one, for when its path breaks. */
  onExit(m: MessageOf<'stage-exit'>, payload: Uint8Array): void {
    const i = this.attemptOf.get(m.req);
    const L = i === undefined ? undefined : this.requests.get(i);
    const manifest = this.ctx.deps.serving()?.manifest;
    const name = manifest ? exitOf(manifest, m.stage) : null;
    if (i === undefined || !L || L.done || !name || m.parts !== 1 || !m.table) return;
    const out = unpackTensors(m.table, payload);
    const predicted = typeof out === 'string' ? null : topOnes(out[name], L.images.length);
    if (!predicted || (L.exit && L.exit.stage >= m.stage)) return;
    L.exit = { stage: m.stage, predicted };
    L.winners[m.stage] ??= m.by;
  }

  private answer(i: number, L: LogicalRequest, predicted: number[], note: string): void {
    const ms = this.now - L.issuedAt;
    this.finish(i, L);
    if (L.probe) return ms < WARM_UP.maxRequestMs ? this.probe(L.probe.left) : undefined;
    if (i < 0) {
      this.classified = { predicted: predicted[0], ms, path: L.winners, note };
      this.ctx.deps.state.dirty = true;
      return;
    }
    this.record.answer(L, predicted, ms, note);
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
    if (this.mode === 'skip-connection') {
      // the skip hyper-connection carries a request past the failed device: from here if this device
      // handed it over, else from the device before it (or the request is lost at its deadline)
      for (const p of this.tracker.orphanedBy(this.ctx.failed())) {
        const i = Number(p.requestId);
        const L = this.requests.get(i);
        if (L && !L.done && L.winners.every((w) => w === undefined)) this.bypassFirst(i, L, device);
      }
      return;
    }
    if (isBaseline(this.mode)) {
      // a request held by the failed device is lost (early-exit: answered by its last exit); the others stop early
      for (const p of this.tracker.orphanedBy(this.ctx.failed())) this.lose(Number(p.requestId), `${device} on the fixed path failed while running stage ${p.stage}`);
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
    if (!r || !r.allIssued() || this.open > 0) return;
    this.ctx.log(null, this.record.summary(r.count, this.labelled));
    this.runFinished = true;
  }

  /** a stream of the user's is still going */
  get active(): boolean {
    const r = this.run_;
    return !!r && !this.runFinished && (!r.allIssued() || this.open > 0);
  }

  view(): Omit<InferenceView, 'running'> {
    const r = this.run_;
    return {
      ...this.record.view(r?.sent ?? 0),
      mode: this.mode,
      labelled: this.labelled,
      active: this.active,
      count: r?.count ?? 0,
      sent: r?.sent ?? 0,
      batch: r?.batch ?? 1,
      inFlight: this.open,
      error: this.error,
      path: r?.path ?? [],
      classified: this.classified,
    };
  }
}
