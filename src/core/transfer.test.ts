import { describe, expect, it } from 'vitest';
import { hashHex } from './hash.js';
import { OFFER_PART_HASHES, OfferCollector, ReplicaAssembler, TransferError, chunkCount, chunkOf, makeOffer, offerParts } from './transfer.js';
import { seededRng } from './rng.js';

const CHUNK = 4096;
function file(n: number, seed: number): Uint8Array {
  const rng = seededRng(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(rng() * 256));
}

describe('replica transfer framing', () => {
  const bytes = file(10 * CHUNK + 123, 1);
  const hash = hashHex(bytes);
  const offer = makeOffer(bytes, CHUNK);
  const n = chunkCount(bytes.length, CHUNK);

  it('assembles chunks arriving reordered and duplicated', () => {
    const asm = new ReplicaAssembler(offer, hash);
    const order = [...Array(n).keys()].reverse();
    for (const i of order) expect(asm.accept(i, chunkOf(bytes, CHUNK, i))).toBe('accepted');
    expect(asm.accept(3, chunkOf(bytes, CHUNK, 3))).toBe('duplicate');
    expect(asm.complete).toBe(true);
    expect(asm.finish()).toEqual(bytes);
  });

  it('reports lost chunks as missing, and completes once they are sent again', () => {
    const asm = new ReplicaAssembler(offer, hash);
    for (let i = 0; i < n; i++) if (i % 3 !== 1) asm.accept(i, chunkOf(bytes, CHUNK, i));
    expect(asm.missing()).toEqual([...Array(n).keys()].filter((i) => i % 3 === 1));
    expect(() => asm.finish()).toThrow(/still missing/);
    for (const i of asm.missing()) asm.accept(i, chunkOf(bytes, CHUNK, i));
    expect(asm.finish()).toEqual(bytes);
  });

  it('catches a corrupted chunk on arrival, keeps the verified ones, and takes a good copy later', () => {
    const asm = new ReplicaAssembler(offer, hash);
    const bad = chunkOf(bytes, CHUNK, 2).slice();
    bad[100] ^= 0xff;
    for (let i = 0; i < n; i++) asm.accept(i, i === 2 ? bad : chunkOf(bytes, CHUNK, i));
    expect(asm.corruptChunks).toBe(1);
    expect(asm.missing()).toEqual([2]);
    expect(asm.accept(2, chunkOf(bytes, CHUNK, 2).subarray(1))).toBe('corrupt'); // truncated chunk
    expect(asm.accept(99, new Uint8Array(1))).toBe('out-of-range');
    expect(asm.accept(2, chunkOf(bytes, CHUNK, 2))).toBe('accepted');
    expect(asm.finish()).toEqual(bytes);
  });

  it('resumes from another holder after the first dies mid-transfer', () => {
    const asm = new ReplicaAssembler(offer, hash);
    for (let i = 0; i < 4; i++) asm.accept(i, chunkOf(bytes, CHUNK, i));
    asm.resumeWith(makeOffer(bytes, CHUNK));
    expect(asm.verifiedBytes).toBe(4 * CHUNK);
    for (const i of asm.missing()) asm.accept(i, chunkOf(bytes, CHUNK, i));
    expect(asm.finish()).toEqual(bytes);
    expect(() => asm.resumeWith(makeOffer(bytes, CHUNK * 2))).toThrow(TransferError);
  });

  it('refuses offers for another file, and a holder whose chunks agree with a wrong file', () => {
    expect(() => new ReplicaAssembler(offer, hashHex(new Uint8Array(1)))).toThrow(/not the replica/);
    expect(() => new ReplicaAssembler({ ...offer, chunkHashes: offer.chunkHashes.subarray(16) }, hash)).toThrow(/chunk hashes/);
    // a liar: consistent chunk hashes for other bytes, under the right file hash
    const other = file(bytes.length, 2);
    const lie = { ...makeOffer(other, CHUNK), hash };
    const asm = new ReplicaAssembler(lie, hash);
    for (let i = 0; i < n; i++) asm.accept(i, chunkOf(other, CHUNK, i));
    expect(() => asm.finish()).toThrow(/hash mismatch/);
  });

  it('passes verified bytes on in file order as soon as they join the verified prefix', () => {
    const out: Uint8Array[] = [];
    const asm = new ReplicaAssembler(offer, hash, 1 << 20, (b) => out.push(b));
    asm.accept(2, chunkOf(bytes, CHUNK, 2));
    asm.accept(1, chunkOf(bytes, CHUNK, 1));
    expect(out).toHaveLength(0);
    asm.accept(0, chunkOf(bytes, CHUNK, 0));
    expect(out).toHaveLength(3);
    for (let i = 3; i < n; i++) asm.accept(i, chunkOf(bytes, CHUNK, i));
    expect(asm.finish()).toHaveLength(0);
    const joined = new Uint8Array(bytes.length);
    let at = 0;
    for (const b of out) { joined.set(b, at); at += b.length; }
    expect(joined).toEqual(bytes);
  });

  it('an offer too big for one frame travels in parts and is put back together', () => {
    const many = new Uint8Array((OFFER_PART_HASHES + 10) * 1024);
    const o = makeOffer(many, 1024);
    const parts = offerParts(o);
    expect(parts.map((p) => p.first)).toEqual([0, OFFER_PART_HASHES]);
    const c = new OfferCollector(o.hash, o.bytes, o.chunkBytes, 2 ** 31);
    expect(c.add({ ...o, ...parts[1] })).toBe(true);
    expect(c.complete).toBe(false);
    expect(c.add({ ...o, ...parts[0], first: 5 })).toBe(false);
    expect(c.add({ ...o, ...parts[0], bytes: 7 })).toBe(false);
    expect(c.add({ ...o, ...parts[0] })).toBe(true);
    expect(c.complete).toBe(true);
    expect(c.offer().chunkHashes).toEqual(o.chunkHashes);
  });
});
