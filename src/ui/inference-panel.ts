/**
 * Asking the room (FRIM 4.3): stream test images through the offloaded model at a chosen rate in
 * `frim` mode or one of the paper's baselines (no-config; early-exit and skip-connection for models
 * trained for them), and watch sent / answered / correct / lost, latency percentiles, the
 * latency plot with failures marked, and for recent requests the copy that won each stage.
 */
import { emit } from './events.js';
import { LitElement, css, html } from 'lit';
import type { InferenceMode } from '../core/protocol.js';
import type { VariantKind } from '../core/onnx/variant.js';
import type { InferenceView } from '../core/views.js';
import './latency-chart.js';
import { card } from './theme.js';

const LABELS = ['T-shirt', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

export class InferencePanel extends LitElement {
  static properties = { view: { attribute: false }, hasModel: { type: Boolean }, variant: { attribute: false }, count: { state: true }, rate: { state: true }, batch: { state: true }, mode: { state: true } };
  declare view: InferenceView | null;
  declare hasModel: boolean;
  declare count: number;
  declare rate: number;
  declare batch: number;
  declare mode: InferenceMode;
  /** the baseline the room's model was trained for, if any: its mode is offered */
  declare variant: VariantKind | null;

  static styles = [card, css`
    .row { display: flex; gap: 14px; flex-wrap: wrap; align-items: center; margin-bottom: 8px; }
    input[type=number] { width: 6em; }
    select { max-width: 100%; }
    label { max-width: 100%; }
    .stats { display: grid; grid-template-columns: repeat(auto-fit, minmax(95px, 1fr)); gap: 6px; margin: 8px 0; }
    .stat { border: 1px solid color-mix(in srgb, CanvasText 12%, transparent); border-radius: 8px; padding: 4px 8px; }
    .stat b { display: block; font-size: 18px; font-variant-numeric: tabular-nums; }
    .bad { color: #d6383a; }
    table { border-collapse: collapse; font-size: 12px; }
    th, td { padding: 2px 8px; border-bottom: 1px solid color-mix(in srgb, CanvasText 10%, transparent); text-align: left; white-space: nowrap; }
  `];

  constructor() {
    super();
    this.view = null;
    this.hasModel = false;
    this.count = 200;
    this.rate = 20;
    this.batch = 1;
    this.mode = 'frim';
    this.variant = null;
  }

  /**
   * A picture the user gave, as the shipped models see images: 28x28 grey in [0, 1], a light item
   * on a dark background (a photo on a light background is inverted).
   */
  private async onImage(e: Event): Promise<void> {
    const input = e.target as HTMLInputElement;
    const file = input.files?.[0];
    input.value = '';
    if (file) await this.classifyFile(file);
  }

  /** Also the way in for a picture dropped anywhere on the page. */
  async classifyFile(file: File): Promise<void> {
    if (!this.hasModel) return void emit(this, 'frim-error', 'Offload a model before asking the room about a picture.');
    const fail = (message: string): void => void emit(this, 'frim-error', message);
    let bitmap: ImageBitmap;
    try {
      bitmap = await createImageBitmap(file);
    } catch {
      return fail(`"${file.name}" is not an image this browser can read.`);
    }
    const canvas = this.renderRoot.querySelector('canvas.preview') as HTMLCanvasElement;
    const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
    ctx.drawImage(bitmap, 0, 0, 28, 28);
    const rgba = ctx.getImageData(0, 0, 28, 28).data;
    const grey = Float32Array.from({ length: 784 }, (_, i) => (0.299 * rgba[4 * i] + 0.587 * rgba[4 * i + 1] + 0.114 * rgba[4 * i + 2]) / 255);
    const mean = grey.reduce((a, b) => a + b, 0) / grey.length;
    const pixels = mean > 0.5 ? grey.map((v) => 1 - v) : grey;
    const img = ctx.createImageData(28, 28);
    pixels.forEach((v, i) => img.data.set([v * 255, v * 255, v * 255, 255], 4 * i));
    ctx.putImageData(img, 0, 0);
    emit(this, 'frim-classify', pixels);
  }

  private start(): void {
    emit(this, 'frim-infer', { count: this.count, ratePerSec: this.rate, mode: this.mode, batch: this.batch });
  }

  private num(e: Event, min: number, max: number, fallback: number): number {
    const v = Number((e.target as HTMLInputElement).value);
    return Number.isFinite(v) ? Math.min(max, Math.max(min, v)) : fallback;
  }

  render() {
    const v = this.view;
    const ms = (x: number | null | undefined) => (x === null || x === undefined ? '–' : x.toFixed(1));
    const acc = v && v.count && v.labelled ? `${((100 * v.correct) / Math.max(1, v.answered + v.lost)).toFixed(1)} %` : '–';
    return html`<section class="card">
      <h2>Ask the room</h2>
      <div class="row">
        <label>Images: <input data-testid="request-count" type="number" min="1" max="100000" .value=${String(this.count)} @change=${(e: Event) => (this.count = Math.round(this.num(e, 1, 100000, 200)))} /></label>
        <label>requests per second: <input data-testid="request-rate" type="number" min="0.1" max="1000" step="0.1" .value=${String(this.rate)} @change=${(e: Event) => (this.rate = this.num(e, 0.1, 1000, 20))} /></label>
        <label>images per request: <input data-testid="request-batch" type="number" min="1" max="256" .value=${String(this.batch)} @change=${(e: Event) => (this.batch = Math.round(this.num(e, 1, 256, 1)))} /></label>
        <label>Mode: <select data-testid="mode" @change=${(e: Event) => (this.mode = (e.target as HTMLSelectElement).value as InferenceMode)}>
          <option value="frim" ?selected=${this.mode === 'frim'} title="two copies per stage, re-issue">frim (two copies, re-issue)</option>
          <option value="no-config" ?selected=${this.mode === 'no-config'} title="the paper's baseline: one fixed path">no-config (one path)</option>
          <option value="early-exit" ?selected=${this.mode === 'early-exit'} ?disabled=${this.variant !== 'early-exit'} title="baseline: answer from the last exit; needs an *-early-exit model">early-exit</option>
          <option value="skip-connection" ?selected=${this.mode === 'skip-connection'} ?disabled=${this.variant !== 'skip-connection'} title="baseline: pass over a failed partition; needs a *-skip-connection model">skip-connection</option>
        </select></label>
        <button data-testid="run" ?disabled=${!this.hasModel || !!v?.active} @click=${this.start}>Run</button>
        ${!this.hasModel ? html`<span class="muted">offload a model first</span>` : null}
      </div>
      <div class="row">
        <label>or classify a picture: <input data-testid="image-input" type="file" accept="image/*" ?disabled=${!this.hasModel} @change=${this.onImage} /></label>
        <canvas class="preview" width="28" height="28" style="width:56px;height:56px;image-rendering:pixelated;border:1px solid color-mix(in srgb, CanvasText 20%, transparent)"></canvas>
        ${v?.classified ? html`<span data-testid="classify-result" data-predicted=${v.classified.predicted ?? ''}>${v.classified.predicted === null
          ? html`<span class="bad">no answer: ${v.classified.note}</span>`
          : html`<b>${LABELS[v.classified.predicted] ?? v.classified.predicted}</b> in ${ms(v.classified.ms)} ms, via ${v.classified.path.map((d, i) => `P${i} ${d}`).join(' → ')}`}</span>` : null}
      </div>
      ${v?.error ? html`<p class="bad">${v.error}</p>` : null}
      <div class="stats" data-testid="stats" data-mode=${v?.mode ?? ''} data-batch=${v?.batch ?? 1} data-active=${String(!!v?.active)} data-count=${v?.count ?? 0} data-sent=${v?.sent ?? 0} data-answered=${v?.answered ?? 0} data-correct=${v?.correct ?? 0} data-lost=${v?.lost ?? 0} data-reissued=${v?.reissued ?? 0} data-in-flight=${v?.inFlight ?? 0} data-p50-ms=${v?.p50 ?? ''} data-p99-ms=${v?.p99 ?? ''} data-path=${(v?.path ?? []).join(',')} data-predictions=${(v?.predictions ?? []).map((p) => (p === null ? '' : p)).join(',')}>
        <div class="stat">sent<b>${v?.sent ?? 0}</b></div>
        <div class="stat">answered<b>${v?.answered ?? 0}</b></div>
        <div class="stat">correct<b>${v?.correct ?? 0}</b></div>
        <div class="stat">lost<b class=${v?.lost ? 'bad' : ''}>${v?.lost ?? 0}</b></div>
        <div class="stat">accuracy<b>${acc}</b></div>
        <div class="stat">p50 ms<b>${ms(v?.p50)}</b></div>
        <div class="stat">p99 ms<b>${ms(v?.p99)}</b></div>
        <div class="stat">re-issued<b>${v?.reissued ?? 0}</b></div>
      </div>
      ${v && v.points.length ? html`<latency-chart .view=${v}></latency-chart>` : null}
      ${v?.running ? html`<p class="muted">This device ran ${v.running.ran} stages for the room (${v.running.cancelled} dropped because the other copy finished first), ${v.running.queued} waiting; it sent ${v.running.hedged} second copies of a stage because the first device was late or unwell.</p>` : null}
      ${v && v.recent.length ? html`<div class="scroll"><table data-testid="recent-requests">
        <thead><tr><th>image</th><th>label</th><th>answer</th><th>ms</th><th>copy that won each stage</th><th>attempts</th></tr></thead>
        <tbody>${[...v.recent].reverse().slice(0, 12).map((r) => html`<tr>
          <td>#${r.image}${r.images > 1 ? ` (+${r.images - 1})` : ''}</td><td>${LABELS[r.label] ?? r.label}</td>
          <td class=${r.predicted !== null && r.predicted !== r.label ? 'bad' : ''}>${r.predicted === null ? html`<span class="bad">lost</span>` : LABELS[r.predicted] ?? r.predicted}</td>
          <td>${ms(r.ms)}</td><td class="mono">${r.path.map((d, i) => `P${i} ${d}`).join(' → ')}</td><td>${r.attempts}${r.note ? ` (${r.note})` : ''}</td></tr>`)}</tbody>
      </table></div>` : null}
    </section>`;
  }
}
customElements.define('inference-panel', InferencePanel);

declare global {
  interface HTMLElementTagNameMap {
    'inference-panel': InferencePanel;
  }
}
