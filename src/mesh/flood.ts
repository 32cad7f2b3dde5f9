/**
 * Test-only fault (`?debug=1`): this tab floods its peers the way a buggy or hostile device would,
 * as fast as each data channel takes it, for a bounded time. What the receiving side must survive
 * is in e2e/flood.spec.ts.
 */
import { encodeFrame, MAX_FRAME_BYTES, type Message } from '../core/protocol.js';
import type { Link } from './link.js';

export type FloodKind = 'junk' | 'oversized' | 'pings' | 'stray-results' | 'stray-chunks' | 'stage-starts';
export const FLOOD_KINDS: readonly FloodKind[] = ['junk', 'oversized', 'pings', 'stray-results', 'stray-chunks', 'stage-starts'];

/** keep the channel's send buffer near this (Chrome closes a channel whose buffer passes 16 MiB) */
const BUFFER_CAP = 1024 * 1024;
/** at most this long, whatever a caller asks */
const MAX_FLOOD_MS = 60_000;

function frameOf(kind: FloodKind, n: number, tag: number, self: string): Uint8Array {
  const req = `${self}-${900_000_000 + n}`;
  const hex = (n >>> 0).toString(16).padStart(8, '0').repeat(8);
  switch (kind) {
    case 'junk': return crypto.getRandomValues(new Uint8Array(48));
    case 'oversized': {
      const f = new Uint8Array(MAX_FRAME_BYTES + 4096);
      f.set(encodeFrame({ type: 'ping', seq: n, t: 0 }, tag));
      return f;
    }
    case 'pings': return encodeFrame({ type: 'ping', seq: n, t: performance.now() }, tag);
    case 'stray-results': return encodeFrame({ type: 'stage-result', req, by: self, part: 0, parts: 1, table: [] }, tag);
    case 'stray-chunks': return encodeFrame({ type: 'replica-chunk', hash: hex, index: n % 1000 }, tag, new Uint8Array(1024));
    case 'stage-starts': {
      const m: Message = { type: 'stage-run', req, stage: 0, key: hex, requester: self, twin: '', mode: 'frim', path: [], part: 0, parts: 2, table: [{ name: 'x', type: 'float32', dims: [1, 2], bytes: 8 }] };
      return encodeFrame(m, tag, new Uint8Array(4));
    }
  }
}

/**
 * Floods every link for `ms` (as fast as each channel takes it, or `perSecond` frames per link);
 * resolves with how many frames went out. Ends early when no link is left open.
 */
export async function flood(links: Link[], kind: FloodKind, ms: number, tag: number, self: string, perSecond = Infinity): Promise<number> {
  const start = performance.now();
  const until = start + Math.min(ms, MAX_FLOOD_MS);
  let sent = 0;
  let paced = 0;
  while (performance.now() < until) {
    let any = false;
    // frames per link owed by now at the asked pace
    const owed = Number.isFinite(perSecond) ? Math.floor(((performance.now() - start) / 1000) * perSecond) - paced : 256;
    for (const l of links) {
      const dc = l.conn.dataChannel;
      if (dc?.readyState !== 'open') continue;
      any = true;
      for (let k = 0; k < Math.min(owed, 256) && dc.bufferedAmount < BUFFER_CAP; k++) l.sendRaw(frameOf(kind, sent++, tag, self));
    }
    if (Number.isFinite(perSecond)) paced += Math.min(owed, 256);
    if (!any) break;
    // let the channel drain and this tab breathe (its own heartbeats are not under test)
    await new Promise((ok) => setTimeout(ok, 0));
  }
  return sent;
}
