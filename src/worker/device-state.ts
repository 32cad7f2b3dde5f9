/**
 * The device's view of the room: one failure detector per peer (FRIM 4.1), statuses, RTT and
 * threshold history, and the event log. Owned by the device worker so it survives a change of
 * leader tab. Time comes in through `Clock`, so tests drive it directly.
 */
import { availability } from '../core/availability.js';
import { FailureDetector, type DetectorConfig, type Transition } from '../core/detector.js';
import { CUT_OFF, HANDOVER_GRACE_MS, OFFLOADING, REMEMBERED_DEVICES, TAB_LAG } from '../core/policy.js';
import type { Backend } from '../core/protocol.js';
import { RATE_LIMITED } from '../core/device-protocol.js';
import { seedFromString } from '../core/rng.js';
import type { DeviceSnapshot, EventKind, MeshEvent, PeerSeries, PeerView } from '../core/views.js';

/** A peer as offloading and inference see it. */
export interface PeerState {
  deviceId: string;
  name: string;
  status: PeerView['status'];
  availability: number;
  rttMs: number | null;
}

/** A suspected device still counts: its copies and stages are not written off before the detector declares it failed. */
export const isUp = (status: PeerState['status']): boolean => status === 'alive' || status === 'suspected';

export interface Clock {
  /** monotonic ms, for the detector */
  mono(): number;
  /** wall-clock ms, for events and plots */
  epoch(): number;
}

interface PeerRecord {
  view: PeerView;
  detector: FailureDetector | null;
  series: PeerSeries;
  /** monotonic ms of uptime banked from earlier stays, and when the current stay began (null while failed) */
  uptimeMs: number;
  upSince: number | null;
  /** when it was last declared failed, and how many of its failures were brief outages (OFFLOADING.briefOutageMs) */
  failedAt: number | null;
  brief: number;
  /** well-formed frames from it this device could not use, in the second that began at `at` (monotonic) */
  unusable: { at: number; n: number };
  /** when it said another of its tabs takes its connections over (monotonic), until the new link is up */
  handoverAt: number | null;
}

const MAX_EVENTS = 300;
/** drops of one kind from one peer within this window share one log line with a count */
const DROP_LINE_MS = 2000;
const SERIES_SECONDS = 90;

export class DeviceState {
  private readonly peers = new Map<string, PeerRecord>();
  private readonly events: MeshEvent[] = [];
  private eventSeq = 0;
  private droppedTotal = 0;
  /** the user took this device out of the room: its connections are closed and no peer is judged */
  away = false;
  /** when the oldest tick the leader tab has not confirmed was sent (monotonic), or null */
  private tickAwaited: number | null = null;
  /** the log line each kind of drop went to last (bounded: entries older than DROP_LINE_MS go) */
  private readonly dropLines = new Map<string, { event: MeshEvent; count: number; head: string }>();
  /** set whenever something the dashboard shows has changed */
  dirty = true;
  /** told when a peer joins, fails or comes back, so redundancy can adapt at once */
  onMembership: ((deviceId: string, change: 'joined' | 'failed' | 'recovered') => void) | null = null;
  /** told when a peer sends more unusable frames than an honest one could (CUT_OFF.unusablePerSecond) */
  onFlooding: ((deviceId: string, reason: string) => void) | null = null;

  constructor(
    readonly deviceId: string,
    readonly room: string,
    private readonly detectorConfig: DetectorConfig,
    private readonly clock: Clock,
  ) {}

  /** Makes room for one more device: the one failed or refused longest ago goes (never a live one). */
  private forgetOldestDeparted(): void {
    let oldest: PeerRecord | null = null;
    for (const r of this.peers.values()) if ((r.view.status === 'failed' || r.view.status === 'rejected') && (!oldest || r.view.since < oldest.view.since)) oldest = r;
    if (oldest) this.peers.delete(oldest.view.deviceId);
  }

  log(kind: EventKind, deviceId: string | null, detail: string): void {
    this.events.push({ seq: ++this.eventSeq, at: this.clock.epoch(), kind, deviceId, detail });
    if (this.events.length > MAX_EVENTS) this.events.splice(0, this.events.length - MAX_EVENTS);
    this.dirty = true;
  }

  private record(deviceId: string): PeerRecord {
    let rec = this.peers.get(deviceId);
    if (!rec) {
      if (this.peers.size >= REMEMBERED_DEVICES) this.forgetOldestDeparted();
      rec = {
        view: { deviceId, name: deviceId, backend: null, status: 'alive', rttMs: null, thresholdMs: this.detectorConfig.defaultThresholdMs, warm: false, dropped: 0, limited: 0, cutOffUntil: null, availability: availability({ uptimeSec: 0, failures: 0 }), failures: 0, since: this.clock.epoch(), reason: '' },
        detector: null,
        series: { t: [], rtt: [], threshold: [] },
        uptimeMs: 0,
        upSince: null,
        failedAt: null,
        brief: 0,
        unusable: { at: -Infinity, n: 0 },
        handoverAt: null,
      };
      this.peers.set(deviceId, rec);
    }
    return rec;
  }

  /** A verified connection to `deviceId` is up (first join, or a rejoin through a new tab). */
  linkUp(deviceId: string, name: string, backend: Backend): void {
    const known = this.peers.get(deviceId);
    const rec = this.record(deviceId);
    rec.view.name = name;
    rec.view.backend = backend;
    rec.view.cutOffUntil = null;
    if (rec.detector && rec.handoverAt !== null) {
      // silence counts from now, not from the old tab's last heartbeat
      const now = this.clock.mono();
      rec.detector.excuse(now - rec.detector.lastReplyAt);
      this.log('moved', deviceId, `moved its connections to another of its tabs in ${Math.round(now - rec.handoverAt)} ms`);
      rec.handoverAt = null;
    }
    if (!rec.detector) {
      rec.detector = new FailureDetector(this.detectorConfig, seedFromString(`${this.deviceId}>${deviceId}`), this.clock.mono());
      rec.upSince = this.clock.mono();
      this.setStatus(rec, 'alive', '');
      this.log('joined', deviceId, known?.view.status === 'rejected' ? 'joined after proving the room key' : 'joined the room');
    }
    this.dirty = true;
    // also on a rejoin through a new tab: the peer needs the room's state again
    this.onMembership?.(deviceId, 'joined');
  }

  /**
   * A verified peer's leader tab is closing and another of its tabs takes over: its detector waits
   * for the new link (at most HANDOVER_GRACE_MS) instead of suspecting it meanwhile.
   */
  handover(deviceId: string): void {
    const rec = this.peers.get(deviceId);
    if (!rec?.detector || rec.view.status !== 'alive' || rec.handoverAt !== null) return;
    rec.handoverAt = this.clock.mono();
    this.log('handover', deviceId, `its tab closed; another of its tabs takes over the connections (not checked for up to ${HANDOVER_GRACE_MS / 1000} s)`);
  }

  /** Whether `rec` is in a handover's grace at `now` (and ends one that ran out). */
  private inHandover(rec: PeerRecord, now: number): boolean {
    if (rec.handoverAt === null) return false;
    if (now - rec.handoverAt < HANDOVER_GRACE_MS) return true;
    rec.handoverAt = null;
    this.log('handover', rec.view.deviceId, `no tab of it took over within ${HANDOVER_GRACE_MS / 1000} s; its silence counts from its last heartbeat`);
    return false;
  }

  /** A verified peer has a new name. */
  renamed(deviceId: string, name: string): void {
    const rec = this.peers.get(deviceId);
    if (!rec || rec.view.name === name) return;
    this.log('renamed', deviceId, `${rec.view.name} is now called ${name}`);
    rec.view.name = name;
    this.dirty = true;
  }

  /** `arrivedAt`: when the pong reached the tab, on the monotonic clock (defaults to now). */
  rtt(deviceId: string, rttMs: number, arrivedAt = this.clock.mono()): void {
    const rec = this.peers.get(deviceId);
    if (!rec?.detector) return;
    const tr = rec.detector.reply(Math.min(arrivedAt, this.clock.mono()), rttMs);
    rec.view.rttMs = rttMs;
    rec.view.thresholdMs = rec.detector.thresholdMs;
    rec.view.warm = rec.detector.warm;
    this.sample(rec);
    if (tr) this.applyTransition(rec, tr);
    this.dirty = true;
  }

  /** Runs every detector's silence check; returns true when some status changed. */
  check(): boolean {
    const now = this.clock.mono();
    if (this.away || this.deaf(now)) return false;
    let changed = false;
    for (const rec of this.peers.values()) {
      if (!rec.detector || this.inHandover(rec, now)) continue;
      for (const tr of rec.detector.check(now)) {
        this.applyTransition(rec, tr);
        changed = true;
      }
    }
    return changed;
  }

  /** This device could not send heartbeats for `ms` (its worker stalled): excuse every peer's silence over that gap. */
  excuse(ms: number, who = "this device's worker"): void {
    for (const rec of this.peers.values()) rec.detector?.excuse(ms);
    if (ms >= TAB_LAG.loggedMs) this.log('leader', null, `${who} stalled for ${Math.round(ms)} ms; peers' silence over that gap is not held against them`);
  }

  /**
   * The leader tab was asked to ping now. Until it confirms, it neither sent the pings nor
   * read the pongs: a tab starved for most of a second (a flood, a busy machine) is this device
   * not listening, and the silence it hears is its own, not its peers'.
   */
  tickSent(): void {
    this.tickAwaited ??= this.clock.mono();
  }

  /** The leader tab confirmed the pings asked of it: a lag past TAB_LAG.excusedMs is excused. */
  tickAnswered(): void {
    if (this.tickAwaited === null) return;
    const lag = this.clock.mono() - this.tickAwaited;
    this.tickAwaited = null;
    if (lag > TAB_LAG.excusedMs) this.excuse(lag, "this device's tab that holds its connections");
  }

  /** The leader tab is gone: nothing is awaited from it any more. */
  tickForgotten(): void {
    this.tickAwaited = null;
  }

  /** Whether the leader tab is late confirming its pings at `now` (no peer is judged meanwhile). */
  deaf(now: number): boolean {
    return this.tickAwaited !== null && now - this.tickAwaited > TAB_LAG.excusedMs;
  }

  /**
   * The user takes this device out of the room, or back in. Out, it judges nobody (it hears
   * nobody); back, every peer's silence counts from now. Returns whether anything changed.
   */
  setAway(away: boolean): boolean {
    if (away === this.away) return false;
    this.away = away;
    const now = this.clock.mono();
    if (!away) for (const rec of this.peers.values()) if (rec.detector) rec.detector.excuse(now - rec.detector.lastReplyAt);
    this.log(away ? 'left' : 'joined', null, away ? 'this device left the room: its connections are closed until you rejoin' : 'this device rejoined the room');
    return true;
  }

  /** Earliest monotonic time at which `check` can change anything. */
  nextCheckAt(): number {
    if (this.away) return Infinity;
    let next = Infinity;
    for (const rec of this.peers.values()) {
      if (rec.detector) next = Math.min(next, rec.handoverAt !== null ? rec.handoverAt + HANDOVER_GRACE_MS : rec.detector.nextCheckAt());
    }
    // while the leader tab is deaf, look again in a heartbeat interval (its answer triggers a check too)
    const now = this.clock.mono();
    if (Number.isFinite(next) && this.deaf(now)) next = Math.max(next, now + this.detectorConfig.heartbeatMs);
    return next;
  }

  rejected(deviceId: string | null, peerId: string, reason: string): void {
    const id = deviceId ?? peerId;
    const rec = this.record(id);
    if (rec.detector && rec.view.status !== 'failed') {
      // a verified device is never downgraded by an unverified connection claiming its id
      this.log('rejected', id, `a connection claiming to be ${rec.view.name} was refused: ${reason}`);
      return;
    }
    if (rec.view.status !== 'rejected') this.log('rejected', id, reason);
    this.setStatus(rec, 'rejected', reason);
  }

  dropped(deviceId: string | null, peerId: string, reason: string, detail: string, count = 1): void {
    this.droppedTotal += count;
    const rec = deviceId ? this.peers.get(deviceId) : undefined;
    if (rec) rec.view.dropped += count;
    if (rec && reason === RATE_LIMITED) rec.view.limited += count;
    // a flood is one line with a running count, not a log scrolled away by one line per frame
    const now = this.clock.epoch();
    const head = `${reason} from ${deviceId ?? peerId}: ${detail}`;
    // one line per reason and kind of detail: a flood of random bytes differs in every byte
    const key = `${deviceId ?? peerId}\n${reason}\n${detail.split(':')[0]}`;
    const line = this.dropLines.get(key);
    if (line && now - line.event.at < DROP_LINE_MS && this.events.includes(line.event)) {
      line.count += count;
      line.event.at = now;
      line.event.detail = `${line.count} × ${head}`;
      line.head = head;
      this.dirty = true;
      return;
    }
    if (this.dropLines.size >= 64) for (const [k, l] of this.dropLines) if (now - l.event.at >= DROP_LINE_MS) this.dropLines.delete(k);
    this.log('dropped', deviceId, count > 1 ? `${count} × ${head}` : head);
    if (this.dropLines.size < 64) this.dropLines.set(key, { event: this.events[this.events.length - 1], count, head });
  }

  /**
   * A well-formed frame from a verified peer that this device cannot use (an answer to a request it
   * never made, a chunk it never asked for): dropped and counted like any other, and past
   * CUT_OFF.unusablePerSecond in one second the peer is reported as flooding, once per second.
   */
  unusable(deviceId: string, reason: string, detail: string): void {
    this.dropped(deviceId, deviceId, reason, detail);
    const rec = this.peers.get(deviceId);
    if (!rec?.detector) return;
    const now = this.clock.mono();
    if (now - rec.unusable.at >= 1000) rec.unusable = { at: now, n: 0 };
    if (++rec.unusable.n === CUT_OFF.unusablePerSecond + 1) this.onFlooding?.(deviceId, `${rec.unusable.n} frames it could not use in one second (${detail})`);
  }

  /**
   * `deviceId` left on purpose: its last tab said so as it closed, or closed its connection while
   * the network between us was up (a crash or a lost network closes nothing in time). Failed at
   * once, with its stages re-issued and its copies replaced; a device handing its connections to
   * another of its tabs is not leaving. Returns whether its status changed.
   */
  departed(deviceId: string, how: string): boolean {
    const rec = this.peers.get(deviceId);
    if (!rec?.detector || rec.handoverAt !== null) return false;
    const tr = rec.detector.depart(this.clock.mono());
    if (!tr) return false;
    this.markFailed(rec, tr.at, 'left', 'left the room', how);
    return true;
  }

  /** The data channel closed. Informational unless it was the peer's own clean close (`departed`): a channel can stay open to a dead device for a long time, so heartbeats decide the rest. */
  linkDown(deviceId: string, reason: string, cutOffMs = 0): void {
    const rec = this.peers.get(deviceId);
    if (!rec?.detector) return;
    this.log('closed', deviceId, `connection closed (${reason})`);
    if (cutOffMs > 0) rec.view.cutOffUntil = this.clock.epoch() + cutOffMs;
  }

  ice(deviceId: string, state: string): void {
    if (state === 'disconnected' || state === 'failed' || state === 'closed') this.log('ice', deviceId, `ICE ${state}`);
  }

  private applyTransition(rec: PeerRecord, tr: Transition): void {
    const d = rec.detector!;
    const silentMs = Math.round(tr.at - d.lastReplyAt);
    if (tr.to === 'suspected') {
      this.setStatus(rec, 'suspected', `silent ${silentMs} ms > T + h`);
      this.log('suspected', rec.view.deviceId, `silent for ${silentMs} ms (T = ${Math.round(d.thresholdMs)} ms)`);
    } else if (tr.to === 'failed') {
      this.markFailed(rec, tr.at, 'failed', `silent ${silentMs} ms`, `declared failed after ${silentMs} ms of silence (T = ${Math.round(d.thresholdMs)} ms)`);
    } else {
      rec.upSince ??= tr.at;
      this.setStatus(rec, 'alive', '');
      const away = tr.from === 'failed' && rec.failedAt !== null ? tr.at - rec.failedAt : Infinity;
      const brief = away < OFFLOADING.briefOutageMs;
      if (brief) rec.brief++;
      const note = brief ? ` after ${(away / 1000).toFixed(1)} s: busy, not gone, so not held against its availability` : '';
      this.log(tr.from === 'failed' ? 'recovered' : 'cleared', rec.view.deviceId, tr.from === 'failed' ? `answers again${note}` : 'late reply, suspicion cleared');
      if (tr.from === 'failed') this.onMembership?.(rec.view.deviceId, 'recovered');
    }
  }

  /** Its stay ended with its last answer; logged, and offloading and inference hear of it. */
  private markFailed(rec: PeerRecord, at: number, kind: EventKind, reason: string, detail: string): void {
    const d = rec.detector!;
    rec.uptimeMs += Math.max(0, Math.min(at, d.lastReplyAt) - (rec.upSince ?? d.lastReplyAt));
    rec.upSince = null;
    rec.view.failures++;
    rec.failedAt = at;
    this.setStatus(rec, 'failed', reason);
    this.log(kind, rec.view.deviceId, detail);
    this.onMembership?.(rec.view.deviceId, 'failed');
  }

  private setStatus(rec: PeerRecord, status: PeerView['status'], reason: string): void {
    if (rec.view.status !== status) rec.view.since = this.clock.epoch();
    rec.view.status = status;
    rec.view.reason = reason;
    this.dirty = true;
  }

  private sample(rec: PeerRecord): void {
    const s = rec.series;
    const t = this.clock.epoch() / 1000;
    s.t.push(t);
    s.rtt.push(rec.view.rttMs);
    s.threshold.push(rec.view.thresholdMs);
    let cut = 0;
    while (cut < s.t.length && s.t[cut] < t - SERIES_SECONDS) cut++;
    if (cut) {
      s.t.splice(0, cut);
      s.rtt.splice(0, cut);
      s.threshold.splice(0, cut);
    }
  }

  /** Verified peers as the detector sees them now, with a_d brought up to date. */
  peerStates(): PeerState[] {
    const now = this.clock.mono();
    const out = [];
    for (const [id, rec] of this.peers) {
      if (!rec.detector) continue;
      const uptimeMs = rec.uptimeMs + (rec.upSince === null ? 0 : now - rec.upSince);
      rec.view.availability = availability({ uptimeSec: uptimeMs / 1000, failures: rec.view.failures - rec.brief });
      out.push({ deviceId: id, name: rec.view.name, status: rec.view.status, availability: rec.view.availability, rttMs: rec.view.rttMs });
    }
    return out;
  }

  snapshot(self: Omit<DeviceSnapshot, 'deviceId' | 'room' | 'peers' | 'events' | 'droppedTotal' | 'series'>): DeviceSnapshot {
    const series: Record<string, PeerSeries> = {};
    this.peerStates();
    for (const [id, rec] of this.peers) if (rec.detector) series[id] = rec.series;
    return {
      ...self,
      deviceId: this.deviceId,
      room: this.room,
      peers: [...this.peers.values()].map((r) => ({ ...r.view })),
      events: this.events.slice(-100),
      droppedTotal: this.droppedTotal,
      series,
    };
  }
}
