/**
 * Memory of one device's browser, from the operating system: the resident set of the browser
 * process and every process under it (renderers, workers' hosts, GPU and utility processes),
 * sampled from /proc. Each device runs in a browser of its own in the benchmarks that use this,
 * so the sum is that device's memory.
 */
import { readFileSync, readdirSync } from 'node:fs';

const PAGE = 4096;

function processes(): { pid: number; ppid: number; rss: number }[] {
  const out: { pid: number; ppid: number; rss: number }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // the command name is in parentheses and may contain spaces: fields follow the last ')'
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.push({ pid: Number(name), ppid: Number(fields[1]), rss: Number(fields[21]) * PAGE });
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

/** Bytes resident in `root` and all its descendants now. */
export function treeRss(root: number): number {
  const all = processes();
  const children = new Map<number, number[]>();
  for (const p of all) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
  const rss = new Map(all.map((p) => [p.pid, p.rss]));
  let total = 0;
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop()!;
    total += rss.get(pid) ?? 0;
    stack.push(...(children.get(pid) ?? []));
  }
  return total;
}

/** Samples several process trees every `everyMs`; `mark` starts a new phase, whose peaks are kept apart. */
export class MemorySampler {
  private readonly timer: ReturnType<typeof setInterval>;
  private phase = 'start';
  readonly peaks = new Map<string, Map<string, number>>();

  constructor(private readonly roots: Map<string, number>, everyMs = 250) {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
  }

  mark(phase: string): void {
    this.sample();
    this.phase = phase;
    this.sample();
  }

  private sample(): void {
    let m = this.peaks.get(this.phase);
    if (!m) this.peaks.set(this.phase, (m = new Map()));
    for (const [device, pid] of this.roots) m.set(device, Math.max(m.get(device) ?? 0, treeRss(pid)));
  }

  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }
}
