/**
 * Hedging with judgement (FRIM 4.3, tail-tolerant). The paper runs every stage on two devices; on a
 * healthy room that only doubles the work both copies compete for. Here, of the two devices
 * confirmed for a stage, the first gets the activations at once and the second only when the first
 * is late against the stage's measured times, is suspected, or is declared failed — so the second
 * copy still covers a device that dies mid-stage, at the cost of about one stage's p95 in delay.
 * The device that forwards a stage keeps its activations until the stage is done, and it measures
 * the stage's times (sent -> done) that decide how late is late, per job queued at the device that
 * ran it (StageTimes): a copy behind four others is expected to take five stage times, and in a
 * saturated room a second copy would only queue behind the same work and add to it.
 */
import { StageTimes } from '../../core/hedging.js';
import { HEDGING } from '../../core/policy.js';
import type { InferenceContext, StageHedger } from './context.js';

/** a stage whose done never came this long after it was sent is forgotten (the requester re-issued it) */
const FORGET_MS = 60_000;

interface Held {
  stage: number;
  first: string;
  second: string;
  at: number;
  /** jobs at the first device, this one included, when it was sent; then at the second when that copy went out */
  load: number;
  /** when the second copy went out */
  firedAt: number | null;
  /** sends the second copy; null once it went out */
  fire: (() => void) | null;
  timer: unknown;
}

export class Hedger implements StageHedger {
  private readonly held = new Map<string, Held>();
  private readonly times = new StageTimes(HEDGING.keepTimes, HEDGING.hedge);
  /** second copies sent, and why */
  late = 0;
  suspected = 0;

  constructor(private readonly ctx: InferenceContext) {}

  /**
   * Sends `stage` of `req` to `targets[0]` now and to `targets[1]` when the first turns out late or
   * unwell. `sendTo(to, twin)` sends one copy; `twin` is the other device given the stage.
   */
  send(req: string, stage: number, targets: string[], sendTo: (to: string, twin: string) => void): void {
    const [first, second = ''] = targets;
    if (!first) return;
    const k = `${req}#${stage}`;
    this.forget(k);
    sendTo(first, second);
    const load = this.loadAt(first);
    const h: Held = { stage, first, second, at: this.ctx.deps.mono(), load, firedAt: null, fire: null, timer: null };
    this.held.set(k, h);
    if (!second) return;
    h.fire = () => {
      h.fire = null;
      h.firedAt = this.ctx.deps.mono();
      h.load = this.loadAt(second);
      this.ctx.deps.timers.clear(h.timer);
      if (!this.ctx.failed().has(second)) sendTo(second, first);
    };
    const delay = this.delayMs(stage, first, load);
    if (delay <= 0 || this.unwell(first)) {
      if (delay > 0) this.suspected++;
      return h.fire();
    }
    h.timer = this.ctx.deps.timers.set(() => {
      if (!h.fire) return;
      this.late++;
      // the first device takes at least this long: routing learns it even if its copy never wins,
      // and passes it over for a while
      this.ctx.stats.recordCompute(stage, first, this.ctx.deps.mono() - h.at);
      this.ctx.late(first);
      h.fire();
    }, delay);
  }

  /**
   * How late is late: from the stage's measured times (sent -> done); before enough exist, from
   * the first device's measured compute times for this stage and the ones after it (it may run them
   * as one chain before it reports), generously; with nothing measured, 0: both copies at once.
   * Either way times the jobs at the first device (`load`).
   */
  private delayMs(stage: number, first: string, load: number): number {
    const measured = this.times.deadlineMs(stage, load);
    if (measured > 0) return measured;
    if (this.ctx.stats.measuredMs(stage, first) === undefined) return 0;
    const n = this.ctx.deps.serving()?.manifest.partitions.length ?? stage + 1;
    let known = 0;
    for (let k = stage; k < n; k++) known += this.ctx.stats.measuredMs(k, first) ?? 0;
    return Math.max(HEDGING.hedge.floorMs, HEDGING.hedge.unmeasuredFactor * known * load);
  }

  /** jobs at `device` as routing knows them, counting the one just sent there */
  private loadAt(device: string): number {
    return Math.max(1, this.ctx.queuedAt(device));
  }

  /** Some copy of `stage` finished: the held activations are no longer needed, and the time counts. */
  onDone(req: string, stage: number): void {
    const k = `${req}#${stage}`;
    const h = this.held.get(k);
    if (!h) return;
    // after a second copy went out, the time is that copy's: counting the wait for the late first one
    // too would raise the next delay with every late device, and a hung one would stretch them without end
    this.times.record(stage, this.ctx.deps.mono() - (h.firedAt ?? h.at), h.load);
    this.forget(k);
  }

  /** A device was declared failed or its connection closed: its stages go to their second device now. */
  onFailed(device: string): void {
    for (const h of this.held.values()) {
      if (h.first === device && h.fire) {
        this.suspected++;
        h.fire();
      }
    }
  }

  tick(): void {
    const now = this.ctx.deps.mono();
    for (const [k, h] of this.held) {
      if (now - h.at > FORGET_MS) this.forget(k);
      else if (h.fire && this.unwell(h.first)) {
        this.suspected++;
        h.fire();
      }
    }
  }

  private unwell(device: string): boolean {
    if (device === this.ctx.self) return false;
    const p = this.ctx.deps.state.peerStates().find((x) => x.deviceId === device);
    return !p || p.status !== 'alive';
  }

  private forget(k: string): void {
    const h = this.held.get(k);
    if (!h) return;
    this.ctx.deps.timers.clear(h.timer);
    this.held.delete(k);
  }

  view(): { hedged: number; hedgedLate: number } {
    return { hedged: this.late + this.suspected, hedgedLate: this.late };
  }
}
