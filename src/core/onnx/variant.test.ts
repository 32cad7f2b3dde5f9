import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { checkManifest } from '../room.js';
import { partitionModelBytes } from './manifest.js';
import { ModelError } from './errors.js';
import { onnx } from './proto.js';
import { buildModel, floatTensor, node } from './synthetic.js';

const pads = { pads: [1, 1, 1, 1], kernel_shape: [3, 3] };

/** x → conv → [exit e1] → conv → [exit e2] → conv → y: a tiny early-exit model, each exit a pooled linear head. */
function earlyExit(meta: Record<string, string>): Uint8Array {
  const conv = (n: string, seed: number) => [floatTensor(`${n}.w`, [4, 4, 3, 3], seed), floatTensor(`${n}.b`, [4], seed + 1)];
  const head = (n: string, seed: number) => [floatTensor(`${n}.w`, [4, 3], seed), floatTensor(`${n}.b`, [3], seed + 1)];
  const exit = (from: string, n: string) => [node('GlobalAveragePool', [from], [`${n}.p`]), node('Flatten', [`${n}.p`], [`${n}.f`]), node('Gemm', [`${n}.f`, `${n}.w`, `${n}.b`], [n])];
  const bytes = buildModel({
    initializers: [...conv('c1', 1), ...conv('c2', 3), ...conv('c3', 5), ...head('e1', 7), ...head('e2', 9), ...head('y', 11)],
    nodes: [
      node('Conv', ['x', 'c1.w', 'c1.b'], ['a'], pads), node('Relu', ['a'], ['a1']), ...exit('a1', 'e1'),
      node('Conv', ['a1', 'c2.w', 'c2.b'], ['b'], pads), node('Relu', ['b'], ['b1']), ...exit('b1', 'e2'),
      node('Conv', ['b1', 'c3.w', 'c3.b'], ['c'], pads), ...exit('c', 'y'),
    ],
    outputs: ['y', 'e1', 'e2'],
  });
  const model = onnx.ModelProto.decode(bytes);
  model.metadataProps = Object.entries(meta).map(([key, value]) => ({ key, value }));
  return onnx.ModelProto.encode(model).finish();
}

const GOOD = { 'frim.variant': 'early-exit', 'frim.cuts': 'e1,e2', 'frim.exits': 'e1,e2' };

describe('baseline variants declared in ONNX metadata', () => {
  it('are cut where they declare, whatever number of partitions is asked for, and say so in the manifest', async () => {
    const bytes = earlyExit(GOOD);
    const p = partitionModelBytes(bytes, 'ee', { parts: 5 });
    expect(p.manifest.partitions.length).toBe(3);
    expect(p.manifest.model.variant).toEqual({ kind: 'early-exit', exits: ['e1', 'e2'] });
    // each exit is computed in the partition before its cut, and leaves it as an output
    expect(p.manifest.partitions[0].outputs).toEqual(['a1', 'e1']);
    expect(p.manifest.partitions[1].outputs).toEqual(['b1', 'e2']);
    expect(p.manifest.partitions[2].inputs).toEqual(['b1']);
    expect(checkManifest(JSON.parse(JSON.stringify(p.manifest)))).toEqual(p.manifest);
    // the chain computes what the whole model does, exits included
    const x = new ort.Tensor('float32', Float32Array.from({ length: 4 * 64 }, (_, i) => Math.sin(i)), [1, 4, 8, 8]);
    const whole = await (await ort.InferenceSession.create(bytes)).run({ x });
    const env: Record<string, ort.Tensor> = { x };
    for (const [i, spec] of p.manifest.partitions.entries()) {
      Object.assign(env, await (await ort.InferenceSession.create(p.files[i].bytes)).run(Object.fromEntries(spec.inputs.map((n) => [n, env[n]]))));
    }
    for (const o of ['y', 'e1', 'e2']) expect([...(env[o].data as Float32Array)]).toEqual([...(whole[o].data as Float32Array)]);
  });

  it('an ordinary model has no variant and is cut as asked', () => {
    const p = partitionModelBytes(earlyExit({}), 'plain', { parts: 2 });
    expect(p.manifest.partitions.length).toBe(2);
    expect(p.manifest.model.variant).toBeUndefined();
    expect(p.analysis.variant).toBeNull();
  });

  const refused: [string, Record<string, string>, RegExp][] = [
    ['an unknown kind', { ...GOOD, 'frim.variant': 'magic' }, /frim-mesh knows early-exit and skip-connection/],
    ['no cuts', { ...GOOD, 'frim.cuts': '' }, /names no tensor/],
    ['a cut no operator produces', { ...GOOD, 'frim.cuts': 'e1,nowhere' }, /no operator produces "nowhere"/],
    ['cuts out of order', { ...GOOD, 'frim.cuts': 'e2,e1' }, /not in the order/],
    ['too few exits', { ...GOOD, 'frim.exits': 'e1' }, /1 exits for 3 partitions/],
    ['an exit that is not an output', { ...GOOD, 'frim.exits': 'e1,b1' }, /exit "b1" is not an output/],
  ];
  for (const [what, meta, message] of refused) {
    it(`refuses ${what} with one clear sentence`, () => {
      let error: unknown;
      try {
        partitionModelBytes(earlyExit(meta), 'bad', { parts: 3 });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ModelError);
      expect((error as ModelError).code).toBe('bad-variant');
      expect((error as ModelError).message).toMatch(message);
    });
  }

  it('a manifest whose variant does not fit its model is refused at the boundary', () => {
    const m = partitionModelBytes(earlyExit(GOOD), 'ee', { parts: 3 }).manifest;
    const copy = (variant: unknown) => JSON.parse(JSON.stringify({ ...m, model: { ...m.model, variant } }));
    expect(checkManifest(copy({ kind: 'early-exit', exits: ['e1'] }))).toBe('bad variant');
    expect(checkManifest(copy({ kind: 'early-exit', exits: ['e1', 'nope'] }))).toBe('bad variant');
    expect(checkManifest(copy({ kind: 'skip-connection', exits: ['e1'] }))).toBe('bad variant');
    expect(checkManifest(copy({ kind: 'early-exit', exits: ['e1', 'e2'], extra: 1 }))).toBe('bad variant');
  });
});
