/**
 * Receiving one replica (FRIM.md, replica transfer): ask the first holder on the list for its offer,
 * then for the chunks a window at a time, verify every chunk on arrival, and move to the next holder
 * — asking only for the chunks still missing — when the current one sends a corrupt chunk, says it
 * has no copy, stalls, or is declared failed. The whole file is checked against the manifest's
 * SHA-256 before it is handed over to be stored.
 *
 * Memory stays bounded whatever the replica's size: verified bytes leave the JavaScript heap for
 * Blob parts (the browser keeps large ones on disk) as soon as they join the verified prefix, and
 * only two windows of chunks are ever asked for at once.
 * Time and I/O come in through `FetchIO`, so tests drive it directly.
 */
import { OfferCollector, ReplicaAssembler, TransferError } from '../../core/transfer.js';

export interface FetchIO {
  now(): number;
  /** is this device alive in our detector's view */
  alive(deviceId: string): boolean;
  /** `chunks` null: send the offer; else send these chunks */
  request(to: string, hash: string, chunks: number[] | null): void;
  log(kind: 'resumed' | 'mismatch' | 'transfer', detail: string): void;
}

/** No chunk for this long from the current holder: take the next one. */
export const STALL_MS = 4000;
/**
 * A holder that only stalled is asked again, this many times in a row without a verified chunk,
 * when no other holder is left: a device busy serving or computing is slow, not gone (the detector
 * says when it is gone).
 */
export const STALL_RETRIES = 3;
/** chunks asked for at a time (4 MiB at 64 KiB); two windows are kept in flight */
export const WINDOW_CHUNKS = 64;
/** verified bytes gathered before they become one Blob part */
const SPILL_BYTES = 4 * 1024 * 1024;

export type FetchOutcome = { ok: true; blob: Blob; bytes: number; ms: number; from: string[] } | { ok: false; reason: string };

export interface OfferPart {
  hash: string;
  bytes: number;
  chunkBytes: number;
  first: number;
  chunkHashes: Uint8Array;
}

export class ReplicaFetch {
  private readonly tried = new Set<string>();
  private asm: ReplicaAssembler | null = null;
  private collector: OfferCollector | null = null;
  /** chunks asked of the current holder and not yet received */
  private readonly requested = new Set<number>();
  /** scan position for the next window */
  private cursor = 0;
  private lastProgress: number;
  /** stalls in a row without a verified chunk */
  private quiet = 0;
  private finishing = false;
  private settled = false;
  private parts: Blob[] = [];
  private buffered: Uint8Array[] = [];
  private bufferedBytes = 0;
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
    if (this.current === null && !this.finishing && !this.settled) this.next(null);
  }

  private next(why: string | null, stalled = false): void {
    let from = this.sources.find((s) => !this.tried.has(s) && this.io.alive(s)) ?? null;
    if (!from && stalled && this.quiet < STALL_RETRIES) from = this.sources.find((s) => this.io.alive(s)) ?? null;
    if (stalled) this.quiet++;
    const previous = this.current;
    this.current = from;
    this.requested.clear();
    this.collector = null;
    this.cursor = 0;
    if (!from) {
      const reason = why ? `${why}; no other holder left to ask` : 'no live holder to ask';
      this.io.log('transfer', `${this.label}: gave up (${reason})`);
      this.finish({ ok: false, reason });
      return;
    }
    this.tried.add(from);
    this.lastProgress = this.io.now();
    if (previous && why) {
      this.resumes++;
      const have = this.asm ? `${this.asm.chunks - this.asm.missing().length}/${this.asm.chunks} chunks verified` : 'nothing verified yet';
      this.io.log('resumed', `${this.label}: ${why}; resuming from ${from} (${have})`);
    }
    this.io.request(from, this.hash, null);
  }

  onOffer(from: string, part: OfferPart): void {
    if (from !== this.current || this.finishing || this.settled) return;
    try {
      this.collector ??= new OfferCollector(part.hash, part.bytes, part.chunkBytes, this.maxBytes);
      if (!this.collector.add(part)) throw new TransferError('its offer does not add up');
      if (!this.collector.complete) return;
      const offer = this.collector.offer();
      if (this.asm) this.asm.resumeWith(offer);
      else this.asm = new ReplicaAssembler(offer, this.hash, this.maxBytes, (bytes) => this.spill(bytes));
      this.lastProgress = this.io.now();
      this.pump();
    } catch (e) {
      if (!(e instanceof TransferError)) throw e;
      this.io.log('mismatch', `${this.label}: ${from} offered a copy that cannot be right (${e.message})`);
      this.next(`${from} sent a bad offer`);
    }
  }

  /** Keeps two windows of chunks asked of the current holder. */
  private pump(): void {
    const asm = this.asm;
    if (!asm || !this.current || !this.collector?.complete || this.finishing) return;
    if (this.requested.size > WINDOW_CHUNKS) return;
    const n = asm.chunks;
    const want: number[] = [];
    while (this.cursor < n && want.length < WINDOW_CHUNKS) {
      const i = this.cursor++;
      if (!this.verified.has(i) && !this.requested.has(i)) want.push(i);
    }
    if (!want.length) return;
    for (const i of want) this.requested.add(i);
    this.io.request(this.current, this.hash, want);
    if (this.requested.size <= WINDOW_CHUNKS) this.pump();
  }

  /** chunks verified so far (from any holder) */
  private readonly verified = new Set<number>();

  onChunk(from: string, index: number, chunk: Uint8Array): void {
    this.receivedBytes += chunk.length;
    if (!this.asm || this.finishing || this.settled) return;
    if (from === this.current) this.requested.delete(index);
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
    this.verified.add(index);
    this.servedBy.add(from);
    this.lastProgress = this.io.now();
    this.quiet = 0;
    if (this.asm.complete) this.complete();
    else if (from === this.current) this.pump();
  }

  onMissing(from: string, reason: string): void {
    if (from === this.current && !this.finishing && !this.settled) this.next(`${from} cannot serve it (${reason})`);
  }

  /** Called on a timer and when the detector declares a device failed. */
  check(): void {
    if (this.finishing || this.settled || this.current === null) return;
    if (!this.io.alive(this.current)) this.next(`${this.current} failed mid-transfer`);
    else if (this.io.now() - this.lastProgress > STALL_MS) this.next(`${this.current} stalled`, true);
  }

  /** Verified bytes, in file order, out of the JavaScript heap. */
  private spill(bytes: Uint8Array): void {
    this.buffered.push(bytes);
    this.bufferedBytes += bytes.length;
    if (this.bufferedBytes >= SPILL_BYTES) this.flush();
  }

  private flush(): void {
    if (!this.buffered.length) return;
    this.parts.push(new Blob(this.buffered as BlobPart[]));
    this.buffered = [];
    this.bufferedBytes = 0;
  }

  private complete(): void {
    this.finishing = true;
    try {
      this.asm!.finish();
      this.flush();
      const bytes = this.parts.reduce((s, p) => s + p.size, 0);
      this.finish({ ok: true, blob: new Blob(this.parts), bytes, ms: this.io.now() - this.startedAt, from: [...this.servedBy] });
    } catch (e) {
      if (!(e instanceof TransferError)) throw e;
      // every chunk matched its offer but the file does not match the manifest: the offer lied
      this.io.log('mismatch', `${this.label}: ${e.message}; discarded`);
      this.asm = null;
      this.verified.clear();
      this.parts = [];
      this.buffered = [];
      this.bufferedBytes = 0;
      this.finishing = false;
      this.next('the assembled copy failed its SHA-256 check');
    }
  }

  private finish(o: FetchOutcome): void {
    if (this.settled) return;
    this.settled = true;
    this.settle(o);
  }
}
