/** The room's share link, as text, a copy button and a QR code for phones. */
import { LitElement, css, html } from 'lit';
import QRCode from 'qrcode';
import { card } from './theme.js';

export class SharePanel extends LitElement {
  static properties = { link: { type: String }, qr: { state: true }, copied: { state: true } };
  declare link: string;
  declare qr: string;
  declare copied: boolean;

  static styles = [card, css`
    .row { display: flex; gap: 14px; align-items: center; flex-wrap: wrap; }
    a { word-break: break-all; }
    img { width: 132px; height: 132px; image-rendering: pixelated; background: white; border-radius: 6px; }
    button { font: inherit; padding: 4px 10px; }
    .text { flex: 1 1 260px; min-width: 0; }
  `];

  constructor() {
    super();
    this.link = '';
    this.qr = '';
    this.copied = false;
  }

  protected updated(changed: Map<string, unknown>): void {
    if (changed.has('link') && this.link) {
      QRCode.toDataURL(this.link, { margin: 1, width: 264, errorCorrectionLevel: 'M' })
        .then((url) => (this.qr = url))
        .catch(() => (this.qr = ''));
    }
  }

  private async copy(): Promise<void> {
    try {
      await navigator.clipboard.writeText(this.link);
      this.copied = true;
      setTimeout(() => (this.copied = false), 1500);
    } catch {
      // clipboard needs a secure context; the link is selectable text anyway
    }
  }

  render() {
    return html`<section class="card">
      <h2>Invite devices</h2>
      <div class="row">
        ${this.qr ? html`<img alt="QR code of the share link" src=${this.qr} />` : null}
        <div class="text">
          <p>Open this link on every device that should join. The room key after <code>key=</code> never leaves the browsers.</p>
          <a data-testid="share-link" href=${this.link} class="mono">${this.link}</a>
          <p><button @click=${this.copy}>${this.copied ? 'Copied' : 'Copy link'}</button></p>
        </div>
      </div>
    </section>`;
  }
}
customElements.define('share-panel', SharePanel);

declare global {
  interface HTMLElementTagNameMap {
    'share-panel': SharePanel;
  }
}
