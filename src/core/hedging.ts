/**
 * Bookkeeping for hedged execution (FRIM section 4.3): how long a stage may take before the
 * requester re-issues it, which (request, stage) results were already taken, and which requests
 * wait on what. Pure: time comes in as arguments.
 */
import { HEDGING } from './policy.js';
import { quantile } from './stats.js';

export interface DeadlinePolicy {
  /** deadline = factor x this quantile (default p99) of the measured stage times ... */
  factor: number;
  quantile?: number;
  /** ... but never below this */
  floorMs: number;
  /** until this many samples exist, use `defaultMs` */
  minSamples: number;
  defaultMs: number;
}

export const DEFAULT_DEADLINE: DeadlinePolicy = HEDGING.deadline;

/**
 * Recent end-to-end times per stage (request sent -> result back), for deadlines and hedging delays.
 *
 * Each time comes with the load it ran under: the jobs sharing the devices at the time (the
 * requester's requests in flight, or the jobs queued at the device ahead of it) plus itself. A stage
 * behind k others takes about k + 1 times as long, so times are kept per unit of load and deadlines
 * scaled by the load now: a saturated room is slow, not failing, and neither a deadline nor a second
 * copy should fire for it (each would add work to the queue that made it slow).
 */
export class StageTimes {
  private readonly samples = new Map<number, number[]>();

  constructor(private readonly keep = HEDGING.keepTimes, private readonly policy: DeadlinePolicy = DEFAULT_DEADLINE) {}

  record(stage: number, ms: number, load = 1): void {
    if (!(ms >= 0) || !Number.isFinite(ms)) return;
    const xs = this.samples.get(stage) ?? [];
    xs.push(ms / Math.max(1, load));
    if (xs.length > this.keep) xs.shift();
    this.samples.set(stage, xs);
  }

  deadlineMs(stage: number, load = 1): number {
    const xs = this.samples.get(stage) ?? [];
    if (xs.length < this.policy.minSamples) return this.policy.defaultMs;
    return Math.max(this.policy.floorMs, this.policy.factor * quantile(xs, this.policy.quantile ?? 0.99) * Math.max(1, load));
  }
}

/**
 * Remembers which (request, stage) results were taken, so the slower copy's result is dropped.
 * Bounded in count and in age: a duplicate comes from the twin copy or a retransmission within
 * seconds, so at a steady request rate the memory is that rate times `maxAgeMs`, flat within
 * minutes, rather than `capacity` entries filled over the better part of an hour.
 */
export class SeenResults {
  private readonly seen = new Set<string>();
  /** keys in the order they were first seen, with when; `head` is the oldest still remembered */
  private order: { key: string; at: number }[] = [];
  private head = 0;

  constructor(private readonly capacity = 4096, private readonly maxAgeMs = Infinity) {}

  get size(): number {
    return this.seen.size;
  }

  has(requestId: string, stage: number): boolean {
    return this.seen.has(`${requestId}#${stage}`);
  }

  /** true the first time a result for (request, stage) arrives, false for every duplicate; `now` in ms */
  first(requestId: string, stage: number, now = 0): boolean {
    this.forget(now);
    const key = `${requestId}#${stage}`;
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    this.order.push({ key, at: now });
    if (this.seen.size > this.capacity) this.seen.delete(this.order[this.head++].key);
    return true;
  }

  private forget(now: number): void {
    while (this.head < this.order.length && now - this.order[this.head].at > this.maxAgeMs) this.seen.delete(this.order[this.head++].key);
    // compact once the forgotten prefix is half the array, so it never grows past twice what is remembered
    if (this.head > 64 && this.head * 2 > this.order.length) {
      this.order = this.order.slice(this.head);
      this.head = 0;
    }
  }
}

export interface PendingStage {
  requestId: string;
  stage: number;
  /** devices running this stage */
  devices: string[];
  issuedAt: number;
  deadlineAt: number;
  attempts: number;
}

/** What the requester waits for: one entry per request in flight, at the stage it has reached. */
export class RequestTracker {
  private readonly pending = new Map<string, PendingStage>();

  get size(): number {
    return this.pending.size;
  }

  /** The request now waits for `stage`, running on `devices` (a first issue, progress, or a re-issue). */
  wait(requestId: string, stage: number, devices: string[], now: number, deadlineMs: number): PendingStage {
    const before = this.pending.get(requestId);
    const attempts = before && before.stage === stage ? before.attempts + 1 : 1;
    const p = { requestId, stage, devices: [...devices], issuedAt: now, deadlineAt: now + deadlineMs, attempts };
    this.pending.set(requestId, p);
    return p;
  }

  get(requestId: string): PendingStage | undefined {
    return this.pending.get(requestId);
  }

  finish(requestId: string): PendingStage | undefined {
    const p = this.pending.get(requestId);
    this.pending.delete(requestId);
    return p;
  }

  /** Stages past their deadline: to re-issue on the next path. */
  overdue(now: number): PendingStage[] {
    return [...this.pending.values()].filter((p) => now >= p.deadlineAt);
  }

  /** Stages whose every copy ran on failed devices: to re-issue at once, not at the deadline. */
  orphanedBy(failed: ReadonlySet<string>): PendingStage[] {
    return [...this.pending.values()].filter((p) => p.devices.length > 0 && p.devices.every((d) => failed.has(d)));
  }

  /** Earliest deadline, for the caller's timer. */
  nextDeadline(): number {
    let t = Infinity;
    for (const p of this.pending.values()) t = Math.min(t, p.deadlineAt);
    return t;
  }
}
