/**
 * Replica transfer framing (FRIM.md: replicas move device to device over the data channels).
 *
 * A holder first sends an offer: the file's SHA-256 (which must equal the manifest's), its size,
 * the chunk size and a 16-byte SHA-256 prefix per chunk. Chunks then arrive in any order, each
 * checked against its prefix on arrival, so a corrupted chunk is caught at once and asked for
 * again (from another holder if need be) without throwing away the verified ones. The whole file
 * is checked against the manifest hash before anyone stores or runs it. Because chunk hashes
 * depend only on the file and the chunk size, a transfer resumes from another holder's offer.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { hashHex } from './hash.js';

export const CHUNK_BYTES = 64 * 1024;
export const CHUNK_HASH_BYTES = 16;

export interface TransferOffer {
  /** SHA-256 of the whole file, hex */
  hash: string;
  bytes: number;
  chunkBytes: number;
  /** CHUNK_HASH_BYTES per chunk, concatenated */
  chunkHashes: Uint8Array;
}

export function chunkCount(bytes: number, chunkBytes: number): number {
  return Math.max(1, Math.ceil(bytes / chunkBytes));
}

function chunkDigest(data: Uint8Array): Uint8Array {
  return sha256(data).subarray(0, CHUNK_HASH_BYTES);
}

export function makeOffer(file: Uint8Array, chunkBytes = CHUNK_BYTES): TransferOffer {
  const n = chunkCount(file.length, chunkBytes);
  const chunkHashes = new Uint8Array(n * CHUNK_HASH_BYTES);
  for (let i = 0; i < n; i++) chunkHashes.set(chunkDigest(chunkOf(file, chunkBytes, i)), i * CHUNK_HASH_BYTES);
  return { hash: hashHex(file), bytes: file.length, chunkBytes, chunkHashes };
}

/**
 * As `makeOffer`, for a file whose SHA-256 is already known (it was verified when stored), with the
 * chunk digests computed by `digest` (WebCrypto in the worker): nothing blocks the worker's clock.
 */
export async function makeOfferWith(file: Uint8Array, hash: string, digest: (b: Uint8Array) => Promise<Uint8Array>, chunkBytes = CHUNK_BYTES): Promise<TransferOffer> {
  const n = chunkCount(file.length, chunkBytes);
  const chunkHashes = new Uint8Array(n * CHUNK_HASH_BYTES);
  const digests = await Promise.all(Array.from({ length: n }, (_, i) => digest(chunkOf(file, chunkBytes, i))));
  digests.forEach((d, i) => chunkHashes.set(d.subarray(0, CHUNK_HASH_BYTES), i * CHUNK_HASH_BYTES));
  return { hash, bytes: file.length, chunkBytes, chunkHashes };
}

export function chunkOf(file: Uint8Array, chunkBytes: number, index: number): Uint8Array {
  return file.subarray(index * chunkBytes, Math.min(file.length, (index + 1) * chunkBytes));
}

export type ChunkResult = 'accepted' | 'duplicate' | 'corrupt' | 'out-of-range';

export class TransferError extends Error {}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export class ReplicaAssembler {
  private readonly data: Uint8Array;
  private readonly have: boolean[];
  private received = 0;
  readonly chunks: number;
  corruptChunks = 0;

  /** `expectedHash` comes from the manifest, never from the sender. */
  constructor(private offer: TransferOffer, readonly expectedHash: string, maxBytes = 512 * 1024 * 1024) {
    ReplicaAssembler.check(offer, expectedHash, maxBytes);
    this.chunks = chunkCount(offer.bytes, offer.chunkBytes);
    this.data = new Uint8Array(offer.bytes);
    this.have = new Array<boolean>(this.chunks).fill(false);
  }

  private static check(offer: TransferOffer, expectedHash: string, maxBytes: number): void {
    if (offer.hash !== expectedHash) throw new TransferError(`offer is for ${offer.hash.slice(0, 12)}…, not the replica ${expectedHash.slice(0, 12)}…`);
    if (!Number.isInteger(offer.bytes) || offer.bytes < 0 || offer.bytes > maxBytes) throw new TransferError(`offer size ${offer.bytes} is out of range`);
    if (!Number.isInteger(offer.chunkBytes) || offer.chunkBytes < 1024 || offer.chunkBytes > 1024 * 1024) throw new TransferError(`chunk size ${offer.chunkBytes} is out of range`);
    if (offer.chunkHashes.length !== chunkCount(offer.bytes, offer.chunkBytes) * CHUNK_HASH_BYTES) throw new TransferError('offer chunk hashes do not match its size');
  }

  /** Continue with another holder's offer for the same file (the sender died mid-transfer). */
  resumeWith(offer: TransferOffer): void {
    ReplicaAssembler.check(offer, this.expectedHash, this.data.length);
    if (offer.bytes !== this.offer.bytes || offer.chunkBytes !== this.offer.chunkBytes || !sameBytes(offer.chunkHashes, this.offer.chunkHashes)) {
      throw new TransferError('the new holder chunks the file differently; start over');
    }
    this.offer = offer;
  }

  accept(index: number, chunk: Uint8Array): ChunkResult {
    if (!Number.isInteger(index) || index < 0 || index >= this.chunks) return 'out-of-range';
    if (this.have[index]) return 'duplicate';
    const start = index * this.offer.chunkBytes;
    const expectedLen = Math.min(this.offer.bytes, start + this.offer.chunkBytes) - start;
    const want = this.offer.chunkHashes.subarray(index * CHUNK_HASH_BYTES, (index + 1) * CHUNK_HASH_BYTES);
    if (chunk.length !== expectedLen || !sameBytes(chunkDigest(chunk), want)) {
      this.corruptChunks++;
      return 'corrupt';
    }
    this.data.set(chunk, start);
    this.have[index] = true;
    this.received++;
    return 'accepted';
  }

  missing(): number[] {
    return this.have.flatMap((h, i) => (h ? [] : [i]));
  }

  get complete(): boolean {
    return this.received === this.chunks;
  }

  get verifiedBytes(): number {
    return this.have.reduce((s, h, i) => (h ? s + Math.min(this.offer.chunkBytes, this.offer.bytes - i * this.offer.chunkBytes) : s), 0);
  }

  /** The whole file, once every chunk is in and its SHA-256 equals the manifest's. */
  finish(): Uint8Array {
    return this.check(hashHex(this.assembled()));
  }

  /** As `finish`, with the digest computed elsewhere (WebCrypto in browsers, off the JS thread). */
  async finishWith(digest: (bytes: Uint8Array) => Promise<string>): Promise<Uint8Array> {
    return this.check(await digest(this.assembled()));
  }

  private assembled(): Uint8Array {
    if (!this.complete) throw new TransferError(`${this.chunks - this.received} chunks are still missing`);
    return this.data;
  }

  private check(got: string): Uint8Array {
    if (got !== this.expectedHash) throw new TransferError(`hash mismatch: the assembled replica is ${got.slice(0, 12)}…, the manifest says ${this.expectedHash.slice(0, 12)}…`);
    return this.data;
  }
}
