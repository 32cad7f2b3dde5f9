/**
 * The room's offloading at a glance (FRIM 4.2): which device holds which partition (verified,
 * arriving with a progress bar, or missing), each partition's dependability against the target on
 * a "nines" scale, the model's dependability, and this device's budget and cache.
 */
import { emit, type FrimEvents } from './events.js';
import { LitElement, css, html, nothing } from 'lit';
import { formatBytes } from '../core/format.js';
import type { OffloadView } from '../core/views.js';
import { card } from './theme.js';
import { batteryLow, type BatteryState } from '../core/availability.js';

const MiB = 1024 * 1024;

/** -log10(1 - D): 0.99 is 2 nines, 0.999 is 3. */
function nines(d: number): number {
  return d >= 1 ? 9 : -Math.log10(1 - d);
}

export class PlacementPanel extends LitElement {
  static properties = { view: { attribute: false }, names: { attribute: false } };
  declare view: OffloadView | null;
  declare names: Map<string, string>;

  static styles = [card, css`
    table { border-collapse: collapse; margin: 8px 0; }
    th, td { padding: 4px 8px; border-bottom: 1px solid color-mix(in srgb, CanvasText 10%, transparent); text-align: center; white-space: nowrap; }
    th:first-child, td:first-child { text-align: left; }
    th { font-size: 12px; font-weight: 600; opacity: .75; }
    .cell { display: inline-block; min-width: 70px; padding: 2px 6px; border-radius: 6px; font-size: 12px; }
    .verified { background: color-mix(in srgb, #2f9e62 25%, Canvas); }
    .transferring { background: color-mix(in srgb, #3572b0 18%, Canvas); }
    .missing { opacity: .35; }
    .warming { background: color-mix(in srgb, #2f9e62 10%, Canvas); font-style: italic; }
    .down { text-decoration: line-through; opacity: .5; }
    progress { width: 64px; height: 8px; }
    .bar { position: relative; width: 160px; height: 12px; background: color-mix(in srgb, CanvasText 8%, Canvas); border-radius: 3px; display: inline-block; vertical-align: middle; }
    .bar > span { position: absolute; left: 0; top: 0; bottom: 0; border-radius: 3px; }
    .bar > i { position: absolute; top: -2px; bottom: -2px; width: 2px; background: CanvasText; }
    .row { display: flex; gap: 16px; flex-wrap: wrap; align-items: center; margin: 6px 0; }
    input[type=number] { width: 7em; }
    .bad { color: #d6383a; font-weight: 600; }
    .good { color: #2f9e62; font-weight: 600; }
    @media (max-width: 600px) { .bar { width: 90px; } }
  `];

  constructor() {
    super();
    this.view = null;
    this.names = new Map();
  }

  private emit<K extends keyof FrimEvents>(name: K, detail: FrimEvents[K]): void {
    emit(this, name, detail);
  }

  private onTarget(e: Event): void {
    const v = Number((e.target as HTMLInputElement).value);
    if (v >= 0.5 && v < 1) this.emit('frim-target', v);
    else this.emit('frim-error', `The dependability target must be between 0.5 and 0.999999999, not “${(e.target as HTMLInputElement).value}”.`);
  }

  private onBudget(e: Event): void {
    const raw = (e.target as HTMLInputElement).value.trim();
    if (raw === '') return this.emit('frim-budget', null);
    const mib = Number(raw);
    if (Number.isFinite(mib) && mib >= 0) this.emit('frim-budget', Math.round(mib * MiB));
    else this.emit('frim-error', `The replica budget must be a number of MiB, not “${raw}”.`);
  }

  /** Copies loaded but not yet run: the room is usable, but those devices are passed over until they are warm. */
  private warmingNote(v: OffloadView) {
    const alive = new Set(v.devices.filter((d) => d.alive).map((d) => d.id));
    const warming = v.partitions.flatMap((p) => Object.entries(p.cells).filter(([id, c]) => alive.has(id) && c.state === 'verified' && c.backend && !c.warm));
    return html`<p class="muted" data-testid="warming" data-count=${warming.length}>${warming.length
      ? `${warming.length} ${warming.length === 1 ? 'copy is' : 'copies are'} warming up (a first run compiles the kernels); requests go to warm copies meanwhile.`
      : 'Every loaded copy is warm.'}</p>`;
  }

  private dependabilityBar(d: number, target: number) {
    const scale = Math.max(nines(target) * 1.5, 1);
    const fill = Math.min(1, nines(d) / scale);
    const colour = d >= target ? '#2f9e62' : '#d6383a';
    return html`<span class="bar" title=${`D = ${d.toFixed(6)} (${nines(d).toFixed(2)} nines); target ${target}`}>
      <span style=${`width:${(100 * fill).toFixed(1)}%;background:${colour}`}></span><i style=${`left:${((100 * nines(target)) / scale).toFixed(1)}%`}></i></span>`;
  }

  private name(id: string, self: boolean): string {
    return self ? 'this device' : this.names.get(id) ?? id;
  }

  render() {
    const v = this.view;
    if (!v) return html`<section class="card"><h2>Offloading</h2><p class="muted">Starting…</p></section>`;
    const devices = v.devices;
    return html`<section class="card" data-testid="offload" data-model=${v.model?.sha256 ?? ''} data-coordinator=${v.coordinator ?? ''}>
      <h2>Offloading</h2>
      <div class="row">
        <label title="per-partition dependability the room keeps: the chance at least one copy survives the next minute">Target θ:
          <input data-testid="target" type="number" min="0.5" max="0.999999999" step="0.0001" .value=${String(v.target)} @change=${this.onTarget} /></label>
        <label title=${`default: ${v.budget.from}`}>This device offers
          <input data-testid="budget" data-bytes=${v.budget.bytes} type="number" min="0" step="any" .value=${String(Number((v.budget.bytes / MiB).toFixed(2)))} @change=${this.onBudget} /> MiB
          <span data-testid="budget-source" data-user=${v.budget.user} data-storage-limited=${!!v.budget.storageLimited} data-battery-low=${!!v.budget.batteryLow} class=${v.budget.storageLimited || v.budget.batteryLow ? 'warn' : 'muted'}>(${v.budget.user && !v.budget.batteryLow ? 'set here' : v.budget.from}; ${formatBytes(v.used)} used)</span></label>
        <button data-testid="forget-models" @click=${() => this.emit('frim-forget', null)} title="delete every replica this browser keeps">Forget models</button>
      </div>
      <div class="row muted" data-testid="replica-bytes" data-received=${v.bytesReceived} data-sent=${v.bytesSent} data-mismatches=${v.mismatches} data-resumes=${v.resumes}>
        replica bytes received ${formatBytes(v.bytesReceived)} · sent ${formatBytes(v.bytesSent)}
        ${v.mismatches ? html` · <span class="bad">${v.mismatches} corrupt chunk${v.mismatches === 1 ? '' : 's'} caught</span>` : null}
        ${v.resumes ? html` · ${v.resumes} transfer${v.resumes === 1 ? '' : 's'} resumed` : null}
        ${v.coordinator ? html` · decisions by ${this.name(v.coordinator, devices.find((d) => d.id === v.coordinator)?.self ?? false)}` : null}
      </div>
      ${!v.model
        ? html`<p class="muted">${v.waitingForManifest ? 'The room serves a model; its manifest is on its way.' : 'No model offloaded yet: choose or drop one in Model above and its partitions are copied across the room.'}</p>`
        : html`
        <div data-testid="model-dependability" data-value=${v.modelDependability} data-met=${String(v.met)}>
          <b>${v.model.name}</b>: model dependability D = <b class=${v.met ? 'good' : 'bad'}>${v.modelDependability.toFixed(6)}</b>
          (${v.met ? 'every partition meets θ' : 'some partition is below θ'}) ${this.dependabilityBar(v.modelDependability, v.target ** v.partitions.length)}
        </div>
        <div class="scroll"><table>
          <thead><tr><th>partition</th><th>size</th>${devices.map((d) => html`<th class=${d.alive ? '' : 'down'} title=${`a = ${d.availability.toFixed(3)}, budget ${formatBytes(d.budget)}, used ${formatBytes(d.used)}`}>${this.name(d.id, d.self)}${batteryTag(d.id, d.battery)}</th>`)}<th>copies</th><th>dependability vs θ</th></tr></thead>
          <tbody>${v.partitions.map((p) => html`<tr data-testid="partition" data-partition-id=${p.id} data-dependability=${p.dependability} data-replicas=${p.replicas.join(',')}>
            <td>P${p.id}</td><td>${formatBytes(p.bytes)}</td>
            ${devices.map((d) => {
              const c = p.cells[d.id] ?? { state: 'missing', fraction: 0, backend: null, warm: false };
              const what = c.state !== 'verified' ? '–' : c.backend === 'webgpu' ? 'WebGPU' : c.backend === 'wasm' ? 'WASM' : 'verified';
              const warming = c.state === 'verified' && !!c.backend && !c.warm;
              return html`<td><span class="cell ${c.state} ${warming ? 'warming' : ''}" data-testid="replica-cell" data-device-id=${d.id} data-state=${c.state} data-backend=${c.backend ?? nothing} data-warm=${c.state === 'verified' ? String(c.warm) : nothing}
                title=${c.state === 'verified' ? (c.backend ? (warming ? `verified copy on ${what}, warming up: its first run compiles the kernels, so requests go to warm copies meanwhile` : `verified copy, running on ${what}`) : 'verified copy, not loaded for compute yet') : c.state}>${c.state === 'transferring' ? html`<progress value=${c.fraction} max="1"></progress>` : warming ? `${what} · warming up` : what}</span></td>`;
            })}
            <td>${p.replicas.length}</td>
            <td>${this.dependabilityBar(p.dependability, v.target)} <span class=${p.dependability >= v.target ? 'good' : 'bad'}>${p.dependability.toFixed(5)}</span></td>
          </tr>`)}</tbody>
        </table></div>
        ${this.warmingNote(v)}
        ${v.unmet.length ? html`<ul data-testid="unmet">${v.unmet.map((u) => html`<li class="bad">P${u.partition}: ${u.reason}</li>`)}</ul>` : null}`}
    </section>`;
  }
}
/** A device's battery under its name in the matrix: its level, and whether it charges or is handing its copies off. */
function batteryTag(id: string, b: BatteryState | null) {
  if (!b) return null;
  const low = batteryLow(b);
  return html`<div data-testid="device-battery" data-device-id=${id} data-level=${b.level} data-charging=${String(b.charging)} data-low=${String(low)}
    class=${low ? 'bad' : 'muted'} title=${low ? 'low and discharging: its copies go to other devices' : b.charging ? 'charging' : 'discharging'}>battery ${Math.round(b.level * 100)} %${b.charging ? ', charging' : low ? ', handing off' : ''}</div>`;
}

customElements.define('placement-panel', PlacementPanel);

declare global {
  interface HTMLElementTagNameMap {
    'placement-panel': PlacementPanel;
  }
}
