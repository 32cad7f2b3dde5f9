/**
 * What the server lets in. It is reachable by anything on the LAN, so every way in is bounded:
 * signalling sockets and room feeds per room, per address and in all, and each signalling message
 * by size, by rate and by staying inside its sender's room (a tab cannot offer a connection to
 * another room's devices through us).
 */
import type { IncomingMessage } from 'node:http';
import { WebSocket, WebSocketServer, type RawData, type ServerOptions } from 'ws';
import { parsePeerId } from '../src/core/ids.js';
import { RateBucket } from '../src/core/rate.js';

export interface ServerLimits {
  /** open PeerJS sockets (one per device's leader tab) */
  socketsPerAddress: number;
  socketsPerRoom: number;
  sockets: number;
  /** open room feeds (server-sent events, one per leader tab) */
  feedsPerAddress: number;
  feedsPerRoom: number;
  feeds: number;
  /** one signalling message (an SDP offer with its candidates is a few KiB) */
  signalBytes: number;
  /** a tab joining a room of 30 sends about 150 messages at once; a steady one a heartbeat per 5 s */
  signalBurst: number;
  signalsPerSecond: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  socketsPerAddress: 32,
  socketsPerRoom: 64,
  sockets: 2048,
  feedsPerAddress: 32,
  feedsPerRoom: 64,
  feeds: 2048,
  signalBytes: 64 * 1024,
  signalBurst: 400,
  signalsPerSecond: 50,
};

/** Things open under several keys at once; a new one is refused when any of its keys is at its bound. */
export class OpenCounts {
  private readonly open = new Map<string, number>();

  /** A release function, or the key that is full. */
  tryOpen(bounds: readonly (readonly [key: string, max: number])[]): (() => void) | { full: string } {
    const full = bounds.find(([k, max]) => (this.open.get(k) ?? 0) >= max);
    if (full) return { full: full[0] };
    for (const [k] of bounds) this.open.set(k, (this.open.get(k) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const [k] of bounds) {
        const n = this.open.get(k)! - 1;
        if (n > 0) this.open.set(k, n);
        else this.open.delete(k);
      }
    };
  }

  count(key: string): number {
    return this.open.get(key) ?? 0;
  }
}

const FULL_MESSAGES: Record<string, (limits: ServerLimits) => string> = {
  address: (l) => `this address is full: ${l.socketsPerAddress} devices from one address is the most this server takes`,
  room: (l) => `this room is full: ${l.socketsPerRoom} devices is the most this server takes in one room`,
  all: (l) => `the server is full: ${l.sockets} devices is the most it takes`,
};

/** The messages a PeerJS client sends its server (the server itself sends OPEN, ERROR, EXPIRE…). */
const CLIENT_MESSAGES = new Set(['HEARTBEAT', 'OFFER', 'ANSWER', 'CANDIDATE', 'LEAVE']);

/** Why a signalling message from a tab of `room` is not relayed, or null when it is fine. */
export function signalProblem(data: RawData, room: string): string | null {
  let msg: unknown;
  try {
    msg = JSON.parse(String(data));
  } catch {
    return 'not JSON';
  }
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return 'not an object';
  const { type, dst } = msg as { type?: unknown; dst?: unknown };
  if (typeof type !== 'string' || !CLIENT_MESSAGES.has(type)) return 'unknown type';
  if (type === 'HEARTBEAT') return null;
  if (typeof dst !== 'string' || parsePeerId(dst)?.room !== room) return 'addressed outside its room';
  return null;
}

/** What the signalling guard has turned away since start (shown on /healthz). */
export interface GuardCounts {
  refusedSockets: number;
  droppedSignals: number;
  /** sockets that broke the protocol (an oversized frame, bad framing) and were closed */
  socketErrors: number;
}

/** A socket whose messages pass a check before PeerJS's own handler sees them. */
class CheckedSocket extends WebSocket {
  check: ((data: RawData) => boolean) | null = null;

  override emit(event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'message' && this.check && !this.check(args[0] as RawData)) return false;
    return super.emit(event, ...args);
  }
}

/** A WebSocket server that admits a connection before PeerJS registers it. */
class AdmittingServer extends WebSocketServer {
  admit: ((ws: CheckedSocket, req: IncomingMessage) => boolean) | null = null;

  override emit(event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'connection' && this.admit && !this.admit(args[0] as CheckedSocket, args[1] as IncomingMessage)) return true;
    return super.emit(event, ...args);
  }
}

/** PeerJS's ERROR message: the client reports it as a `server-error` with our sentence. */
function refuse(ws: WebSocket, why: string): void {
  ws.send(JSON.stringify({ type: 'ERROR', payload: { msg: why } }));
  ws.close(1008, 'refused');
}

/** The WebSocket server for the embedded PeerServer (its `createWebSocketServer` option). */
export function signallingServer(options: ServerOptions, limits: ServerLimits, counts: OpenCounts, seen: GuardCounts): WebSocketServer {
  const wss = new AdmittingServer({ ...options, maxPayload: limits.signalBytes, WebSocket: CheckedSocket });
  wss.admit = (ws, req) => {
    const id = new URL(req.url ?? '', 'http://x').searchParams.get('id') ?? '';
    const addr = parsePeerId(id);
    if (!addr) {
      seen.refusedSockets++;
      refuse(ws, 'this server only serves frim-mesh tabs (peer ids are frim-<room>-<device>-<tab>)');
      return false;
    }
    const address = req.socket.remoteAddress ?? 'unknown';
    const open = counts.tryOpen([[`address:${address}`, limits.socketsPerAddress], [`room:${addr.room}`, limits.socketsPerRoom], ['all', limits.sockets]]);
    if (typeof open !== 'function') {
      seen.refusedSockets++;
      refuse(ws, FULL_MESSAGES[open.full.split(':')[0]](limits));
      return false;
    }
    ws.once('close', open);
    const bucket = new RateBucket(limits.signalBurst, limits.signalsPerSecond, Date.now());
    ws.check = (data) => {
      const ok = bucket.take(Date.now()) && signalProblem(data, addr.room) === null;
      if (!ok) seen.droppedSignals++;
      return ok;
    };
    return true;
  };
  return wss;
}
