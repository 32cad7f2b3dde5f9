/** Charts for BENCHMARKS.md as standalone SVG: accuracy bars per failure set, and lines. */
import type { PaperRow } from './paper-table.js';

const COLOURS = ['#2e7d32', '#9e9e9e', '#1565c0', '#ef6c00', '#6a1b9a', '#c62828'];
const GROUPS = ['healthy', 'D1', 'D2', 'D3', 'D1+D2', 'D2+D3', 'D1+D3'];

const esc = (s: string) => s.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** The legend along the top: a swatch and a name per entry, in COLOURS order. */
const legend = (names: readonly string[], left: number) =>
  names.map((n, i) => `<rect x="${left + i * 150}" y="6" width="12" height="12" fill="${COLOURS[i % COLOURS.length]}"/><text x="${left + i * 150 + 16}" y="16">${esc(n)}</text>`);

const svg = (W: number, H: number, parts: string[]) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">\n<rect width="100%" height="100%" fill="white"/>\n${parts.join('\n')}\n</svg>\n`;

export function accuracyChart(model: string, rows: PaperRow[], methods: readonly string[]): string {
  const W = 760, H = 300, left = 44, top = 30, bottom = 40, plotH = H - top - bottom;
  const groups = GROUPS.filter((g) => rows.some((r) => (r.failed.join('+') || 'healthy') === g));
  const gw = (W - left - 10) / Math.max(1, groups.length);
  const bw = (gw - 12) / methods.length;
  const y = (acc: number) => top + plotH * (1 - acc);
  const parts: string[] = [];
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(`<line x1="${left}" x2="${W - 10}" y1="${y(t)}" y2="${y(t)}" stroke="#ddd"/><text x="${left - 6}" y="${y(t) + 4}" text-anchor="end">${t * 100}</text>`);
  }
  groups.forEach((g, gi) => {
    const x0 = left + gi * gw + 6;
    methods.forEach((m, mi) => {
      const r = rows.find((x) => x.method === m && (x.failed.join('+') || 'healthy') === g);
      if (!r) return;
      const h = plotH * r.accuracy;
      parts.push(`<rect x="${(x0 + mi * bw).toFixed(1)}" y="${y(r.accuracy).toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${COLOURS[mi % COLOURS.length]}"><title>${esc(`${m}, ${g}: ${(100 * r.accuracy).toFixed(1)} %`)}</title></rect>`);
    });
    parts.push(`<text x="${(x0 + (gw - 12) / 2).toFixed(1)}" y="${H - bottom + 16}" text-anchor="middle">${esc(g)}</text>`);
  });
  parts.push(...legend(methods, left));
  parts.push(`<text x="${W - 10}" y="16" text-anchor="end" font-weight="bold">${esc(model)}: accuracy (%) under failure</text>`);
  return svg(W, H, parts);
}

export interface Series { name: string; points: { x: number; y: number }[] }

/** Lines over a shared x axis as standalone SVG (the simulator's plots in BENCHMARKS.md). */
/** `xTicks`: label at most about this many x values (long runs have one point a minute) */
export function lineChart(title: string, series: Series[], axis: { x: string; y: string; logX?: boolean; xTicks?: number }): string {
  const W = 760, H = 300, left = 54, right = 10, top = 30, bottom = 40, plotW = W - left - right, plotH = H - top - bottom;
  const xs = series.flatMap((s) => s.points.map((p) => p.x));
  const ys = series.flatMap((s) => s.points.map((p) => p.y));
  const fx = (x: number) => (axis.logX ? Math.log10(x) : x);
  const [x0, x1] = [Math.min(...xs.map(fx)), Math.max(...xs.map(fx))];
  const [y0, y1] = [Math.min(0, ...ys), Math.max(...ys) || 1];
  const px = (x: number) => left + (plotW * (fx(x) - x0)) / (x1 - x0 || 1);
  const py = (y: number) => top + plotH * (1 - (y - y0) / (y1 - y0 || 1));
  const parts: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const y = y0 + ((y1 - y0) * i) / 4;
    parts.push(`<line x1="${left}" x2="${W - right}" y1="${py(y)}" y2="${py(y)}" stroke="#ddd"/><text x="${left - 6}" y="${py(y) + 4}" text-anchor="end">${Number(y.toPrecision(3))}</text>`);
  }
  const allX = [...new Set(xs)].sort((a, b) => a - b);
  const every = Math.max(1, Math.ceil(allX.length / (axis.xTicks ?? Infinity)));
  for (const x of allX.filter((_, i) => i % every === 0)) parts.push(`<text x="${px(x).toFixed(1)}" y="${H - bottom + 16}" text-anchor="middle">${Number(x.toPrecision(3))}</text>`);
  series.forEach((s, i) => {
    const d = s.points.map((p, k) => `${k ? 'L' : 'M'}${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`).join(' ');
    parts.push(`<path d="${d}" fill="none" stroke="${COLOURS[i % COLOURS.length]}" stroke-width="2"><title>${esc(s.name)}</title></path>`);
  });
  parts.push(...legend(series.map((s) => s.name), left));
  parts.push(`<text x="${W - right}" y="${H - 6}" text-anchor="end">${esc(axis.x)}</text>`);
  parts.push(`<text x="12" y="${top + plotH / 2}" transform="rotate(-90 12 ${top + plotH / 2})" text-anchor="middle">${esc(axis.y)}</text>`);
  parts.push(`<text x="${W - right}" y="16" text-anchor="end" font-weight="bold">${esc(title)}</text>`);
  return svg(W, H, parts);
}
