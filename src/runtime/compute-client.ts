/** The page's handle on its compute worker: promise-based load / run / release. */
import type { Backend } from '../core/protocol.js';
import type { RoomCapacity } from '../core/room-plan.js';
import type { ComputeReply, ComputeRequest, GpuFault, PreparedModel, WireTensor } from './compute-messages.js';

type Pending = {
  resolve(r: ComputeReply): void;
  reject(e: Error): void;
  keys?: string[];
  watchdog?: ReturnType<typeof setTimeout>;
  progress?: (step: string, done: number, total: number) => void;
};

/**
 * A run that has not finished this long after it started is taken as hung (a GPU or a runtime that
 * will never answer: a hung run can block the worker's own thread, so only the page can time it):
 * 20 times the typical run of that session, at least 10 s, and 120 s before the session has
 * finished a single run (the first run compiles the GPU kernels).
 */
const WATCHDOG = { factor: 20, floorMs: 10_000, firstRunMs: 120_000, keep: 20 } as const;
type Request = ComputeRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export interface Loaded {
  backend: Backend;
  fallback: string | null;
  ms: number;
  inputs: string[];
  inputTypes: string[];
  outputs: string[];
}

/** A run or load that failed in the compute worker; `trap`: its WebAssembly instance is broken. */
export class ComputeError extends Error {
  constructor(message: string, readonly trap: boolean) {
    super(message);
  }
}

export interface Ran {
  outputs: Record<string, WireTensor>;
  ms: number;
  /** what each session that ran used */
  backends: Backend[];
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
  /** recent run times per session, for the watchdog (the first run, which compiles kernels, is left out) */
  private readonly runMs = new Map<string, number[]>();
  private readonly ranOnce = new Set<string>();
  private nextId = 1;
  private dead: string | null = null;

  constructor() {
    this.worker.onmessage = (ev: MessageEvent<ComputeReply>) => {
      const p = this.pending.get(ev.data.id);
      if (!p) return;
      if (ev.data.kind === 'started') return this.watch(ev.data.id, p);
      if (ev.data.kind === 'progress') return p.progress?.(ev.data.step, ev.data.done, ev.data.total);
      clearTimeout(p.watchdog);
      this.pending.delete(ev.data.id);
      if (ev.data.kind === 'ran' && p.keys?.length === 1) this.recordRun(p.keys[0], ev.data.ms);
      if (ev.data.kind === 'failed') p.reject(new ComputeError(ev.data.message, ev.data.trap));
      else if (ev.data.kind === 'failed-input') p.reject(new InputError(ev.data.code, ev.data.message));
      else p.resolve(ev.data);
    };
    this.worker.onerror = (ev) => {
      this.failAll(`compute worker crashed: ${ev.message}`);
    };
  }

  /** Sends a request and resolves with the reply of the kind it must get back. */
  private call<K extends ComputeReply['kind']>(req: Request, expect: K, transfer: Transferable[] = [], keys?: string[], progress?: Pending['progress']): Promise<Extract<ComputeReply, { kind: K }>> {
    if (this.dead) return Promise.reject(new ComputeError(this.dead, true));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, {
        resolve: (r) => (r.kind === expect ? resolve(r as Extract<ComputeReply, { kind: K }>) : reject(new Error(`unexpected reply ${r.kind}`))),
        reject,
        keys,
        progress,
      });
      this.worker.postMessage({ ...req, id } as ComputeRequest, transfer);
    });
  }

  private recordRun(key: string, ms: number): void {
    if (!this.ranOnce.has(key)) return void this.ranOnce.add(key);
    const xs = this.runMs.get(key) ?? [];
    xs.push(ms);
    if (xs.length > WATCHDOG.keep) xs.shift();
    this.runMs.set(key, xs);
  }

  private limitMs(keys: string[]): number {
    let limit = 0;
    for (const k of keys) {
      const xs = [...(this.runMs.get(k) ?? [])].sort((a, b) => a - b);
      limit += xs.length ? Math.max(WATCHDOG.floorMs, WATCHDOG.factor * xs[Math.floor(xs.length / 2)]) : WATCHDOG.firstRunMs;
    }
    return limit;
  }

  /** A run started: if it does not finish in time, the worker is hung and is stopped. */
  private watch(id: number, p: Pending): void {
    if (!p.keys || p.watchdog) return;
    const limit = this.limitMs(p.keys);
    p.watchdog = setTimeout(() => {
      if (!this.pending.has(id)) return;
      this.dead = `the run did not finish in ${Math.round(limit / 1000)} s (a hung GPU or runtime); the compute worker was stopped`;
      this.worker.terminate();
      this.failAll(this.dead, true);
    }, limit);
  }

  /**
   * Loads a session. `give`: the worker takes the caller's buffer instead of a copy (a partition of
   * hundreds of MiB is not held twice); the caller must not use `bytes` afterwards.
   */
  load(key: string, bytes: Uint8Array, prefer: Backend, opts: { give?: boolean; external?: { path: string; data: Blob }[] } = {}): Promise<Loaded> {
    this.ranOnce.delete(key);
    this.runMs.delete(key);
    const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    const buffer = (opts.give && whole ? bytes.buffer : bytes.slice().buffer) as ArrayBuffer;
    return this.call({ kind: 'load', key, bytes: buffer, prefer, external: opts.external }, 'loaded', [buffer]);
  }

  /** Analyses and cuts a model given as files (the .onnx and its data files); its partitions land in this browser's store. */
  async prepare(files: File[], parts: number, maxBytes: number, room: RoomCapacity | null, progress: (step: string, done: number, total: number) => void): Promise<PreparedModel> {
    return (await this.call({ kind: 'prepare', files, parts, maxBytes, room }, 'prepared', [], undefined, progress)).model;
  }

  chain(stages: { key: string; inputs: string[] }[], feeds: Record<string, WireTensor>, want: string[]): Promise<Ran> {
    return this.call({ kind: 'chain', stages, feeds, want }, 'ran', [], stages.map((s) => s.key));
  }

  run(key: string, feeds: Record<string, WireTensor>): Promise<Ran> {
    return this.call({ kind: 'run', key, feeds }, 'ran', [], [key]);
  }

  /** Test-only: break the next `gpuRuns` WebGPU runs (see the `fault` request). */
  async fault(gpuRuns: number, how: GpuFault): Promise<void> {
    await this.call({ kind: 'fault', gpuRuns, how }, 'fault-set');
  }

  async release(key: string): Promise<void> {
    this.ranOnce.delete(key);
    this.runMs.delete(key);
    await this.call({ kind: 'release', key }, 'released');
  }

  private failAll(why: string, trap = false): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.watchdog);
      p.reject(new ComputeError(why, trap));
    }
    this.pending.clear();
  }

  /** Stops the worker; whatever was still asked of it fails. */
  terminate(): void {
    this.dead ??= 'the compute worker was stopped';
    this.worker.terminate();
    this.failAll(this.dead);
  }
}
