/**
 * Replica transfer framing (FRIM.md: replicas move device to device over the data channels).
 *
 * A holder first sends an offer: the file's SHA-256 (which must equal the manifest's), its size,
 * the chunk size and a 16-byte SHA-256 prefix per chunk. Chunks then arrive in any order, each
 * checked against its prefix on arrival, so a corrupted chunk is caught at once and asked for
 * again (from another holder if need be) without throwing away the verified ones. The whole file
 * is checked against the manifest hash before anyone stores or runs it. Because chunk hashes
 * depend only on the file and the chunk size, a transfer resumes from another holder's offer.
 *
 * The receiver asks for chunks a window at a time (the holder reads only those from storage), and
 * an offer too large for one frame travels in parts, so replicas of any size move with bounded
 * memory on both sides.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
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

/** chunk hashes per `replica-offer` frame: 64 KiB of them, so an offer for any file fits in frames */
export const OFFER_PART_HASHES = 4096;

/** The offer as frames: each carries the hashes of chunks `first` .. `first + n - 1`. */
export function offerParts(offer: TransferOffer): { first: number; chunkHashes: Uint8Array }[] {
  const n = chunkCount(offer.bytes, offer.chunkBytes);
  const parts: { first: number; chunkHashes: Uint8Array }[] = [];
  for (let first = 0; first < n; first += OFFER_PART_HASHES) {
    parts.push({ first, chunkHashes: offer.chunkHashes.subarray(first * CHUNK_HASH_BYTES, Math.min(n, first + OFFER_PART_HASHES) * CHUNK_HASH_BYTES) });
  }
  return parts;
}

/**
 * An offer's size and chunking within what a receiver takes (`maxBytes`), checked before anything
 * is sized by them: a bad holder could otherwise ask for a table of billions of chunk hashes.
 */
function checkSizes(bytes: number, chunkBytes: number, maxBytes: number): void {
  if (!Number.isInteger(bytes) || bytes < 0 || bytes > maxBytes) throw new TransferError(`offer size ${bytes} is out of range`);
  if (!Number.isInteger(chunkBytes) || chunkBytes < 1024 || chunkBytes > 1024 * 1024) throw new TransferError(`chunk size ${chunkBytes} is out of range`);
}

/** Collects an offer's frames; `complete` once every chunk's hash has arrived. */
export class OfferCollector {
  private readonly hashes: Uint8Array;
  private readonly seen = new Set<number>();
  private readonly parts: number;

  /** throws a TransferError for sizes out of range (`maxBytes`: the largest file the receiver takes) */
  constructor(readonly hash: string, readonly bytes: number, readonly chunkBytes: number, maxBytes: number) {
    checkSizes(bytes, chunkBytes, maxBytes);
    const n = chunkCount(bytes, chunkBytes);
    this.hashes = new Uint8Array(n * CHUNK_HASH_BYTES);
    this.parts = Math.ceil(n / OFFER_PART_HASHES);
  }

  /** false when the part does not belong to this offer (another size, or out of place) */
  add(part: { hash: string; bytes: number; chunkBytes: number; first: number; chunkHashes: Uint8Array }): boolean {
    if (part.hash !== this.hash || part.bytes !== this.bytes || part.chunkBytes !== this.chunkBytes) return false;
    const n = chunkCount(this.bytes, this.chunkBytes);
    if (!Number.isInteger(part.first) || part.first < 0) return false;
    const want = Math.min(n, part.first + OFFER_PART_HASHES) - part.first;
    if (part.first % OFFER_PART_HASHES !== 0 || part.first >= n || part.chunkHashes.length !== want * CHUNK_HASH_BYTES) return false;
    this.hashes.set(part.chunkHashes, part.first * CHUNK_HASH_BYTES);
    this.seen.add(part.first);
    return true;
  }

  get complete(): boolean {
    return this.seen.size === this.parts;
  }

  offer(): TransferOffer {
    return { hash: this.hash, bytes: this.bytes, chunkBytes: this.chunkBytes, chunkHashes: this.hashes };
  }
}

export function chunkOf(file: Uint8Array, chunkBytes: number, index: number): Uint8Array {
  return file.subarray(index * chunkBytes, Math.min(file.length, (index + 1) * chunkBytes));
}

export type ChunkResult = 'accepted' | 'duplicate' | 'corrupt' | 'out-of-range';

export class TransferError extends Error {}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Receives one file's chunks in any order, checking each against the offer on arrival. Verified
 * chunks are passed on in file order as soon as they join the verified prefix (to `sink`, and into
 * a running SHA-256), so a large replica never has to sit in memory whole: only chunks that
 * arrived ahead of a gap wait here.
 */
export class ReplicaAssembler {
  private readonly have: boolean[];
  private readonly waiting = new Map<number, Uint8Array>();
  private readonly hasher = sha256.create();
  private received = 0;
  /** chunks 0 .. next-1 have gone to the sink */
  private next = 0;
  readonly chunks: number;
  corruptChunks = 0;

  /**
   * `expectedHash` comes from the manifest, never from the sender. `sink` gets the file's bytes in
   * order; without one they are kept here and `finish` returns them (tests, small files).
   */
  constructor(private offer: TransferOffer, readonly expectedHash: string, maxBytes = 2 ** 31, private readonly sink?: (bytes: Uint8Array) => void) {
    ReplicaAssembler.check(offer, expectedHash, maxBytes);
    this.chunks = chunkCount(offer.bytes, offer.chunkBytes);
    this.have = new Array<boolean>(this.chunks).fill(false);
  }

  private readonly kept: Uint8Array[] = [];

  private static check(offer: TransferOffer, expectedHash: string, maxBytes: number): void {
    if (offer.hash !== expectedHash) throw new TransferError(`offer is for ${offer.hash.slice(0, 12)}…, not the replica ${expectedHash.slice(0, 12)}…`);
    checkSizes(offer.bytes, offer.chunkBytes, maxBytes);
    if (offer.chunkHashes.length !== chunkCount(offer.bytes, offer.chunkBytes) * CHUNK_HASH_BYTES) throw new TransferError('offer chunk hashes do not match its size');
  }

  /** Continue with another holder's offer for the same file (the sender died mid-transfer). */
  resumeWith(offer: TransferOffer): void {
    ReplicaAssembler.check(offer, this.expectedHash, this.offer.bytes);
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
    this.have[index] = true;
    this.received++;
    // a copy: the frame it came in may be reused
    this.waiting.set(index, chunk.slice());
    for (let c = this.waiting.get(this.next); c; c = this.waiting.get(this.next)) {
      this.waiting.delete(this.next++);
      this.hasher.update(c);
      if (this.sink) this.sink(c);
      else this.kept.push(c);
    }
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

  /**
   * Once every chunk is in: checks the whole file's SHA-256 against the manifest's. Returns the
   * bytes when no sink took them (else an empty array: the sink has them).
   */
  finish(): Uint8Array {
    if (!this.complete) throw new TransferError(`${this.chunks - this.received} chunks are still missing`);
    const got = bytesToHex(this.hasher.digest());
    if (got !== this.expectedHash) throw new TransferError(`hash mismatch: the assembled replica is ${got.slice(0, 12)}…, the manifest says ${this.expectedHash.slice(0, 12)}…`);
    if (this.sink) return new Uint8Array(0);
    const out = new Uint8Array(this.offer.bytes);
    let at = 0;
    for (const c of this.kept) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}
