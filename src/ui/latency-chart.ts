/**
 * Latency of every request over time (uPlot): answered requests as blue dots, lost ones in red at
 * the top, and a red line where the detector declared a device failed, so a failover shows where
 * it happened.
 */
import { css, html, unsafeCSS } from 'lit';
import uPlot from 'uplot';
import uplotCss from 'uplot/dist/uPlot.min.css?inline';
import type { InferenceView } from '../core/views.js';
import { STATUS_COLOURS } from './theme.js';
import { ThrottledPlot, fitWidth } from './throttled-plot.js';

export class LatencyChart extends ThrottledPlot {
  static properties = { view: { attribute: false } };
  declare view: InferenceView | null;

  static styles = [unsafeCSS(uplotCss), css`:host { display: block; }`];

  protected data(): uPlot.AlignedData {
    const pts = [...(this.view?.points ?? [])].sort((a, b) => a.t - b.t);
    const top = Math.max(10, ...pts.filter((p) => p.ok).map((p) => p.ms)) * 1.1;
    return [pts.map((p) => p.t), pts.map((p) => (p.ok ? p.ms : null)), pts.map((p) => (p.ok ? null : top))] as uPlot.AlignedData;
  }

  protected createPlot(target: HTMLElement): uPlot {
    const failures = () => this.view?.failures ?? [];
    return new uPlot({
      width: fitWidth(560, 56),
      height: 200,
      cursor: { show: false },
      legend: { show: true, live: false },
      scales: { x: { time: true } },
      axes: [{ size: 28 }, { size: 50, label: 'ms', labelSize: 12, labelGap: 0 }],
      series: [
        {},
        { label: 'answered', stroke: '#3572b0', width: 0, points: { show: true, size: 4, fill: '#3572b0' } },
        { label: 'lost', stroke: STATUS_COLOURS.failed, width: 0, points: { show: true, size: 6, fill: STATUS_COLOURS.failed } },
      ],
      hooks: {
        draw: [(u) => {
          const ctx = u.ctx;
          ctx.save();
          ctx.strokeStyle = STATUS_COLOURS.failed;
          ctx.setLineDash([4, 3]);
          for (const f of failures()) {
            const x = u.valToPos(f.t, 'x', true);
            if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
            ctx.beginPath();
            ctx.moveTo(x, u.bbox.top);
            ctx.lineTo(x, u.bbox.top + u.bbox.height);
            ctx.stroke();
          }
          ctx.restore();
        }],
      },
    }, this.data(), target);
  }

  render() {
    return html`<div class="plot"></div>`;
  }
}
customElements.define('latency-chart', LatencyChart);

declare global {
  interface HTMLElementTagNameMap {
    'latency-chart': LatencyChart;
  }
}
