/**
 * Runs images through one model on this device, twice side by side: the whole model, and its
 * partitions chained in manifest order (each fed the tensors the earlier ones produced). Reports
 * per-image predictions, accuracy and latency for both. Models that take the shipped test
 * sample's 28x28 grey images get those (with labels, so accuracy); others get seeded synthetic
 * inputs of their own shape, and the check is whether chain and whole agree.
 */
import type { Manifest } from '../core/onnx/manifest.js';
import type { Backend } from '../core/protocol.js';
import { argmax, imageTensor, oneImageDims, syntheticInput, takesSample, type ImageSample } from '../core/sample.js';
import { ReplicaStore } from '../store/replicas.js';
import type { ComputeClient } from './compute-client.js';
import type { WireTensor } from './compute-messages.js';

export interface LocalRunResult {
  backend: Backend;
  /** the backend each partition's session actually got, in manifest order */
  partitionBackends: Backend[];
  fallback: string | null;
  count: number;
  /** false: synthetic inputs without labels, so no accuracy */
  labelled: boolean;
  whole: { predictions: number[]; accuracy: number | null; msPerImage: number };
  /** null when this device no longer keeps every partition (the room holds some elsewhere) */
  chain: { predictions: number[]; accuracy: number | null; msPerImage: number } | null;
  chainSkipped: string | null;
}

export interface LocalRunInput {
  client: ComputeClient;
  manifest: Manifest;
  /** the model as it was given: the .onnx and any data files */
  files: File[];
  sample: ImageSample;
  count: number;
  backend: Backend;
  progress(done: number, total: number, what: string): void;
}

function floatTensor(data: Float32Array, dims: number[]): WireTensor {
  return { type: 'float32', dims, data: data.slice().buffer };
}

export async function runLocally(i: LocalRunInput): Promise<LocalRunResult> {
  const { client, manifest } = i;
  const input = manifest.model.inputs[0];
  const outputName = manifest.model.outputs[0].name;
  const labelled = takesSample(manifest.model.inputs, i.sample);
  const dims = oneImageDims(input.dims);
  const image = (n: number) => (labelled ? imageTensor(i.sample, n) : syntheticInput(n, dims));
  const total = manifest.partitions.length + 1 + 2 * i.count;
  let done = 0;
  const tick = (what: string) => i.progress(++done, total, what);
  const modelFile = i.files.find((f) => /\.onnx$/i.test(f.name)) ?? i.files[0];
  const external = i.files.filter((f) => f !== modelFile).map((f) => ({ path: f.name, data: f as Blob }));
  const whole = await client.load('whole', new Uint8Array(await modelFile.arrayBuffer()), i.backend, { give: true, external: external.length ? external : undefined });
  tick(`loaded the whole model on ${whole.backend}`);
  let fallback = whole.fallback;
  const partitionBackends: Backend[] = [];
  const store = new ReplicaStore();
  const away = [];
  for (const spec of manifest.partitions) if (!(await store.has(spec.sha256))) away.push(`P${spec.id}`);
  // a device that holds more than its budget gives copies up once the room has them elsewhere
  const chainSkipped = away.length ? `this device no longer keeps ${away.join(', ')} (the room holds ${away.length === 1 ? 'it' : 'them'} elsewhere), so the chain is not run here` : null;
  for (const [k, spec] of manifest.partitions.entries()) {
    if (chainSkipped) break;
    const bytes = await store.getReplica(spec.sha256);
    if (!bytes) throw new Error(`partition ${k} is no longer stored in this browser`);
    const loaded = await client.load(`p${k}`, bytes, i.backend, { give: true });
    partitionBackends.push(loaded.backend);
    fallback ??= loaded.fallback;
    tick(`loaded partition ${k}`);
  }
  const wholePred: number[] = [];
  const chainPred: number[] = [];
  let wholeMs = 0;
  let chainMs = 0;
  // one untimed pass through both, so first-run costs (kernel compilation, allocations) count for neither
  const warm = image(0);
  await client.run('whole', { [input.name]: floatTensor(warm, dims) });
  const stages = manifest.partitions.map((spec, k) => ({ key: `p${k}`, inputs: spec.inputs }));
  if (!chainSkipped) await client.chain(stages, { [input.name]: floatTensor(warm, dims) }, [outputName]);
  for (let n = 0; n < i.count; n++) {
    const x = image(n);
    let t = performance.now();
    const w = await client.run('whole', { [input.name]: floatTensor(x, dims) });
    wholeMs += performance.now() - t;
    wholePred.push(argmax(new Float32Array(w.outputs[outputName].data)));
    tick(`image ${n + 1}: whole model`);

    if (chainSkipped) continue;
    t = performance.now();
    const c = await client.chain(stages, { [input.name]: floatTensor(x, dims) }, [outputName]);
    chainMs += performance.now() - t;
    chainPred.push(argmax(new Float32Array(c.outputs[outputName].data)));
    tick(`image ${n + 1}: partition chain`);
  }
  for (const k of ['whole', ...(chainSkipped ? [] : stages.map((s) => s.key))]) await client.release(k);
  const acc = (p: number[]) => (labelled ? p.filter((c, n) => c === i.sample.labels[n]).length / p.length : null);
  return {
    backend: whole.backend,
    partitionBackends,
    fallback,
    count: i.count,
    labelled,
    whole: { predictions: wholePred, accuracy: acc(wholePred), msPerImage: wholeMs / i.count },
    chain: chainSkipped ? null : { predictions: chainPred, accuracy: acc(chainPred), msPerImage: chainMs / i.count },
    chainSkipped,
  };
}
