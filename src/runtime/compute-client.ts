/** The page's handle on its compute worker: promise-based load / run / release. */
import type { Backend } from '../core/protocol.js';
import type { RoomCapacity } from '../core/room-plan.js';
import { COMPUTE } from '../core/policy.js';
import { CallTimeout, Calls } from '../shared/calls.js';
import type { ComputeReply, ComputeRequest, GpuFault, PreparedModel, WireTensor } from './compute-messages.js';

type Progress = (step: string, done: number, total: number) => void;
/** What a call waits for besides its reply: the sessions a run uses (for the watchdog), progress of a prepare. */
interface CallInfo {
  keys?: string[];
  progress?: Progress;
  watched?: boolean;
}
/** A run not finished in time is taken as hung (see COMPUTE.watchdog): only the page can time it. */
const WATCHDOG = COMPUTE.watchdog;

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
  /** per stage of a chain (one for a single run) */
  stageMs: number[];
  /** what each session that ran used */
  backends: Backend[];
}

/** The model the user gave cannot be used (not ONNX, unsupported op, …): say so, keep working. */
export class InputError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

/**
 * A compute worker on the onnxruntime-web build `backend` needs: the WebGPU build where there is an
 * adapter, else the plain WASM build, which starts faster (compute-host.ts). Vite bundles a worker
 * only from a literal `new URL(...)`, hence two.
 */
function computeWorker(backend: Backend): Worker {
  return backend === 'webgpu'
    ? new Worker(new URL('./compute-worker.ts', import.meta.url), { type: 'module', name: 'frim-compute' })
    : new Worker(new URL('./compute-worker-wasm.ts', import.meta.url), { type: 'module', name: 'frim-compute' });
}

export class ComputeClient {
  private readonly worker: Worker;
  private readonly calls = new Calls<number, ComputeReply>();
  private readonly info = new Map<number, CallInfo>();
  /** recent run times per session, for the watchdog (the first run, which compiles kernels, is left out) */
  private readonly runMs = new Map<string, number[]>();
  private readonly ranOnce = new Set<string>();
  private nextId = 1;
  private dead: string | null = null;

  /** `backend`: what this device computes on (model analysis alone needs no onnxruntime session: 'wasm', the lighter worker) */
  constructor(readonly backend: Backend) {
    this.worker = computeWorker(backend);
    this.worker.onmessage = (ev: MessageEvent<ComputeReply>) => {
      const r = ev.data;
      const info = this.info.get(r.id);
      if (!info || !this.calls.has(r.id)) return;
      if (r.kind === 'started') return this.watch(r.id, info);
      if (r.kind === 'progress') return info.progress?.(r.step, r.done, r.total);
      this.info.delete(r.id);
      // a chain's stages count one by one, so a chain's watchdog learns from chains too
      if (r.kind === 'ran' && info.keys) info.keys.forEach((k, i) => this.recordRun(k, info.keys!.length === 1 ? r.ms : r.stageMs[i] ?? r.ms));
      if (r.kind === 'failed') this.calls.fail(r.id, new ComputeError(r.message, r.trap));
      else if (r.kind === 'failed-input') this.calls.fail(r.id, new InputError(r.code, r.message));
      else this.calls.settle(r.id, r);
    };
    this.worker.onerror = (ev) => {
      this.failAll(`compute worker crashed: ${ev.message}`);
    };
  }

  /** Sends a request and resolves with the reply of the kind it must get back. */
  private async call<K extends ComputeReply['kind']>(req: Request, expect: K, transfer: Transferable[] = [], keys?: string[], progress?: Progress): Promise<Extract<ComputeReply, { kind: K }>> {
    if (this.dead) throw new ComputeError(this.dead, true);
    const id = this.nextId++;
    this.info.set(id, { keys, progress });
    let r: ComputeReply;
    try {
      r = await this.calls.call(id, null, () => this.worker.postMessage({ ...req, id } as ComputeRequest, transfer));
    } catch (e) {
      this.info.delete(id);
      if (!(e instanceof CallTimeout)) throw e;
      // the watchdog: the worker is hung, and everything else asked of it fails with this run
      this.dead ??= e.message;
      this.worker.terminate();
      this.failAll(this.dead, true);
      throw new ComputeError(this.dead, true);
    }
    if (r.kind !== expect) throw new Error(`unexpected reply ${r.kind}`);
    return r as Extract<ComputeReply, { kind: K }>;
  }

  private recordRun(key: string, ms: number): void {
    if (!this.ranOnce.has(key)) return void this.ranOnce.add(key);
    const xs = this.runMs.get(key) ?? [];
    xs.push(ms);
    if (xs.length > WATCHDOG.keep) xs.shift();
    this.runMs.set(key, xs);
  }

  /** a session loaded anew (or gone) starts its watchdog history over */
  private forgetRuns(key: string): void {
    this.ranOnce.delete(key);
    this.runMs.delete(key);
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
  private watch(id: number, info: CallInfo): void {
    if (!info.keys || info.watched) return;
    info.watched = true;
    const limit = this.limitMs(info.keys);
    this.calls.arm(id, limit, `the run did not finish in ${Math.round(limit / 1000)} s (a hung GPU or runtime); the compute worker was stopped`);
  }

  /**
   * Loads a session. `give`: the worker takes the caller's buffer instead of a copy (a partition of
   * hundreds of MiB is not held twice); the caller must not use `bytes` afterwards.
   */
  load(key: string, bytes: Uint8Array, prefer: Backend, opts: { give?: boolean; external?: { path: string; data: Blob }[] } = {}): Promise<Loaded> {
    this.forgetRuns(key);
    const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    const buffer = (opts.give && whole ? bytes.buffer : bytes.slice().buffer) as ArrayBuffer;
    return this.call({ kind: 'load', key, bytes: buffer, prefer, external: opts.external }, 'loaded', [buffer]);
  }

  /** Starts onnxruntime on `backend` ahead of the first copy: how long that took, and why WebGPU did not start if it did not. */
  async startRuntime(backend: Backend): Promise<{ ms: number; fallback: string | null }> {
    const r = await this.call({ kind: 'start-runtime', backend }, 'runtime-started');
    return { ms: r.ms, fallback: r.fallback };
  }

  /** Analyses and cuts a model given as files (the .onnx and its data files); its partitions land in this browser's store. */
  async prepare(files: File[], parts: number, maxBytes: number, room: RoomCapacity | null, progress: Progress): Promise<PreparedModel> {
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

  /** Test-only: every run takes `factor` times as long, as on a slower device (see the `slow` request). */
  async slow(factor: number): Promise<void> {
    await this.call({ kind: 'slow', factor }, 'fault-set');
  }

  async release(key: string): Promise<void> {
    this.forgetRuns(key);
    await this.call({ kind: 'release', key }, 'released');
  }

  private failAll(why: string, trap = false): void {
    this.info.clear();
    this.calls.failAll(new ComputeError(why, trap));
  }

  /** Stops the worker; whatever was still asked of it fails. */
  terminate(): void {
    this.dead ??= 'the compute worker was stopped';
    this.worker.terminate();
    this.failAll(this.dead);
  }
}
