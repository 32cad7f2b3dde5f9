/**
 * The JavaScript heap of each device (browser context): its pages and its SharedWorker (the device
 * worker, where the room's tables live), after a forced garbage collection, read over the browser's
 * DevTools connection. Dedicated workers (the compute worker) are not top-level targets and are not
 * counted; their memory is onnxruntime's WebAssembly memory, not JS heap.
 */
import type { Browser, BrowserContext, CDPSession } from '@playwright/test';

interface TargetInfo { targetId: string; type: string; browserContextId?: string }

export class HeapReader {
  private nextId = 0;
  private readonly pending = new Map<number, (r: { result?: unknown; error?: unknown }) => void>();

  /** heap snapshot chunks being received, per target session */
  private readonly chunks = new Map<string, string[]>();

  private constructor(private readonly cdp: CDPSession) {
    cdp.on('Target.receivedMessageFromTarget', (e: { sessionId: string; message: string }) => {
      const m = JSON.parse(e.message) as { id?: number; result?: unknown; error?: unknown; method?: string; params?: { chunk?: string } };
      if (m.id !== undefined) this.pending.get(m.id)?.(m);
      else if (m.method === 'HeapProfiler.addHeapSnapshotChunk') this.chunks.get(e.sessionId)?.push(m.params?.chunk ?? '');
    });
  }

  static async of(browser: Browser): Promise<HeapReader> {
    return new HeapReader(await browser.newBrowserCDPSession());
  }

  /** The browser's id of a Playwright context (through any of its pages). */
  static async contextId(context: BrowserContext): Promise<string> {
    const page = context.pages()[0];
    if (!page) throw new Error('a context without a page has no target to ask');
    const s = await context.newCDPSession(page);
    const { targetInfo } = (await s.send('Target.getTargetInfo')) as { targetInfo: TargetInfo };
    await s.detach();
    return targetInfo.browserContextId!;
  }

  /** Used JS heap bytes per browser context id, over its pages and shared workers. */
  async usedByContext(): Promise<Map<string, number>> {
    const { targetInfos } = (await this.cdp.send('Target.getTargets')) as { targetInfos: TargetInfo[] };
    const out = new Map<string, number>();
    for (const t of targetInfos.filter((x) => (x.type === 'page' || x.type === 'shared_worker') && x.browserContextId)) {
      const used = await this.used(t.targetId).catch(() => null);
      if (used !== null) out.set(t.browserContextId!, (out.get(t.browserContextId!) ?? 0) + used);
    }
    return out;
  }

  /**
   * What one device's heap holds, by kind (constructor name for objects and closures, else V8's
   * node type), after a forced GC: one heap snapshot of each of its pages and its shared worker.
   * The worker pauses while V8 writes it (about a second here), so peers may see it silent.
   */
  async summary(contextId: string): Promise<HeapSummary> {
    const { targetInfos } = (await this.cdp.send('Target.getTargets')) as { targetInfos: TargetInfo[] };
    const out: HeapSummary = {};
    for (const t of targetInfos.filter((x) => (x.type === 'page' || x.type === 'shared_worker') && x.browserContextId === contextId)) {
      const { sessionId } = (await this.cdp.send('Target.attachToTarget', { targetId: t.targetId, flatten: false })) as { sessionId: string };
      this.chunks.set(sessionId, []);
      try {
        await this.call(sessionId, 'HeapProfiler.enable');
        await this.call(sessionId, 'HeapProfiler.takeHeapSnapshot', { reportProgress: false }, 60_000);
        addSummary(out, `${t.type === 'page' ? 'page' : 'worker'} `, JSON.parse(this.chunks.get(sessionId)!.join('')) as HeapSnapshot);
      } finally {
        this.chunks.delete(sessionId);
        await this.cdp.send('Target.detachFromTarget', { sessionId }).catch(() => undefined);
      }
    }
    return out;
  }

  private async used(targetId: string): Promise<number> {
    // the non-flattened protocol: Playwright's CDPSession sends no per-message session ids
    const { sessionId } = (await this.cdp.send('Target.attachToTarget', { targetId, flatten: false })) as { sessionId: string };
    try {
      await this.call(sessionId, 'HeapProfiler.collectGarbage');
      const r = (await this.call(sessionId, 'Runtime.getHeapUsage')) as { usedSize: number };
      return r.usedSize;
    } finally {
      await this.cdp.send('Target.detachFromTarget', { sessionId }).catch(() => undefined);
    }
  }

  private call(sessionId: string, method: string, params: object = {}, timeoutMs = 10_000): Promise<unknown> {
    const id = ++this.nextId;
    return new Promise((ok, fail) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        fail(new Error(`${method} got no answer in ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.pending.set(id, (m) => {
        clearTimeout(timer);
        this.pending.delete(id);
        if (m.error) fail(new Error(`${method}: ${JSON.stringify(m.error)}`));
        else ok(m.result);
      });
      void this.cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params }) }).catch(fail);
    });
  }
}

/** Bytes and count of live heap nodes by kind, e.g. `worker Map`, `page (string)`. */
export type HeapSummary = Record<string, { count: number; bytes: number }>;

interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

function addSummary(out: HeapSummary, prefix: string, snap: HeapSnapshot): void {
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const [ti, ni, si] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
  for (let i = 0; i < snap.nodes.length; i += fields.length) {
    const type = types[snap.nodes[i + ti]];
    // objects, closures and DOM (native) nodes by name, without the snapshot's own ids
    const named = type === 'object' || type === 'closure' || type === 'native';
    const kind = named ? `${snap.strings[snap.nodes[i + ni]].replace(/ @\d+/g, '').slice(0, 60)}${type === 'closure' ? '()' : ''}` : `(${type})`;
    const e = (out[prefix + kind] ??= { count: 0, bytes: 0 });
    e.count++;
    e.bytes += snap.nodes[i + si];
  }
}

/** The kinds that grew most between two summaries, largest growth first. */
export function heapGrowth(before: HeapSummary, after: HeapSummary, top = 20): { kind: string; count: number; bytes: number }[] {
  const kinds = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...kinds]
    .map((kind) => ({ kind, count: (after[kind]?.count ?? 0) - (before[kind]?.count ?? 0), bytes: (after[kind]?.bytes ?? 0) - (before[kind]?.bytes ?? 0) }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, top);
}
