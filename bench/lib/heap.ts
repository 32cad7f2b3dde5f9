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

  private constructor(private readonly cdp: CDPSession) {
    cdp.on('Target.receivedMessageFromTarget', (e: { message: string }) => {
      const m = JSON.parse(e.message) as { id?: number; result?: unknown; error?: unknown };
      if (m.id !== undefined) this.pending.get(m.id)?.(m);
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

  private call(sessionId: string, method: string): Promise<unknown> {
    const id = ++this.nextId;
    return new Promise((ok, fail) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        fail(new Error(`${method} got no answer in 10 s`));
      }, 10_000);
      this.pending.set(id, (m) => {
        clearTimeout(timer);
        this.pending.delete(id);
        if (m.error) fail(new Error(`${method}: ${JSON.stringify(m.error)}`));
        else ok(m.result);
      });
      void this.cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params: {} }) }).catch(fail);
    });
  }
}
