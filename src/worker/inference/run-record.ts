/** What the requester shows of a stream of requests: counts, latencies, the last few answers, accuracy. */
import { quantile } from '../../core/stats.js';
import type { InferenceView } from '../../core/views.js';

/** A request as the record needs it. */
export interface Finished {
  images: number[];
  labels: number[];
  /** where its first image is in the run's stream */
  position: number;
  /** when it was due, epoch ms */
  issuedEpoch: number;
  attempts: number;
  /** device whose copy finished each stage first */
  winners: string[];
}

const RECENT = 40;

export type RecordView = Pick<InferenceView, 'answered' | 'correct' | 'lost' | 'reissued' | 'p50' | 'p99' | 'points' | 'failures' | 'recent' | 'predictions'>;

export class RunRecord {
  answered = 0;
  correct = 0;
  lost = 0;
  reissued = 0;
  private readonly latencies: number[] = [];
  private readonly points: InferenceView['points'] = [];
  private readonly failures: InferenceView['failures'] = [];
  private readonly recent: InferenceView['recent'] = [];
  /** top-1 per image, in stream order (null: not answered yet, or lost) */
  private readonly predictions: (number | null)[] = [];

  /** counts are in images; latencies per request */
  answer(r: Finished, predicted: number[], ms: number, note = ''): void {
    this.answered += predicted.length;
    predicted.forEach((p, j) => {
      this.predictions[r.position + j] = p;
      if (p === r.labels[j]) this.correct++;
    });
    this.latencies.push(ms);
    this.points.push({ t: r.issuedEpoch / 1000, ms, ok: true });
    this.remember({ image: r.images[0], label: r.labels[0], predicted: predicted[0], images: r.images.length, ms, path: r.winners, attempts: r.attempts, note });
  }

  lose(r: Finished, ms: number, why: string): void {
    this.lost += r.images.length;
    this.points.push({ t: r.issuedEpoch / 1000, ms, ok: false });
    this.remember({ image: r.images[0], label: r.labels[0], predicted: null, images: r.images.length, ms: null, path: r.winners, attempts: r.attempts, note: why });
  }

  /** a device the detector declared failed during the run, epoch ms */
  failure(atEpoch: number, device: string): void {
    this.failures.push({ t: atEpoch / 1000, device });
  }

  private remember(row: InferenceView['recent'][number]): void {
    this.recent.push(row);
    if (this.recent.length > RECENT) this.recent.splice(0, this.recent.length - RECENT);
  }

  /** The line the event log gets when a run ends. */
  summary(count: number, labelled: boolean): string {
    const acc = count ? (100 * this.correct) / count : 0;
    const accuracy = labelled ? `${acc.toFixed(1)} % correct (unanswered count as wrong)` : 'synthetic inputs (no labels)';
    return `run finished: ${this.answered}/${count} answered, ${this.lost} lost, ${accuracy}, p50 ${quantile(this.latencies, 0.5).toFixed(1)} ms, p99 ${quantile(this.latencies, 0.99).toFixed(1)} ms`;
  }

  view(issued: number): RecordView {
    const q = (x: number) => (this.latencies.length ? quantile(this.latencies, x) : null);
    return {
      answered: this.answered,
      correct: this.correct,
      lost: this.lost,
      reissued: this.reissued,
      p50: q(0.5),
      p99: q(0.99),
      points: this.points.slice(-2000),
      failures: this.failures.slice(-50),
      recent: this.recent.slice(-RECENT),
      predictions: Array.from({ length: issued }, (_, k) => this.predictions[k] ?? null),
    };
  }
}
