/** This device: its name (the user's to change), compute backend, tab role, and how it detects failures. */
import { LitElement, css, html } from 'lit';
import { checkDeviceName, MAX_NAME_LENGTH } from '../core/device-name.js';
import type { DeviceSnapshot, SignallingView, WorkerKind } from '../core/views.js';
import { hmacProvider } from '../mesh/hmac.js';
import type { RuntimeState } from '../page/device-client.js';
import type { WakeLockSwitch, WakeState } from '../page/wake-lock.js';
import { emit } from './events.js';
import { card } from './theme.js';

export class DeviceCard extends LitElement {
  static properties = {
    deviceId: { type: String }, name: { type: String }, platform: { type: String }, backend: { type: String }, backendDetail: { type: String },
    leader: { type: Boolean }, workerKind: { type: String }, snapshot: { attribute: false }, problem: { state: true },
    wake: { attribute: false }, wakeState: { type: String }, runtime: { attribute: false },
  };
  /** onnxruntime in this tab's compute worker (the leader tab's), or null */
  declare runtime: RuntimeState | null;
  /** the tab's screen wake lock, and its state (passed apart so a change re-renders) */
  declare wake: WakeLockSwitch | null;
  declare wakeState: string;
  declare deviceId: string;
  declare name: string;
  declare platform: string;
  declare backend: string;
  declare backendDetail: string;
  declare leader: boolean;
  declare workerKind: WorkerKind | '';
  declare snapshot: DeviceSnapshot | null;
  /** why the name typed last cannot be used */
  declare problem: string | null;

  static styles = [card, css`
    dl { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 3px 12px; margin: 0; }
    dt { opacity: .65; }
    dd { margin: 0; overflow-wrap: anywhere; }
    input { font: inherit; font-weight: 600; width: 100%; max-width: 18em; box-sizing: border-box; padding: 2px 6px; border: 1px solid transparent; border-radius: 6px; background: transparent; color: inherit; }
    input:hover, input:focus { border-color: color-mix(in srgb, CanvasText 30%, transparent); background: Canvas; }
    .warn { color: #b07400; }
    .bad { color: #c0392b; }
    .problem { color: #d6383a; font-size: 12px; }
    .head { display: flex; align-items: baseline; justify-content: space-between; gap: 8px; }
    .leave { font: inherit; font-size: 12px; }
    .out { color: #b07400; margin: 0 0 8px; }
  `];

  constructor() {
    super();
    this.deviceId = '';
    this.name = '';
    this.platform = '';
    this.backend = '';
    this.backendDetail = '';
    this.leader = false;
    this.workerKind = '';
    this.snapshot = null;
    this.problem = null;
    this.wake = null;
    this.wakeState = '';
    this.runtime = null;
  }

  private commit(input: HTMLInputElement): void {
    const name = checkDeviceName(input.value);
    if (typeof name !== 'string') {
      this.problem = name.problem;
      return;
    }
    this.problem = null;
    input.value = name;
    if (name !== this.name) emit(this, 'frim-rename', name);
  }

  render() {
    const s = this.snapshot;
    const inRoom = s?.inRoom !== false;
    return html`<section class="card" data-testid="self" data-device-id=${this.deviceId} data-name=${this.name} data-backend=${this.backend} data-role=${this.leader ? 'leader' : 'follower'} data-worker=${this.workerKind} data-in-room=${String(inRoom)}>
      <div class="head"><h2>This device</h2>
      ${inRoom
        ? html`<button class="leave" data-testid="leave-room" title="Close this device's connections on purpose: the others know at once it left, run its work elsewhere and copy what it held to the devices that stay"
            @click=${() => emit(this, 'frim-leave-room', true)}>Leave the room</button>`
        : null}</div>
      ${inRoom ? null : html`<p class="out" role="status">This device left the room: it holds no connections and serves no one.
            <button data-testid="rejoin-room" @click=${() => emit(this, 'frim-leave-room', false)}>Rejoin</button></p>`}
      <dl>
        <dt><label for="name">Name</label></dt><dd>
          <input id="name" data-testid="device-name" .value=${this.name} maxlength=${MAX_NAME_LENGTH * 2} enterkeyhint="done" autocomplete="off" spellcheck="false"
            title="What other devices call this one. Type a new name and press Enter."
            @change=${(e: Event) => this.commit(e.target as HTMLInputElement)}
            @keydown=${(e: KeyboardEvent) => e.key === 'Enter' && (e.target as HTMLInputElement).blur()} />
          ${this.problem ? html`<div class="problem" data-testid="device-name-problem" role="alert">${this.problem}</div>` : null}
        </dd>
        <dt>Browser</dt><dd>${this.platform}</dd>
        <dt>Device id</dt><dd class="mono">${this.deviceId || '…'}</dd>
        <dt>Compute</dt><dd>${this.backendDetail || '…'}${runtimeLine(this.runtime)}</dd>
        <dt>This tab</dt><dd>${this.leader ? 'holds the connections (leader tab)' : 'follows the leader tab'}${s && s.tabs > 1 ? ` · ${s.tabs} tabs open` : ''}</dd>
        <dt>Failures</dt><dd>${this.workerKind === 'shared'
          ? 'detected in a SharedWorker shared by this browser’s tabs'
          : html`<span class="warn">detected in this tab’s own worker (no SharedWorker here): each tab is a separate device</span>`}</dd>
        <dt>Signalling</dt><dd>${signallingLine(s?.signalling)}</dd>
        <dt>Room proof</dt><dd>HMAC-SHA256 via ${hmacProvider}${isSecureContext ? '' : html` <span class="warn">(not a secure page: no WebGPU, no WebCrypto)</span>`}</dd>
        <dt>Stay awake</dt><dd>${wakeLine(this.wake)}</dd>
        <dt>Heartbeat</dt><dd>every ${s?.heartbeatMs ?? 250} ms${s && s.droppedTotal ? html` · <span class="warn">${s.droppedTotal} bad frames dropped</span>` : null}</dd>
      </dl>
    </section>`;
  }
}
/** The "keep this device awake" switch, and what the browser made of it. */
function wakeLine(w: WakeLockSwitch | null) {
  if (!w) return null;
  const words: Record<WakeState, string> = { off: 'off: a locked screen freezes this tab, and the room takes that for a failure', on: 'on: the screen stays on while this tab is shown', waiting: w.reason, refused: w.reason, unsupported: `not available: ${w.reason}` };
  return html`<label data-testid="wake-lock" data-state=${w.state}>
    <input type="checkbox" data-testid="wake-lock-switch" .checked=${w.state === 'on' || w.state === 'waiting'} ?disabled=${w.state === 'unsupported'}
      @change=${(e: Event) => void w.set((e.target as HTMLInputElement).checked)} />
    Keep this device awake</label>
    <div class=${w.state === 'refused' || w.state === 'unsupported' ? 'warn' : 'muted'} data-testid="wake-lock-reason">${words[w.state]}</div>`;
}

/** The line to the signalling server in the user's words; while it is away, since when and how many reconnects. */
function signallingLine(v: SignallingView | undefined) {
  const at = v?.since ? new Date(v.since).toLocaleTimeString() : '';
  const attrs = (body: unknown) => html`<span data-testid="signalling" data-state=${v?.state ?? 'connecting'} data-attempts=${v?.attempts ?? 0}>${body}</span>`;
  switch (v?.state) {
    case 'open': return attrs('connected to the server');
    case 'lost': return attrs(html`<span class="warn" role="status">server unreachable since ${at}${v.attempts ? ` · reconnect attempt ${v.attempts}` : ''}</span><br /><span class="muted">devices already connected stay connected; new ones can join once it is back</span>`);
    case 'refused': return attrs(html`<span class="bad" role="alert">${v.detail}</span>`);
    default: return attrs('connecting to the server…');
  }
}

customElements.define('device-card', DeviceCard);

declare global {
  interface HTMLElementTagNameMap {
    'device-card': DeviceCard;
  }
}

/** Whether this tab's onnxruntime is up: a copy placed here loads at once only when it is. */
function runtimeLine(r: RuntimeState | null) {
  if (!r) return null;
  const text = r.state === 'starting' ? 'onnxruntime starting…'
    : r.state === 'ready' ? `onnxruntime ready (started in ${((r.ms ?? 0) / 1000).toFixed(1)} s)${r.error ? `; ${r.error}` : ''}`
    : `onnxruntime did not start: ${r.error}`;
  return html` · <span data-testid="runtime" data-state=${r.state} data-ms=${r.ms === null ? '' : Math.round(r.ms)} class=${r.state === 'failed' ? 'bad' : r.error ? 'warn' : ''}>${text}</span>`;
}
