/**
 * Receiving one replica (FRIM.md, replica transfer): ask the first holder on the list, verify every
 * chunk on arrival, and move to the next holder — asking only for the chunks still missing — when
 * the current one sends a corrupt chunk, says it has no copy, stalls, or is declared failed. The
 * whole file is checked against the manifest's SHA-256 before it is handed over to be stored.
 * Time and I/O come in through `FetchIO`, so tests drive it directly.
 */
import { ReplicaAssembler, TransferError, type TransferOffer } from '../core/transfer.js';

export interface FetchIO {
  now(): number;
  /** is this device alive in our detector's view */
  alive(deviceId: string): boolean;
  request(to: string, hash: string, chunks: number[] | null): void;
  log(kind: 'resumed' | 'mismatch' | 'transfer', detail: string): void;
  digest(bytes: Uint8Array): Promise<string>;
}

/** No chunk for this long from the current holder: take the next one. */
export const STALL_MS = 4000;

export type FetchOutcome = { ok: true; bytes: Uint8Array; ms: number; from: string[] } | { ok: false; reason: string };

export class ReplicaFetch {
  private readonly tried = new Set<string>();
  private asm: ReplicaAssembler | null = null;
  private lastProgress: number;
  private finishing = false;
  current: string | null = null;
  /** holders that delivered verified chunks */
  readonly servedBy = new Set<string>();
  readonly startedAt: number;
  resumes = 0;
  corruptChunks = 0;
  receivedBytes = 0;
  done: Promise<FetchOutcome>;
  private settle!: (o: FetchOutcome) => void;

  constructor(readonly hash: string, readonly label: string, private sources: string[], private readonly maxBytes: number, private readonly io: FetchIO) {
    this.startedAt = io.now();
    this.lastProgress = io.now();
    this.done = new Promise((r) => (this.settle = r));
  }

  get verifiedBytes(): number {
    return this.asm?.verifiedBytes ?? 0;
  }

  start(): void {
    this.next(null);
  }

  /** A later order for the same replica brings more holders to try. */
  addSources(more: string[]): void {
    for (const s of more) if (!this.sources.includes(s)) this.sources.push(s);
    if (this.current === null && !this.finishing) this.next(null);
  }

  private next(why: string | null): void {
    const from = this.sources.find((s) => !this.tried.has(s) && this.io.alive(s)) ?? null;
    const previous = this.current;
    this.current = from;
    if (!from) {
      const reason = why ? `${why}; no other holder left to ask` : 'no live holder to ask';
      this.io.log('transfer', `${this.label}: gave up (${reason})`);
      this.settle({ ok: false, reason });
      return;
    }
    this.tried.add(from);
    this.lastProgress = this.io.now();
    const missing = this.asm ? this.asm.missing() : null;
    if (previous && why) {
      this.resumes++;
      const have = this.asm ? `${this.asm.chunks - missing!.length}/${this.asm.chunks} chunks verified` : 'nothing verified yet';
      this.io.log('resumed', `${this.label}: ${why}; resuming from ${from} (${have})`);
    }
    this.io.request(from, this.hash, missing);
  }

  onOffer(from: string, offer: TransferOffer): void {
    if (from !== this.current || this.finishing) return;
    try {
      if (this.asm) this.asm.resumeWith(offer);
      else this.asm = new ReplicaAssembler(offer, this.hash, this.maxBytes);
      this.lastProgress = this.io.now();
    } catch (e) {
      if (!(e instanceof TransferError)) throw e;
      this.io.log('mismatch', `${this.label}: ${from} offered a copy that cannot be right (${e.message})`);
      this.next(`${from} sent a bad offer`);
    }
  }

  onChunk(from: string, index: number, chunk: Uint8Array): void {
    this.receivedBytes += chunk.length;
    if (!this.asm || this.finishing) return;
    const r = this.asm.accept(index, chunk);
    if (r === 'corrupt') {
      this.corruptChunks++;
      // only the holder we are listening to makes us move; late chunks from an abandoned one are just dropped
      if (from === this.current) {
        this.io.log('mismatch', `${this.label}: chunk ${index} from ${from} failed its SHA-256 check and was discarded`);
        this.next(`${from} sent a corrupt chunk`);
      }
      return;
    }
    if (r !== 'accepted') return;
    this.servedBy.add(from);
    this.lastProgress = this.io.now();
    if (this.asm.complete) void this.finish();
  }

  onMissing(from: string, reason: string): void {
    if (from === this.current && !this.finishing) this.next(`${from} cannot serve it (${reason})`);
  }

  /** Called on a timer and when the detector declares a device failed. */
  check(): void {
    if (this.finishing || this.current === null) return;
    if (!this.io.alive(this.current)) this.next(`${this.current} failed mid-transfer`);
    else if (this.io.now() - this.lastProgress > STALL_MS) this.next(`${this.current} stalled`);
  }

  private async finish(): Promise<void> {
    this.finishing = true;
    try {
      const bytes = await this.asm!.finishWith(this.io.digest);
      this.settle({ ok: true, bytes, ms: this.io.now() - this.startedAt, from: [...this.servedBy] });
    } catch (e) {
      if (!(e instanceof TransferError)) throw e;
      // every chunk matched its offer but the file does not match the manifest: the offer lied
      this.io.log('mismatch', `${this.label}: ${e.message}; discarded`);
      this.asm = null;
      this.finishing = false;
      this.next('the assembled copy failed its SHA-256 check');
    }
  }
}
