/**
 * Serving replicas to other devices: answer a request for the offer with the offer (its size and a
 * hash per chunk, in as many frames as it takes), and a request for chunks with those chunks, read
 * from the stored Blob a window at a time. The receiver asks for a window at a time, so a holder
 * never reads or queues a whole replica; the leader tab paces the frames onto the data channel
 * with `bufferedAmount` flow control. Offers are kept (a few hundred bytes per MiB of replica), so
 * a restore that asks several times reads each file's chunk hashes once.
 */
import { CHUNK_BYTES, CHUNK_HASH_BYTES, chunkCount, offerParts, type TransferOffer } from '../../core/transfer.js';
import type { Message } from '../../core/protocol.js';

/** offers kept, newest last */
const OFFERS_KEPT = 64;
/** bytes read from storage at once while hashing chunks for an offer */
const READ_BYTES = 4 * 1024 * 1024;

export interface ServeIO {
  holds(hash: string): boolean;
  /** the stored replica, not read */
  blob(hash: string): Promise<Blob | null>;
  send(to: string, message: Message, payload?: Uint8Array): void;
  /** SHA-256 of one chunk */
  digest(bytes: Uint8Array): Promise<Uint8Array>;
}

export class ReplicaServer {
  private readonly offers = new Map<string, Promise<TransferOffer | null>>();
  /** mono ms until which each recent serve still occupies our uplink, for "least busy holder first" */
  private readonly busyUntil: number[] = [];
  bytesSent = 0;

  constructor(private readonly io: ServeIO, private readonly now: () => number) {}

  /** Serves in flight, estimated from what was queued and a conservative 4 MB/s. */
  get sending(): number {
    const t = this.now();
    while (this.busyUntil.length && this.busyUntil[0] < t) this.busyUntil.shift();
    return this.busyUntil.length;
  }

  forget(hash?: string): void {
    if (hash) this.offers.delete(hash);
    else this.offers.clear();
  }

  async serve(to: string, hash: string, chunks: number[] | null): Promise<void> {
    const blob = this.io.holds(hash) ? await this.io.blob(hash) : null;
    const offer = blob ? await this.offer(hash, blob) : null;
    if (!blob || !offer) {
      this.io.send(to, { type: 'replica-missing', hash, reason: 'no verified copy here' });
      return;
    }
    if (chunks === null) {
      for (const p of offerParts(offer)) this.io.send(to, { type: 'replica-offer', hash, bytes: offer.bytes, chunkBytes: offer.chunkBytes, first: p.first, chunkHashes: p.chunkHashes });
      return;
    }
    const n = chunkCount(offer.bytes, offer.chunkBytes);
    const wanted = [...new Set(chunks)].filter((i) => i < n).sort((a, b) => a - b);
    let queued = 0;
    // contiguous runs are read from storage in one go
    for (let k = 0; k < wanted.length;) {
      let end = k;
      while (end + 1 < wanted.length && wanted[end + 1] === wanted[end] + 1 && (end + 2 - k) * offer.chunkBytes <= READ_BYTES) end++;
      const from = wanted[k] * offer.chunkBytes;
      const to_ = Math.min(offer.bytes, (wanted[end] + 1) * offer.chunkBytes);
      const data = new Uint8Array(await blob.slice(from, to_).arrayBuffer());
      for (let i = wanted[k]; i <= wanted[end]; i++) {
        const chunk = data.subarray((i - wanted[k]) * offer.chunkBytes, Math.min(data.length, (i - wanted[k] + 1) * offer.chunkBytes));
        this.io.send(to, { type: 'replica-chunk', hash, index: i }, chunk);
        queued += chunk.length;
      }
      k = end + 1;
    }
    this.bytesSent += queued;
    this.busyUntil.push(this.now() + 250 + queued / 4000);
    this.busyUntil.sort((a, b) => a - b);
  }

  /** The file's offer, hashing its chunks a few MiB at a time the first time it is asked for. */
  private offer(hash: string, blob: Blob): Promise<TransferOffer | null> {
    let o = this.offers.get(hash);
    if (!o) {
      o = (async () => {
        const n = chunkCount(blob.size, CHUNK_BYTES);
        const chunkHashes = new Uint8Array(n * CHUNK_HASH_BYTES);
        for (let at = 0; at < blob.size || at === 0; at += READ_BYTES) {
          const data = new Uint8Array(await blob.slice(at, at + READ_BYTES).arrayBuffer());
          const first = at / CHUNK_BYTES;
          const digests = await Promise.all(Array.from({ length: Math.max(1, Math.ceil(data.length / CHUNK_BYTES)) }, (_, k) => this.io.digest(data.subarray(k * CHUNK_BYTES, (k + 1) * CHUNK_BYTES))));
          digests.forEach((d, k) => chunkHashes.set(d.subarray(0, CHUNK_HASH_BYTES), (first + k) * CHUNK_HASH_BYTES));
          if (blob.size === 0) break;
        }
        return { hash, bytes: blob.size, chunkBytes: CHUNK_BYTES, chunkHashes };
      })().catch(() => null);
      this.offers.set(hash, o);
      if (this.offers.size > OFFERS_KEPT) this.offers.delete(this.offers.keys().next().value!);
    } else {
      this.offers.delete(hash);
      this.offers.set(hash, o);
    }
    return o;
  }
}
