/** The simulator's clock: events in time order (a binary heap), ties in the order they were scheduled. */
export class EventQueue<E> {
  private readonly heap: { t: number; seq: number; e: E }[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  push(t: number, e: E): void {
    const h = this.heap;
    h.push({ t, seq: this.seq++, e });
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(i, p)) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  pop(): { t: number; e: E } | null {
    const h = this.heap;
    if (!h.length) return null;
    const top = h[0];
    const last = h.pop()!;
    if (h.length) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.before(l, m)) m = l;
        if (r < h.length && this.before(r, m)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return { t: top.t, e: top.e };
  }

  private before(a: number, b: number): boolean {
    const x = this.heap[a];
    const y = this.heap[b];
    return x.t < y.t || (x.t === y.t && x.seq < y.seq);
  }
}
