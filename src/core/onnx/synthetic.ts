/** Small hand-built ONNX graphs: the DAG shapes the partitioner must handle (tests, benchmarks), and the one-node model that starts onnxruntime early (compute-host). */
import { encodeModel } from './model.js';
import { onnx, type NodeProto, type TensorProto } from './proto.js';

const F = onnx.TensorProto.DataType.FLOAT;

export function floatTensor(name: string, dims: number[], seed: number): TensorProto {
  let s = seed >>> 0;
  const n = dims.reduce((a, b) => a * b, 1);
  const data = Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 4294967296 - 0.5) * 0.5;
  });
  return { name, dims, dataType: F, floatData: data };
}

export function node(opType: string, input: string[], output: string[], attrs: Record<string, number | number[]> = {}, extra: Partial<NodeProto> = {}): NodeProto {
  const attribute = Object.entries(attrs).map(([name, v]) =>
    Array.isArray(v) ? { name, ints: v, type: onnx.AttributeProto.AttributeType.INTS } : { name, i: v, type: onnx.AttributeProto.AttributeType.INT });
  return { opType, input, output, name: output[0], attribute, ...extra };
}

export interface GraphSpec {
  nodes: NodeProto[];
  initializers: TensorProto[];
  input?: { name: string; dims: (number | string)[] };
  outputs: string[];
  opset?: number;
}

export function buildModel(spec: GraphSpec): Uint8Array {
  const input = spec.input ?? { name: 'x', dims: ['batch', 4, 8, 8] };
  const dim = (d: number | string) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d });
  return encodeModel(onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: spec.opset ?? 13 }],
    producerName: 'frim-mesh tests',
    graph: {
      name: 'g',
      node: spec.nodes,
      initializer: spec.initializers,
      input: [{ name: input.name, type: { tensorType: { elemType: F, shape: { dim: input.dims.map(dim) } } } }],
      output: spec.outputs.map((name) => ({ name, type: { tensorType: { elemType: F } } })),
    },
  }));
}

const conv = (name: string, cin: number, cout: number, seed: number, k = 3) => [floatTensor(`${name}.w`, [cout, cin, k, k], seed), floatTensor(`${name}.b`, [cout], seed + 1)];
const pads = { pads: [1, 1, 1, 1], kernel_shape: [3, 3] };

export const SYNTHETIC: Record<string, () => Uint8Array> = {
  residual: () => buildModel({
    initializers: [...conv('c1', 4, 4, 1), ...conv('c2', 4, 4, 3), ...conv('c3', 4, 4, 5)],
    nodes: [
      node('Conv', ['x', 'c1.w', 'c1.b'], ['a'], pads), node('Relu', ['a'], ['a1']),
      node('Conv', ['a1', 'c2.w', 'c2.b'], ['b'], pads), node('Add', ['b', 'x'], ['s']), node('Relu', ['s'], ['s1']),
      node('Conv', ['s1', 'c3.w', 'c3.b'], ['c'], pads), node('Add', ['c', 's1'], ['t']), node('Relu', ['t'], ['y']),
    ],
    outputs: ['y'],
  }),
  'two-branch concat': () => buildModel({
    initializers: [...conv('l', 4, 3, 7), ...conv('r', 4, 5, 9), ...conv('m', 8, 2, 11, 1)],
    nodes: [
      node('Conv', ['x', 'l.w', 'l.b'], ['l1'], pads), node('Relu', ['l1'], ['l2']),
      node('Conv', ['x', 'r.w', 'r.b'], ['r1'], pads), node('Sigmoid', ['r1'], ['r2']),
      node('Concat', ['l2', 'r2'], ['cat'], { axis: 1 }), node('Conv', ['cat', 'm.w', 'm.b'], ['y'], { kernel_shape: [1, 1] }),
    ],
    outputs: ['y'],
  }),
  'tensor read by three later nodes': () => buildModel({
    initializers: [floatTensor('k', [1, 4, 1, 1], 13), ...conv('c', 4, 4, 15)],
    nodes: [
      node('Relu', ['x'], ['t']), node('Conv', ['t', 'c.w', 'c.b'], ['u0'], pads), node('Mul', ['u0', 'k'], ['u']),
      node('Add', ['u', 't'], ['v']), node('Tanh', ['v'], ['v1']), node('Sub', ['v1', 't'], ['w']), node('Max', ['w', 't'], ['y']),
    ],
    outputs: ['y'],
  }),
  'dense concatenation': () => buildModel({
    initializers: [...conv('d1', 4, 2, 17), ...conv('d2', 6, 2, 19), ...conv('d3', 8, 3, 21, 1)],
    nodes: [
      node('Conv', ['x', 'd1.w', 'd1.b'], ['c1'], pads), node('Concat', ['x', 'c1'], ['k1'], { axis: 1 }),
      node('Conv', ['k1', 'd2.w', 'd2.b'], ['c2'], pads), node('Concat', ['x', 'c1', 'c2'], ['k2'], { axis: 1 }),
      node('Conv', ['k2', 'd3.w', 'd3.b'], ['y'], { kernel_shape: [1, 1] }),
    ],
    outputs: ['y'],
  }),
  'squeeze-excite': () => buildModel({
    initializers: [...conv('c', 4, 4, 23), ...conv('se1', 4, 2, 25, 1), ...conv('se2', 2, 4, 27, 1)],
    nodes: [
      node('Conv', ['x', 'c.w', 'c.b'], ['f'], pads), node('GlobalAveragePool', ['f'], ['g']),
      node('Conv', ['g', 'se1.w', 'se1.b'], ['g1'], { kernel_shape: [1, 1] }), node('Relu', ['g1'], ['g2']),
      node('Conv', ['g2', 'se2.w', 'se2.b'], ['g3'], { kernel_shape: [1, 1] }), node('Sigmoid', ['g3'], ['s']),
      node('Mul', ['f', 's'], ['y0']), node('Add', ['y0', 'x'], ['y']),
    ],
    outputs: ['y'],
  }),
  'If with a subgraph reading outer tensors': () => {
    const branch = (op: string, name: string) => ({
      name,
      node: [node(op, ['h', 'k2'], [`${name}.out`]), node('Relu', [`${name}.out`], [`${name}.y`])],
      output: [{ name: `${name}.y`, type: { tensorType: { elemType: F } } }],
    });
    return buildModel({
      initializers: [...conv('c', 4, 4, 29), floatTensor('k2', [1, 4, 1, 1], 31), { name: 'cond', dims: [], dataType: onnx.TensorProto.DataType.BOOL, int32Data: [1] }],
      nodes: [
        node('Conv', ['x', 'c.w', 'c.b'], ['h'], pads), node('Sigmoid', ['h'], ['h1']),
        {
          opType: 'If', input: ['cond'], output: ['z'], name: 'if',
          attribute: [
            { name: 'then_branch', type: onnx.AttributeProto.AttributeType.GRAPH, g: branch('Add', 'then') },
            { name: 'else_branch', type: onnx.AttributeProto.AttributeType.GRAPH, g: branch('Sub', 'else') },
          ],
        },
        node('Mul', ['z', 'h1'], ['y']),
      ],
      outputs: ['y'],
    });
  },
};
