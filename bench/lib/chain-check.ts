/**
 * Does a partitioned model compute what the whole model does? Runs both in onnxruntime-node on the
 * same seeded inputs: the whole model from its file (external data beside it works too), then the
 * partitions in manifest order, each fed the tensors the earlier ones produced.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { Manifest } from '../../src/core/onnx/manifest.js';
import { oneImageDims, syntheticInput } from '../../src/core/sample.js';

export interface ChainCheck {
  inputs: number;
  /** largest |whole - chain| over every output value */
  maxAbsDiff: number;
  /** largest |whole| over every output value, for scale */
  maxAbs: number;
  sameTop1: number;
}

export async function checkChain(modelPath: string, dir: string, inputs = 2): Promise<ChainCheck> {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  const input = manifest.model.inputs[0];
  const dims = oneImageDims(input.dims);
  const out = manifest.model.outputs[0].name;
  const whole = await ort.InferenceSession.create(modelPath);
  const results: { whole: Float32Array; chain: Float32Array }[] = [];
  const feedsFor = (i: number) => ({ [input.name]: new ort.Tensor('float32', syntheticInput(i, dims), dims) });
  for (let i = 0; i < inputs; i++) results.push({ whole: (await whole.run(feedsFor(i)))[out].data as Float32Array, chain: new Float32Array(0) });
  await whole.release();
  // one partition session at a time, over every input: memory holds one partition, not the model twice
  const envs = Array.from({ length: inputs }, (_, i) => feedsFor(i) as Record<string, ort.Tensor>);
  for (const p of manifest.partitions) {
    const s = await ort.InferenceSession.create(join(dir, p.file));
    for (const env of envs) Object.assign(env, await s.run(Object.fromEntries(p.inputs.map((n) => [n, env[n]]))));
    await s.release();
  }
  envs.forEach((env, i) => (results[i].chain = env[out].data as Float32Array));
  const top1 = (x: Float32Array) => x.indexOf(Math.max(...x));
  let maxAbsDiff = 0;
  let maxAbs = 0;
  for (const r of results) {
    for (let k = 0; k < r.whole.length; k++) {
      maxAbsDiff = Math.max(maxAbsDiff, Math.abs(r.whole[k] - r.chain[k]));
      maxAbs = Math.max(maxAbs, Math.abs(r.whole[k]));
    }
  }
  return { inputs, maxAbsDiff, maxAbs, sameTop1: results.filter((r) => top1(r.whole) === top1(r.chain)).length };
}
