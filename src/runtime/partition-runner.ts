/**
 * The leader tab's side of running stages for the room: partition sessions loaded from this
 * browser's verified replicas (by hash) into the compute worker once, then run on demand.
 *
 * A partition that fails at run time on WebGPU is not given up: that request is run again on
 * WASM, and the partition stays on WASM from then on (a GPU that failed once is not trusted with
 * the next request). When the failure was a fault of the WebAssembly instance itself, every
 * session in that worker is suspect, so the worker is replaced and the sessions reloaded.
 */
import type { Backend } from '../core/protocol.js';
import { ReplicaStore } from '../store/replicas.js';
import type { GpuFault, WireTensor } from './compute-messages.js';
import type { ChainStage, WarmPartition, WarmSession } from '../core/device-protocol.js';
import { ComputeClient, ComputeError, type Ran } from './compute-client.js';

export interface RunnerEvents {
  /** the backend of every session loaded now, by partition hash, and those that have run once (after every change) */
  sessions(backends: Record<string, Backend>, warm: WarmSession[]): void;
  /** a partition moved from WebGPU to WASM: it failed to load there, or failed at run time */
  switched(hash: string, reason: string): void;
}

/** A partition to load ahead of requests, with its inputs' batch-1 shapes (null where unknown). */

const ELEMENT_BYTES: Record<WireTensor['type'], number> = { float32: 4, int64: 8, int32: 4, uint8: 1, bool: 1 };

export class PartitionRunner {
  private client: ComputeClient;
  /** bumped whenever the compute worker is replaced: runs in flight then belong to the old one */
  private generation = 0;
  private readonly store = new ReplicaStore();
  private readonly loaded = new Map<string, Promise<Backend>>();
  private readonly backends = new Map<string, Backend>();
  /** partitions that failed on WebGPU at run time: WASM from now on, in this tab */
  private readonly wasmOnly = new Set<string>();
  /** element type of each input, per loaded partition */
  private readonly inputTypes = new Map<string, Record<string, string>>();
  /**
   * sessions that have run since they loaded (their kernels are compiled), with the time of their
   * second run (the first is mostly compiling), which the room routes and hedges by until requests
   * measure more; null after one run
   */
  private readonly warmed = new Map<string, number | null>();
  /** the warm-up under way (see `warm`) */
  private warming: Promise<void> = Promise.resolve();
  /** what each partition needs for its warm-up, as last asked */
  private readonly warmList = new Map<string, WarmPartition>();

  constructor(private readonly backend: Backend, private readonly events: RunnerEvents) {
    this.client = new ComputeClient(backend);
  }

  /** Starts onnxruntime now, so the first copy placed here loads at once. */
  startRuntime(): Promise<{ ms: number; fallback: string | null }> {
    return this.client.startRuntime(this.backend);
  }

  async run(hash: string, feeds: Record<string, WireTensor>): Promise<Ran> {
    for (let attempt = 0; ; attempt++) {
      const generation = this.generation;
      let backend: Backend | null = null;
      try {
        backend = await this.load(hash);
        const ran = await this.client.run(hash, feeds);
        if (generation === this.generation) this.ran([hash], ran.stageMs);
        return ran;
      } catch (e) {
        // a run caught in a worker replacement is simply run again on the new one
        if (generation !== this.generation && attempt < 2) continue;
        const onGpu = backend === 'webgpu';
        if (onGpu && !this.wasmOnly.has(hash)) {
          this.wasmOnly.add(hash);
          this.events.switched(hash, `WebGPU failed at run time (${(e as Error).message}); this request and the ones after it run on WASM`);
        }
        if (e instanceof ComputeError && e.trap) this.replaceWorker();
        else if (onGpu) await this.unload(hash);
        if (!onGpu || attempt >= 2) throw e;
      }
    }
  }

  /**
   * Consecutive partitions in one go: the activations between them stay in the compute worker (one
   * round trip instead of one per partition). A chain that fails is run again a partition at a time;
   * as with `run`, a GPU that failed is not trusted again: which partition of the chain it failed on
   * is not known, so each of its partitions that ran on WebGPU moves to WASM.
   */
  async chain(stages: ChainStage[], feeds: Record<string, WireTensor>, want: string[]): Promise<Ran> {
    if (stages.length === 1 && !want.length) return this.run(stages[0].hash, feeds);
    const generation = this.generation;
    try {
      for (const s of stages) await this.load(s.hash);
      // the feeds are copied to the compute worker, not moved: the fallback below still has them
      const ran = await this.client.chain(stages.map((s) => ({ key: s.hash, inputs: s.inputs })), feeds, want);
      if (generation === this.generation) this.ran(stages.map((s) => s.hash), ran.stageMs);
      return ran;
    } catch (e) {
      if (generation !== this.generation) return this.chainOneByOne(stages, feeds, want);
      const onGpu = stages.filter((s) => this.backends.get(s.hash) === 'webgpu' && !this.wasmOnly.has(s.hash));
      for (const s of onGpu) {
        this.wasmOnly.add(s.hash);
        this.events.switched(s.hash, `WebGPU failed at run time (${(e as Error).message}); this request and the ones after it run on WASM`);
      }
      if (e instanceof ComputeError && e.trap) this.replaceWorker();
      else for (const s of onGpu) await this.unload(s.hash);
    }
    return this.chainOneByOne(stages, feeds, want);
  }

  private async chainOneByOne(stages: ChainStage[], feeds: Record<string, WireTensor>, want: string[]): Promise<Ran> {
    const started = performance.now();
    const env = { ...feeds };
    const stageMs: number[] = [];
    const backends: Backend[] = [];
    for (const s of stages) {
      const r = await this.run(s.hash, Object.fromEntries(s.inputs.map((n) => [n, env[n]])));
      Object.assign(env, r.outputs);
      stageMs.push(r.ms);
      backends.push(...r.backends);
    }
    const missing = want.find((k) => !env[k]);
    if (missing) throw new Error(`the chain produced no tensor "${missing}"`);
    return { outputs: Object.fromEntries(want.map((k) => [k, env[k]])), ms: performance.now() - started, stageMs, backends };
  }

  /**
   * Loads these partitions one after another, ahead of the first request that needs them, and runs
   * each twice on zeros where its input shapes are known: the first run compiles the GPU kernels,
   * so no request pays for that, and both give the hang watchdog a measure of a normal run. Calls
   * run one after another: a second list arriving while the first is warming would otherwise run
   * the same session's first (compiling) run twice.
   */
  warm(parts: WarmPartition[], only = false): Promise<void> {
    const next = this.warming.then(() => this.warmNow(parts, only));
    // a warm-up that failed must not stop the ones queued after it
    this.warming = next.catch(() => undefined);
    return next;
  }

  private async warmNow(parts: WarmPartition[], only: boolean): Promise<void> {
    for (const p of parts) this.warmList.set(p.hash, p);
    // sessions of copies this device no longer keeps free their memory
    if (only) for (const h of [...this.backends.keys()]) if (!parts.some((p) => p.hash === h)) await this.unload(h);
    for (const p of parts) {
      try {
        await this.load(p.hash);
        const feeds = this.zeros(p);
        if (!feeds || this.warmed.has(p.hash)) continue;
        for (let i = 0; i < 2; i++) await this.run(p.hash, feeds);
      } catch {
        // a copy that cannot load is reported when a request needs it
      }
    }
  }

  /** Zero tensors for a warm-up run, or null when a shape or type is unknown. */
  private zeros(p: WarmPartition): Record<string, WireTensor> | null {
    const types = this.inputTypes.get(p.hash);
    if (!types || p.inputs.some((i) => !i.dims)) return null;
    const feeds: Record<string, WireTensor> = {};
    for (const input of p.inputs) {
      const type = types[input.name];
      const size = ELEMENT_BYTES[type as WireTensor['type']];
      if (!size) return null;
      const n = input.dims!.reduce((a, b) => a * b, 1);
      feeds[input.name] = { type: type as WireTensor['type'], dims: input.dims!, data: new ArrayBuffer(n * size) };
    }
    return feeds;
  }

  /** Test-only: the next `gpuRuns` WebGPU runs in this tab fail (see `GpuFault`). */
  async slow(factor: number): Promise<void> {
    await this.client.slow(factor);
  }

  async fault(gpuRuns: number, how: GpuFault): Promise<void> {
    await this.client.fault(gpuRuns, how);
  }

  private async unload(hash: string): Promise<void> {
    this.warmed.delete(hash);
    this.loaded.delete(hash);
    this.backends.delete(hash);
    this.report();
    await this.client.release(hash).catch(() => undefined);
  }

  /**
   * A new compute worker (a fresh WebAssembly instance). The partition that failed is loaded first
   * by the run that retries it; the other sessions the old worker had follow right after.
   */
  private replaceWorker(): void {
    this.generation++;
    const had = [...this.backends.keys()].map((hash) => this.warmList.get(hash) ?? { hash, inputs: [] });
    this.client.terminate();
    this.client = new ComputeClient(this.backend);
    this.loaded.clear();
    this.backends.clear();
    this.warmed.clear();
    this.report();
    setTimeout(() => void this.warm(had), 0);
  }

  private load(hash: string): Promise<Backend> {
    let ready = this.loaded.get(hash);
    if (!ready) {
      const client = this.client;
      ready = this.store.getReplica(hash).then(async (bytes) => {
        if (!bytes) throw new Error('no verified copy of that partition in this browser');
        const r = await client.load(hash, bytes, this.wasmOnly.has(hash) ? 'wasm' : this.backend, { give: true });
        if (r.fallback && !this.wasmOnly.has(hash)) {
          this.wasmOnly.add(hash);
          this.events.switched(hash, r.fallback);
        }
        if (client === this.client) {
          this.inputTypes.set(hash, Object.fromEntries(r.inputs.map((n, i) => [n, r.inputTypes[i]])));
          this.backends.set(hash, r.backend);
          this.report();
        }
        return r.backend;
      });
      this.loaded.set(hash, ready);
      ready.catch(() => {
        if (this.loaded.get(hash) === ready) this.loaded.delete(hash);
      });
    }
    return ready;
  }

  /** these sessions have run, taking `ms` each: the room may route to them without paying for a first run */
  private ran(hashes: string[], ms: number[]): void {
    let changed = false;
    hashes.forEach((h, i) => {
      if (!this.backends.has(h)) return;
      if (!this.warmed.has(h)) this.warmed.set(h, null);
      else if (this.warmed.get(h) === null && ms[i] !== undefined) this.warmed.set(h, ms[i]);
      else return;
      changed = true;
    });
    if (changed) this.report();
  }

  private report(): void {
    this.events.sessions(Object.fromEntries(this.backends), [...this.warmed].filter(([h]) => this.backends.has(h)).map(([hash, ms]) => ({ hash, ms })));
  }

  terminate(): void {
    this.client.terminate();
  }
}
