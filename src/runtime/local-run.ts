/**
 * Runs the shipped test sample through one model on this device, twice side by side: the whole
 * model, and its partitions chained in manifest order (each fed the tensors the earlier ones
 * produced). Reports per-image predictions, accuracy and latency for both.
 */
import type { Manifest } from '../core/onnx/manifest.js';
import type { Backend } from '../core/protocol.js';
import { argmax, imageTensor, type ImageSample } from '../core/sample.js';
import type { ComputeClient } from './compute-client.js';
import type { WireTensor } from './compute-messages.js';

export interface LocalRunResult {
  backend: Backend;
  /** the backend each partition's session actually got, in manifest order */
  partitionBackends: Backend[];
  fallback: string | null;
  count: number;
  whole: { predictions: number[]; accuracy: number; msPerImage: number };
  chain: { predictions: number[]; accuracy: number; msPerImage: number };
}

export interface LocalRunInput {
  client: ComputeClient;
  manifest: Manifest;
  wholeBytes: Uint8Array;
  partitionBytes: Uint8Array[];
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
  const inputName = manifest.model.inputs[0].name;
  const outputName = manifest.model.outputs[0].name;
  const total = i.partitionBytes.length + 1 + 2 * i.count;
  let done = 0;
  const tick = (what: string) => i.progress(++done, total, what);
  const whole = await client.load('whole', i.wholeBytes, i.backend);
  tick(`loaded the whole model on ${whole.backend}`);
  let fallback = whole.fallback;
  const partitionBackends: Backend[] = [];
  for (const [k, bytes] of i.partitionBytes.entries()) {
    const loaded = await client.load(`p${k}`, bytes, i.backend);
    partitionBackends.push(loaded.backend);
    fallback ??= loaded.fallback;
    tick(`loaded partition ${k}`);
  }
  const dims = [1, 1, i.sample.rows, i.sample.cols];
  const wholePred: number[] = [];
  const chainPred: number[] = [];
  let wholeMs = 0;
  let chainMs = 0;
  // one untimed pass through both, so first-run costs (kernel compilation, allocations) count for neither
  const warm = imageTensor(i.sample, 0);
  await client.run('whole', { [inputName]: floatTensor(warm, dims) });
  const stages = manifest.partitions.map((spec, k) => ({ key: `p${k}`, inputs: spec.inputs }));
  await client.chain(stages, { [inputName]: floatTensor(warm, dims) }, [outputName]);
  for (let n = 0; n < i.count; n++) {
    const x = imageTensor(i.sample, n);
    let t = performance.now();
    const w = await client.run('whole', { [inputName]: floatTensor(x, dims) });
    wholeMs += performance.now() - t;
    wholePred.push(argmax(new Float32Array(w.outputs[outputName].data)));
    tick(`image ${n + 1}: whole model`);

    t = performance.now();
    const c = await client.chain(stages, { [inputName]: floatTensor(x, dims) }, [outputName]);
    chainMs += performance.now() - t;
    chainPred.push(argmax(new Float32Array(c.outputs[outputName].data)));
    tick(`image ${n + 1}: partition chain`);
  }
  const acc = (p: number[]) => p.filter((c, n) => c === i.sample.labels[n]).length / p.length;
  return {
    backend: whole.backend,
    partitionBackends,
    fallback,
    count: i.count,
    whole: { predictions: wholePred, accuracy: acc(wholePred), msPerImage: wholeMs / i.count },
    chain: { predictions: chainPred, accuracy: acc(chainPred), msPerImage: chainMs / i.count },
  };
}
