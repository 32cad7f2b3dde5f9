/**
 * The requesting side of distributed inference (FRIM 4.3): stream images of the shipped test
 * sample into the room at a chosen rate, follow each request stage by stage, and re-issue it on a
 * path around the failure when a stage produces nothing within its deadline or every device
 * running it is declared failed. No request is given up while attempts remain; the first result
 * of a request counts, later ones are dropped. `no-config` mode is the paper's baseline: one fixed
 * path chosen at the start, one copy per stage, no re-issue — a request whose path breaks is lost.
 */
import { shortestPath } from '../core/execution-graph.js';
import { RequestTracker, StageTimes } from '../core/hedging.js';
import type { InferenceMode, Message } from '../core/protocol.js';
import { argmax, imageTensor, parseSample, syntheticInput, type ImageSample } from '../core/sample.js';
import { quantile } from '../core/stats.js';
import { PartsAssembler, unpackTensors, type Tensor } from '../core/tensors.js';
import type { Inference } from './inference.js';
import type { InferenceView } from './snapshot.js';

const MAX_ATTEMPTS = 6;
const DEADLINE_FLOOR_MS = 1000;
/**
 * Requests in flight at once. Beyond it new ones wait here (their latency still counts from when
 * they were due): devices refuse work they cannot start soon, so flooding them only turns into
 * refusals and re-issues.
 */
const MAX_IN_FLIGHT = 6;
/** no-config has no deadline logic of its own: a request silent this long is lost */
const NO_CONFIG_LOST_MS = 8000;

interface Logical {
  /** index into the test sample, or -1 for an image the user gave */
  image: number;
  /** -1 when unknown */
  label: number;
  mode: InferenceMode;
  /** the user's image, [rows x cols] grey in [0, 1]; absent for test-sample images */
  pixels?: Float32Array;
  issuedAt: number;
  issuedEpoch: number;
  attempts: number;
  lastProgress: number;
  /** device whose copy finished each stage first */
  winners: string[];
  done: boolean;
}

export class Requester {
  private sample: ImageSample | null = null;
  /** the run feeds the test sample (labels known), not synthetic inputs */
  private labelled = true;
  private readonly tracker = new RequestTracker();
  private readonly times = new StageTimes();
  private readonly attemptOf = new Map<string, number>();
  private readonly requests = new Map<number, Logical>();
  private readonly results = new Map<string, PartsAssembler>();
  private seq = 0;
  private run_: { mode: InferenceMode; count: number; issued: number; path: string[]; startedAt: number } | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private error: string | null = null;
  private answered = 0;
  private correct = 0;
  private lost = 0;
  private reissued = 0;
  private latencies: number[] = [];
  private points: { t: number; ms: number; ok: boolean }[] = [];
  private failures: { t: number; device: string }[] = [];
  private recent: InferenceView['recent'] = [];
  /** top-1 per request, in request order (null: not answered yet, or lost) */
  private predictions: (number | null)[] = [];

  constructor(private readonly ctx: Inference) {}

  private get mode(): InferenceMode {
    return this.run_?.mode ?? 'frim';
  }

  async run(opts: { count: number; ratePerSec: number; mode: InferenceMode }): Promise<void> {
    clearTimeout(this.timer);
    for (const [i] of this.requests) if (i >= 0) this.tracker.finish(String(i));
    Object.assign(this, { error: null, answered: 0, correct: 0, lost: 0, reissued: 0, latencies: [], points: [], failures: [], recent: [], predictions: [], runFinished: false });
    for (const i of [...this.requests.keys()]) if (i >= 0) this.requests.delete(i);
    for (const [k, v] of this.attemptOf) if (v >= 0) this.attemptOf.delete(k);
    this.results.clear();
    const s = this.ctx.deps.serving();
    if (!s) return this.fail('no model is offloaded in this room yet');
    try {
      this.sample ??= await loadSample();
    } catch (e) {
      return this.fail(`could not load the test sample: ${(e as Error).message}`);
    }
    const input = s.manifest.model.inputs[0];
    if (s.manifest.model.inputs.length !== 1 || input.type !== 'float32' || input.dims.length < 2) {
      return this.fail(`${s.manifest.model.name} takes ${s.manifest.model.inputs.map((x) => `${x.name} [${x.dims.join(', ')}] ${x.type}`).join(', ')}; requests feed one float image`);
    }
    // models the test sample does not fit (ImageNet-shaped ones) get seeded synthetic inputs, without labels
    this.labelled = input.dims.slice(1).join('x') === `1x${this.sample.rows}x${this.sample.cols}`;
    let path: string[] = [];
    if (opts.mode === 'no-config') {
      const p = shortestPath(this.ctx.graphFor(s, this.ctx.self, new Set()), { stage: -1 });
      if (!p) return this.fail('some partition has no live copy');
      path = p.hops.map((h) => h.device);
    }
    this.run_ = { mode: opts.mode, count: opts.count, issued: 0, path, startedAt: this.ctx.deps.mono() };
    this.ctx.log('inference', null, `streaming ${opts.count} images at ${opts.ratePerSec}/s in ${opts.mode} mode${path.length ? ` along ${path.join(' → ')}` : ''}`);
    const gap = 1000 / Math.max(0.1, opts.ratePerSec);
    const t0 = this.ctx.deps.mono();
    const e0 = this.ctx.deps.epoch();
    const next = () => {
      const r = this.run_;
      if (!r || r.issued >= r.count) return;
      if (this.tracker.size >= MAX_IN_FLIGHT) {
        this.timer = setTimeout(next, 5);
        return;
      }
      const i = r.issued++;
      // due at its slot in the stream: waiting here for room counts towards its latency
      const due = t0 + i * gap;
      const image = this.labelled ? i % this.sample!.count : i;
      this.requests.set(i, { image, label: this.labelled ? this.sample!.labels[image] : -1, mode: r.mode, issuedAt: due, issuedEpoch: e0 + i * gap, attempts: 0, lastProgress: this.ctx.deps.mono(), winners: [], done: false });
      void this.attempt(i);
      this.timer = setTimeout(next, Math.max(0, t0 + (i + 1) * gap - this.ctx.deps.mono()));
    };
    next();
  }

  private fail(message: string): void {
    this.error = message;
    this.ctx.log('inference', null, message);
    this.ctx.deps.state.dirty = true;
  }

  private async attempt(i: number): Promise<void> {
    const L = this.requests.get(i)!;
    const s = this.ctx.deps.serving();
    const r = i < 0 ? { mode: 'frim' as const, path: [] as string[] } : this.run_!;
    if (!s) return this.lose(i, 'the room no longer serves a model');
    L.attempts++;
    L.lastProgress = this.ctx.deps.mono();
    const req = `${this.ctx.self}-${++this.seq}`;
    this.attemptOf.set(req, i);
    const input = s.manifest.model.inputs[0];
    const dims = input.dims.map((d, k) => (k === 0 || typeof d !== 'number' ? 1 : d));
    const pixels = L.pixels ?? (L.label >= 0 ? imageTensor(this.sample!, L.image) : syntheticInput(L.image, dims));
    const tensors: Record<string, Tensor> = { [input.name]: { type: 'float32', dims, data: new Uint8Array(pixels.slice().buffer) } };
    if (r.mode === 'no-config') {
      const broken = r.path.find((d) => this.failed().has(d));
      if (broken) return this.lose(i, `the fixed path runs through ${broken}, which failed`);
    }
    const targets = r.mode === 'no-config' ? [r.path[0]] : await this.ctx.chooseNext(s, req, this.ctx.self, { stage: -1 }, 2, this.failed());
    // answered (by an earlier attempt) or given up while we were confirming devices
    if (L.done) return;
    if (!targets.length && r.mode === 'frim') {
      // every copy of the first stage refused (busy) or none is up: try again shortly, not an attempt
      L.attempts--;
      this.tracker.wait(String(i), 0, [], this.ctx.deps.mono(), 100);
      return;
    }
    // a re-issue is counted when it is sent, not for each poll while every copy was busy
    if (L.attempts > 1) this.reissued++;
    const deadline = r.mode === 'no-config' ? NO_CONFIG_LOST_MS : this.deadline(0, L);
    this.tracker.wait(String(i), 0, targets, this.ctx.deps.mono(), deadline);
    for (const to of targets) {
      const twin = targets.find((d) => d !== to) ?? '';
      this.ctx.sendTensors(to, tensors, (part, parts, table): Message => ({ type: 'stage-run', req, stage: 0, key: s.key, requester: this.ctx.self, twin, mode: r.mode, path: r.path, part, parts, table }));
    }
    this.ctx.deps.state.dirty = true;
  }

  /**
   * A stage's deadline: a multiple of what it has taken lately, doubled with every attempt, so a
   * room that is merely slow is not flooded with copies of the same request. A failure the
   * detector declares re-issues at once and does not wait for this.
   */
  private deadline(stage: number, L: Logical): number {
    return Math.max(DEADLINE_FLOOR_MS, this.times.deadlineMs(stage)) * 2 ** Math.max(0, L.attempts - 1);
  }

  private failed(): Set<string> {
    return new Set(this.ctx.deps.state.peerStates().filter((p) => p.status === 'failed').map((p) => p.deviceId));
  }

  private lose(i: number, why: string): void {
    const L = this.requests.get(i);
    if (!L || L.done) return;
    L.done = true;
    this.tracker.finish(String(i));
    if (i < 0) {
      this.classified = { predicted: null, ms: null, path: L.winners, note: why };
      this.ctx.deps.state.dirty = true;
      return;
    }
    this.lost++;
    this.points.push({ t: L.issuedEpoch / 1000, ms: this.ctx.deps.mono() - L.issuedAt, ok: false });
    this.recent.push({ image: L.image, label: L.label, predicted: null, ms: null, path: L.winners, attempts: L.attempts, note: why });
    this.finishIfDone();
  }

  private reissue(i: number, why: string): void {
    const L = this.requests.get(i);
    if (!L || L.done) {
      this.tracker.finish(String(i));
      return;
    }
    if (L.mode === 'no-config') return this.lose(i, why);
    if (L.attempts >= MAX_ATTEMPTS) return this.lose(i, `${why}; gave up after ${L.attempts} attempts`);
    void this.attempt(i);
  }

  onDone(m: Extract<Message, { type: 'stage-done' }>): void {
    const i = this.attemptOf.get(m.req);
    const L = i === undefined ? undefined : this.requests.get(i);
    if (i === undefined || !L || L.done) return;
    const s = this.ctx.deps.serving();
    const n = s?.manifest.partitions.length ?? 0;
    const now = this.ctx.deps.mono();
    if (L.winners[m.stage] === undefined) {
      L.winners[m.stage] = m.by;
      this.times.record(m.stage, now - L.lastProgress);
      L.lastProgress = now;
    }
    const p = this.tracker.get(String(i));
    if (!p || m.stage + 1 < p.stage) return;
    if (m.stage === n - 1) this.tracker.wait(String(i), n, [m.by], now, L.mode === 'no-config' ? NO_CONFIG_LOST_MS : this.deadline(n, L));
    else if (m.next.length) this.tracker.wait(String(i), m.stage + 1, m.next, now, L.mode === 'no-config' ? NO_CONFIG_LOST_MS : this.deadline(m.stage + 1, L));
  }

  onResult(m: Extract<Message, { type: 'stage-result' }>, payload: Uint8Array): void {
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
    const logits = new Float32Array(out[name].data.slice().buffer);
    const predicted = argmax(logits);
    const ms = this.ctx.deps.mono() - L.issuedAt;
    L.done = true;
    this.tracker.finish(String(i));
    if (i < 0) {
      this.classified = { predicted, ms, path: L.winners, note: '' };
      this.ctx.deps.state.dirty = true;
      return;
    }
    this.answered++;
    this.predictions[i] = predicted;
    if (predicted === L.label) this.correct++;
    this.latencies.push(ms);
    this.points.push({ t: L.issuedEpoch / 1000, ms, ok: true });
    this.recent.push({ image: L.image, label: L.label, predicted, ms, path: L.winners, attempts: L.attempts, note: '' });
    this.finishIfDone();
  }

  onError(from: string, m: Extract<Message, { type: 'stage-error' }>): void {
    const i = this.attemptOf.get(m.req);
    if (i === undefined) return;
    this.ctx.log('inference', from, `request ${i}, stage ${m.stage}: ${m.reason}`);
    this.reissue(i, m.reason);
  }

  onFailed(device: string): void {
    this.failures.push({ t: this.ctx.deps.epoch() / 1000, device });
    if (!this.run_) return;
    if (this.mode === 'no-config') {
      // the fixed path is broken: every request still on it is lost, and so will be the ones after
      // requests that still have to pass through it are lost; those already past it may finish
      const last = this.run_?.path.lastIndexOf(device) ?? -1;
      if (last >= 0) for (const [i, L] of this.requests) if (!L.done && (this.tracker.get(String(i))?.stage ?? 0) <= last) this.lose(i, `${device} on the fixed path failed`);
      return;
    }
    for (const p of this.tracker.orphanedBy(this.failed())) this.reissue(Number(p.requestId), `every device running stage ${p.stage} failed`);
  }

  tick(): void {
    const now = this.ctx.deps.mono();
    for (const p of this.tracker.overdue(now)) this.reissue(Number(p.requestId), `stage ${p.stage} overdue`);
    if (this.mode === 'frim') for (const p of this.tracker.orphanedBy(this.failed())) this.reissue(Number(p.requestId), `every device running stage ${p.stage} failed`);
  }

  private finishIfDone(): void {
    this.ctx.deps.state.dirty = true;
    if (this.recent.length > 40) this.recent.splice(0, this.recent.length - 40);
    const r = this.run_;
    if (!r || r.issued < r.count || this.tracker.size > 0) return;
    const acc = r.count ? (100 * this.correct) / r.count : 0;
    const accuracy = this.labelled ? `${acc.toFixed(1)} % correct (unanswered count as wrong)` : 'synthetic inputs (no labels)';
    this.ctx.log('inference', null, `run finished: ${this.answered}/${r.count} answered, ${this.lost} lost, ${accuracy}, p50 ${quantile(this.latencies, 0.5).toFixed(1)} ms, p99 ${quantile(this.latencies, 0.99).toFixed(1)} ms`);
    this.runFinished = true;
  }

  private runFinished = false;
  private classified: InferenceView['classified'] = null;
  private classifySeq = 0;

  /** One image the user gave, `rows x cols` grey in [0, 1], through the room like any request. */
  classify(pixels: Float32Array): void {
    const s = this.ctx.deps.serving();
    if (!s) return this.fail('no model is offloaded in this room yet');
    const dims = s.manifest.model.inputs[0]?.dims ?? [];
    if (s.manifest.model.inputs.length !== 1 || dims.length !== 4 || Number(dims[1]) !== 1 || Number(dims[2]) * Number(dims[3]) !== pixels.length) {
      return this.fail(`${s.manifest.model.name} does not take a ${Math.sqrt(pixels.length)}x${Math.sqrt(pixels.length)} grey image`);
    }
    this.error = null;
    const i = -++this.classifySeq;
    this.classified = null;
    this.requests.set(i, { image: -1, label: -1, mode: 'frim', pixels, issuedAt: this.ctx.deps.mono(), issuedEpoch: this.ctx.deps.epoch(), attempts: 0, lastProgress: this.ctx.deps.mono(), winners: [], done: false });
    void this.attempt(i);
  }

  view(): Omit<InferenceView, 'running'> {
    const r = this.run_;
    const q = (x: number) => (this.latencies.length ? quantile(this.latencies, x) : null);
    return {
      mode: this.mode,
      labelled: this.labelled,
      active: !!r && !this.runFinished && (r.issued < r.count || this.tracker.size > 0),
      count: r?.count ?? 0,
      sent: r?.issued ?? 0,
      answered: this.answered,
      correct: this.correct,
      lost: this.lost,
      reissued: this.reissued,
      inFlight: this.tracker.size,
      p50: q(0.5),
      p99: q(0.99),
      error: this.error,
      points: this.points.slice(-2000),
      failures: this.failures.slice(-50),
      recent: this.recent.slice(-40),
      path: r?.path ?? [],
      classified: this.classified,
      predictions: Array.from({ length: r?.issued ?? 0 }, (_, k) => this.predictions[k] ?? null),
    };
  }
}

async function loadSample(): Promise<ImageSample> {
  const res = await fetch(new URL('/fashion-mnist-sample.bin', self.location.origin));
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return parseSample(new Uint8Array(await res.arrayBuffer()));
}
