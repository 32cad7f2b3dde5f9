import { readFileSync, writeSync } from 'node:fs';
import fc from 'fast-check';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { cleanly, fuzz, fuzzTimeout, mutatedBytes } from '../../testing/fuzz.js';
import { ModelError } from './errors.js';
import { partitionModelBytes, type PartitionedModel } from './manifest.js';
import { decodeModel, encodeModel } from './model.js';
import { PartitionError } from './partition.js';
import { SYNTHETIC } from './synthetic.js';
import { MUTATION } from '../../testing/onnx-mutations.js';

/** the shipped models people drop most, and the hand-built DAGs (skips, branches) */
const MODELS: Record<string, Uint8Array> = {
  resnet: new Uint8Array(readFileSync('public/models/resnet.onnx')),
  'resnet-early-exit': new Uint8Array(readFileSync('public/models/resnet-early-exit.onnx')),
  ...Object.fromEntries(Object.entries(SYNTHETIC).map(([k, build]) => [k, new Uint8Array(build())])),
};
const SMALL = Object.keys(SYNTHETIC);
/** a model, decoded, analysed, planned and cut, all within this */
const BOUND_MS = 5000;
const REJECTIONS = [ModelError, PartitionError];

function cut(bytes: Uint8Array, parts: number) {
  return cleanly(() => partitionModelBytes(bytes, 'fuzzed.onnx', { parts }), REJECTIONS, BOUND_MS);
}

function randomInput(dims: number[], seed: number): ort.Tensor {
  let s = seed;
  const n = dims.reduce((a, b) => a * b, 1);
  return new ort.Tensor('float32', Float32Array.from({ length: n }, () => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1), dims);
}

/** the model's outputs, whole and as its partition chain, on the same input; null when onnxruntime refuses the model itself */
async function wholeAndChain(bytes: Uint8Array, p: PartitionedModel, seed: number): Promise<{ whole: Record<string, ort.Tensor>; chain: Record<string, ort.Tensor> } | null> {
  const inputs = p.manifest.model.inputs;
  // a mutated model may ask for inputs no test should allocate; those are the analyser's to refuse, not onnxruntime's
  if (inputs.some((i) => i.dims.reduce<number>((a, d) => a * (typeof d === 'number' ? d : 2), 1) > 1 << 20)) return null;
  const feeds = Object.fromEntries(inputs.map((i) => [i.name, randomInput(i.dims.map((d) => (typeof d === 'number' ? d : 2)), seed)]));
  let whole: Record<string, ort.Tensor>;
  try {
    whole = await (await ort.InferenceSession.create(bytes)).run(feeds);
  } catch (e) {
    if (process.env.FUZZ_DEBUG) console.log('onnxruntime refused the whole model:', (e as Error).message);
    return null;
  }
  const env: Record<string, ort.Tensor> = { ...feeds };
  for (const [i, spec] of p.manifest.partitions.entries()) {
    const session = await ort.InferenceSession.create(p.files[i].bytes);
    Object.assign(env, await session.run(Object.fromEntries(spec.inputs.map((n) => [n, env[n]]))));
  }
  return { whole, chain: env };
}

function expectSame(whole: Record<string, ort.Tensor>, chain: Record<string, ort.Tensor>): void {
  for (const [name, w] of Object.entries(whole)) {
    const c = chain[name];
    expect(c, `output ${name} from the chain`).toBeDefined();
    expect(c.dims).toEqual(w.dims);
    const x = w.data as Float32Array;
    const y = c.data as Float32Array;
    for (let i = 0; i < x.length; i++) expect(Math.abs(x[i] - y[i])).toBeLessThan(1e-4);
  }
}

describe('fuzzing the ONNX decoder, analyser and partitioner', () => {
  it('byte mutations of every model (truncated, flipped, overwritten, spliced): a partition chain, or a ModelError / PartitionError that says why', () => {
    const input = fc.constantFrom(...Object.keys(MODELS)).chain((k) => fc.tuple(fc.constant(k), mutatedBytes(MODELS[k]), fc.integer({ min: 1, max: 6 })));
    fc.assert(fc.property(input, ([, bytes, parts]) => {
      const r = cut(bytes, parts);
      // a baseline variant is cut where its metadata says, whatever was asked
      if (r.ok && !r.value.analysis.variant) expect(r.value.manifest.partitions.length).toBe(parts);
    }), fuzz(300));
  }, fuzzTimeout(60_000));

  it('structural mutations (hostile dims and counts, cycles, dangling and duplicated names, unknown ops): a clean rejection or a valid cut', () => {
    const input = fc.tuple(fc.constantFrom(...Object.keys(MODELS)), fc.array(MUTATION, { minLength: 1, maxLength: 3 }), fc.integer({ min: 1, max: 6 }));
    fc.assert(fc.property(input, ([k, muts, parts]) => {
      const m = decodeModel(MODELS[k]);
      for (const mu of muts) mu.apply(m);
      let bytes: Uint8Array;
      try {
        bytes = encodeModel(m);
      } catch {
        return; // protobuf cannot write it, so no file can hold it
      }
      if (process.env.FUZZ_DEBUG) writeSync(2, `${k}: ${muts.map((x) => x.name).join(' + ')}, ${parts} parts\n`);
      const r = cut(bytes, parts);
      if (r.ok) expect(r.value.files).toHaveLength(r.value.manifest.partitions.length);
    }), fuzz(300));
  }, fuzzTimeout(90_000));

  it('a structurally mutated model onnxruntime still runs: its partition chain answers exactly as the whole model', async () => {
    const input = fc.tuple(fc.constantFrom(...SMALL), fc.option(MUTATION, { nil: undefined }), fc.integer({ min: 1, max: 6 }), fc.nat());
    let compared = 0;
    await fc.assert(fc.asyncProperty(input, async ([k, mu, parts, seed]) => {
      const m = decodeModel(MODELS[k]);
      mu?.apply(m);
      let bytes: Uint8Array;
      try {
        bytes = encodeModel(m);
      } catch {
        return;
      }
      const r = cut(bytes, parts);
      if (!r.ok) return;
      const out = await wholeAndChain(bytes, r.value, seed + 1);
      if (!out) return;
      compared++;
      expectSame(out.whole, out.chain);
    }), fuzz(120));
    expect(compared).toBeGreaterThan(0);
  }, fuzzTimeout(60_000));

  it('node order shuffled (ONNX does not require it sorted): the same cut answers as the whole model', async () => {
    const input = fc.tuple(fc.constantFrom(...SMALL), fc.integer({ min: 1, max: 6 }), fc.nat()).chain(([k, parts, seed]) => {
      const n = decodeModel(MODELS[k]).graph!.node!.length;
      return fc.tuple(fc.constant(k), fc.constant(parts), fc.constant(seed), fc.shuffledSubarray([...Array(n).keys()], { minLength: n }));
    });
    await fc.assert(fc.asyncProperty(input, async ([k, parts, seed, order]) => {
      const m = decodeModel(MODELS[k]);
      const nodes = m.graph!.node!;
      m.graph!.node = order.map((i) => nodes[i]);
      const bytes = encodeModel(m);
      const r = cut(bytes, Math.min(parts, nodes.length));
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      const out = await wholeAndChain(bytes, r.value, seed + 1);
      expect(out).not.toBeNull();
      expectSame(out!.whole, out!.chain);
    }), fuzz(60));
  }, fuzzTimeout(60_000));
});
