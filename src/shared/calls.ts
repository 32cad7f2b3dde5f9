/**
 * Request/reply over a message channel: each call waits under a key (a job number, a request id)
 * until the reply settles it, it fails, or its timer runs out. Every request/reply pair in the
 * product goes through this one helper: worker → leader tab compute jobs, stage confirmations
 * between devices, page → compute worker calls. Timers are injected so tests can drive a clock.
 */
export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export const realTimers: Timers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** A call whose timer ran out before any reply. */
export class CallTimeout extends Error {
  override readonly name = 'CallTimeout';
}

interface Waiting<T> {
  resolve(v: T): void;
  reject(e: Error): void;
  timer: unknown;
}

export class Calls<K, T> {
  private readonly waiting = new Map<K, Waiting<T>>();

  constructor(private readonly timers: Timers = realTimers) {}

  get size(): number {
    return this.waiting.size;
  }

  has(key: K): boolean {
    return this.waiting.has(key);
  }

  /**
   * Waits for the reply to `key`; `send` puts the request on the wire once the call is registered,
   * so a reply that arrives synchronously is not missed. `timeoutMs` null: no timer until `arm`.
   */
  call(key: K, timeoutMs: number | null, send: () => void, timeoutMessage = 'no reply in time'): Promise<T> {
    const p = new Promise<T>((resolve, reject) => {
      this.waiting.set(key, { resolve, reject, timer: undefined });
    });
    if (timeoutMs !== null) this.arm(key, timeoutMs, timeoutMessage);
    send();
    return p;
  }

  /** (Re)starts the timer of a waiting call: it fails with `CallTimeout(message)` after `ms`. */
  arm(key: K, ms: number, message: string): boolean {
    const w = this.waiting.get(key);
    if (!w) return false;
    this.timers.clear(w.timer);
    w.timer = this.timers.set(() => this.fail(key, new CallTimeout(message)), ms);
    return true;
  }

  settle(key: K, value: T): boolean {
    const w = this.take(key);
    w?.resolve(value);
    return !!w;
  }

  fail(key: K, error: Error): boolean {
    const w = this.take(key);
    w?.reject(error);
    return !!w;
  }

  failAll(error: Error): void {
    for (const key of [...this.waiting.keys()]) this.fail(key, error);
  }

  private take(key: K): Waiting<T> | undefined {
    const w = this.waiting.get(key);
    if (!w) return undefined;
    this.timers.clear(w.timer);
    this.waiting.delete(key);
    return w;
  }
}
