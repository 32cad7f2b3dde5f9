import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cleanly, fuzz, returns } from '../testing/fuzz.js';
import { CHUNK_HASH_BYTES, OFFER_PART_HASHES, OfferCollector, ReplicaAssembler, TransferError, chunkOf, makeOffer, offerParts } from './transfer.js';

const FILE = Uint8Array.from({ length: 10_000 }, (_, i) => (i * 7919) % 251);
const CHUNK = 1024;
const OFFER = makeOffer(FILE, CHUNK);
const N = Math.ceil(FILE.length / CHUNK);
const MAX_BYTES = 1 << 20;

const uintish = fc.oneof(fc.nat({ max: 20_000 }), fc.constantFrom(0, 1, 1023, 1024, 2 ** 20, 2 ** 31 - 1, 2 ** 32 - 1, 2 ** 53 - 1), fc.integer({ min: -5, max: -1 }), fc.double());

describe('fuzzing replica offers and chunks from a holder', () => {
  it('any offer part (sizes, chunking, hash ranges): collected, or refused with a TransferError, never an exception or a huge allocation', () => {
    const part = fc.record({
      hash: fc.constantFrom(OFFER.hash, 'ab'.repeat(32)),
      bytes: fc.oneof(fc.constant(OFFER.bytes), uintish),
      chunkBytes: fc.oneof(fc.constant(CHUNK), uintish),
      first: fc.oneof(fc.constant(0), uintish, fc.constant(OFFER_PART_HASHES)),
      chunkHashes: fc.oneof(fc.constant(OFFER.chunkHashes), fc.uint8Array({ maxLength: 20 * CHUNK_HASH_BYTES })),
    });
    fc.assert(fc.property(part, fc.array(part, { maxLength: 3 }), (first, more) => {
      const r = cleanly(() => {
        const c = new OfferCollector(first.hash, first.bytes, first.chunkBytes, MAX_BYTES);
        for (const p of [first, ...more]) c.add(p);
        if (!c.complete) return null;
        return new ReplicaAssembler(c.offer(), OFFER.hash, MAX_BYTES);
      }, [TransferError], 200);
      if (r.ok && r.value) expect(r.value.chunks).toBeGreaterThan(0);
    }), fuzz(4000));
  });

  it('chunks in any order, corrupted, duplicated or out of range: only the true bytes are kept, and the file comes out whole', () => {
    const event = fc.oneof(
      fc.nat({ max: N - 1 }).map((i) => ({ i, bytes: chunkOf(FILE, CHUNK, i) })),
      fc.tuple(fc.nat({ max: N - 1 }), fc.nat({ max: CHUNK - 1 }), fc.integer({ min: 1, max: 255 })).map(([i, at, x]) => {
        const bytes = chunkOf(FILE, CHUNK, i).slice();
        bytes[at % bytes.length] ^= x;
        return { i, bytes };
      }),
      fc.tuple(fc.oneof(fc.integer({ min: -3, max: N + 3 }), fc.double()), fc.uint8Array({ maxLength: CHUNK + 1 })).map(([i, bytes]) => ({ i, bytes })),
    );
    fc.assert(fc.property(fc.array(event, { maxLength: 40 }), fc.shuffledSubarray([...Array(N).keys()], { minLength: N }), (noise, order) => {
      const asm = new ReplicaAssembler(OFFER, OFFER.hash, MAX_BYTES);
      for (const e of noise) {
        if (returns(() => asm.accept(e.i, e.bytes), 100) === 'accepted') expect(Buffer.from(e.bytes).equals(chunkOf(FILE, CHUNK, e.i))).toBe(true);
      }
      for (const i of order) asm.accept(i, chunkOf(FILE, CHUNK, i));
      expect(asm.complete).toBe(true);
      expect(Buffer.from(asm.finish()).equals(FILE)).toBe(true);
    }), fuzz(800));
  });

  it('an offer travels in parts that collect back to the same offer, in any order', () => {
    const big = { ...makeOffer(new Uint8Array(0), CHUNK), bytes: (OFFER_PART_HASHES * 2 + 5) * CHUNK, chunkHashes: Uint8Array.from({ length: (OFFER_PART_HASHES * 2 + 5) * CHUNK_HASH_BYTES }, (_, i) => i % 256) };
    const parts = offerParts(big);
    fc.assert(fc.property(fc.shuffledSubarray(parts, { minLength: parts.length }), (order) => {
      const c = new OfferCollector(big.hash, big.bytes, big.chunkBytes, 2 ** 31);
      for (const p of order) expect(c.add({ ...big, ...p })).toBe(true);
      expect(c.complete).toBe(true);
      expect(Buffer.from(c.offer().chunkHashes).equals(big.chunkHashes)).toBe(true);
    }), fuzz(50));
  });
});
