/** One peer's heartbeat RTT against the detector threshold over the last minute and a half (uPlot). */
import { css, html, unsafeCSS } from 'lit';
import uPlot from 'uplot';
import uplotCss from 'uplot/dist/uPlot.min.css?inline';
import type { PeerSeries, PeerView } from '../core/views.js';
import { STATUS_COLOURS, card } from './theme.js';
import { ThrottledPlot, fitWidth } from './throttled-plot.js';

const WIDTH = 340;
const HEIGHT = 150;

export class RttChart extends ThrottledPlot {
  static properties = { peer: { attribute: false }, series: { attribute: false } };
  declare peer: PeerView;
  declare series: PeerSeries | undefined;

  static styles = [card, unsafeCSS(uplotCss), css`
    :host { display: block; }
    .card { padding: 8px 10px; }
    .title { display: flex; justify-content: space-between; gap: 8px; font-size: 12px; margin-bottom: 4px; }
  `];

  protected createPlot(target: HTMLElement): uPlot {
    return new uPlot(
      {
        width: fitWidth(WIDTH, 72),
        height: HEIGHT,
        legend: { show: true, live: false },
        cursor: { show: false },
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(10, max * 1.15)] } },
        axes: [{ size: 28 }, { size: 50, label: 'ms', labelSize: 12, labelGap: 0 }],
        series: [
          {},
          { label: 'RTT', stroke: '#3572b0', width: 1.5, spanGaps: false, points: { show: false } },
          { label: 'threshold T', stroke: STATUS_COLOURS.failed, width: 1.5, dash: [6, 4], points: { show: false } },
        ],
      },
      this.data(),
      target,
    );
  }

  protected data(): uPlot.AlignedData {
    const s = this.series;
    return s ? [s.t, s.rtt as number[], s.threshold] : [[], [], []];
  }

  render() {
    const p = this.peer;
    return html`<div class="card">
      <div class="title"><span><b>${p.name}</b> <span class="mono muted">${p.deviceId}</span></span><span class="pill" style="background:${STATUS_COLOURS[p.status]}">${p.status}</span></div>
      <div class="plot"></div>
    </div>`;
  }
}
customElements.define('rtt-chart', RttChart);

declare global {
  interface HTMLElementTagNameMap {
    'rtt-chart': RttChart;
  }
}
