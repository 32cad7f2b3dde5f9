/**
 * The model panel: pick a shipped model, choose a file or drop one on the page; see its analysis
 * (operators, cost per partition, bytes crossing each cut) and the plan for the room's devices;
 * run the shipped test sample locally, whole model and partition chain side by side.
 */
import { emit } from './events.js';
import { LitElement, css, html } from 'lit';
import { parseSample, type ImageSample } from '../core/sample.js';
import type { Backend } from '../core/protocol.js';
import { ComputeClient, InputError } from '../runtime/compute-client.js';
import type { PreparedModel } from '../runtime/compute-messages.js';
import type { RoomCapacity } from '../core/room-plan.js';
import { runLocally, type LocalRunResult } from '../runtime/local-run.js';
import { formatBytes, formatFlops } from '../core/format.js';
import './bar-chart.js';
import { card } from './theme.js';

interface ShippedModel {
  name: string;
  file: string;
  testAccuracy: number;
  parameters: number;
  bytes: number;
}

/**
 * Largest .onnx file accepted: ONNX's own limit (protobuf cannot go to 2 GiB; bigger models keep
 * their weights in data files, which are bounded by the device's memory). `?maxModelMiB=` lowers it.
 */
export const MAX_MODEL_BYTES = Math.min(2 ** 31 - 1, (Number(new URLSearchParams(location.search).get('maxModelMiB')) || 2048) * 1024 * 1024);

export class ModelPanel extends LitElement {
  static properties = {
    backend: { type: String },
    devices: { type: Number },
    room: { attribute: false },
    shipped: { state: true },
    model: { state: true },
    parts: { state: true },
    progress: { state: true },
    result: { state: true },
    count: { state: true },
  };
  declare backend: Backend;
  declare devices: number;
  /** the room a model is cut for: live devices' budgets and availabilities, and the target */
  declare room: RoomCapacity | null;
  declare shipped: ShippedModel[];
  declare model: PreparedModel | null;
  declare parts: number | null;
  declare progress: { done: number; total: number; step: string } | null;
  declare result: LocalRunResult | null;
  declare count: number;
  private files: File[] = [];
  private name = '';
  private compute: ComputeClient | null = null;
  private sample: ImageSample | null = null;

  static styles = [card, css`
    .row { display: flex; gap: 12px; flex-wrap: wrap; align-items: center; margin-bottom: 10px; }
    .charts { display: flex; gap: 14px; flex-wrap: wrap; }
    table { border-collapse: collapse; }
    th, td { text-align: right; padding: 3px 8px; border-bottom: 1px solid color-mix(in srgb, CanvasText 10%, transparent); font-variant-numeric: tabular-nums; }
    th:first-child, td:first-child { text-align: left; }
    progress { width: 260px; }
    .drop { border: 2px dashed color-mix(in srgb, CanvasText 25%, transparent); border-radius: 8px; padding: 8px 12px; }
    input[type=number] { width: 5em; }
    h3 { font-size: 13px; margin: 10px 0 4px; }
    .warn { color: #b8860b; }
  `];

  constructor() {
    super();
    this.backend = 'wasm';
    this.devices = 1;
    this.room = null;
    this.shipped = [];
    this.model = null;
    this.parts = null;
    this.progress = null;
    this.result = null;
    this.count = 50;
  }

  connectedCallback(): void {
    super.connectedCallback();
    fetch('/models/index.json')
      .then((r) => (r.ok ? r.json() : []))
      .then((list: ShippedModel[]) => (this.shipped = list))
      .catch(() => undefined);
  }

  private get planParts(): number {
    return this.parts ?? Math.max(1, this.devices);
  }

  private fail(message: string): void {
    this.progress = null;
    emit(this, 'frim-error', message);
  }

  private clearError(): void {
    emit(this, 'frim-error', null);
  }

  /** Entry point for files chosen, dropped or fetched: a model, with its data files if it has any. */
  async open(files: File[]): Promise<void> {
    this.files = files;
    this.name = files.find((f) => /\.onnx$/i.test(f.name))?.name ?? files[0]?.name ?? '';
    this.result = null;
    await this.prepare();
  }

  private async prepare(): Promise<void> {
    if (!this.files.length) return;
    this.progress = { done: 0, total: 1, step: `reading ${this.name}` };
    this.compute = this.computeFor(this.backend);
    try {
      this.model = await this.compute.prepare(this.files, this.planParts, MAX_MODEL_BYTES, this.room, (step, done, total) => (this.progress = { step, done, total }));
      this.clearError();
      // a model given to any tab becomes the room's: its partitions are placed across the devices
      emit(this, 'frim-offload', this.model.manifest);
    } catch (e) {
      this.model = null;
      this.fail(e instanceof InputError ? e.message : `Could not analyse ${this.name}: ${(e as Error).message}`);
    }
    this.progress = null;
  }

  private async onFile(ev: Event): Promise<void> {
    const input = ev.target as HTMLInputElement;
    const files = [...(input.files ?? [])];
    if (!files.length) return;
    await this.open(files);
    input.value = '';
  }

  private async onShipped(ev: Event): Promise<void> {
    const pick = this.shipped.find((m) => m.name === (ev.target as HTMLSelectElement).value);
    if (!pick) return;
    this.progress = { done: 0, total: 1, step: `downloading ${pick.file}` };
    try {
      const res = await fetch(`/models/${pick.file}`);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      await this.open([new File([await res.arrayBuffer()], pick.file)]);
    } catch (e) {
      this.fail(`Could not download ${pick.file}: ${(e as Error).message}`);
    }
  }

  private async onParts(ev: Event): Promise<void> {
    const v = Number((ev.target as HTMLInputElement).value);
    if (Number.isInteger(v) && v >= 1 && v <= 16) {
      this.parts = v;
      this.result = null;
      await this.prepare();
    }
  }

  /** The compute worker, on the onnxruntime build this device's backend needs (known once its adapter was probed). */
  private computeFor(backend: Backend): ComputeClient {
    if (this.compute?.backend === backend) return this.compute;
    this.compute?.terminate();
    return (this.compute = new ComputeClient(backend));
  }

  private async runLocal(): Promise<void> {
    const m = this.model;
    if (!m || !this.files.length) return;
    this.result = null;
    try {
      if (!this.sample) {
        this.progress = { done: 0, total: 1, step: 'downloading the test sample' };
        const res = await fetch('/fashion-mnist-sample.bin');
        if (!res.ok) throw new Error(`test sample: HTTP ${res.status}`);
        this.sample = parseSample(new Uint8Array(await res.arrayBuffer()));
      }
      if (m.manifest.model.inputs.length !== 1) throw new Error(`${m.manifest.model.name} takes ${m.manifest.model.inputs.length} inputs; the local check feeds one image`);
      this.result = await runLocally({
        client: this.computeFor(this.backend),
        manifest: m.manifest,
        files: this.files,
        sample: this.sample,
        count: Math.min(this.count, this.sample.count),
        backend: this.backend,
        progress: (done, total, step) => (this.progress = { done, total, step }),
      });
      this.clearError();
    } catch (e) {
      this.fail(`Local run failed: ${(e as Error).message}`);
    }
    this.progress = null;
  }

  private analysis(m: PreparedModel) {
    return html`
      <div data-testid="model-summary" data-model-name=${m.manifest.model.name} data-sha256=${m.manifest.model.sha256} data-operators=${m.operators} data-flops=${m.totalFlops} data-param-bytes=${m.totalParamBytes}>
        <b>${m.manifest.model.name}</b> · ${formatBytes(m.sizeBytes)} · opset ${m.opset} · ${m.operators} operators ·
        ${formatFlops(m.totalFlops)} per image · ${formatBytes(m.totalParamBytes)} of weights ·
        takes ${m.manifest.model.inputs.map((i) => `“${i.name}” [${i.dims.join(', ')}] ${i.type}`).join(', ')}
      </div>
      <div class="charts">
        <div><h3>Operators</h3><bar-chart .labels=${m.histogram.map(([op]) => op)} .values=${m.histogram.map(([, n]) => n)} unit="count" colour="#7a6fb0"></bar-chart></div>
        <div><h3>Compute per partition</h3><bar-chart .labels=${m.partitions.map((p) => `P${p.id}`)} .values=${m.partitions.map((p) => p.flops / 1e6)} unit="MFLOP"></bar-chart></div>
      </div>
      <h3>Plan for ${m.partitions.length} partition${m.partitions.length === 1 ? '' : 's'}</h3>
      ${m.partitions.length > this.planParts ? html`<p class="muted">Cut into ${m.partitions.length} rather than ${this.planParts}: smaller pieces fit into what the devices' budgets leave.</p>` : null}
      ${m.placeable === false ? html`<p class="warn">The devices' budgets cannot hold enough copies of every partition to meet the target; the room serves it below θ (raise budgets, add devices, or lower θ).</p>` : null}
      <div class="scroll"><table data-testid="plan" data-parts=${m.partitions.length} data-placeable=${m.placeable === null ? '' : String(m.placeable)}>
        <thead><tr><th>partition</th><th>operators</th><th>compute</th><th>weights</th><th>in / image</th><th>out / image</th></tr></thead>
        <tbody>${m.partitions.map((p) => html`<tr data-testid="plan-partition" data-partition-id=${p.id} data-flops=${p.flops} data-param-bytes=${p.paramBytes} data-input-bytes=${p.inputBytes} data-output-bytes=${p.outputBytes}>
          <td>P${p.id}</td><td>${p.start}–${p.end}</td><td>${formatFlops(p.flops)}</td><td>${formatBytes(p.paramBytes)}</td><td>${formatBytes(p.inputBytes)}</td><td>${formatBytes(p.outputBytes)}</td></tr>`)}</tbody>
      </table></div>
      ${m.cuts.length ? html`<p class="muted">Crossing each cut, per image: ${m.cuts.map((c) => `${formatBytes(c.bytes)} (${c.tensors.length} tensor${c.tensors.length === 1 ? '' : 's'})`).join(' · ')}</p>` : null}
      <div class="row">
        <label>Local check on this device: <input data-testid="local-count" type="number" min="1" max="1000" .value=${String(this.count)} @change=${(e: Event) => (this.count = Math.max(1, Number((e.target as HTMLInputElement).value) || 50))} /> test images</label>
        <button data-testid="run-local" ?disabled=${!!this.progress} @click=${this.runLocal}>Run whole model and partition chain</button>
      </div>
      ${this.result ? this.resultView(this.result) : null}`;
  }

  private resultView(r: LocalRunResult) {
    const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
    const c = r.chain;
    const agree = c ? c.predictions.filter((p, k) => p === r.whole.predictions[k]).length / r.count : 0;
    return html`<div class="scroll"><table data-testid="local-run" data-backend=${r.backend} data-partition-backends=${r.partitionBackends.join(',')} data-count=${r.count} data-fallback=${r.fallback ?? ''}
        data-whole-predictions=${r.whole.predictions.join(',')} data-chain-predictions=${c?.predictions.join(',') ?? ''}
        data-whole-accuracy=${r.whole.accuracy ?? ''} data-chain-accuracy=${c?.accuracy ?? ''} data-whole-ms=${r.whole.msPerImage.toFixed(3)} data-chain-ms=${c ? c.msPerImage.toFixed(3) : ''}>
      <thead><tr><th>on ${r.backend === 'webgpu' ? 'WebGPU' : 'WASM'}, ${r.count} ${r.labelled ? 'test images' : 'synthetic inputs (no labels for this model)'}</th><th>${r.labelled ? 'accuracy' : 'same top-1 as whole'}</th><th>latency / image</th></tr></thead>
      <tbody>
        <tr><td>whole model</td><td>${r.whole.accuracy === null ? '–' : pct(r.whole.accuracy)}</td><td>${r.whole.msPerImage.toFixed(2)} ms</td></tr>
        ${c ? html`<tr><td>partition chain (${r.partitionBackends.map((b, k) => `P${k} ${b === 'webgpu' ? 'WebGPU' : 'WASM'}`).join(', ')})</td><td>${c.accuracy === null ? pct(agree) : pct(c.accuracy)}</td><td>${c.msPerImage.toFixed(2)} ms</td></tr>`
          : html`<tr><td colspan="3" class="muted">partition chain: ${r.chainSkipped}</td></tr>`}
      </tbody>
      ${r.fallback ? html`<caption class="muted">${r.fallback}</caption>` : null}
    </table></div>`;
  }

  render() {
    return html`<section class="card">
      <h2>Model</h2>
      <div class="row">
        <label>Shipped model:
          <select data-testid="shipped-model" @change=${this.onShipped}>
            <option value="">choose…</option>
            ${this.shipped.map((m) => html`<option value=${m.name}>${m.name} (${(100 * m.testAccuracy).toFixed(1)} %, ${formatBytes(m.bytes)})</option>`)}
          </select>
        </label>
        <span class="drop">or drop an <code>.onnx</code> file (with its data file, if its weights are kept apart) anywhere on this page, or
          <input data-testid="model-input" type="file" multiple @change=${this.onFile} /></span>
        <label>Partitions: <input data-testid="parts" type="number" min="1" max="16" .value=${String(this.planParts)} @change=${this.onParts} /></label>
      </div>
      ${this.progress ? html`<div class="row"><progress data-testid="progress" data-step=${this.progress.step} value=${this.progress.done} max=${this.progress.total}></progress><span>${this.progress.step}</span></div>` : null}
      ${this.model ? this.analysis(this.model) : html`<p class="muted">No model yet.</p>`}
    </section>`;
  }
}
customElements.define('model-panel', ModelPanel);

declare global {
  interface HTMLElementTagNameMap {
    'model-panel': ModelPanel;
  }
}
