/**
 * One HTTP(S) server: the built app, the embedded PeerServer at /peerjs, and a per-room feed
 * of registered peers at /api/rooms/:room/peers (server-sent events). The server sees room
 * names and device ids, never room keys: those live in the link's fragment.
 */
import express from 'express';
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { ExpressPeerServer } from 'peer';
import { ROOM_RE } from '../src/core/ids.js';
import { DEFAULT_LIMITS, OpenCounts, signallingServer, type GuardCounts, type ServerLimits } from './guard.js';
import { RoomRegistry } from './rooms.js';

export interface AppOptions {
  dist: string;
  iceServers: RTCIceServer[];
  limits?: Partial<ServerLimits>;
}

export function createApp(server: HttpServer | HttpsServer, opts: AppOptions): { app: express.Express; rooms: RoomRegistry } {
  const app = express();
  const rooms = new RoomRegistry();
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const counts = new OpenCounts();
  const seen: GuardCounts = { refusedSockets: 0, droppedSignals: 0, socketErrors: 0 };
  let refusedFeeds = 0;
  app.disable('x-powered-by');

  const peerServer = ExpressPeerServer(server, {
    path: '/',
    alive_timeout: 20_000,
    allow_discovery: false,
    concurrent_limit: limits.sockets,
    createWebSocketServer: (o) => signallingServer(o, limits, counts, seen),
  });
  // a socket error (an oversized or broken frame from one tab) reaches here; unheard, it would end the process
  peerServer.on('error', () => void seen.socketErrors++);
  peerServer.on('connection', (client) => rooms.add(client.getId()));
  peerServer.on('disconnect', (client) => rooms.remove(client.getId()));
  app.use('/peerjs', peerServer);

  app.get('/healthz', (_req, res) => {
    res.json({ ok: true, rooms: rooms.roomCount, ...seen, refusedFeeds });
  });

  app.get('/api/config', (_req, res) => {
    res.json({ iceServers: opts.iceServers });
  });

  app.get('/api/rooms/:room/peers', (req, res) => {
    const room = req.params.room;
    if (!ROOM_RE.test(room)) {
      res.status(400).json({ error: 'room names are 4-32 lowercase letters and digits' });
      return;
    }
    const address = req.socket.remoteAddress ?? 'unknown';
    const release = counts.tryOpen([[`feed-address:${address}`, limits.feedsPerAddress], [`feed-room:${room}`, limits.feedsPerRoom], ['feeds', limits.feeds]]);
    if (typeof release !== 'function') {
      refusedFeeds++;
      res.status(429).json({ error: `too many open room feeds ${release.full.startsWith('feed-room') ? 'for this room' : release.full.startsWith('feed-address') ? 'from this address' : 'on this server'}` });
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write('retry: 1000\n\n');
    const off = rooms.subscribe(room, (ids) => res.write(`event: peers\ndata: ${JSON.stringify(ids)}\n\n`));
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    req.on('close', () => {
      clearInterval(keepAlive);
      off();
      release();
    });
  });

  app.use(express.static(opts.dist, {
    setHeaders(res, path) {
      // hashed assets are immutable; the page itself must always be fresh
      res.setHeader('cache-control', /[\\/]assets[\\/]/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache');
      // module workers and onnxruntime's loader refuse scripts and wasm served with a generic type
      if (path.endsWith('.mjs')) res.setHeader('content-type', 'text/javascript; charset=utf-8');
      if (path.endsWith('.wasm')) res.setHeader('content-type', 'application/wasm');
    },
  }));
  return { app, rooms };
}
