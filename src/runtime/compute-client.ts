/** The page's handle on its compute worker: promise-based load / run / release. */
import type { Backend } from '../core/protocol.js';
import type { ComputeReply, ComputeRequest, PreparedModel, WireTensor } from './compute-messages.js';

type Pending = { resolve(r: ComputeReply): void; reject(e: Error): void };
type Request = ComputeRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export interface Loaded {
  backend: Backend;
  fallback: string | null;
  ms: number;
  inputs: string[];
  outputs: string[];
}

/** The model the user gave cannot be used (not ONNX, unsupported op, …): say so, keep working. */
export class InputError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

export class ComputeClient {
  private readonly worker = new Worker(new URL('./compute-worker.ts', import.meta.url), { type: 'module', name: 'frim-compute' });
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor() {
    this.worker.onmessage = (ev: MessageEvent<ComputeReply>) => {
      const p = this.pending.get(ev.data.id);
      if (!p) return;
      this.pending.delete(ev.data.id);
      if (ev.data.kind === 'failed') p.reject(new Error(ev.data.message));
      else if (ev.data.kind === 'failed-input') p.reject(new InputError(ev.data.code, ev.data.message));
      else p.resolve(ev.data);
    };
    this.worker.onerror = (ev) => {
      for (const p of this.pending.values()) p.reject(new Error(`compute worker crashed: ${ev.message}`));
      this.pending.clear();
    };
  }

  /** Sends a request and resolves with the reply of the kind it must get back. */
  private call<K extends ComputeReply['kind']>(req: Request, expect: K, transfer: Transferable[] = []): Promise<Extract<ComputeReply, { kind: K }>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, {
        resolve: (r) => (r.kind === expect ? resolve(r as Extract<ComputeReply, { kind: K }>) : reject(new Error(`unexpected reply ${r.kind}`))),
        reject,
      });
      this.worker.postMessage({ ...req, id } as ComputeRequest, transfer);
    });
  }

  /** The caller keeps its bytes: the worker gets (and owns) a copy. */
  load(key: string, bytes: Uint8Array, prefer: Backend): Promise<Loaded> {
    const copy = bytes.slice().buffer;
    return this.call({ kind: 'load', key, bytes: copy, prefer }, 'loaded', [copy]);
  }

  async prepare(name: string, bytes: Uint8Array, parts: number, maxBytes: number): Promise<PreparedModel> {
    const copy = bytes.slice().buffer;
    return (await this.call({ kind: 'prepare', name, bytes: copy, parts, maxBytes }, 'prepared', [copy])).model;
  }

  chain(stages: { key: string; inputs: string[] }[], feeds: Record<string, WireTensor>, want: string[]): Promise<{ outputs: Record<string, WireTensor>; ms: number }> {
    return this.call({ kind: 'chain', stages, feeds, want }, 'ran');
  }

  run(key: string, feeds: Record<string, WireTensor>): Promise<{ outputs: Record<string, WireTensor>; ms: number }> {
    return this.call({ kind: 'run', key, feeds }, 'ran');
  }

  async release(key: string): Promise<void> {
    await this.call({ kind: 'release', key }, 'released');
  }

  terminate(): void {
    this.worker.terminate();
  }
}
