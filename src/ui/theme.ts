import { css } from 'lit';

/** Status colours, shared by the table, the chart and the log. */
export const STATUS_COLOURS: Record<string, string> = {
  alive: '#2f9e62',
  suspected: '#d08c00',
  failed: '#d6383a',
  rejected: '#7a6fb0',
};

export const card = css`
  .card { border: 1px solid color-mix(in srgb, CanvasText 15%, transparent); border-radius: 10px; padding: 12px 14px; background: color-mix(in srgb, CanvasText 3%, Canvas); }
  h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .06em; margin: 0 0 8px; opacity: .7; font-weight: 600; }
  .muted { opacity: .65; }
  code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
  /* a wide table (partitions × devices) scrolls inside its card, never the page */
  .scroll { overflow-x: auto; max-width: 100%; -webkit-overflow-scrolling: touch; }
  .pill { display: inline-block; padding: 1px 8px; border-radius: 999px; color: white; font-size: 12px; font-weight: 600; }
`;
