/**
 * Structural mutations of a decoded ONNX model for the fuzz tests: hostile dims and counts, cycles,
 * dangling and duplicated names, removed nodes, unknown operators. Each picks its node, tensor or
 * value from the numbers fast-check gives it, so a failing case shrinks and reproduces.
 */
import fc from 'fast-check';
import type { ModelProto } from '../core/onnx/proto.js';

/** numbers a hostile file would put in a count or a dimension */
const hostile = fc.oneof(fc.integer({ min: -3, max: 70 }), fc.constantFrom(0, 2 ** 31 - 1, 2 ** 32, 2 ** 40, 2 ** 53 - 1));

export type Mutation = (m: ModelProto) => void;
/** structural mutations of a decoded model: each picks its node, tensor or value from the numbers it is given */
export const MUTATION: fc.Arbitrary<{ name: string; apply: Mutation }> = fc.oneof(
  fc.tuple(fc.nat(), hostile).map(([axis, v]) => ({ name: `input dim ${axis} = ${v}`, apply: (m: ModelProto) => {
    const dims = m.graph!.input![0].type!.tensorType!.shape!.dim!;
    dims[axis % dims.length] = { dimValue: v };
  } })),
  fc.tuple(fc.nat(), fc.nat(), hostile).map(([t, axis, v]) => ({ name: `initializer ${t} dim ${axis} = ${v}`, apply: (m: ModelProto) => {
    const inits = m.graph!.initializer!;
    const dims = inits[t % inits.length].dims!;
    if (dims.length) dims[axis % dims.length] = v;
  } })),
  fc.tuple(fc.nat(), fc.nat(), fc.nat()).map(([a, i, b]) => ({ name: `cycle: node ${a} input ${i} from a later node ${b}`, apply: (m: ModelProto) => {
    const nodes = m.graph!.node!;
    const at = a % nodes.length;
    const later = nodes[at + (b % (nodes.length - at))];
    const ins = nodes[at].input!;
    if (ins.length) ins[i % ins.length] = later.output![0];
  } })),
  fc.tuple(fc.nat(), fc.nat(), fc.string({ maxLength: 6 })).map(([a, i, s]) => ({ name: `node ${a} input ${i} renamed "${s}"`, apply: (m: ModelProto) => {
    const ins = m.graph!.node![a % m.graph!.node!.length].input!;
    if (ins.length) ins[i % ins.length] = s;
  } })),
  fc.nat().map((a) => ({ name: `node ${a} removed`, apply: (m: ModelProto) => void m.graph!.node!.splice(a % m.graph!.node!.length, 1) })),
  fc.tuple(fc.nat(), fc.nat()).map(([a, b]) => ({ name: `node ${a} writes node ${b}'s output`, apply: (m: ModelProto) => {
    const nodes = m.graph!.node!;
    nodes[a % nodes.length].output![0] = nodes[b % nodes.length].output![0];
  } })),
  fc.tuple(fc.nat(), hostile, fc.integer({ min: 0, max: 100_000 })).map(([a, v, count]) => ({ name: `node ${a}'s attributes = ${v} (x${count})`, apply: (m: ModelProto) => {
    for (const at of m.graph!.node![a % m.graph!.node!.length].attribute ?? []) {
      if (at.ints?.length) at.ints = new Array<number>(count % 5 === 0 ? count : at.ints.length).fill(v);
      else if (at.i !== undefined && at.i !== null) at.i = v;
    }
  } })),
  fc.integer({ min: 0, max: 200_000 }).map((count) => ({ name: `input with ${count} dims`, apply: (m: ModelProto) => {
    m.graph!.input![0].type!.tensorType!.shape!.dim = Array.from({ length: count }, () => ({ dimValue: 2 }));
  } })),
  fc.tuple(fc.nat(), fc.constantFrom('Conv', 'Gemm', 'Loop', 'If', 'NoSuchOp', '', 'Add', 'Concat')).map(([a, op]) => ({ name: `node ${a} becomes ${op}`, apply: (m: ModelProto) => {
    m.graph!.node![a % m.graph!.node!.length].opType = op;
  } })),
  fc.nat().map((k) => ({ name: `output ${k} renamed to a graph input`, apply: (m: ModelProto) => {
    m.graph!.output![k % m.graph!.output!.length].name = m.graph!.input![0].name;
  } })),
);

