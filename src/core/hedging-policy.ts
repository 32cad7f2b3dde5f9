/**
 * Hedged execution (FRIM 4.3), the policy in one place. Each stage has two confirmed devices (the
 * twins): the first gets it at once, the second when the first is late or unwell
 * (worker/inference/hedger.ts); the first to finish tells the room and forwards the activations,
 * the other drops its copy. The requester follows each request stage by stage and re-issues it on a path around
 * the trouble when a stage misses its deadline or every device running it is declared failed,
 * until its attempts run out. The numbers are in core/policy.ts; the bookkeeping (deadlines from
 * measured times, duplicate results, who waits on whom) in core/hedging.ts.
 */
import type { StageTimes } from './hedging.js';
import { HEDGING } from './policy.js';
import { isBaseline } from './baselines.js';
import type { InferenceMode } from './protocol.js';

/** How many devices each stage is sent to. */
export const COPIES = HEDGING.copiesPerStage;

/**
 * How long the requester waits for `stage` of a request on its `attempts`-th try: from measured
 * times at the requester's load now (`inFlight`, its requests in flight), doubled per attempt. The
 * baselines have no deadlines, only a point where they give up.
 */
export function stageDeadlineMs(times: StageTimes, stage: number, attempts: number, mode: InferenceMode, inFlight: number): number {
  if (isBaseline(mode)) return HEDGING.noConfigLostMs;
  return times.deadlineMs(stage, inFlight) * 2 ** Math.max(0, attempts - 1);
}

/** What a request that went wrong becomes: re-issued while attempts remain, else lost (the baselines never re-issue). */
export function afterTrouble(mode: InferenceMode, attempts: number, why: string): { reissue: true } | { reissue: false; why: string } {
  if (isBaseline(mode)) return { reissue: false, why };
  if (attempts >= HEDGING.maxAttempts) return { reissue: false, why: `${why}; gave up after ${attempts} attempts` };
  return { reissue: true };
}

/**
 * Devices for the next stage, trying again after short pauses while every copy is busy: waiting a
 * little for a queue to drain beats bouncing the request back to the requester.
 */
export async function withBackoff(choose: () => Promise<string[]>, sleep: (ms: number) => Promise<void>): Promise<string[]> {
  for (const pause of HEDGING.forwardBackoffMs) {
    if (pause) await sleep(pause);
    const next = await choose();
    if (next.length) return next;
  }
  return [];
}
