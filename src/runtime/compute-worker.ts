/**
 * Compute worker: owns the onnxruntime-web sessions so a long inference never blocks a page's
 * main thread (heartbeats, UI). WebGPU first where the device offers it; a partition that fails
 * to initialise there runs on WASM instead, and the backend actually used is reported.
 */
import * as ort from 'onnxruntime-web/webgpu';
import { partitionModelBytes } from '../core/onnx/manifest.js';
import { ModelError } from '../core/onnx/model.js';
import { PartitionError } from '../core/onnx/partition.js';
import type { Backend } from '../core/protocol.js';
import type { ComputeReply, ComputeRequest, WireTensor } from './compute-messages.js';

ort.env.wasm.wasmPaths = new URL('/ort/', self.location.origin).href;
// Multi-threaded WASM needs cross-origin isolation (COOP/COEP), which would also cut the page off
// from some LAN set-ups; one thread per device keeps the other core for heartbeats and the UI.
ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';

const sessions = new Map<string, ort.InferenceSession>();

function reply(msg: ComputeReply, transfer: Transferable[] = []): void {
  (self as unknown as Worker).postMessage(msg, transfer);
}

function toOrt(t: WireTensor): ort.Tensor {
  const data = t.type === 'float32' ? new Float32Array(t.data)
    : t.type === 'int64' ? new BigInt64Array(t.data)
    : t.type === 'int32' ? new Int32Array(t.data)
    : t.type === 'bool' ? new Uint8Array(t.data)
    : new Uint8Array(t.data);
  return new ort.Tensor(t.type, data, t.dims);
}

function feedsFromWire(feeds: Record<string, WireTensor>): Record<string, ort.Tensor> {
  return Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, toOrt(v)]));
}

/** Replies with the named tensors, moving (not copying) their buffers to the page. */
function replyRan(id: number, tensors: Record<string, ort.Tensor>, started: number): void {
  const outputs = Object.fromEntries(Object.entries(tensors).map(([k, v]) => [k, toWire(v)]));
  reply({ kind: 'ran', id, outputs, ms: performance.now() - started }, Object.values(outputs).map((o) => o.data));
}

function session(key: string): ort.InferenceSession {
  const s = sessions.get(key);
  if (!s) throw new Error(`no session "${key}" is loaded`);
  return s;
}

function toWire(t: ort.Tensor): WireTensor {
  const src = t.data as ArrayBufferView;
  const data = src.buffer.slice(src.byteOffset, src.byteOffset + src.byteLength) as ArrayBuffer;
  return { type: t.type as WireTensor['type'], dims: [...t.dims], data };
}

async function create(bytes: Uint8Array, backend: Backend): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, { executionProviders: [backend], graphOptimizationLevel: 'all' });
}

async function load(msg: Extract<ComputeRequest, { kind: 'load' }>): Promise<void> {
  const started = performance.now();
  const bytes = new Uint8Array(msg.bytes);
  let backend: Backend = msg.prefer;
  let fallback: string | null = null;
  let created: ort.InferenceSession;
  try {
    created = await create(bytes, backend);
  } catch (e) {
    if (backend !== 'webgpu') throw e;
    fallback = `WebGPU could not run it (${(e as Error).message}); using WASM`;
    backend = 'wasm';
    created = await create(bytes, backend);
  }
  await sessions.get(msg.key)?.release();
  sessions.set(msg.key, created);
  reply({ kind: 'loaded', id: msg.id, backend, fallback, ms: performance.now() - started, inputs: [...created.inputNames], outputs: [...created.outputNames] });
}

function prepare(msg: Extract<ComputeRequest, { kind: 'prepare' }>): void {
  try {
    const p = partitionModelBytes(new Uint8Array(msg.bytes), msg.name, { parts: msg.parts, maxBytes: msg.maxBytes });
    const files = p.files.map((f) => f.bytes.slice().buffer as ArrayBuffer);
    const a = p.analysis;
    reply({
      kind: 'prepared',
      id: msg.id,
      model: {
        manifest: p.manifest,
        sizeBytes: msg.bytes.byteLength,
        opset: a.opset,
        operators: a.nodes.length,
        totalFlops: a.totalFlops,
        totalParamBytes: a.totalParamBytes,
        histogram: a.histogram,
        partitions: p.plan.partitions.map(({ id, start, end, flops, paramBytes, inputBytes, outputBytes }) => ({ id, start, end, flops, paramBytes, inputBytes, outputBytes })),
        cuts: p.plan.cuts,
        files,
      },
    }, files);
  } catch (e) {
    if (e instanceof ModelError || e instanceof PartitionError) {
      reply({ kind: 'failed-input', id: msg.id, code: e instanceof ModelError ? e.code : 'partition', message: e.message });
    } else throw e;
  }
}

async function chain(msg: Extract<ComputeRequest, { kind: 'chain' }>): Promise<void> {
  const started = performance.now();
  const env = feedsFromWire(msg.feeds);
  for (const stage of msg.stages) Object.assign(env, await session(stage.key).run(Object.fromEntries(stage.inputs.map((n) => [n, env[n]]))));
  // only what the caller asked for leaves the worker: intermediate activations stay here
  replyRan(msg.id, Object.fromEntries(msg.want.map((k) => [k, env[k]])), started);
}

async function run(msg: Extract<ComputeRequest, { kind: 'run' }>): Promise<void> {
  const started = performance.now();
  replyRan(msg.id, await session(msg.key).run(feedsFromWire(msg.feeds)), started);
}

self.onmessage = (ev: MessageEvent<ComputeRequest>) => {
  const msg = ev.data;
  const work = (async () => {
    switch (msg.kind) {
      case 'prepare': return prepare(msg);
      case 'load': return load(msg);
      case 'run': return run(msg);
      case 'chain': return chain(msg);
      case 'release':
        await sessions.get(msg.key)?.release();
        sessions.delete(msg.key);
        return reply({ kind: 'released', id: msg.id });
    }
  })();
  work.catch((e: unknown) => reply({ kind: 'failed', id: msg.id, message: (e as Error).message ?? String(e) }));
};
