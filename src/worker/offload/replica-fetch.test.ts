import { describe, expect, it } from 'vitest';
import { hashHex } from '../../core/hash.js';
import { chunkCount, chunkOf, makeOffer, offerParts, type TransferOffer } from '../../core/transfer.js';
import { ReplicaFetch, STALL_MS, STALL_RETRIES, WINDOW_CHUNKS, type FetchIO } from './replica-fetch.js';

const CHUNK = 4096;
const file = Uint8Array.from({ length: 5 * CHUNK + 100 }, (_, i) => (i * 31 + 7) & 0xff);
const hash = hashHex(file);
const offer = makeOffer(file, CHUNK);

function harness(dead: Set<string> = new Set()) {
  let t = 0;
  const requests: { to: string; chunks: number[] | null }[] = [];
  const logs: string[] = [];
  const io: FetchIO = {
    now: () => t,
    alive: (d) => !dead.has(d),
    request: (to, _h, chunks) => requests.push({ to, chunks }),
    log: (kind, detail) => logs.push(`${kind}: ${detail}`),
  };
  return { io, requests, logs, advance: (ms: number) => (t += ms) };
}

function sendOffer(f: ReplicaFetch, from: string, o: TransferOffer = offer): void {
  for (const p of offerParts(o)) f.onOffer(from, { hash: o.hash, bytes: o.bytes, chunkBytes: o.chunkBytes, ...p });
}

function serve(f: ReplicaFetch, from: string, indices: number[], corrupt = new Set<number>(), bytes = file, chunk = CHUNK): void {
  for (const i of indices) {
    const c = chunkOf(bytes, chunk, i).slice();
    if (corrupt.has(i)) c[0] ^= 0xff;
    f.onChunk(from, i, c);
  }
}

async function bytesOf(f: ReplicaFetch): Promise<Uint8Array | null> {
  const r = await f.done;
  return r.ok ? new Uint8Array(await r.blob.arrayBuffer()) : null;
}

describe('receiving a replica', () => {
  it('asks for the offer, then for the chunks, and assembles a verified copy', async () => {
    const h = harness();
    const f = new ReplicaFetch(hash, 'P0', ['a', 'b'], 1 << 20, h.io);
    f.start();
    expect(h.requests).toEqual([{ to: 'a', chunks: null }]);
    sendOffer(f, 'a');
    expect(h.requests[1]).toEqual({ to: 'a', chunks: [0, 1, 2, 3, 4, 5] });
    serve(f, 'a', [5, 0, 1, 1, 2, 3, 4]);
    expect(await bytesOf(f)).toEqual(file);
    const r = await f.done;
    expect(r.ok && r.from).toEqual(['a']);
  });

  it('discards a corrupt chunk, counts it, and fetches only what is missing from the next holder', async () => {
    const h = harness();
    const f = new ReplicaFetch(hash, 'P0', ['a', 'b'], 1 << 20, h.io);
    f.start();
    sendOffer(f, 'a');
    serve(f, 'a', [0, 1, 2], new Set([2]));
    expect(h.requests[2]).toEqual({ to: 'b', chunks: null });
    // late chunks from the abandoned holder still count when they verify, and do not move us again
    serve(f, 'a', [3, 4], new Set([4]));
    expect(f.corruptChunks).toBe(2);
    expect(h.logs.some((l) => l.startsWith('mismatch: P0: chunk 2 from a'))).toBe(true);
    sendOffer(f, 'b');
    expect(h.requests[3]).toEqual({ to: 'b', chunks: [2, 4, 5] });
    serve(f, 'b', [2, 4, 5]);
    expect(await bytesOf(f)).toEqual(file);
    const r = await f.done;
    expect(r.ok && r.from.sort()).toEqual(['a', 'b']);
    expect(f.resumes).toBe(1);
  });

  it('resumes from the last verified chunk when the holder dies or stalls, and gives up when none is left', async () => {
    const dead = new Set<string>();
    const h = harness(dead);
    const f = new ReplicaFetch(hash, 'P1', ['a', 'b', 'c'], 1 << 20, h.io);
    f.start();
    sendOffer(f, 'a');
    serve(f, 'a', [0, 1]);
    dead.add('a');
    f.check();
    expect(h.requests[2]).toEqual({ to: 'b', chunks: null });
    expect(h.logs.at(-1)).toMatch(/a failed mid-transfer; resuming from b \(2\/6 chunks verified\)/);
    sendOffer(f, 'b');
    expect(h.requests[3]).toEqual({ to: 'b', chunks: [2, 3, 4, 5] });
    h.advance(STALL_MS + 1);
    f.check();
    expect(h.requests[4]).toEqual({ to: 'c', chunks: null });
    f.onMissing('c', 'not held here');
    const r = await f.done;
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(/c cannot serve it.*no other holder left/);
  });

  it('asks a holder that only stalled again when no other is left, and gives up only after it stays silent', async () => {
    const h = harness();
    const f = new ReplicaFetch(hash, 'P1', ['a'], 1 << 20, h.io);
    f.start();
    sendOffer(f, 'a');
    serve(f, 'a', [0]);
    for (let k = 0; k < STALL_RETRIES; k++) {
      h.advance(STALL_MS + 1);
      f.check();
      expect(h.requests.at(-1)).toEqual({ to: 'a', chunks: null });
    }
    // it answers at last: the fetch goes on from what was verified, and the count of quiet stalls starts again
    sendOffer(f, 'a');
    serve(f, 'a', [1]);
    h.advance(STALL_MS + 1);
    f.check();
    expect(h.requests.at(-1)).toEqual({ to: 'a', chunks: null });
    sendOffer(f, 'a');
    serve(f, 'a', [2, 3, 4, 5]);
    expect(await bytesOf(f)).toEqual(file);

    const g = new ReplicaFetch(hash, 'P2', ['a'], 1 << 20, h.io);
    g.start();
    for (let k = 0; k <= STALL_RETRIES; k++) {
      h.advance(STALL_MS + 1);
      g.check();
    }
    const r = await g.done;
    expect(!r.ok && r.reason).toBe('a stalled; no other holder left to ask');
  });

  it('refuses an offer for another file and a whole file that does not match the manifest', async () => {
    const h = harness();
    const f = new ReplicaFetch(hash, 'P2', ['a', 'b'], 1 << 20, h.io);
    f.start();
    sendOffer(f, 'a', { ...offer, hash: 'ff'.repeat(32) });
    expect(h.requests[1]).toEqual({ to: 'b', chunks: null });
    // b's offer is consistent with bytes that are not the manifest's file
    const forged = file.slice();
    forged[10] ^= 1;
    sendOffer(f, 'b', { ...makeOffer(forged, CHUNK), hash });
    serve(f, 'b', [0, 1, 2, 3, 4, 5], new Set(), forged);
    const r = await f.done;
    expect(r.ok).toBe(false);
    expect(h.logs.some((l) => /hash mismatch/.test(l))).toBe(true);
  });

  it('a large replica: an offer in several frames, at most two windows asked for at once, bytes spilled out of the heap', async () => {
    const chunk = 1024;
    const n = 5000;
    const big = new Uint8Array(n * chunk - 17);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 10)) & 0xff;
    const bigOffer = makeOffer(big, chunk);
    expect(offerParts(bigOffer)).toHaveLength(2);
    const h = harness();
    const f = new ReplicaFetch(hashHex(big), 'P3', ['a'], 1 << 30, h.io);
    f.start();
    // the first part alone is not enough to start
    const [p0, p1] = offerParts(bigOffer);
    f.onOffer('a', { hash: bigOffer.hash, bytes: bigOffer.bytes, chunkBytes: chunk, ...p0 });
    expect(h.requests).toHaveLength(1);
    f.onOffer('a', { hash: bigOffer.hash, bytes: bigOffer.bytes, chunkBytes: chunk, ...p1 });
    const outstanding = new Set<number>();
    let most = 0;
    let served = 1;
    // a holder that answers every request, window by window, in order
    while (served < h.requests.length) {
      const req = h.requests[served++];
      for (const i of req.chunks!) outstanding.add(i);
      most = Math.max(most, outstanding.size);
      for (const i of req.chunks!) {
        outstanding.delete(i);
        serve(f, 'a', [i], new Set(), big, chunk);
      }
    }
    expect(most).toBeLessThanOrEqual(2 * WINDOW_CHUNKS);
    expect(h.requests.length - 1).toBeGreaterThanOrEqual(Math.ceil(chunkCount(big.length, chunk) / WINDOW_CHUNKS));
    // compared by hash: a deep comparison of megabytes is slow
    expect(hashHex((await bytesOf(f))!)).toBe(hashHex(big));
  });
});
