/** Plain-text formatting for the CLI and benchmarks. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(2)} MiB`;
}

export function formatFlops(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(2)} GFLOP` : n >= 1e6 ? `${(n / 1e6).toFixed(2)} MFLOP` : `${(n / 1e3).toFixed(1)} kFLOP`;
}

export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
