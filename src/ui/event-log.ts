/** The room's history as this device saw it, newest first. */
import { LitElement, css, html } from 'lit';
import type { MeshEvent } from '../core/views.js';
import { STATUS_COLOURS, card } from './theme.js';

const KIND_COLOUR: Record<string, string> = {
  joined: STATUS_COLOURS.alive,
  recovered: STATUS_COLOURS.alive,
  cleared: STATUS_COLOURS.alive,
  suspected: STATUS_COLOURS.suspected,
  failed: STATUS_COLOURS.failed,
  left: STATUS_COLOURS.failed,
  rejected: STATUS_COLOURS.rejected,
  dropped: '#9a6b3c',
};

export class EventLog extends LitElement {
  static properties = { events: { attribute: false }, names: { attribute: false } };
  declare events: MeshEvent[];
  declare names: Map<string, string>;

  static styles = [card, css`
    ol { list-style: none; margin: 0; padding: 0; max-height: 320px; overflow: auto; }
    li { display: grid; grid-template-columns: 80px 84px 1fr; gap: 8px; padding: 3px 0; border-bottom: 1px solid color-mix(in srgb, CanvasText 7%, transparent); }
    .kind { font-weight: 600; }
  `];

  constructor() {
    super();
    this.events = [];
    this.names = new Map();
  }

  render() {
    const rows = [...this.events].reverse();
    return html`<section class="card">
      <h2>Events</h2>
      <ol>
        ${rows.map((e) => html`<li data-testid="event" data-kind=${e.kind} data-device-id=${e.deviceId ?? ''}>
          <span class="mono muted">${new Date(e.at).toLocaleTimeString()}</span>
          <span class="kind" style="color:${KIND_COLOUR[e.kind] ?? 'inherit'}">${e.kind}</span>
          <span>${e.deviceId ? html`<b>${this.names.get(e.deviceId) ?? e.deviceId}</b> ` : null}${e.detail}</span>
        </li>`)}
      </ol>
    </section>`;
  }
}
customElements.define('event-log', EventLog);

declare global {
  interface HTMLElementTagNameMap {
    'event-log': EventLog;
  }
}
