/**
 * The server's own surface, tried against a real server on loopback: peer ids, room names, bounds
 * on open sockets and feeds, signalling messages that leave their room, floods, oversized
 * messages and path traversal.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, get, type Server } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createApp } from './app.js';
import type { ServerLimits } from './guard.js';

const SECRET = 'frim-secret-beside-dist';
const open: { server: Server; dir: string; sockets: WebSocket[] }[] = [];

async function serve(limits: Partial<ServerLimits> = {}): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'frim-server-'));
  mkdirSync(join(dir, 'dist', 'assets'), { recursive: true });
  writeFileSync(join(dir, 'dist', 'index.html'), '<!doctype html><title>frim</title>');
  writeFileSync(join(dir, 'secret.txt'), SECRET);
  writeFileSync(join(dir, 'dist', '.env'), SECRET);
  const server = createServer();
  const { app } = createApp(server, { dist: join(dir, 'dist'), iceServers: [], limits });
  server.on('request', app);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  open.push({ server, dir, sockets: [] });
  return `127.0.0.1:${(server.address() as { port: number }).port}`;
}

afterEach(async () => {
  for (const { server, dir, sockets } of open.splice(0)) {
    for (const s of sockets) s.terminate();
    server.closeAllConnections();
    await new Promise((ok) => server.close(ok));
    rmSync(dir, { recursive: true, force: true });
  }
});

const peerId = (room: string, n: number) => `frim-${room}-device${String(n).padStart(6, '0')}-tab${String(n).padStart(5, '0')}`;

interface Signalling {
  ws: WebSocket;
  /** the server's first message: OPEN, or ERROR with its sentence */
  first: Promise<{ type: string; payload?: { msg: string } }>;
  received: { type: string; src?: string }[];
  closed: Promise<number>;
}

function dialSignalling(host: string, id: string): Signalling {
  const ws = new WebSocket(`ws://${host}/peerjs/peerjs?key=peerjs&id=${encodeURIComponent(id)}&token=t0k3n`);
  open.at(-1)!.sockets.push(ws);
  const received: Signalling['received'] = [];
  const first = new Promise<Signalling['received'][number]>((ok) => ws.once('message', (d) => ok(JSON.parse(String(d)))));
  ws.on('message', (d) => received.push(JSON.parse(String(d))));
  const closed = new Promise<number>((ok) => ws.once('close', ok));
  ws.on('error', () => undefined);
  return { ws, first, received, closed };
}

async function admitted(s: Signalling): Promise<void> {
  expect(await s.first).toEqual({ type: 'OPEN' });
}

function getJson(host: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; close(): void }> {
  return new Promise((ok, fail) => {
    const req = get(`http://${host}${path}`, { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
        // an event stream stays open: answer once its first event is in
        if (res.headers['content-type']?.startsWith('text/event-stream') && body.includes('event: peers')) ok({ status: res.statusCode!, body, close: () => req.destroy() });
      });
      res.on('end', () => ok({ status: res.statusCode!, body, close: () => undefined }));
    });
    req.on('error', fail);
  });
}

/** A request line sent byte for byte, as a hostile client would (no URL normalisation on the way). */
function rawGet(host: string, target: string): Promise<{ status: number; text: string }> {
  const [h, port] = host.split(':');
  return new Promise((ok, fail) => {
    const sock = connect(Number(port), h, () => sock.write(`GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
    let text = '';
    sock.setEncoding('utf8');
    sock.on('data', (c: string) => (text += c));
    sock.on('end', () => ok({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text }));
    sock.on('error', fail);
  });
}

const settle = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

describe('signalling sockets', () => {
  it('admit frim peer ids and refuse anything else with a sentence the tab shows', async () => {
    const host = await serve();
    await admitted(dialSignalling(host, peerId('kitchen', 1)));
    for (const id of ['evil', 'frim-Kitchen-device000001-tab00001', 'frim-kitchen-../../etc-tab00001', `frim-${'a'.repeat(33)}-device000001-tab00001`]) {
      const s = dialSignalling(host, id);
      expect(await s.first).toEqual({ type: 'ERROR', payload: { msg: expect.stringMatching(/only serves frim-mesh tabs/) } });
      expect(await s.closed).toBe(1008);
    }
    expect(JSON.parse((await getJson(host, '/healthz')).body)).toMatchObject({ refusedSockets: 4 });
  });

  it('are bounded per room, per address and in all, and a closed one frees its place', async () => {
    const host = await serve({ socketsPerRoom: 2, socketsPerAddress: 3, sockets: 100 });
    const a1 = dialSignalling(host, peerId('rooma', 1));
    await admitted(a1);
    await admitted(dialSignalling(host, peerId('rooma', 2)));
    const a3 = dialSignalling(host, peerId('rooma', 3));
    expect((await a3.first).payload?.msg).toMatch(/this room is full: 2 devices/);
    await admitted(dialSignalling(host, peerId('roomb', 4)));
    const c = dialSignalling(host, peerId('roomc', 5));
    expect((await c.first).payload?.msg).toMatch(/this address is full: 3 devices/);
    a1.ws.close();
    await a1.closed;
    await settle(50);
    await admitted(dialSignalling(host, peerId('roomc', 6)));

    const all = await serve({ sockets: 1 });
    await admitted(dialSignalling(all, peerId('roomd', 7)));
    expect((await dialSignalling(all, peerId('roome', 8)).first).payload?.msg).toMatch(/the server is full: 1 devices/);
  });

  it('relay offers inside a room only, drop a flood past its rate, and close on an oversized message', async () => {
    const host = await serve({ signalBurst: 5, signalsPerSecond: 1, signalBytes: 4096 });
    const [a, b, stranger] = [dialSignalling(host, peerId('rooma', 1)), dialSignalling(host, peerId('rooma', 2)), dialSignalling(host, peerId('roomb', 3))];
    await Promise.all([a, b, stranger].map(admitted));
    a.ws.send(JSON.stringify({ type: 'OFFER', dst: peerId('roomb', 3), payload: { sdp: 'x' } }));
    a.ws.send(JSON.stringify({ type: 'EXPIRE', dst: peerId('rooma', 2), payload: {} }));
    a.ws.send('{not json');
    a.ws.send(JSON.stringify({ type: 'OFFER', dst: peerId('rooma', 2), payload: { sdp: 'x' } }));
    await settle(200);
    expect(stranger.received.map((m) => m.type)).toEqual(['OPEN']);
    expect(b.received.map((m) => m.type)).toEqual(['OPEN', 'OFFER']);

    // 2 of the burst of 5 remain: a flood of 50 gets 2 through (maybe 3 with the refill)
    for (let i = 0; i < 50; i++) a.ws.send(JSON.stringify({ type: 'CANDIDATE', dst: peerId('rooma', 2), payload: { i } }));
    await settle(300);
    const candidates = b.received.filter((m) => m.type === 'CANDIDATE').length;
    expect(candidates).toBeGreaterThanOrEqual(1);
    expect(candidates).toBeLessThanOrEqual(3);
    expect(JSON.parse((await getJson(host, '/healthz')).body).droppedSignals).toBeGreaterThanOrEqual(50);

    b.ws.send(JSON.stringify({ type: 'ANSWER', dst: peerId('rooma', 1), payload: { sdp: 'y'.repeat(8192) } }));
    expect(await b.closed).toBe(1009);
    expect(JSON.parse((await getJson(host, '/healthz')).body).socketErrors).toBe(1);
  });
});

describe('room feeds', () => {
  it('take valid room names only', async () => {
    const host = await serve();
    for (const room of ['..', '%2e%2e', '..%2f..%2fsecret.txt', 'Kitchen', 'abc', 'a'.repeat(33), 'room%00a', 'room%20a']) {
      const r = await getJson(host, `/api/rooms/${room}/peers`);
      expect(r.status, room).toBeGreaterThanOrEqual(400);
      expect(r.body).not.toContain(SECRET);
    }
    const ok = await getJson(host, '/api/rooms/kitchen/peers');
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('event: peers\ndata: []');
    ok.close();
  });

  it('are bounded per address and per room, and a forged X-Forwarded-For does not get round it', async () => {
    const host = await serve({ feedsPerAddress: 2, feedsPerRoom: 1 });
    const first = await getJson(host, '/api/rooms/rooma/peers');
    expect(first.status).toBe(200);
    const sameRoom = await getJson(host, '/api/rooms/rooma/peers');
    expect([sameRoom.status, JSON.parse(sameRoom.body).error]).toEqual([429, 'too many open room feeds for this room']);
    const second = await getJson(host, '/api/rooms/roomb/peers');
    expect(second.status).toBe(200);
    const forged = await getJson(host, '/api/rooms/roomc/peers', { 'x-forwarded-for': '10.9.8.7' });
    expect([forged.status, JSON.parse(forged.body).error]).toEqual([429, 'too many open room feeds from this address']);
    first.close();
    await settle(100);
    const again = await getJson(host, '/api/rooms/roomc/peers');
    expect(again.status).toBe(200);
    again.close();
    second.close();
    expect(JSON.parse((await getJson(host, '/healthz')).body).refusedFeeds).toBe(2);
  });
});

describe('static files', () => {
  it('serve the app and refuse every way out of its folder', async () => {
    const host = await serve();
    expect((await rawGet(host, '/index.html')).status).toBe(200);
    const attempts = [
      '/../secret.txt', '/..%2fsecret.txt', '/%2e%2e/secret.txt', '/%2e%2e%2fsecret.txt', '/assets/../../secret.txt',
      '/assets/%2e%2e/%2e%2e/secret.txt', '/..%5csecret.txt', '/%252e%252e/secret.txt', '/.env', '/assets/..%00/secret.txt',
      `http://${host}/../secret.txt`, '//secret.txt', '/peerjs/../../secret.txt',
    ];
    for (const target of attempts) {
      const r = await rawGet(host, target);
      expect(r.text, target).not.toContain(SECRET);
      expect(r.status, target).toBeGreaterThanOrEqual(400);
    }
  });
});
