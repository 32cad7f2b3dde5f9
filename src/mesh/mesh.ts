/**
 * The leader tab's side of the room: one PeerJS peer registered with our own signalling server,
 * room membership from the server's room feed, and one verified `Link` per remote device.
 *
 * Who dials: for every pair, the tab with the smaller PeerJS id dials at once; the other waits a
 * moment and dials only if nothing arrived, so a pair normally gets exactly one connection. When
 * both connections exist anyway, both sides keep the one the smaller id dialled.
 */
import Peer, { type DataConnection } from 'peerjs';
import type { HmacSha256 } from '../core/handshake.js';
import { fromBase64url, parsePeerId, toPeerId } from '../core/ids.js';
import { encodeFrame, roomTag, type Backend } from '../core/protocol.js';
import type { RoomCredentials } from '../core/share-link.js';
import type { TabToWorker } from '../core/device-protocol.js';
import type { SignallingView } from '../core/views.js';
import { flood, type FloodKind } from './flood.js';
import { CUT_OFF, REMEMBERED_DEVICES } from '../core/policy.js';
import { Link, type LinkContext } from './link.js';
import { BENCH_LABEL, acceptBaseline, sendBaseline } from './raw-channel-bench.js';

export interface MeshOptions {
  creds: RoomCredentials;
  deviceId: string;
  tabId: string;
  name: string;
  backend: Backend;
  hmac: HmacSha256;
  iceServers: RTCIceServer[];
  report(msg: TabToWorker): void;
  onRoomFrame(deviceId: string, data: ArrayBuffer): void;
  /** accept the raw-channel baseline of `npm run bench:replicas` (debug pages only) */
  benchmarks?: boolean;
  /** how long a flooder is refused, when not CUT_OFF.forMs (debug pages only: the flood e2e) */
  cutOffMs?: number;
}

const FALLBACK_DIAL_MS = 2500;
const REDIAL_MS = 1500;

export class Mesh {
  readonly peerId: string;
  private peer: Peer | null = null;
  private feed: EventSource | null = null;
  private readonly links = new Set<Link>();
  private listed = new Set<string>();
  private readonly refused = new Set<string>();
  /** devices cut off for flooding, until when (epoch ms) */
  private readonly refusedUntil = new Map<string, number>();
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private readonly ctx: LinkContext;
  private seq = 0;
  private stopped = false;
  /** the line to the signalling server, as the dashboard shows it */
  private signalling: SignallingView = { state: 'connecting', detail: '', attempts: 0, since: null };

  constructor(private readonly opts: MeshOptions) {
    this.peerId = toPeerId({ room: opts.creds.room, deviceId: opts.deviceId, tabId: opts.tabId });
    this.ctx = {
      room: opts.creds.room,
      tag: roomTag(opts.creds.room),
      key: fromBase64url(opts.creds.key),
      self: { deviceId: opts.deviceId, name: opts.name, backend: opts.backend },
      hmac: opts.hmac,
      report: opts.report,
      onVerified: (l) => this.onVerified(l),
      onClosed: (l) => this.onClosed(l),
      lastLinkTo: (l) => !this.verifiedLinks().some((o) => o !== l && o.remote?.deviceId === l.remote?.deviceId),
      onRoomFrame: (l, data) => opts.onRoomFrame(l.remote!.deviceId, data),
      cutOffMs: opts.cutOffMs ?? CUT_OFF.forMs,
    };
  }

  start(): void {
    this.setSignalling({ state: 'connecting', detail: '' });
    const secure = location.protocol === 'https:';
    const peer = new Peer(this.peerId, {
      host: location.hostname,
      port: Number(location.port) || (secure ? 443 : 80),
      path: '/peerjs',
      secure,
      config: { iceServers: this.opts.iceServers },
      debug: 0,
    });
    this.peer = peer;
    peer.on('open', () => {
      this.setSignalling({ state: 'open', detail: '', attempts: 0, since: null });
      this.subscribe();
    });
    peer.on('connection', (conn) => this.accept(conn));
    peer.on('disconnected', () => {
      // a refusal is the server's answer, not an outage: asking again gets the same one
      if (this.stopped || peer.destroyed || this.signalling.state === 'refused') return;
      const s = this.signalling;
      this.setSignalling({ state: 'lost', detail: 'the signalling server is unreachable: devices already connected stay connected; new ones cannot join until it is back', since: s.since ?? Date.now() });
      this.later(() => {
        if (this.stopped || peer.destroyed || !peer.disconnected) return;
        this.setSignalling({ attempts: this.signalling.attempts + 1 });
        peer.reconnect();
      }, REDIAL_MS);
    });
    peer.on('error', (e) => {
      // a peer that left between listing and dialling is routine, not an error
      if (e.type === 'peer-unavailable') return;
      // each failed reconnect ends in a network error: the state says it already
      if (e.type === 'network' && this.signalling.state === 'lost') return;
      // the server turned this tab away (not a frim id, the room or this address is full) and said why
      if (e.type === 'server-error') return this.setSignalling({ state: 'refused', detail: `the signalling server refused this tab: ${e.message}`, since: Date.now() });
      this.opts.report({ kind: 'signalling', ...this.signalling, detail: `${e.type}: ${e.message}` });
      // our id is still registered from this tab's last session (the server has not yet seen that
      // socket go): PeerJS gives up on a first connection refused so, so dial again with a new Peer
      if (e.type === 'unavailable-id') this.later(() => !this.stopped && this.peer === peer && peer.destroyed && this.start(), REDIAL_MS);
    });
  }

  /**
   * Gives up the connections. Every peer is told why first: `handover`, another tab of this device
   * takes them over; `leaving`, the device leaves the room (its last tab closes, or its user left);
   * `quiet`, nothing (this tab is no longer the leader: another took over while it stalled).
   */
  stop(why: 'handover' | 'leaving' | 'quiet' = 'quiet'): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.feed?.close();
    for (const l of this.verifiedLinks()) {
      if (why === 'handover') l.send({ type: 'handover' });
      if (why === 'leaving') l.send({ type: 'leaving', deviceId: this.ctx.self.deviceId });
    }
    const reason = { handover: 'another tab of this device takes the connections over', leaving: 'this device left the room', quiet: 'tab gave up the connections' }[why];
    for (const l of [...this.links]) l.close(reason);
    this.peer?.destroy();
  }

  /** This device has a new name: every verified peer hears it now, later ones in the handshake. */
  rename(name: string): void {
    this.ctx.self.name = name;
    for (const l of this.verifiedLinks()) l.sendInfo();
  }

  /** One heartbeat round to every verified link (the worker's clock calls this). */
  heartbeat(): void {
    this.seq++;
    for (const l of this.links) l.ping(this.seq);
  }

  /** Frames for one device, over its verified link, in order and paced (false when there is no such link). */
  sendTo(deviceId: string, frames: Uint8Array[]): boolean {
    const link = this.verifiedLinks().find((l) => l.remote?.deviceId === deviceId);
    link?.sendQueued(frames);
    return !!link;
  }

  /** Benchmark baseline: `bytes` over a raw channel to the device's leader tab; ms until acknowledged. */
  rawBaseline(deviceId: string, bytes: number): Promise<number> {
    const link = this.verifiedLinks().find((l) => l.remote?.deviceId === deviceId);
    if (!link || !this.peer) return Promise.reject(new Error(`no verified link to ${deviceId}`));
    return sendBaseline(this.peer, link.peerId, bytes);
  }

  verifiedLinks(): Link[] {
    return [...this.links].filter((l) => l.verified);
  }

  /** The device worker found a peer sending what nobody can use: its links close, and it is refused for a while. */
  cutOff(deviceId: string, reason: string): void {
    for (const l of this.links) if (l.remote?.deviceId === deviceId) l.cutOff(reason);
  }

  /** Fault switch: sends a volley of malformed frames to every verified peer. */
  sendGarbage(): number {
    const tag = this.ctx.tag;
    const valid = encodeFrame({ type: 'ping', seq: 1, t: 1 }, tag);
    const wrongVersion = valid.slice();
    wrongVersion[1] = 99;
    const wrongRoom = encodeFrame({ type: 'ping', seq: 1, t: 1 }, tag ^ 0xffff);
    const liar = valid.slice();
    new DataView(liar.buffer).setUint32(8, 1 << 30);
    const oversized = new Uint8Array(200 * 1024);
    oversized.set(valid.subarray(0, 16));
    const frames = [crypto.getRandomValues(new Uint8Array(64)), valid.subarray(0, 9), wrongVersion, wrongRoom, liar, oversized, new TextEncoder().encode('{"type":"ping"}')];
    let sent = 0;
    for (const l of this.verifiedLinks()) for (const f of frames) { l.sendRaw(f); sent++; }
    return sent;
  }

  private setSignalling(change: Partial<SignallingView>): void {
    this.signalling = { ...this.signalling, ...change };
    this.opts.report({ kind: 'signalling', ...this.signalling });
  }

  /** Fault switch: tells every verified peer other than `deviceId` that `deviceId` is leaving (a forged departure); returns to how many. */
  forgeDeparture(deviceId: string): number {
    const links = this.verifiedLinks().filter((l) => l.remote?.deviceId !== deviceId);
    for (const l of links) l.send({ type: 'leaving', deviceId });
    return links.length;
  }

  /** Fault switch: floods every verified peer with frames of one kind for `ms` (see flood.ts). */
  flood(kind: FloodKind, ms: number, perSecond?: number): Promise<number> {
    return flood(this.verifiedLinks(), kind, ms, this.ctx.tag, this.opts.deviceId, perSecond);
  }

  private later(fn: () => void, ms: number): void {
    const t = setTimeout(() => { this.timers.delete(t); fn(); }, ms);
    this.timers.add(t);
  }

  /** Room membership comes from our server's per-room feed of registered PeerJS ids. */
  private subscribe(): void {
    if (this.feed) return;
    this.feed = new EventSource(`/api/rooms/${encodeURIComponent(this.opts.creds.room)}/peers`);
    this.feed.addEventListener('peers', (ev) => {
      let ids: unknown;
      try { ids = JSON.parse((ev as MessageEvent<string>).data); } catch { return; }
      if (!Array.isArray(ids)) return;
      this.listed = new Set(ids.filter((x): x is string => typeof x === 'string' && x !== this.peerId && parsePeerId(x)?.room === this.opts.creds.room));
      for (const id of this.listed) this.considerDial(id);
    });
  }

  private hasLink(peerId: string): boolean {
    for (const l of this.links) if (l.peerId === peerId && l.state !== 'closed') return true;
    return false;
  }

  private considerDial(peerId: string): void {
    if (this.stopped || this.refused.has(peerId) || this.isCutOff(peerId) || this.hasLink(peerId)) return;
    if (this.peerId < peerId) return this.dial(peerId);
    this.later(() => {
      if (this.listed.has(peerId) && !this.hasLink(peerId)) this.dial(peerId);
    }, FALLBACK_DIAL_MS);
  }

  private dial(peerId: string): void {
    if (!this.peer || this.peer.destroyed || this.peer.disconnected) return;
    const conn = this.peer.connect(peerId, { serialization: 'raw', reliable: true });
    if (conn) this.links.add(new Link(conn, true, this.ctx));
  }

  private accept(conn: DataConnection): void {
    const remote = parsePeerId(conn.peer);
    if (!remote || remote.room !== this.opts.creds.room) {
      this.opts.report({ kind: 'rejected', deviceId: null, peerId: conn.peer, reason: 'connection from outside this room' });
      conn.close();
      return;
    }
    if (this.isCutOff(conn.peer)) {
      conn.close();
      return;
    }
    if (conn.label === BENCH_LABEL) {
      if (this.opts.benchmarks) acceptBaseline(conn);
      else conn.close();
      return;
    }
    this.links.add(new Link(conn, false, this.ctx));
  }

  private onVerified(link: Link): void {
    const device = link.remote!.deviceId;
    for (const other of this.links) {
      if (other === link || other.remote?.deviceId !== device || other.state === 'closed') continue;
      if (other.peerId !== link.peerId) {
        // the device moved its connections to a new tab: the newest verified link wins
        other.close('replaced by a newer tab of the same device');
        continue;
      }
      const keepOutgoing = this.peerId < link.peerId;
      const loser = link.outgoing === keepOutgoing ? other : link;
      loser.close('duplicate connection');
    }
  }

  private onClosed(link: Link): void {
    this.links.delete(link);
    if (link.wasRejected) {
      if (this.refused.size >= REMEMBERED_DEVICES) this.refused.delete(this.refused.values().next().value!);
      this.refused.add(link.peerId);
    }
    if (link.flooding && link.remote) this.refusedUntil.set(link.remote.deviceId, Date.now() + this.ctx.cutOffMs);
    if (this.stopped) return;
    this.later(() => {
      if (this.listed.has(link.peerId)) this.considerDial(link.peerId);
    }, link.flooding ? this.ctx.cutOffMs : REDIAL_MS);
  }

  /** Whether a device is serving a cut-off for flooding (and forgets ended ones). */
  private isCutOff(peerId: string): boolean {
    const device = parsePeerId(peerId)?.deviceId;
    const until = device ? this.refusedUntil.get(device) : undefined;
    if (until === undefined) return false;
    if (Date.now() < until) return true;
    this.refusedUntil.delete(device!);
    return false;
  }
}
