/**
 * The baseline our replica path is measured against (`npm run bench:replicas`, debug pages only):
 * the same bytes over a plain PeerJS data channel with no framing, hashing or workers — 64 KiB
 * chunks paced with `bufferedAmount` exactly like `Link.sendQueued`. The receiving side only
 * counts bytes and answers once when all have arrived.
 */
import type Peer from 'peerjs';
import type { DataConnection } from 'peerjs';

export const BENCH_LABEL = 'frim-raw-bench';
const CHUNK = 64 * 1024;
const HIGH = 256 * 1024;
const LOW = 64 * 1024;

/** Sends `total` bytes to `remotePeerId`; resolves with ms from the channel opening to the receiver's acknowledgement. */
export function sendBaseline(peer: Peer, remotePeerId: string, total: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const conn = peer.connect(remotePeerId, { serialization: 'raw', reliable: true, label: BENCH_LABEL });
    const timer = setTimeout(() => reject(new Error('baseline transfer timed out')), 120_000);
    let t0 = 0;
    conn.on('error', (e) => reject(e));
    conn.on('data', () => {
      clearTimeout(timer);
      resolve(performance.now() - t0);
      conn.close();
    });
    conn.on('open', () => {
      const dc = conn.dataChannel;
      dc.bufferedAmountLowThreshold = LOW;
      const chunk = crypto.getRandomValues(new Uint8Array(CHUNK));
      const header = new Uint8Array(8);
      new DataView(header.buffer).setFloat64(0, total);
      t0 = performance.now();
      dc.send(header);
      let sent = 0;
      const pump = () => {
        while (sent < total && dc.bufferedAmount < HIGH) {
          const n = Math.min(CHUNK, total - sent);
          dc.send(n === CHUNK ? chunk : chunk.subarray(0, n));
          sent += n;
        }
      };
      dc.addEventListener('bufferedamountlow', pump);
      pump();
    });
  });
}

/** The receiving end: counts bytes, acknowledges once. */
export function acceptBaseline(conn: DataConnection): void {
  let total = -1;
  let got = 0;
  conn.on('data', (d) => {
    const bytes = d instanceof ArrayBuffer ? d.byteLength : (d as Uint8Array).byteLength;
    if (total < 0) {
      total = new DataView(d as ArrayBuffer).getFloat64(0);
      return;
    }
    got += bytes;
    if (got >= total) conn.send(new Uint8Array([1]));
  });
}
