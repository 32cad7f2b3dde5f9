/**
 * Running stages for others (FRIM 4.3, hedged execution): accept a stage only when there is room
 * in a bounded queue, assemble its activations, run the partition, and — if the twin given the
 * same stage has not finished first — tell the room, then send the carried tensors on to two
 * confirmed devices for the next stage (or the outputs to the requester after the last one). A
 * twin's `stage-done` drops the job here whether it is still queued or already running.
 */
import { exitOf, isBaseline, nextHop, type BaselineMode } from '../../core/baselines.js';
import { rankNextStage, type ExecutionGraph } from '../../core/execution-graph.js';
import { SeenResults } from '../../core/hedging.js';
import { HEDGING, STAGE_QUEUE } from '../../core/policy.js';
import type { Message, MessageOf } from '../../core/protocol.js';
import { PartsAssembler, carriedTensors, pickTensors, unpackTensors, type Tensor } from '../../core/tensors.js';
import type { InferenceContext, Serving } from './context.js';
import { COPIES, withBackoff } from '../../core/hedging-policy.js';

type Run = MessageOf<'stage-run'>;

/** skip-connection hand-overs remembered at once: more than a requester keeps in flight (HEDGING.maxInFlight) */
const HAND_OVERS = 64;

/** skip-connection: a request this device handed to the next live stage, kept until a later stage is done (DFG's hyper-connection) */
interface HandOver {
  run: Run;
  to: string;
  available: Record<string, Tensor>;
  at: number;
}

interface Job {
  run: Run;
  tensors: Record<string, Tensor>;
  cancelled: boolean;
}

export class StageRunner {
  /** stages whose activations are arriving, at most STAGE_QUEUE.assemblingPerPeer from one sender */
  private readonly assembling = new Map<string, { asm: PartsAssembler; first: Run | null; at: number; from: string; bytes: number }>();
  /** per sender: its half-sent stages here and their bytes so far (STAGE_QUEUE.assemblingPerPeer, assemblingBytesPerPeer) */
  private readonly assemblingFrom = new Map<string, { stages: number; bytes: number }>();
  private readonly queue: Job[] = [];
  private running: Job | null = null;
  private readonly accepted = new SeenResults(STAGE_QUEUE.remembered, STAGE_QUEUE.rememberedMs);
  /** (req, stage) some device already finished: a job for it that is still here is dropped */
  private readonly finished = new SeenResults(STAGE_QUEUE.remembered, STAGE_QUEUE.rememberedMs);
  private readonly handedOver = new Map<string, HandOver>();
  ran = 0;
  /** when this device last finished a stage for the room (mono ms) */
  lastRanAt = -Infinity;
  cancelled = 0;
  computeMsTotal = 0;

  constructor(private readonly ctx: InferenceContext) {}

  private sleep(ms: number): Promise<void> {
    return new Promise((r) => this.ctx.deps.timers.set(r, ms));
  }

  get queued(): number {
    return this.queue.length + (this.running ? 1 : 0);
  }

  canRun(key: string, stage: number): boolean {
    const s = this.ctx.deps.serving();
    const p = s?.manifest.partitions[stage];
    return !!s && !!p && s.key === key && s.holds(p.sha256) && this.ctx.deps.canCompute() && this.queued < (stage === 0 ? STAGE_QUEUE.maxJobs : STAGE_QUEUE.maxJobsInPipeline);
  }

  onRun(from: string, m: Run, payload: Uint8Array): void {
    // per sender: two devices racing to forward the same stage must not mix their parts
    const id = `${m.req}#${m.stage}@${from}`;
    let a = this.assembling.get(id);
    if (!a) {
      // a sender's own requests keep far fewer stages in flight here (HEDGING.maxInFlight each, queue
      // STAGE_QUEUE.maxJobsInPipeline): more half-sent stages than this is a flood of starts
      const open = this.assemblingFrom.get(from) ?? { stages: 0, bytes: 0 };
      if (open.stages >= STAGE_QUEUE.assemblingPerPeer) return this.ctx.deps.state.unusable(from, 'unexpected frame', `more than ${STAGE_QUEUE.assemblingPerPeer} stages half-sent at once`);
      a = { asm: new PartsAssembler(m.parts), first: null, at: this.ctx.deps.mono(), from, bytes: 0 };
      this.assembling.set(id, a);
      open.stages++;
      this.assemblingFrom.set(from, open);
    }
    const open = this.assemblingFrom.get(from)!;
    // a sender's stages arrive one after another on its link: this much half-sent at once is a flood
    if (open.bytes + payload.length > STAGE_QUEUE.assemblingBytesPerPeer) {
      this.forgetAssembly(id);
      return this.ctx.deps.state.unusable(from, 'unexpected frame', `more than ${STAGE_QUEUE.assemblingBytesPerPeer / 2 ** 20} MiB of stages half-sent at once`);
    }
    if (a.asm.count !== m.parts || !a.asm.add(m.part, payload, m.table)) return;
    a.bytes += payload.length;
    open.bytes += payload.length;
    if (m.part === 0) a.first = m;
    if (!a.asm.complete) return;
    this.forgetAssembly(id);
    const run = a.first!;
    // a second copy of a stage we already took (a re-send, or two forwarders racing) is dropped
    if (!this.accepted.first(run.req, run.stage, this.ctx.deps.mono())) return;
    const payloadBytes = a.asm.payload();
    const tensors = unpackTensors(a.asm.table, payloadBytes);
    if (typeof tensors === 'string') {
      this.ctx.deps.state.unusable(from, 'malformed frame', `stage ${run.stage} activations: ${tensors}`);
      this.ctx.send(run.requester, { type: 'stage-error', req: run.req, stage: run.stage, reason: `bad activations: ${tensors}` });
      return;
    }
    this.ctx.stats.recordInput(run.stage, payloadBytes.length);
    // its twin may have finished before this copy of the activations even arrived
    this.queue.push({ run, tensors, cancelled: this.finished.has(run.req, run.stage) });
    this.pump();
  }

  onDone(m: MessageOf<'stage-done'>): void {
    if (m.by === this.ctx.self) return;
    const h = this.handedOver.get(m.req);
    if (h && m.stage > h.run.stage) this.handedOver.delete(m.req);
    this.finished.first(m.req, m.stage, this.ctx.deps.mono());
    for (const j of [...this.queue, ...(this.running ? [this.running] : [])]) {
      if (j.run.req === m.req && j.run.stage === m.stage && !j.cancelled) {
        j.cancelled = true;
        this.cancelled++;
      }
    }
    const before = this.queue.length;
    for (let i = this.queue.length - 1; i >= 0; i--) if (this.queue[i].cancelled) this.queue.splice(i, 1);
    if (before !== this.queue.length) this.ctx.deps.state.dirty = true;
  }

  /** The job to run next: the furthest stage first (finishing requests in flight before starting new ones), oldest first within a stage. */
  private next(): Job {
    let best = 0;
    for (let i = 1; i < this.queue.length; i++) if (this.queue[i].run.stage > this.queue[best].run.stage) best = i;
    return this.queue.splice(best, 1)[0];
  }

  private pump(): void {
    while (!this.running && this.queue.length) {
      const job = this.next();
      if (job.cancelled) continue;
      this.running = job;
      void this.execute(job).finally(() => {
        this.running = null;
        this.pump();
      });
    }
  }

  /**
   * The stages this job runs here in one go: its own, and each next one this device holds where the
   * execution graph's best next device is this one again (no hop is shorter than none). The
   * baselines keep to one partition per job, as the paper's runs do.
   */
  private chainFrom(s: Serving, run: Run): number[] {
    const stages = [run.stage];
    if (isBaseline(run.mode)) return stages;
    const n = s.manifest.partitions.length;
    let graph: ExecutionGraph | null = null;
    // a session here that has not run yet would compile its kernels inside this request: not chained
    for (let k = run.stage + 1; k < n && s.holds(s.manifest.partitions[k].sha256) && s.warm(k, this.ctx.self); k++) {
      graph ??= this.ctx.graphFor(s, run.requester, this.ctx.failed());
      if (rankNextStage(graph, { stage: k - 1, device: this.ctx.self })[0]?.device !== this.ctx.self) break;
      stages.push(k);
    }
    return stages;
  }

  private async execute(job: Job): Promise<void> {
    const { run } = job;
    const s = this.ctx.deps.serving();
    const p = s?.manifest.partitions[run.stage];
    if (!s || !p || s.key !== run.key || !s.holds(p.sha256)) {
      this.ctx.send(run.requester, { type: 'stage-error', req: run.req, stage: run.stage, reason: 'this device no longer holds that partition' });
      return;
    }
    const missing = p.inputs.find((name) => !job.tensors[name]);
    if (missing) {
      this.ctx.send(run.requester, { type: 'stage-error', req: run.req, stage: run.stage, reason: `activation ${missing} is missing` });
      return;
    }
    const n = s.manifest.partitions.length;
    const stages = this.chainFrom(s, run);
    const last = stages[stages.length - 1];
    const parts = stages.map((k) => s.manifest.partitions[k]);
    // what leaves the compute worker: what later stages need of what this chain makes (or the model's outputs)
    const after = last === n - 1 ? s.manifest.model.outputs.map((o) => o.name) : carriedTensors(s.manifest)[last + 1];
    const want = stages.length === 1 ? [] : after.filter((name) => !job.tensors[name]);
    const needed = new Set(parts.flatMap((q) => q.inputs));
    const feeds = Object.fromEntries(Object.entries(job.tensors).filter(([name]) => needed.has(name)));
    let result: { outputs: Record<string, Tensor>; ms: number; stageMs: number[] };
    try {
      result = await this.ctx.deps.compute(parts.map((q) => ({ hash: q.sha256, inputs: q.inputs })), feeds, want);
    } catch (e) {
      this.ctx.send(run.requester, { type: 'stage-error', req: run.req, stage: run.stage, reason: `compute failed: ${(e as Error).message}` });
      return;
    }
    this.ran += stages.length;
    this.lastRanAt = this.ctx.deps.mono();
    this.computeMsTotal += result.ms;
    stages.forEach((k, i) => this.ctx.stats.recordCompute(k, this.ctx.self, result.stageMs[i] ?? result.ms / stages.length));
    // the twin (or another copy) finished first: forward nothing
    if (job.cancelled || this.finished.has(run.req, run.stage)) return;
    // tell every copy of these stages at once that it can stop, before spending time on the next hop;
    // the requester hears of each stage but the last now, and of the last with who runs the next
    const done = (stage: number, next: string[]): Message => ({ type: 'stage-done', req: run.req, stage, by: this.ctx.self, computeMs: result.stageMs[stage - run.stage] ?? result.ms, next });
    const peers = this.ctx.upPeers();
    for (const k of stages) {
      this.finished.first(run.req, k, this.ctx.deps.mono());
      this.ctx.hedger.onDone(run.req, k);
      for (const d of peers) if (d !== run.requester || k < last) this.ctx.send(d, done(k, []));
    }
    const all = { ...job.tensors, ...result.outputs };
    if (last === n - 1) {
      this.ctx.send(run.requester, done(last, []));
      this.ctx.sendTensors(run.requester, pickTensors(all, s.manifest.model.outputs.map((o) => o.name)), (part, parts, table) => ({ type: 'stage-result', req: run.req, by: this.ctx.self, part, parts, table }));
      return;
    }
    if (isBaseline(run.mode)) return this.forwardFixed(run, s, all, (next) => done(run.stage, next));
    const tensors = pickTensors(all, after);
    const from = { stage: last, device: this.ctx.self };
    const next = await withBackoff(() => this.ctx.chooseNext(s, run.req, run.requester, from, COPIES), (ms) => this.sleep(ms));
    if (!next.length) this.ctx.send(run.requester, { type: 'stage-error', req: run.req, stage: last + 1, reason: 'no device could take the next stage' });
    this.ctx.hedger.send(run.req, last + 1, next, (to, twin) => {
      this.ctx.sendTensors(to, tensors, (part, parts, table) => ({ type: 'stage-run', req: run.req, stage: last + 1, key: run.key, requester: run.requester, twin, mode: run.mode, path: run.path, part, parts, table }));
    });
    // progress for the requester: who runs the next stage, so it can re-issue the moment they fail
    this.ctx.send(run.requester, done(last, next));
  }

  /**
   * The baselines (core/baselines.ts): one copy, the fixed path's next device. early-exit first sends
   * the requester this partition's exit answer and stops when the next device has failed;
   * skip-connection passes over failed stages with zeros for their outputs.
   */
  private forwardFixed(run: Run, s: Serving, all: Record<string, Tensor>, done: (next: string[]) => Message): void {
    const exit = run.mode === 'early-exit' ? exitOf(s.manifest, run.stage) : null;
    if (exit && all[exit]) this.ctx.sendTensors(run.requester, { [exit]: all[exit] }, (part, parts, table) => ({ type: 'stage-exit', req: run.req, stage: run.stage, by: this.ctx.self, part, parts, table }));
    this.handOver(run, s, all, done);
  }

  /**
   * The next hop on the fixed path. skip-connection keeps what it sent until a later stage is done:
   * DFG sends a partition's output over the skip hyper-connection too, so a request whose next
   * device dies on it still goes on, bypassing that device, once this one learns of the failure.
   */
  private handOver(run: Run, s: Serving, all: Record<string, Tensor>, done: (next: string[]) => Message): void {
    const hop = nextHop(run.mode as BaselineMode, run.path, run.stage, s.manifest, all, this.ctx.failed());
    if ('stop' in hop) return this.stop(run, run.stage + 1, hop.stop, done);
    const { stage, to, tensors } = hop;
    this.ctx.sendTensors(to, tensors, (part, parts, table) => ({ type: 'stage-run', req: run.req, stage, key: run.key, requester: run.requester, twin: '', mode: run.mode, path: run.path, part, parts, table }));
    this.ctx.send(run.requester, done([to]));
    if (run.mode !== 'skip-connection') return;
    this.handedOver.delete(run.req);
    this.handedOver.set(run.req, { run, to, available: all, at: this.ctx.deps.mono() });
    // a bounded memory: the oldest hand-overs go first (Map keeps insertion order)
    for (const k of this.handedOver.keys()) {
      if (this.handedOver.size <= HAND_OVERS) break;
      this.handedOver.delete(k);
    }
  }

  /** A device failed: the skip hyper-connection carries the requests handed to it on to the next live stage. */
  onFailed(device: string): void {
    const s = this.ctx.deps.serving();
    for (const [req, h] of [...this.handedOver]) {
      if (h.to !== device) continue;
      this.handedOver.delete(req);
      if (!s || s.key !== h.run.key) continue;
      const done = (next: string[]): Message => ({ type: 'stage-done', req, stage: h.run.stage, by: this.ctx.self, computeMs: 0, next });
      this.ctx.log(device, `request ${req}: the skip connection bypasses ${device}, which failed`);
      this.handOver(h.run, s, h.available, done);
    }
  }

  private stop(run: Run, stage: number, reason: string, done: (next: string[]) => Message): void {
    this.ctx.send(run.requester, done([]));
    this.ctx.send(run.requester, { type: 'stage-error', req: run.req, stage, reason });
  }

  private forgetAssembly(id: string): void {
    const a = this.assembling.get(id);
    if (!a) return;
    this.assembling.delete(id);
    const open = this.assemblingFrom.get(a.from);
    if (!open) return;
    open.stages--;
    open.bytes -= a.bytes;
    if (open.stages <= 0) this.assemblingFrom.delete(a.from);
  }

  /** Drops half-assembled stages whose sender went quiet. */
  tick(now: number): void {
    for (const [id, a] of this.assembling) if (now - a.at > STAGE_QUEUE.assemblyTimeoutMs) this.forgetAssembly(id);
    // the requester has given such a request up by now
    for (const [req, h] of this.handedOver) if (now - h.at > HEDGING.noConfigLostMs) this.handedOver.delete(req);
  }

  view(): { queued: number; ran: number; cancelled: number; computeMs: number } {
    return { queued: this.queued, ran: this.ran, cancelled: this.cancelled, computeMs: this.computeMsTotal };
  }
}
