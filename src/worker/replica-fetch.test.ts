import { describe, expect, it } from 'vitest';
import { hashHex } from '../core/hash.js';
import { chunkOf, makeOffer } from '../core/transfer.js';
import { ReplicaFetch, STALL_MS, type FetchIO } from './replica-fetch.js';

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
    digest: async (b) => hashHex(b),
  };
  return { io, requests, logs, advance: (ms: number) => (t += ms) };
}

function serve(f: ReplicaFetch, from: string, indices: number[], corrupt = new Set<number>()): void {
  f.onOffer(from, offer);
  for (const i of indices) {
    const c = chunkOf(file, CHUNK, i).slice();
    if (corrupt.has(i)) c[0] ^= 0xff;
    f.onChunk(from, i, c);
  }
}

describe('receiving a replica', () => {
  it('assembles a copy from one holder and verifies it', async () => {
    const h = harness();
    const f = new ReplicaFetch(hash, 'P0', ['a', 'b'], 1 << 20, h.io);
    f.start();
    expect(h.requests).toEqual([{ to: 'a', chunks: null }]);
    serve(f, 'a', [5, 0, 1, 1, 2, 3, 4]);
    const r = await f.done;
    expect(r.ok && r.bytes).toEqual(file);
    expect(r.ok && r.from).toEqual(['a']);
  });

  it('discards a corrupt chunk, counts it, and fetches only what is missing from the next holder', async () => {
    const h = harness();
    const f = new ReplicaFetch(hash, 'P0', ['a', 'b'], 1 << 20, h.io);
    f.start();
    serve(f, 'a', [0, 1, 2], new Set([2]));
    expect(h.requests[1]).toEqual({ to: 'b', chunks: [2, 3, 4, 5] });
    // late chunks from the abandoned holder still count when they verify, and do not move us again
    serve(f, 'a', [3, 4], new Set([4]));
    expect(f.corruptChunks).toBe(2);
    expect(h.requests).toHaveLength(2);
    expect(h.logs.some((l) => l.startsWith('mismatch: P0: chunk 2 from a'))).toBe(true);
    serve(f, 'b', [2, 4, 5]);
    const r = await f.done;
    expect(r.ok && r.bytes).toEqual(file);
    expect(r.ok && r.from.sort()).toEqual(['a', 'b']);
    expect(f.resumes).toBe(1);
  });

  it('resumes from the last verified chunk when the holder dies or stalls, and gives up when none is left', async () => {
    const dead = new Set<string>();
    const h = harness(dead);
    const f = new ReplicaFetch(hash, 'P1', ['a', 'b', 'c'], 1 << 20, h.io);
    f.start();
    serve(f, 'a', [0, 1]);
    dead.add('a');
    f.check();
    expect(h.requests[1]).toEqual({ to: 'b', chunks: [2, 3, 4, 5] });
    expect(h.logs.at(-1)).toMatch(/a failed mid-transfer; resuming from b \(2\/6 chunks verified\)/);
    h.advance(STALL_MS + 1);
    f.check();
    expect(h.requests[2]).toEqual({ to: 'c', chunks: [2, 3, 4, 5] });
    f.onMissing('c', 'not held here');
    const r = await f.done;
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(/c cannot serve it.*no other holder left/);
  });

  it('refuses an offer for another file and a whole file that does not match the manifest', async () => {
    const h = harness();
    const f = new ReplicaFetch(hash, 'P2', ['a', 'b'], 1 << 20, h.io);
    f.start();
    f.onOffer('a', { ...offer, hash: 'ff'.repeat(32) });
    expect(h.requests[1].to).toBe('b');
    // b's offer is consistent with bytes that are not the manifest's file
    const forged = file.slice();
    forged[10] ^= 1;
    const forgedOffer = { ...makeOffer(forged, CHUNK), hash };
    f.onOffer('b', forgedOffer);
    for (let i = 0; i < 6; i++) f.onChunk('b', i, chunkOf(forged, CHUNK, i));
    const r = await f.done;
    expect(r.ok).toBe(false);
    expect(h.logs.some((l) => /hash mismatch/.test(l))).toBe(true);
  });
});
