/**
 * What every live uPlot chart here shares: create the plot on first render, redraw at most once
 * a second (on a phone a chart must not steal time from heartbeats), destroy it when removed.
 */
import { LitElement } from 'lit';
import type uPlot from 'uplot';

/**
 * A chart's width: `wanted`, but no wider than the screen less `inset` (the cards' padding around
 * it), so a phone never scrolls sideways for a plot.
 */
export function fitWidth(wanted: number, inset: number): number {
  return Math.max(200, Math.min(wanted, innerWidth - inset));
}

export abstract class ThrottledPlot extends LitElement {
  private plot: uPlot | null = null;
  private drawnAt = 0;

  protected abstract data(): uPlot.AlignedData;
  protected abstract createPlot(target: HTMLElement): uPlot;

  protected updated(): void {
    if (!this.plot) {
      this.plot = this.createPlot(this.renderRoot.querySelector('.plot') as HTMLElement);
      return;
    }
    const now = performance.now();
    if (now - this.drawnAt < 1000) return;
    this.drawnAt = now;
    this.plot.setData(this.data());
  }

  disconnectedCallback(): void {
    super.disconnectedCallback();
    this.plot?.destroy();
    this.plot = null;
  }
}
