/**
 * Memory of one device's browser, from the operating system: the proportional set size (PSS: a
 * page shared by n processes counts 1/n in each, so shared libraries are not counted once per
 * process) of the browser process and every process under it (renderers, workers' hosts, GPU and
 * utility processes), sampled from /proc. Each device runs in a browser of its own in the
 * benchmarks that use this, so the sum is that device's memory.
 */
import { readFileSync, readdirSync } from 'node:fs';

function parents(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // the command name is in parentheses and may contain spaces: fields follow the last ')'
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      // the process ended while we looked
    }
  }
  return children;
}

/** PSS of one process (from smaps_rollup), 0 when it is gone. */
function pss(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Bytes of memory (PSS) that `root` and all its descendants use now. */
export function treeMemory(root: number): number {
  const children = parents();
  let total = 0;
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop()!;
    total += pss(pid);
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
    for (const [device, pid] of this.roots) m.set(device, Math.max(m.get(device) ?? 0, treeMemory(pid)));
  }

  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }
}
