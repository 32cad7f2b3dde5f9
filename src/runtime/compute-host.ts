/**
 * The compute worker's body: owns the onnxruntime-web sessions so a long inference never blocks a
 * page's main thread (heartbeats, UI). WebGPU first where the device offers it; a partition that
 * fails to initialise there runs on WASM instead, and the backend actually used is reported.
 *
 * It is given the onnxruntime-web build to use by its entry file: compute-worker.ts (the WebGPU
 * build, which also runs WASM) on devices with an adapter, compute-worker-wasm.ts (the plain WASM
 * build) on the others. The plain build starts 1.8x faster alone and 2.3x faster with four devices
 * starting at once on two cores (1.6 s vs 2.9 s; 6.5 s vs 15 s), time every WASM device used to
 * spend before its first stage.
 *
 * Every onnxruntime call (create, run, release) goes through one queue: see `SerialQueue` for why
 * two runs must never overlap in one worker on WebGPU.
 */
import type * as Ort from 'onnxruntime-web/webgpu';
import { ModelError } from '../core/onnx/model.js';
import { buildModel, node } from '../core/onnx/synthetic.js';
import { PartitionError } from '../core/onnx/partition.js';
import type { Backend } from '../core/protocol.js';
import type { ComputeReply, ComputeRequest, GpuFault, WireTensor } from './compute-messages.js';
import { cutModel } from './model-cutter.js';
import { SerialQueue } from './serial-queue.js';
import { apportionStageMs } from './stage-times.js';

/** What the host needs of an onnxruntime-web build (both builds share onnxruntime-common's API). */
export type OrtBuild = Pick<typeof Ort, 'env' | 'InferenceSession' | 'Tensor'>;

/** the build this worker was started with (serveCompute) */
let ort: OrtBuild;

interface Loaded {
  session: Ort.InferenceSession;
  backend: Backend;
}

/** The WebAssembly instance faulted: nothing more can run in this worker. */
class TrapError extends Error {}

const sessions = new Map<string, Loaded>();
/** per session: its last run on its own, outputs read back (what a chain's GPU time is shared by) */
const soloMs = new Map<string, number>();
const ortCalls = new SerialQueue();
/** why this worker's onnxruntime can no longer be trusted, once it cannot */
let broken: string | null = null;
/** test-only: WebGPU runs still to break on purpose, and how (see the `fault` request) */
let gpuRunFaults = 0;
let gpuFault: GpuFault = 'hang';
/** test-only: runs take this many times as long (see the `slow` request) */
let slowdown = 1;

function reply(msg: ComputeReply, transfer: Transferable[] = []): void {
  (self as unknown as Worker).postMessage(msg, transfer);
}

function toOrt(t: WireTensor): Ort.Tensor {
  const data = t.type === 'float32' ? new Float32Array(t.data)
    : t.type === 'int64' ? new BigInt64Array(t.data)
    : t.type === 'int32' ? new Int32Array(t.data)
    : t.type === 'bool' ? new Uint8Array(t.data)
    : new Uint8Array(t.data);
  return new ort.Tensor(t.type, data, t.dims);
}

function feedsFromWire(feeds: Record<string, WireTensor>): Record<string, Ort.Tensor> {
  return Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, toOrt(v)]));
}

/** Replies with the named tensors, moving (not copying) their buffers to the page; tensors on the GPU are read back and freed. */
async function replyRan(id: number, tensors: Record<string, Ort.Tensor>, started: number, keys: string[], backends: Backend[], stageMs?: number[]): Promise<void> {
  const outputs: Record<string, WireTensor> = {};
  for (const [k, v] of Object.entries(tensors)) outputs[k] = await toWire(v);
  const ms = performance.now() - started;
  if (!stageMs) soloMs.set(keys[0], ms);
  const perStage = stageMs ? apportionStageMs(ms, stageMs, backends.map((b) => b === 'webgpu'), keys.map((k) => soloMs.get(k))) : [ms];
  reply({ kind: 'ran', id, outputs, ms, stageMs: perStage, backends }, Object.values(outputs).map((o) => o.data));
}

function loaded(key: string): Loaded {
  const s = sessions.get(key);
  if (!s) throw new Error(`no session "${key}" is loaded`);
  return s;
}

async function toWire(t: Ort.Tensor): Promise<WireTensor> {
  const src = (t.location === 'gpu-buffer' ? await t.getData(true) : t.data) as ArrayBufferView;
  const data = src.buffer.slice(src.byteOffset, src.byteOffset + src.byteLength) as ArrayBuffer;
  return { type: t.type as WireTensor['type'], dims: [...t.dims], data };
}

/**
 * On WebGPU a session's outputs stay in GPU buffers: in a chain the next partition reads them there,
 * with no readback and upload between partitions; what leaves the worker is read back once (toWire).
 */
async function create(bytes: Uint8Array, backend: Backend, external?: { path: string; data: Uint8Array }[]): Promise<Ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, { executionProviders: [backend], graphOptimizationLevel: 'all', externalData: external, ...(backend === 'webgpu' ? { preferredOutputLocation: 'gpu-buffer' as const } : {}) });
}

/** A session on `prefer`; where WebGPU cannot create it, on WASM, with WebGPU's error. */
async function createPreferring(bytes: Uint8Array, prefer: Backend, external?: { path: string; data: Uint8Array }[]): Promise<{ session: Ort.InferenceSession; backend: Backend; webgpuError: string | null }> {
  try {
    return { session: await create(bytes, prefer, external), backend: prefer, webgpuError: null };
  } catch (e) {
    if (prefer !== 'webgpu') throw e;
    return { session: await create(bytes, 'wasm', external), backend: 'wasm', webgpuError: (e as Error).message };
  }
}

/** A tensor a WASM session can read: one left on the GPU by an earlier WebGPU partition is read back. */
async function onCpu(t: Ort.Tensor): Promise<Ort.Tensor> {
  return t.location === 'gpu-buffer' ? new ort.Tensor(t.type as 'float32', (await t.getData()) as Float32Array, t.dims) : t;
}

/** Frees the GPU buffers of tensors that are not sent anywhere. */
function disposeGpu(tensors: Iterable<Ort.Tensor>, keep: ReadonlySet<Ort.Tensor> = new Set()): void {
  for (const t of tensors) if (t.location === 'gpu-buffer' && !keep.has(t)) t.dispose();
}

/** Runs one session; the page is told when it starts, so its watchdog times the run, not the queue. */
async function run(id: number, s: Loaded, feeds: Record<string, Ort.Tensor>): Promise<Ort.InferenceSession.ReturnType> {
  reply({ kind: 'started', id });
  if (s.backend === 'webgpu' && gpuRunFaults > 0) {
    gpuRunFaults--;
    if (gpuFault === 'hang') for (;;) { /* the thread stops here, as a hung driver leaves it */ }
    if (gpuFault === 'error') throw new Error('the WebGPU run failed (fault switch)');
    const [a, b] = await Promise.all([s.session.run(feeds), s.session.run(feeds)]);
    disposeGpu(Object.values(b));
    return a;
  }
  return s.session.run(feeds);
}

/** One onnxruntime call, after the ones before it; a trap marks the whole worker unusable. */
function ortCall<T>(fn: () => Promise<T>): Promise<T> {
  return ortCalls.run(async () => {
    if (broken) throw new TrapError(broken);
    try {
      return await fn();
    } catch (e) {
      if (isTrap(e)) broken = (e as Error).message ?? String(e);
      throw e;
    }
  });
}

async function load(msg: Extract<ComputeRequest, { kind: 'load' }>): Promise<void> {
  const started = performance.now();
  const bytes = new Uint8Array(msg.bytes);
  const external = msg.external ? await Promise.all(msg.external.map(async (x) => ({ path: x.path, data: new Uint8Array(await x.data.arrayBuffer()) }))) : undefined;
  const { session: created, backend, webgpuError } = await createPreferring(bytes, msg.prefer, external);
  const fallback = webgpuError && `WebGPU could not load it (${webgpuError}); using WASM`;
  sessions.set(msg.key, { session: created, backend });
  soloMs.delete(msg.key);
  reply({ kind: 'loaded', id: msg.id, backend, fallback, ms: performance.now() - started, inputs: [...created.inputNames], inputTypes: created.inputMetadata.map((m) => (m.isTensor ? String(m.type) : '')), outputs: [...created.outputNames] });
}

/**
 * Starts onnxruntime before any copy needs it: fetching and compiling its WebAssembly (on WebGPU,
 * also getting the GPU device) is what each device's first copy waited for, about 5 s with four
 * devices starting at once on two cores here. Creating a session of one Relu does all of that;
 * the session itself is not kept.
 */
async function startRuntime(msg: Extract<ComputeRequest, { kind: 'start-runtime' }>): Promise<void> {
  const started = performance.now();
  const tiny = buildModel({ input: { name: 'x', dims: [1] }, initializers: [], nodes: [node('Relu', ['x'], ['y'])], outputs: ['y'] });
  const { session, webgpuError } = await createPreferring(tiny, msg.backend);
  await session.release();
  const fallback = webgpuError && `WebGPU could not start (${webgpuError}); copies run on WASM where it fails again`;
  reply({ kind: 'runtime-started', id: msg.id, ms: performance.now() - started, fallback });
}

async function prepare(msg: Extract<ComputeRequest, { kind: 'prepare' }>): Promise<void> {
  const nav = self.navigator as Navigator & { deviceMemory?: number };
  try {
    const model = await cutModel(msg.files, { parts: msg.parts, maxBytes: msg.maxBytes, room: msg.room, deviceMemoryGiB: nav.deviceMemory ?? null },
      (step, done, total) => reply({ kind: 'progress', id: msg.id, step, done, total }));
    reply({ kind: 'prepared', id: msg.id, model });
  } catch (e) {
    if (e instanceof ModelError || e instanceof PartitionError) {
      reply({ kind: 'failed-input', id: msg.id, code: e instanceof ModelError ? e.code : 'partition', message: e.message });
    } else throw e;
  }
}

async function chain(msg: Extract<ComputeRequest, { kind: 'chain' }>): Promise<void> {
  const started = performance.now();
  const env = feedsFromWire(msg.feeds);
  const backends: Backend[] = [];
  const stageMs: number[] = [];
  try {
    for (const stage of msg.stages) {
      const s = loaded(stage.key);
      backends.push(s.backend);
      const t0 = performance.now();
      const feeds: Record<string, Ort.Tensor> = {};
      for (const n of stage.inputs) feeds[n] = s.backend === 'webgpu' ? env[n] : await onCpu(env[n]);
      Object.assign(env, await run(msg.id, s, feeds));
      stageMs.push(performance.now() - t0);
    }
    if (slowdown > 1) await new Promise((r) => setTimeout(r, (slowdown - 1) * (performance.now() - started)));
    // only what the caller asked for leaves the worker: intermediate activations stay here
    const missing = msg.want.find((k) => !env[k]);
    if (missing) throw new Error(`the chain produced no tensor "${missing}"`);
    const wanted = Object.fromEntries(msg.want.map((k) => [k, env[k]]));
    disposeGpu(Object.values(env), new Set(Object.values(wanted)));
    await replyRan(msg.id, wanted, started, msg.stages.map((st) => st.key), backends, stageMs.map((x) => x * slowdown));
  } catch (e) {
    disposeGpu(Object.values(env));
    throw e;
  }
}

async function runOne(msg: Extract<ComputeRequest, { kind: 'run' }>): Promise<void> {
  const started = performance.now();
  const s = loaded(msg.key);
  const out = await run(msg.id, s, feedsFromWire(msg.feeds));
  // a slower device: it stays busy for the difference, so the runs queued behind it wait as well
  if (slowdown > 1) await new Promise((r) => setTimeout(r, (slowdown - 1) * (performance.now() - started)));
  await replyRan(msg.id, out, started, [msg.key], [s.backend]);
}

/** A fault of the WebAssembly machine itself (as opposed to an error onnxruntime reports). */
function isTrap(e: unknown): boolean {
  return e instanceof TrapError || e instanceof WebAssembly.RuntimeError || /memory access out of bounds|unreachable|table index is out of bounds/i.test(String((e as Error)?.message ?? e));
}

/** Starts the worker on `build`: every request from the page goes through here. */
export function serveCompute(build: OrtBuild): void {
  ort = build;
  ort.env.wasm.wasmPaths = new URL('/ort/', self.location.origin).href;
  // Multi-threaded WASM needs cross-origin isolation (COOP/COEP), which would also cut the page off
  // from some LAN set-ups; one thread per device keeps the other core for heartbeats and the UI.
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = 'error';
  self.onmessage = (ev: MessageEvent<ComputeRequest>) => {
    const msg = ev.data;
    const work = (async () => {
      switch (msg.kind) {
        case 'prepare': return prepare(msg);
        case 'load': return ortCall(() => load(msg));
        case 'start-runtime': return ortCall(() => startRuntime(msg));
        case 'run': return ortCall(() => runOne(msg));
        case 'chain': return ortCall(() => chain(msg));
        case 'release':
          await ortCall(async () => {
            await sessions.get(msg.key)?.session.release();
            sessions.delete(msg.key);
            soloMs.delete(msg.key);
          });
          return reply({ kind: 'released', id: msg.id });
        case 'fault':
          gpuRunFaults = msg.gpuRuns;
          gpuFault = msg.how;
          return reply({ kind: 'fault-set', id: msg.id });
        case 'slow':
          slowdown = msg.factor;
          return reply({ kind: 'fault-set', id: msg.id });
      }
    })();
    work.catch((e: unknown) => reply({ kind: 'failed', id: msg.id, message: (e as Error).message ?? String(e), trap: isTrap(e) }));
  };
}
