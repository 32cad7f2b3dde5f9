/** Every other device in the room: status, RTT, the detector's current threshold. */
import { LitElement, css, html } from 'lit';
import type { PeerView } from '../core/views.js';
import { STATUS_COLOURS, card } from './theme.js';

function ms(v: number | null): string {
  return v === null ? '–' : v < 10 ? v.toFixed(1) : v.toFixed(0);
}

function ago(epochMs: number): string {
  const s = Math.max(0, Math.round((Date.now() - epochMs) / 1000));
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m ${s % 60}s`;
}

/** A peer that flooded this device: how many of its frames went past the rate limit, and whether it is shut out now. */
function flooding(p: PeerView) {
  const left = p.cutOffUntil === null ? 0 : Math.ceil((p.cutOffUntil - Date.now()) / 1000);
  if (!p.limited && left <= 0) return null;
  const what = [p.limited ? `${p.limited} over the rate limit` : '', left > 0 ? `cut off, back in ${left}s` : ''].filter(Boolean).join('; ');
  return html`<br /><span class="warn" data-testid="flooding" title="a device sending more than an honest one could: frames past its rate limit are dropped unread, and past the cut-off it is disconnected and refused for a while">flooding: ${what}</span>`;
}

export class PeerTable extends LitElement {
  static properties = { peers: { attribute: false } };
  declare peers: PeerView[];

  static styles = [card, css`
    table { width: 100%; border-collapse: collapse; }
    th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid color-mix(in srgb, CanvasText 10%, transparent); white-space: nowrap; }
    th { font-weight: 600; font-size: 12px; opacity: .7; }
    td.num { text-align: right; font-variant-numeric: tabular-nums; }
    .empty { padding: 10px 0; }
    .warn { color: #b07400; }
    /* a phone: each device becomes a small card of labelled values instead of a wide row */
    @media (max-width: 600px) {
      thead { display: none; }
      table, tbody { display: block; }
      tr { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 4px 10px; padding: 8px 0; border-bottom: 1px solid color-mix(in srgb, CanvasText 10%, transparent); }
      td { display: block; padding: 0; border: none; white-space: normal; overflow-wrap: anywhere; }
      td.num { text-align: left; }
      td:first-child { grid-column: 1 / -1; }
      td[data-label]::before { content: attr(data-label); display: block; font-size: 11px; opacity: .6; }
    }
  `];

  constructor() {
    super();
    this.peers = [];
  }

  render() {
    return html`<section class="card">
      <h2>Devices in the room</h2>
      ${this.peers.length === 0
        ? html`<p class="empty muted">No other device yet. Open the share link on another browser or phone.</p>`
        : html`<table>
            <thead><tr><th>Device</th><th>Status</th><th>Compute</th><th class="num">RTT ms</th><th class="num">Threshold ms</th><th>For</th><th class="num" title="chance it stays up over the next minute, from its uptime and failures in this room">Availability</th><th class="num">Bad frames</th></tr></thead>
            <tbody>
              ${this.peers.map((p) => html`<tr
                data-testid="peer"
                data-device-id=${p.deviceId}
                data-status=${p.status}
                data-backend=${p.backend ?? ''}
                data-rtt-ms=${p.rttMs === null ? '' : p.rttMs.toFixed(2)}
                data-threshold-ms=${p.thresholdMs.toFixed(1)}
                data-warm=${String(p.warm)}
                data-dropped=${String(p.dropped)}
                data-rate-limited=${String(p.limited)}
                data-cut-off-until=${p.cutOffUntil ?? ''}
                data-name=${p.name}
                data-availability=${p.availability.toFixed(4)}
                title=${p.reason}
              >
                <td>${p.status === 'rejected' ? html`<span class="muted">unknown device</span>` : p.name}<br /><span class="mono muted">${p.deviceId}</span></td>
                <td data-label="Status"><span class="pill" style="background:${STATUS_COLOURS[p.status]}">${p.status}</span>
                  ${p.status === 'rejected' ? html`<br /><span class="muted">${p.reason}</span>` : null}</td>
                <td data-label="Compute">${p.backend === 'webgpu' ? 'WebGPU' : p.backend === 'wasm' ? 'WASM' : '–'}</td>
                <td class="num" data-label="RTT ms">${ms(p.rttMs)}</td>
                <td class="num" data-label="Threshold ms">${ms(p.thresholdMs)}${p.warm ? '' : html`<br /><span class="muted">default</span>`}</td>
                <td data-label="For">${ago(p.since)}</td>
                <td class="num" data-label="Availability">${p.status === 'rejected' ? '–' : `${(100 * p.availability).toFixed(1)} %`}${p.failures ? html`<br /><span class="muted">${p.failures} failure${p.failures === 1 ? '' : 's'}</span>` : null}</td>
                <td class="num" data-label="Bad frames">${p.dropped}${flooding(p)}</td>
              </tr>`)}
            </tbody>
          </table>`}
    </section>`;
  }
}
customElements.define('peer-table', PeerTable);

declare global {
  interface HTMLElementTagNameMap {
    'peer-table': PeerTable;
  }
}
