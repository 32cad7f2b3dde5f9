/**
 * Serving replicas to other devices: answer a request with an offer (per-chunk hashes) and the
 * chunks asked for, as binary frames. The leader tab paces them onto the data channel with
 * `bufferedAmount` flow control; this side only decides what to send. Recently served files stay
 * in memory, so a restore that asks several holders for the same partition reads IndexedDB once.
 */
import { chunkCount, chunkOf, makeOfferWith, type TransferOffer } from '../core/transfer.js';
import { sha256Bytes } from '../store/digest.js';
import type { Message } from '../core/protocol.js';

const CACHE_BYTES = 64 * 1024 * 1024;

export interface ServeIO {
  holds(hash: string): boolean;
  load(hash: string): Promise<Uint8Array | null>;
  send(to: string, message: Message, payload?: Uint8Array): void;
}

export class ReplicaServer {
  private readonly cache = new Map<string, { bytes: Uint8Array; offer: TransferOffer }>();
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
    if (hash) this.cache.delete(hash);
    else this.cache.clear();
  }

  async serve(to: string, hash: string, chunks: number[] | null): Promise<void> {
    const file = this.io.holds(hash) ? await this.file(hash) : null;
    if (!file) {
      this.io.send(to, { type: 'replica-missing', hash, reason: 'no verified copy here' });
      return;
    }
    const { bytes, offer } = file;
    this.io.send(to, { type: 'replica-offer', hash, bytes: offer.bytes, chunkBytes: offer.chunkBytes, chunkHashes: offer.chunkHashes });
    const n = chunkCount(offer.bytes, offer.chunkBytes);
    const wanted = chunks === null ? Array.from({ length: n }, (_, i) => i) : [...new Set(chunks)].filter((i) => i < n);
    let queued = 0;
    for (const index of wanted) {
      const chunk = chunkOf(bytes, offer.chunkBytes, index);
      this.io.send(to, { type: 'replica-chunk', hash, index }, chunk);
      queued += chunk.length;
    }
    this.bytesSent += queued;
    this.busyUntil.push(this.now() + 250 + queued / 4000);
    this.busyUntil.sort((a, b) => a - b);
  }

  private async file(hash: string): Promise<{ bytes: Uint8Array; offer: TransferOffer } | null> {
    const hit = this.cache.get(hash);
    if (hit) {
      this.cache.delete(hash);
      this.cache.set(hash, hit);
      return hit;
    }
    const bytes = await this.io.load(hash);
    if (!bytes) return null;
    // `load` returns only bytes that verified against `hash`
    const entry = { bytes, offer: await makeOfferWith(bytes, hash, sha256Bytes) };
    this.cache.set(hash, entry);
    let total = 0;
    for (const e of this.cache.values()) total += e.bytes.length;
    for (const [k, e] of this.cache) {
      if (total <= CACHE_BYTES || k === hash) break;
      this.cache.delete(k);
      total -= e.bytes.length;
    }
    return entry;
  }
}
