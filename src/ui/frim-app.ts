/** The dashboard, in the order of the work: devices, model, offloading, asking the room, events. */
import { LitElement, css, html } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import type { DeviceClient } from '../page/device-client.js';
import { screenNames } from '../core/device-name.js';
import './device-card.js';
import './event-log.js';
import './model-panel.js';
import './peer-table.js';
import './placement-panel.js';
import './inference-panel.js';
import './rtt-chart.js';
import './share-panel.js';
import { card } from './theme.js';

export class FrimApp extends LitElement {
  static properties = { client: { attribute: false }, error: { type: String }, room: { type: String }, modelError: { state: true } };
  declare client: DeviceClient | null;
  declare error: string | null;
  declare room: string;
  /** the last problem with a model the user gave; the dashboard keeps working */
  declare modelError: string | null;
  private readonly onChange = () => this.requestUpdate();

  static styles = [card, css`
    /* one column whose cards may be narrower than their widest table: those scroll inside the card */
    :host { display: grid; grid-template-columns: minmax(0, 1fr); gap: 12px; max-width: 1180px; margin: 0 auto; padding: 14px; box-sizing: border-box; }
    header { display: flex; align-items: baseline; gap: 12px; flex-wrap: wrap; }
    h1 { font-size: 20px; margin: 0; }
    .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(340px, 100%), 1fr)); gap: 12px; }
    .charts { display: flex; flex-wrap: wrap; gap: 10px; }
    .error { border: 1px solid #d6383a; background: color-mix(in srgb, #d6383a 12%, Canvas); padding: 10px 14px; border-radius: 10px; font-weight: 600; overflow-wrap: anywhere; }
    @media (max-width: 480px) { :host { padding: 8px; gap: 8px; } }
  `];

  constructor() {
    super();
    this.client = null;
    this.error = null;
    this.room = '';
    this.modelError = null;
    this.addEventListener('frim-error', (e) => (this.modelError = e.detail));
    this.addEventListener('frim-offload', (e) => {
      this.client?.offload(e.detail);
    });
    this.addEventListener('frim-target', (e) => this.client?.setTarget(e.detail));
    this.addEventListener('frim-budget', (e) => this.client?.setBudget(e.detail));
    this.addEventListener('frim-forget', () => this.client?.forget());
    this.addEventListener('frim-rename', (e) => this.client?.rename(e.detail));
    this.addEventListener('frim-leave-room', (e) => this.client?.leaveRoom(e.detail));
    this.addEventListener('frim-classify', (e) => this.client?.classify(e.detail));
    this.addEventListener('frim-infer', (e) => {
      const { count, ratePerSec, mode, batch } = e.detail;
      this.client?.infer(count, ratePerSec, mode, [], batch);
    });
    // a model file dropped anywhere on the page
    this.addEventListener('dragover', (e) => e.preventDefault());
    this.addEventListener('drop', (e) => void this.onDrop(e));
  }

  private async onDrop(e: DragEvent): Promise<void> {
    e.preventDefault();
    const files = [...(e.dataTransfer?.files ?? [])];
    const panel = this.renderRoot.querySelector('model-panel');
    if (!files.length || !panel) return;
    // a picture dropped on the page is a question for the room, not a model
    const asker = this.renderRoot.querySelector('inference-panel');
    if (files.length === 1 && files[0].type.startsWith('image/') && asker) return asker.classifyFile(files[0]);
    // a model, with its data files if its weights are kept outside the .onnx
    await panel.open(files);
  }

  protected updated(changed: Map<string, unknown>): void {
    if (changed.has('client')) {
      (changed.get('client') as DeviceClient | null)?.removeEventListener('change', this.onChange);
      this.client?.addEventListener('change', this.onChange);
    }
  }

  render() {
    const c = this.client;
    const s = c?.snapshot;
    const error = this.error ?? c?.fatal ?? this.modelError ?? c?.notice ?? null;
    const devices = 1 + (s?.peers.filter((p) => p.status === 'alive').length ?? 0);
    const peers = s?.peers ?? [];
    // this device's own name counts too: a peer called the same is told apart from it
    const names = screenNames([...peers, ...(c?.deviceId ? [{ deviceId: c.deviceId, name: c.name }] : [])]);
    const charted = peers.filter((p) => s?.series[p.deviceId]);
    const room = s?.offload ? { devices: s.offload.devices.filter((d) => d.alive && (d.self || d.announced)).map((d) => ({ budget: d.budget, availability: d.availability })), target: s.offload.target } : null;
    // the order of the work: who is here, the model, where its copies went, asking the room, what happened
    return html`
      <header><h1>frim-mesh</h1>${this.room ? html`<span class="muted">room <b class="mono">${this.room}</b></span>` : null}</header>
      ${error ? html`<div class="error" data-testid="error" role="alert">${error}</div>` : null}
      ${c ? html`
        <div class="grid">
          <device-card .deviceId=${c.deviceId ?? ''} .name=${c.name} .platform=${c.opts.platform} .backend=${c.opts.backend.backend} .backendDetail=${c.opts.backend.detail}
            .leader=${c.leader} .workerKind=${c.workerKind} .snapshot=${s ?? null} .wake=${c.wake} .wakeState=${c.wake.state} .runtime=${c.runtime}></device-card>
          <share-panel .link=${`${location.origin}${location.pathname}${location.hash}`}></share-panel>
        </div>
        <peer-table .peers=${peers}></peer-table>
        ${charted.length ? html`<section class="card"><h2>Heartbeat RTT and detection threshold</h2>
          <div class="charts">${repeat(charted, (p) => p.deviceId, (p) => html`<rtt-chart .peer=${p} .series=${s!.series[p.deviceId]}></rtt-chart>`)}</div></section>` : null}
        <model-panel .backend=${c.opts.backend.backend} .devices=${devices} .room=${room}></model-panel>
        <placement-panel .view=${s?.offload ?? null} .names=${names}></placement-panel>
        <inference-panel .view=${s?.inference ?? null} .hasModel=${!!s?.offload?.model} .variant=${s?.offload?.model?.variant ?? null}></inference-panel>
        <event-log .events=${s?.events ?? []} .names=${names}></event-log>
      ` : null}
    `;
  }
}
customElements.define('frim-app', FrimApp);

declare global {
  interface HTMLElementTagNameMap {
    'frim-app': FrimApp;
  }
}
