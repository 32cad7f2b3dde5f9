import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { hashHex } from '../hash.js';
import { externalRef, externalize, filesInMemory, isExternal } from './external.js';
import { partitionModel, partitionModelBytes, type PartitionedModel } from './manifest.js';
import { decodeModel, encodeModel } from './model.js';
import { onnx } from './proto.js';
import { SYNTHETIC, buildModel, node } from './synthetic.js';

const SHIPPED = ['alexnet', 'resnet', 'vgg'];
const MODELS_DIR = 'public/models';
const SAMPLE = 'public/fashion-mnist-sample.bin';

/** The first `n` shipped sample images as a float tensor [n, 1, 28, 28] in [0, 1]. */
function sampleImages(n: number): ort.Tensor {
  const bin = readFileSync(SAMPLE);
  const count = bin.readUInt32LE(4);
  const pixels = bin.subarray(10 + count, 10 + count + n * 784);
  return new ort.Tensor('float32', Float32Array.from(pixels, (p) => p / 255), [n, 1, 28, 28]);
}

function randomInput(dims: number[], seed: number): ort.Tensor {
  let s = seed;
  const n = dims.reduce((a, b) => a * b, 1);
  return new ort.Tensor('float32', Float32Array.from({ length: n }, () => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1), dims);
}

async function runWhole(bytes: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(bytes);
  return session.run(feeds);
}

/** Runs the partitions in manifest order, each fed the named tensors the earlier ones produced. */
async function runChain(p: PartitionedModel, feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
  const env: Record<string, ort.Tensor> = { ...feeds };
  for (const [i, spec] of p.manifest.partitions.entries()) {
    const session = await ort.InferenceSession.create(p.files[i].bytes);
    expect([...session.inputNames].sort()).toEqual(spec.inputs);
    Object.assign(env, await session.run(Object.fromEntries(spec.inputs.map((n) => [n, env[n]]))));
  }
  return env;
}

function maxAbsDiff(a: ort.Tensor, b: ort.Tensor): number {
  const x = a.data as Float32Array;
  const y = b.data as Float32Array;
  expect(y.length).toBe(x.length);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}

function checkManifest(p: PartitionedModel, bytes: Uint8Array): void {
  const m = p.manifest;
  expect(m.format).toBe(1);
  expect(m.model.sha256).toBe(hashHex(bytes));
  const produced = new Set<string>(m.model.inputs.map((i) => i.name));
  for (const [i, spec] of m.partitions.entries()) {
    expect(spec.id).toBe(i);
    expect(spec.sha256).toBe(hashHex(p.files[i].bytes));
    expect(spec.bytes).toBe(p.files[i].bytes.length);
    expect(p.files[i].name).toBe(spec.file);
    decodeModel(p.files[i].bytes); // every partition is a valid, self-contained model
    for (const t of spec.inputs) expect(produced.has(t), `${t} is produced before partition ${i}`).toBe(true);
    for (const t of spec.outputs) produced.add(t);
  }
  for (const o of m.model.outputs) expect(m.partitions.some((s) => s.outputs.includes(o.name))).toBe(true);
}

describe('partitioning hand-built DAGs', () => {
  for (const [name, build] of Object.entries(SYNTHETIC)) {
    it(`${name}: every cut from 1 to 8 partitions reproduces the whole model`, async () => {
      const bytes = build();
      const feeds = { x: randomInput([2, 4, 8, 8], 12345) };
      const whole = await runWhole(bytes, feeds);
      const nodes = partitionModelBytes(bytes, name, { parts: 1 }).analysis.nodes.length;
      for (let parts = 1; parts <= Math.min(8, nodes); parts++) {
        const p = partitionModelBytes(bytes, name, { parts });
        expect(p.manifest.partitions).toHaveLength(parts);
        checkManifest(p, bytes);
        const out = await runChain(p, feeds);
        expect(maxAbsDiff(whole.y, out.y)).toBeLessThanOrEqual(1e-4);
      }
    });
  }

  it('knows the shape after a Pad whose pads are a constant input (torch exports average pooling this way)', () => {
    const pads = { name: 'pads', dims: [8], dataType: onnx.TensorProto.DataType.INT64, int64Data: [0, 0, 1, 2, 0, 0, 3, 4] };
    const bytes = buildModel({
      initializers: [pads],
      nodes: [node('Pad', ['x', 'pads'], ['p']), node('AveragePool', ['p'], ['y'], { kernel_shape: [2, 2], strides: [2, 2] })],
      outputs: ['y'],
    });
    const a = partitionModelBytes(bytes, 'pad', { parts: 1 }).analysis;
    expect(a.tensors.get('p')?.dims).toEqual([1, 4, 12, 14]);
    expect(a.tensors.get('y')?.dims).toEqual([1, 4, 6, 7]);
  });

  it('keeps a node with subgraphs whole and feeds it the outer tensors its branches read', () => {
    const bytes = SYNTHETIC['If with a subgraph reading outer tensors']();
    const p = partitionModelBytes(bytes, 'if', { parts: 4 });
    const ifAt = p.analysis.nodes.findIndex((n) => n.opType === 'If');
    expect(p.analysis.nodes[ifAt].inputs.sort()).toEqual(['cond', 'h', 'k2']);
    const withIf = p.plan.partitions.find((part) => part.start <= ifAt && ifAt <= part.end)!;
    const hAt = p.analysis.producer.get('h')!;
    // h comes from an earlier partition, so the one with the If must take it as an input
    expect(hAt).toBeLessThan(withIf.start);
    expect(withIf.inputs).toContain('h');
    expect(withIf.initializers).toEqual(expect.arrayContaining(['cond', 'k2']));
  });
});

describe('partitioning the shipped models', () => {
  for (const name of SHIPPED) {
    it(`${name}: partition chains for N = 1..8 match the whole model on real images`, async () => {
      const bytes = new Uint8Array(readFileSync(`${MODELS_DIR}/${name}.onnx`));
      const feeds = { input: sampleImages(16) };
      const whole = await runWhole(bytes, feeds);
      for (let parts = 1; parts <= 8; parts++) {
        const p = partitionModelBytes(bytes, name, { parts });
        checkManifest(p, bytes);
        const out = await runChain(p, feeds);
        expect(maxAbsDiff(whole.logits, out.logits)).toBeLessThanOrEqual(1e-4);
      }
    }, 60_000);
  }

  // the baseline variants the paper's table runs, as index.json lists them
  const variants = (JSON.parse(readFileSync(`${MODELS_DIR}/index.json`, 'utf8')) as { name: string; variant?: string }[]).filter((m) => m.variant);
  it('ships the baseline variants of resnet at least', () => {
    expect(variants.map((v) => v.name)).toEqual(expect.arrayContaining(['resnet-early-exit', 'resnet-skip-connection']));
  });
  for (const { name, variant } of variants) {
    it(`${name}: cut where it was trained to be, whatever is asked, every output as the whole model's`, async () => {
      const bytes = new Uint8Array(readFileSync(`${MODELS_DIR}/${name}.onnx`));
      const feeds = { input: sampleImages(16) };
      const whole = await runWhole(bytes, feeds);
      for (const parts of [2, 5]) {
        const p = partitionModelBytes(bytes, name, { parts });
        checkManifest(p, bytes);
        expect(p.manifest.model.variant?.kind).toBe(variant);
        expect(p.manifest.partitions).toHaveLength(variant === 'skip-connection' ? 4 : 3);
        const out = await runChain(p, feeds);
        for (const o of p.manifest.model.outputs) expect(maxAbsDiff(whole[o.name], out[o.name]), o.name).toBeLessThanOrEqual(1e-4);
      }
    }, 60_000);
  }

  it('a model in the external-data layout (.onnx + data file) partitions into self-contained files that match the whole model', async () => {
    const bytes = new Uint8Array(readFileSync(`${MODELS_DIR}/vgg.onnx`));
    const { model, data } = externalize(onnx.ModelProto.decode(bytes), 'vgg.onnx.data');
    const graphOnly = encodeModel(model);
    expect(graphOnly.length).toBeLessThan(bytes.length / 10);
    const reads: number[] = [];
    const files = filesInMemory({ 'vgg.onnx.data': data });
    const counting = { sizes: files.sizes, read: (l: string, o: number, n: number) => (reads.push(n), files.read(l, o, n)) };
    const feeds = { input: sampleImages(8) };
    const whole = await runWhole(bytes, feeds);
    const p = partitionModel({ name: 'vgg.onnx', bytes: graphOnly, external: counting }, { parts: 3 });
    // every weight is read once, by the partition that uses it
    const stored = model.graph!.initializer!.filter(isExternal).map((t) => (externalRef(t) as { length: number }).length);
    expect(reads.sort()).toEqual(stored.sort());
    for (const f of p.files) for (const t of decodeModel(f.bytes).graph!.initializer!) expect(t.dataLocation ?? 0).toBe(0);
    const out = await runChain(p, feeds);
    expect(maxAbsDiff(whole.logits, out.logits)).toBeLessThanOrEqual(1e-4);
  });

  it('balances compute and respects a memory cap', () => {
    const bytes = new Uint8Array(readFileSync(`${MODELS_DIR}/alexnet.onnx`));
    const p = partitionModelBytes(bytes, 'alexnet', { parts: 4 });
    const flops = p.plan.partitions.map((x) => x.flops);
    expect(Math.max(...flops) / (flops.reduce((a, b) => a + b) / 4)).toBeLessThan(2);
    const cap = Math.ceil(p.analysis.totalParamBytes * 0.6);
    const capped = partitionModelBytes(bytes, 'alexnet', { parts: 4, memoryCapBytes: cap });
    for (const part of capped.plan.partitions) expect(part.paramBytes + part.inputBytes + part.outputBytes).toBeLessThanOrEqual(cap);
    expect(() => partitionModelBytes(bytes, 'alexnet', { parts: 2, memoryCapBytes: 64 * 1024 })).toThrow(/MiB/);
  });
});
