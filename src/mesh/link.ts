/**
 * One data channel to one remote tab: binary framing, validation of every incoming frame, the
 * mutual room-key proof, and heartbeat answers. Heartbeats are answered right here in the
 * channel's message handler, never through a timer, so a hidden but healthy tab keeps its pace.
 */
import type { DataConnection } from 'peerjs';
import { equalBytes, proofTranscript, type HmacSha256 } from '../core/handshake.js';
import { parsePeerId, type PeerAddress } from '../core/ids.js';
import { HEADER_BYTES, NONCE_BYTES, decodeFrame, encodeFrame, peekKind, routeOf, type Backend, type Message } from '../core/protocol.js';
import { RATE_LIMITED, type TabToWorker } from '../core/device-protocol.js';
import { CUT_OFF, FRAME_BUDGET, HEARTBEAT_BUDGET } from '../core/policy.js';
import { RateBucket } from '../core/rate.js';
import { faults, pongDelayMs } from './faults.js';

export interface LinkContext {
  room: string;
  tag: number;
  key: Uint8Array;
  self: { deviceId: string; name: string; backend: Backend };
  hmac: HmacSha256;
  report(msg: TabToWorker): void;
  onVerified(link: Link): void;
  onClosed(link: Link): void;
  /** whether no other verified link to this link's device is open (a duplicate closing is no departure) */
  lastLinkTo(link: Link): boolean;
  /** a valid room frame (offloading or inference) from a verified peer, for the device worker */
  onRoomFrame(link: Link, data: ArrayBuffer): void;
  /** how long a flooder is refused (CUT_OFF.forMs; shorter on debug pages that ask) */
  cutOffMs: number;
}

/**
 * Bulk frames (replica chunks and activations) travel on a second data channel of the same
 * connection, negotiated out of band with a fixed stream id on both sides: SCTP schedules the two
 * streams side by side, so a heartbeat never waits behind megabytes of replica in a send buffer.
 */
const BULK_STREAM_ID = 1023;
/**
 * Heartbeats travel on a third channel, unordered, and given up after BEAT_LIFETIME_MS: a heartbeat
 * that late is a heartbeat lost. On a reliable channel a network outage queued every ping and
 * pong, and the device's return delivered them all at once, past the heartbeat rate limit. A
 * lifetime, not `maxRetransmits: 0`: SCTP keeps a message it has never sent, however old, and an
 * outage queues them all unsent.
 */
const BEAT_STREAM_ID = 1022;
const BEAT_LIFETIME_MS = 1000;
/** Flow control for bulk frames: stop queueing into the channel above HIGH, resume below LOW. */
const BUFFER_HIGH = 256 * 1024;
const BUFFER_LOW = 64 * 1024;

export type LinkState = 'connecting' | 'handshake' | 'verified' | 'rejected' | 'closed';

const HANDSHAKE_TIMEOUT_MS = 10_000;

/** Dropped frames are told to the worker in one report per reason every so often, not one per frame. */
const DROP_REPORT_MS = 250;
const DROP_KINDS_KEPT = 16;

export class Link {
  readonly remote: PeerAddress | null;
  state: LinkState = 'connecting';
  private readonly nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  private theirNonce: Uint8Array | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  remoteName = '';
  private informed = false;
  /** the room-key proof failed in either direction: do not dial this tab again */
  wasRejected = false;
  /** info that overtook our own verification of their proof (their side verified us first) */
  private earlyInfo: Extract<Message, { type: 'info' }> | null = null;
  /** room frames that overtook our verification of their proof (they verified us first) */
  private readonly early: ArrayBuffer[] = [];
  /** frames waiting for the channel's buffer to drain */
  private readonly queue: Uint8Array[] = [];
  private bulk: RTCDataChannel | null = null;
  private beat: RTCDataChannel | null = null;
  private readonly frames = new RateBucket(FRAME_BUDGET.burst, FRAME_BUDGET.perSecond, performance.now());
  private readonly heartbeats = new RateBucket(HEARTBEAT_BUDGET.burst, HEARTBEAT_BUDGET.perSecond, performance.now());
  /** drops not yet reported, by reason and detail (at most DROP_KINDS_KEPT kinds) */
  private readonly drops = new Map<string, { reason: string; detail: string; count: number }>();
  private dropTimer: ReturnType<typeof setTimeout> | undefined;
  /** this second's drops, for the cut-off */
  private second = { at: -Infinity, over: 0, overHeartbeats: 0, bad: 0 };
  /** closed for flooding: the mesh refuses this device for CUT_OFF.forMs */
  flooding = false;

  constructor(readonly conn: DataConnection, readonly outgoing: boolean, private readonly ctx: LinkContext) {
    this.remote = parsePeerId(conn.peer);
    conn.on('open', () => this.onOpen());
    conn.on('data', (d) => this.onFrame(d));
    conn.on('close', () => this.onClose('channel closed', this.networkUp()));
    conn.on('error', (e) => this.onClose(`channel error: ${e.type}`));
    // Our own listener: PeerJS replaces its handler with a no-op when it tears a connection down.
    conn.peerConnection?.addEventListener('iceconnectionstatechange', () => {
      if (this.remote) ctx.report({ kind: 'ice', deviceId: this.remote.deviceId, state: conn.peerConnection.iceConnectionState, at: Date.now() });
    });
    this.timer = setTimeout(() => {
      if (this.state !== 'verified') this.close(this.theirNonce ? 'no valid proof of the room key in time' : 'handshake timed out');
    }, HANDSHAKE_TIMEOUT_MS);
  }

  get peerId(): string {
    return this.conn.peer;
  }

  get verified(): boolean {
    return this.state === 'verified';
  }

  send(message: Message, payload?: Uint8Array): void {
    this.sendRaw(encodeFrame(message, this.ctx.tag, payload));
  }

  /** Sends bytes as they are; also used by the garbage-frame fault switch. */
  sendRaw(bytes: Uint8Array): void {
    const dc = this.conn.dataChannel;
    if (dc?.readyState === 'open') dc.send(bytes as Uint8Array<ArrayBuffer>);
  }

  /**
   * Sends frames in order without flooding the channel: whatever does not fit under the high-water
   * mark waits for `bufferedamountlow`. Heartbeats use `send` and overtake nothing already
   * queued here, so at most BUFFER_HIGH of bulk data is ever ahead of a ping (tens of ms on a LAN).
   */
  sendQueued(frames: Uint8Array[]): void {
    for (const f of frames) this.queue.push(faults.corruptChunks ? corrupted(f) : f);
    this.drain();
  }

  private drain(): void {
    // once there is a bulk channel everything queued goes there (wait for it to open): frames split
    // across two channels could overtake each other, a chunk arriving before its offer
    const dc = this.bulk && this.bulk.readyState !== 'closed' ? this.bulk : this.conn.dataChannel;
    if (!dc || dc.readyState !== 'open') return;
    if (dc.bufferedAmountLowThreshold !== BUFFER_LOW) {
      dc.bufferedAmountLowThreshold = BUFFER_LOW;
      dc.addEventListener('bufferedamountlow', () => this.drain());
    }
    while (this.queue.length && dc.bufferedAmount < BUFFER_HIGH) dc.send(this.queue.shift() as Uint8Array<ArrayBuffer>);
  }

  ping(seq: number): void {
    if (this.verified) this.sendBeat({ type: 'ping', seq, t: performance.now() });
  }

  /** A ping or pong on the heartbeat channel (the main one until it is open). */
  private sendBeat(message: Extract<Message, { type: 'ping' | 'pong' }>): void {
    if (this.beat?.readyState === 'open') this.beat.send(encodeFrame(message, this.ctx.tag) as Uint8Array<ArrayBuffer>);
    else this.send(message);
  }

  close(reason: string): void {
    if (this.state === 'closed') return;
    this.onClose(reason);
    this.conn.close();
  }

  private onOpen(): void {
    if (this.state !== 'connecting') return;
    this.state = 'handshake';
    this.openSideChannels();
    this.send({ type: 'hello', deviceId: this.ctx.self.deviceId, nonce: this.nonce });
  }

  private openSideChannels(): void {
    try {
      const bulk = this.conn.peerConnection.createDataChannel('frim-bulk', { negotiated: true, id: BULK_STREAM_ID, ordered: true });
      bulk.binaryType = 'arraybuffer';
      bulk.onmessage = (e) => this.onFrame(e.data);
      bulk.onopen = () => this.drain();
      this.bulk = bulk;
    } catch {
      // no second channel: bulk frames share the main one, paced all the same
      this.bulk = null;
    }
    try {
      const beat = this.conn.peerConnection.createDataChannel('frim-beat', { negotiated: true, id: BEAT_STREAM_ID, ordered: false, maxPacketLifeTime: BEAT_LIFETIME_MS });
      beat.binaryType = 'arraybuffer';
      beat.onmessage = (e) => this.onFrame(e.data, true);
      this.beat = beat;
    } catch {
      // heartbeats share the main channel
      this.beat = null;
    }
  }

  /** Whether ICE still had a path to the peer: a channel closed then was closed by the peer's own hand. */
  private networkUp(): boolean {
    const ice = this.conn.peerConnection?.iceConnectionState;
    return ice === 'connected' || ice === 'completed';
  }

  /** `byPeer`: the peer closed the channel itself while the network was up (it left), not us, a crash or an outage. */
  private onClose(reason: string, byPeer = false): void {
    if (this.state === 'closed') return;
    const wasVerified = this.state === 'verified';
    const departed = byPeer && wasVerified && !!this.remote && this.ctx.lastLinkTo(this);
    // while still verified, so the last drops count against the device, not an anonymous peer
    this.reportDrops();
    this.state = 'closed';
    this.queue.length = 0;
    this.bulk?.close();
    this.beat?.close();
    clearTimeout(this.timer);
    if (wasVerified && this.remote) this.ctx.report({ kind: 'link-down', deviceId: this.remote.deviceId, peerId: this.peerId, reason, cutOffMs: this.flooding ? this.ctx.cutOffMs : 0 });
    if (departed) this.ctx.report({ kind: 'peer-left', deviceId: this.remote!.deviceId, how: 'closed' });
    this.ctx.onClosed(this);
  }

  private drop(reason: string, detail: string): void {
    // one entry per reason and kind of detail ("magic: magic 0x73" and "magic: magic 0x11" are one kind)
    const kind = `${reason}\n${detail.split(':')[0]}`;
    const key = this.drops.has(kind) || this.drops.size < DROP_KINDS_KEPT ? kind : `${reason}\n…`;
    const d = this.drops.get(key);
    if (d) d.count++;
    else this.drops.set(key, { reason, detail: key.endsWith('…') ? 'further kinds, details not kept' : detail, count: 1 });
    this.dropTimer ??= setTimeout(() => this.reportDrops(), DROP_REPORT_MS);
  }

  /** Counts a drop against this second's allowance and cuts the peer off past it. */
  private judge(what: 'over' | 'overHeartbeats' | 'bad'): void {
    const now = performance.now();
    if (now - this.second.at >= 1000) this.second = { at: now, over: 0, overHeartbeats: 0, bad: 0 };
    const n = ++this.second[what];
    const limit = what === 'over' ? CUT_OFF.overBudgetPerSecond : what === 'overHeartbeats' ? CUT_OFF.overHeartbeatsPerSecond : CUT_OFF.badPerSecond;
    if (n <= limit) return;
    this.cutOff(what === 'bad' ? `${n} bad frames in one second` : `${n} ${what === 'over' ? 'frames' : 'heartbeats'} past its rate limit in one second`);
  }

  /** Closes the link to a flooding peer; the mesh refuses the device for `cutOffMs`. */
  cutOff(why: string): void {
    if (this.flooding || this.state === 'closed') return;
    this.flooding = true;
    this.close(`cut off for flooding: ${why}; refused for ${this.ctx.cutOffMs / 1000} s`);
  }

  private reportDrops(): void {
    clearTimeout(this.dropTimer);
    this.dropTimer = undefined;
    const deviceId = this.verified ? this.remote!.deviceId : null;
    for (const d of this.drops.values()) this.ctx.report({ kind: 'dropped', deviceId, peerId: this.peerId, reason: d.reason, detail: d.detail, count: d.count });
    this.drops.clear();
  }

  private reject(reason: string): void {
    if (this.state === 'closed' || this.state === 'rejected') return;
    this.send({ type: 'reject', reason });
    this.refused(reason);
  }

  private refused(reason: string): void {
    this.state = 'rejected';
    this.wasRejected = true;
    this.ctx.report({ kind: 'rejected', deviceId: this.remote?.deviceId ?? null, peerId: this.peerId, reason });
    // let the reject frame leave before the channel goes
    setTimeout(() => this.close(reason), 300);
  }

  /** `beat`: it came on the heartbeat channel, where nothing else belongs (it would overtake the frames before it). */
  private onFrame(data: unknown, beat = false): void {
    // what was in flight when the link closed (a cut-off flooder's backlog) is not counted again
    if (this.state === 'closed') return;
    const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : data instanceof Uint8Array ? data : null;
    const kind = bytes && peekKind(bytes);
    const heartbeat = kind === 'ping' || kind === 'pong';
    if (beat && !heartbeat) {
      this.drop('unexpected frame', `${kind ?? 'unreadable frame'} on the heartbeat channel`);
      if (this.verified) this.judge('bad');
      return;
    }
    if (!(heartbeat ? this.heartbeats : this.frames).take(performance.now())) {
      const b = heartbeat ? HEARTBEAT_BUDGET : FRAME_BUDGET;
      this.drop(RATE_LIMITED, `more than ${b.perSecond} ${heartbeat ? 'heartbeats' : 'frames'}/s`);
      return this.judge(heartbeat ? 'overHeartbeats' : 'over');
    }
    const d = decodeFrame(data, this.ctx.tag);
    if (!d.ok) {
      this.drop(d.error === 'oversized' ? 'oversized frame' : 'malformed frame', `${d.error}: ${d.detail}`);
      if (this.verified) this.judge('bad');
      if (d.error === 'room' && !this.verified) this.reject('this peer belongs to another room');
      return;
    }
    const m = d.message;
    if (routeOf(m.type) !== 'link') {
      const buf = data as ArrayBuffer | Uint8Array;
      const frame = buf instanceof ArrayBuffer ? buf : (buf.slice().buffer as ArrayBuffer);
      if (this.verified) return this.ctx.onRoomFrame(this, frame);
      // the other side may have verified us a moment before we verify it: hold a few, drop the rest
      if (this.state === 'handshake' && this.theirNonce && this.early.length < 16) this.early.push(frame);
      else this.drop('unverified frame', `${m.type} before the room key was proven`);
      return;
    }
    if (m.type === 'ping') {
      if (!this.verified || faults.mute) return;
      const delay = pongDelayMs();
      if (delay > 0) setTimeout(() => this.sendBeat({ type: 'pong', seq: m.seq, t: m.t }), delay);
      else this.sendBeat({ type: 'pong', seq: m.seq, t: m.t });
      return;
    }
    if (m.type === 'pong') {
      if (!this.verified) return;
      const rtt = performance.now() - m.t;
      if (rtt >= 0 && rtt < 120_000) this.ctx.report({ kind: 'rtt', deviceId: this.remote!.deviceId, rttMs: rtt, at: performance.timeOrigin + performance.now() });
      else this.drop('malformed frame', `pong carries an impossible send time (rtt ${rtt.toFixed(0)} ms)`);
      return;
    }
    if (m.type === 'reject') {
      if (this.state === 'rejected') return;
      this.refused(`the other side refused us: ${m.reason}`);
      return;
    }
    if (m.type === 'handover') {
      if (this.verified) this.ctx.report({ kind: 'peer-handover', deviceId: this.remote!.deviceId });
      return;
    }
    if (m.type === 'leaving') {
      if (!this.verified) return this.drop('unverified frame', 'a departure before the room key was proven');
      // a device speaks only for itself: a departure naming another is a try at evicting it
      if (m.deviceId !== this.remote!.deviceId) {
        this.drop('forged departure', `a departure for ${m.deviceId}, sent by ${this.remote!.deviceId}`);
        return this.judge('bad');
      }
      this.ctx.report({ kind: 'peer-left', deviceId: m.deviceId, how: 'said' });
      return;
    }
    if (m.type === 'hello') return void this.onHello(m.deviceId, m.nonce);
    if (m.type === 'proof') return void this.onProof(m.mac);
    if (m.type === 'info') {
      if (this.verified) return this.onInfo(m);
      if (this.state === 'handshake' && this.theirNonce && !this.earlyInfo) this.earlyInfo = m;
      else this.drop('unverified frame', 'info before the room key was proven');
    }
  }

  private onInfo(m: Extract<Message, { type: 'info' }>): void {
    // the first info brings the link up; a later one is the peer's new name
    const renamed = this.informed;
    this.informed = true;
    this.remoteName = m.name;
    if (renamed) this.ctx.report({ kind: 'peer-renamed', deviceId: this.remote!.deviceId, name: m.name });
    else this.ctx.report({ kind: 'link-up', deviceId: this.remote!.deviceId, peerId: this.peerId, name: m.name, backend: m.backend });
  }

  /** Tells the peer this device's name and backend (on verification, and again after a rename). */
  sendInfo(): void {
    this.send({ type: 'info', name: this.ctx.self.name, backend: this.ctx.self.backend });
  }

  private async onHello(deviceId: string, nonce: Uint8Array): Promise<void> {
    if (this.state !== 'handshake' || this.theirNonce) return this.drop('unexpected frame', 'hello outside the handshake');
    if (!this.remote || this.remote.room !== this.ctx.room) return this.reject('this peer belongs to another room');
    if (this.remote.deviceId !== deviceId) return this.reject('device id does not match its address');
    this.theirNonce = nonce;
    const mac = await this.ctx.hmac(this.ctx.key, proofTranscript(this.ctx.room, { deviceId: this.ctx.self.deviceId, nonce: this.nonce }, { deviceId, nonce }));
    this.send({ type: 'proof', mac });
  }

  private async onProof(mac: Uint8Array): Promise<void> {
    if (this.state !== 'handshake' || !this.theirNonce || !this.remote) return this.drop('unexpected frame', 'proof before hello');
    const expected = await this.ctx.hmac(this.ctx.key, proofTranscript(this.ctx.room, { deviceId: this.remote.deviceId, nonce: this.theirNonce }, { deviceId: this.ctx.self.deviceId, nonce: this.nonce }));
    if (this.state !== 'handshake') return;
    if (!equalBytes(mac, expected)) return this.reject('wrong room key: the proof did not verify');
    this.state = 'verified';
    clearTimeout(this.timer);
    this.sendInfo();
    this.ctx.onVerified(this);
    if (this.earlyInfo) this.onInfo(this.earlyInfo);
    this.earlyInfo = null;
    for (const f of this.early.splice(0)) this.ctx.onRoomFrame(this, f);
  }
}

/** The corruption fault: a replica chunk with one payload byte flipped; other frames pass untouched. */
function corrupted(frame: Uint8Array): Uint8Array {
  if (peekKind(frame) !== 'replica-chunk' || frame.length <= HEADER_BYTES + 1) return frame;
  const out = frame.slice();
  out[out.length - 1] ^= 0xff;
  return out;
}
