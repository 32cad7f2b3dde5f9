/**
 * Watches whether every partition meets the dependability target θ, and says when it is lost and
 * when it is met again, with how long that took (the restore time the benchmarks report).
 */
import type { PartitionView } from '../../core/room.js';

export interface TargetState {
  partitions: PartitionView[];
  modelDependability: number;
  target: number;
}

export class TargetTracker {
  private met: boolean | null = null;
  private wasMet = false;
  private belowSince: number | null = null;
  /** ms from the target lost to the target met again, the last time that happened */
  lastRestoreMs: number | null = null;

  /** A new model: its history starts afresh. */
  reset(): void {
    this.met = null;
    this.wasMet = false;
  }

  /** Returns the line to log when the target was just lost or just met, else null. */
  update(v: TargetState, now: number, offloadedAt: number | null): string | null {
    const met = v.partitions.every((p) => p.dependability >= v.target);
    let line: string | null = null;
    if (!met) {
      if (this.met !== false) {
        this.belowSince = now;
        if (this.met === true) {
          const worst = v.partitions.filter((p) => p.dependability < v.target).map((p) => `P${p.id} ${p.dependability.toFixed(4)}`).join(', ');
          line = `below target: ${worst} < θ ${v.target}`;
        }
      }
    } else if (this.met !== true) {
      if (this.wasMet && this.belowSince !== null) {
        this.lastRestoreMs = now - this.belowSince;
        line = `every partition meets θ ${v.target} again, ${Math.round(this.lastRestoreMs)} ms after it was lost (D = ${v.modelDependability.toFixed(5)})`;
      } else {
        const since = offloadedAt !== null ? `, ${Math.round(now - offloadedAt)} ms after the model was dropped here` : '';
        line = `every partition meets θ ${v.target} (D = ${v.modelDependability.toFixed(5)})${since}`;
      }
      this.wasMet = true;
    }
    this.met = met;
    return line;
  }
}
