/** A small bar chart (uPlot's bars path) for the op histogram and per-partition costs. */
import { LitElement, css, html, unsafeCSS } from 'lit';
import uPlot from 'uplot';
import uplotCss from 'uplot/dist/uPlot.min.css?inline';
import { fitWidth } from './throttled-plot.js';

export class BarChart extends LitElement {
  static properties = { labels: { attribute: false }, values: { attribute: false }, unit: { type: String }, colour: { type: String } };
  declare labels: string[];
  declare values: number[];
  declare unit: string;
  declare colour: string;
  private plot: uPlot | null = null;

  static styles = [unsafeCSS(uplotCss), css`:host { display: block; }`];

  constructor() {
    super();
    this.labels = [];
    this.values = [];
    this.unit = '';
    this.colour = '#3572b0';
  }

  protected updated(): void {
    this.plot?.destroy();
    const target = this.renderRoot.querySelector('div') as HTMLElement;
    const xs = this.labels.map((_, i) => i);
    const labels = this.labels;
    this.plot = new uPlot({
      width: fitWidth(Math.max(260, Math.min(520, 60 + 44 * labels.length)), 56),
      height: 170,
      legend: { show: false },
      cursor: { show: false },
      scales: { x: { time: false, range: [-0.6, labels.length - 0.4] }, y: { range: (_u, _lo, hi) => [0, hi * 1.1 || 1] } },
      axes: [
        { values: (_u, ticks) => ticks.map((t) => labels[t] ?? ''), splits: () => xs, size: 40, rotate: -30 } as uPlot.Axis,
        { size: 56, label: this.unit, labelSize: 12, labelGap: 0 },
      ],
      series: [{}, { stroke: this.colour, fill: `${this.colour}b0`, paths: uPlot.paths.bars!({ size: [0.7, 48] }), points: { show: false } }],
    }, [xs, this.values], target);
  }

  disconnectedCallback(): void {
    super.disconnectedCallback();
    this.plot?.destroy();
    this.plot = null;
  }

  render() {
    return html`<div></div>`;
  }
}
customElements.define('bar-chart', BarChart);

declare global {
  interface HTMLElementTagNameMap {
    'bar-chart': BarChart;
  }
}
