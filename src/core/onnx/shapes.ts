/**
 * Static shape and type inference at batch size 1, for the ops CNNs are made of. It feeds the
 * cost model (FLOPs, activation bytes); where an op is not covered the shape stays unknown and the
 * node costs what its known outputs cost, which only makes the balance estimate coarser.
 */
import { badGraph } from './errors.js';
import { DataType, attr, attrInt, attrInts, nodeLabel, num, type NodeProto, type TensorProto } from './proto.js';

export interface TensorInfo {
  name: string;
  /** dims at batch size 1, or null when unknown */
  dims: number[] | null;
  type: number;
}

export type Env = Map<string, TensorInfo>;
/** small int64 tensors whose values we know (shapes, axes), for Reshape/Unsqueeze and friends */
export type Consts = Map<string, number[]>;

const SAME_SHAPE = new Set([
  'Relu', 'LeakyRelu', 'PRelu', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'Tanh', 'Elu', 'Selu', 'Celu', 'Softplus',
  'Softsign', 'Gelu', 'Mish', 'Clip', 'Abs', 'Neg', 'Exp', 'Log', 'Sqrt', 'Erf', 'Identity', 'Dropout', 'BatchNormalization',
  'InstanceNormalization', 'LayerNormalization', 'LRN', 'Softmax', 'LogSoftmax', 'Hardmax', 'Cast', 'Floor', 'Ceil', 'Round',
  'Sign', 'Reciprocal', 'Not', 'Sin', 'Cos', 'Tan', 'Shrink', 'ThresholdedRelu', 'IsNaN', 'IsInf', 'CumSum',
]);
const BROADCAST = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Mean', 'Where', 'Equal', 'Greater', 'Less', 'GreaterOrEqual', 'LessOrEqual', 'And', 'Or', 'Xor', 'Mod', 'BitShift']);
const BOOL_OUT = new Set(['Equal', 'Greater', 'Less', 'GreaterOrEqual', 'LessOrEqual', 'And', 'Or', 'Xor', 'Not', 'IsNaN', 'IsInf']);
const REDUCE = new Set(['ReduceMean', 'ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceSumSquare', 'ArgMax', 'ArgMin']);

export function tensorInfoFromProto(t: TensorProto): TensorInfo {
  return { name: t.name ?? '', dims: (t.dims ?? []).map(num), type: t.dataType ?? DataType.FLOAT };
}

/** int64/int32 values of a small constant tensor (raw or typed storage). */
export function constValues(t: TensorProto): number[] | null {
  const count = (t.dims ?? []).map(num).reduce((a, b) => a * b, 1);
  if (count > 64) return null;
  if (t.dataType === DataType.INT64) {
    if (t.int64Data?.length) return t.int64Data.map(num);
    if (t.rawData?.length === count * 8) {
      const v = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength);
      return Array.from({ length: count }, (_, i) => Number(v.getBigInt64(i * 8, true)));
    }
  }
  if (t.dataType === DataType.INT32) {
    if (t.int32Data?.length) return [...t.int32Data];
    if (t.rawData?.length === count * 4) {
      const v = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength);
      return Array.from({ length: count }, (_, i) => v.getInt32(i * 4, true));
    }
  }
  return null;
}

function broadcast(shapes: (number[] | null)[]): number[] | null {
  if (shapes.some((s) => !s)) return null;
  const rank = Math.max(...shapes.map((s) => s!.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const s of shapes) {
      const v = s![s!.length - rank + i] ?? 1;
      if (v !== 1) d = v;
    }
    out.push(d);
  }
  return out;
}

function windowOut(size: number, k: number, stride: number, padBegin: number, padEnd: number, dilation: number, ceil: boolean): number {
  const span = (size + padBegin + padEnd - dilation * (k - 1) - 1) / stride;
  return (ceil ? Math.ceil(span) : Math.floor(span)) + 1;
}

function spatial(node: NodeProto, x: number[], kernel: number[]): number[] {
  const n = kernel.length;
  const strides = attrInts(node, 'strides') ?? Array(n).fill(1);
  const dilations = attrInts(node, 'dilations') ?? Array(n).fill(1);
  const pads = attrInts(node, 'pads') ?? Array(2 * n).fill(0);
  const autoPad = attr(node, 'auto_pad')?.s ? new TextDecoder().decode(attr(node, 'auto_pad')!.s!) : 'NOTSET';
  const ceil = attrInt(node, 'ceil_mode', 0) === 1;
  return kernel.map((k, i) => {
    const size = x[2 + i];
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') return Math.ceil(size / strides[i]);
    if (autoPad === 'VALID') return windowOut(size, k, strides[i], 0, 0, dilations[i], ceil);
    return windowOut(size, k, strides[i], pads[i], pads[i + n], dilations[i], ceil);
  });
}

/**
 * A node's `axis` attribute as an index up to `upTo` (negative counts from the end); out of range
 * is not a valid model, and left unchecked a hostile axis (2^31) would size an array by it.
 */
function axisOf(node: NodeProto, fallback: number, rank: number, upTo = rank - 1): number {
  const given = attrInt(node, 'axis', fallback);
  const axis = given < 0 ? given + rank : given;
  if (!Number.isInteger(axis) || axis < 0 || axis > upTo) {
    throw badGraph(`node ${nodeLabel(node)} has axis ${given} for an input of rank ${rank}`);
  }
  return axis;
}

/** Infers the outputs of one node from what `env` knows of its inputs. */
export function inferNode(node: NodeProto, env: Env, consts: Consts, opset: number): TensorInfo[] {
  const ins = (node.input ?? []).map((n) => (n ? env.get(n) : undefined));
  const x = ins[0]?.dims ?? null;
  const type0 = ins[0]?.type ?? DataType.FLOAT;
  const outs = node.output ?? [];
  const op = node.opType ?? '';
  const one = (dims: number[] | null, type = type0): TensorInfo[] => outs.map((name, i) => ({ name, dims: i === 0 ? dims : null, type }));

  if (op === 'Constant') {
    const v = attr(node, 'value')?.t;
    if (v) {
      const vals = constValues(v);
      if (vals) consts.set(outs[0], vals);
      return [{ name: outs[0], dims: (v.dims ?? []).map(num), type: v.dataType ?? DataType.FLOAT }];
    }
    return one(null);
  }
  if (op === 'If' || op === 'Loop' || op === 'Scan') {
    // output types are those the body declares (a Loop body's first output is its condition)
    const body = attr(node, op === 'If' ? 'then_branch' : 'body')?.g;
    const declared = (body?.output ?? []).slice(op === 'Loop' ? 1 : 0);
    return outs.map((name, i) => ({ name, dims: null, type: declared[i]?.type?.tensorType?.elemType ?? DataType.FLOAT }));
  }
  if (SAME_SHAPE.has(op)) {
    const type = op === 'Cast' ? attrInt(node, 'to', type0) : BOOL_OUT.has(op) ? DataType.BOOL : type0;
    return one(x, type);
  }
  if (BROADCAST.has(op)) {
    const dims = broadcast(ins.map((i) => i?.dims ?? null));
    return one(dims, BOOL_OUT.has(op) ? DataType.BOOL : op === 'Where' ? ins[1]?.type ?? type0 : type0);
  }
  switch (op) {
    case 'Conv': {
      const w = ins[1]?.dims;
      if (!x || !w) return one(null);
      return one([x[0], w[0], ...spatial(node, x, attrInts(node, 'kernel_shape') ?? w.slice(2))]);
    }
    case 'ConvTranspose': {
      const w = ins[1]?.dims;
      if (!x || !w) return one(null);
      const k = attrInts(node, 'kernel_shape') ?? w.slice(2);
      const strides = attrInts(node, 'strides') ?? k.map(() => 1);
      const pads = attrInts(node, 'pads') ?? Array(2 * k.length).fill(0);
      const outPad = attrInts(node, 'output_padding') ?? k.map(() => 0);
      const dil = attrInts(node, 'dilations') ?? k.map(() => 1);
      const group = attrInt(node, 'group', 1);
      return one([x[0], w[1] * group, ...k.map((kk, i) => strides[i] * (x[2 + i] - 1) + outPad[i] + (kk - 1) * dil[i] + 1 - pads[i] - pads[i + k.length])]);
    }
    case 'MaxPool': case 'AveragePool': case 'LpPool': {
      const k = attrInts(node, 'kernel_shape');
      if (!x || !k) return one(null);
      return one([x[0], x[1], ...spatial(node, x, k)]);
    }
    case 'GlobalAveragePool': case 'GlobalMaxPool': case 'GlobalLpPool':
      return one(x ? [x[0], x[1], ...x.slice(2).map(() => 1)] : null);
    case 'Pad': {
      // pads: an input from opset 11 on, an attribute before; begin values for every axis, then end values
      const pads = consts.get(node.input?.[1] ?? '') ?? attrInts(node, 'pads');
      if (!x || !pads || pads.length !== 2 * x.length) return one(null);
      return one(x.map((d, i) => d + pads[i] + pads[i + x.length]));
    }
    case 'Flatten': {
      if (!x) return one(null);
      const axis = axisOf(node, 1, x.length, x.length);
      return one([x.slice(0, axis).reduce((a, b) => a * b, 1), x.slice(axis).reduce((a, b) => a * b, 1)]);
    }
    case 'Gemm': {
      const a = x;
      const b = ins[1]?.dims;
      if (!a || !b) return one(null);
      const m = attrInt(node, 'transA', 0) ? a[1] : a[0];
      const n = attrInt(node, 'transB', 0) ? b[0] : b[1];
      return one([m, n]);
    }
    case 'MatMul': {
      const b = ins[1]?.dims;
      if (!x || !b) return one(null);
      const a2 = x.length === 1 ? [1, x[0]] : x;
      const b2 = b.length === 1 ? [b[0], 1] : b;
      const batch = broadcast([a2.slice(0, -2), b2.slice(0, -2)]) ?? [];
      const out = [...batch, a2[a2.length - 2], b2[b2.length - 1]];
      if (x.length === 1) out.splice(out.length - 2, 1);
      if (b.length === 1) out.pop();
      return one(out);
    }
    case 'Reshape': {
      const shape = consts.get(node.input?.[1] ?? '') ?? attrInts(node, 'shape');
      if (!x || !shape) return one(null);
      const total = x.reduce((a, b) => a * b, 1);
      const out = shape.map((d, i) => (d === 0 ? x[i] : d));
      const known = out.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
      return one(out.map((d) => (d === -1 ? total / known : d)));
    }
    case 'Concat': {
      const shapes = ins.map((i) => i?.dims ?? null);
      if (shapes.some((s) => !s)) return one(null);
      const axis = axisOf(node, 0, shapes[0]!.length);
      const out = [...shapes[0]!];
      out[axis] = shapes.reduce((a, s) => a + s![axis], 0);
      return one(out);
    }
    case 'Transpose': {
      if (!x) return one(null);
      const perm = attrInts(node, 'perm') ?? x.map((_, i) => x.length - 1 - i);
      return one(perm.map((p) => x[p]));
    }
    case 'Squeeze': case 'Unsqueeze': {
      const axes = (opset >= 13 ? consts.get(node.input?.[1] ?? '') : attrInts(node, 'axes')) ?? (op === 'Squeeze' && x ? x.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0) : null);
      if (!x || !axes) return one(null);
      if (op === 'Squeeze') {
        const drop = new Set(axes.map((a) => (a < 0 ? a + x.length : a)));
        return one(x.filter((_, i) => !drop.has(i)));
      }
      const rank = x.length + axes.length;
      const add = new Set(axes.map((a) => (a < 0 ? a + rank : a)));
      const out: number[] = [];
      for (let i = 0, j = 0; i < rank; i++) out.push(add.has(i) ? 1 : x[j++]);
      return one(out);
    }
    case 'Shape':
      if (x) consts.set(outs[0], x);
      return one(x ? [x.length] : null, DataType.INT64);
    case 'Split': {
      if (!x) return outs.map((name) => ({ name, dims: null, type: type0 }));
      const axis = axisOf(node, 0, x.length);
      const sizes = (opset >= 13 ? consts.get(node.input?.[1] ?? '') : attrInts(node, 'split')) ?? outs.map(() => x[axis] / outs.length);
      return outs.map((name, i) => ({ name, dims: x.map((d, j) => (j === axis ? sizes[i] : d)), type: type0 }));
    }
  }
  if (REDUCE.has(op)) {
    if (!x) return one(null);
    const axes = attrInts(node, 'axes') ?? consts.get(node.input?.[1] ?? '') ?? (op.startsWith('Arg') ? [attrInt(node, 'axis', 0)] : x.map((_, i) => i));
    const keep = attrInt(node, 'keepdims', 1) === 1;
    const red = new Set(axes.map((a) => (a < 0 ? a + x.length : a)));
    const out = keep ? x.map((d, i) => (red.has(i) ? 1 : d)) : x.filter((_, i) => !red.has(i));
    return one(out, op.startsWith('Arg') ? DataType.INT64 : type0);
  }
  return one(null);
}

export function elementCount(dims: number[] | null): number {
  return dims ? dims.reduce((a, b) => a * b, 1) : 0;
}

/** Estimated floating-point operations of one node at batch size 1. */
export function nodeFlops(node: NodeProto, env: Env): number {
  const op = node.opType ?? '';
  const ins = (node.input ?? []).map((n) => env.get(n)?.dims ?? null);
  const out = env.get(node.output?.[0] ?? '')?.dims ?? null;
  const outN = elementCount(out);
  switch (op) {
    case 'Conv': {
      const w = ins[1];
      return w ? 2 * outN * w.slice(1).reduce((a, b) => a * b, 1) : outN;
    }
    case 'ConvTranspose': {
      const w = ins[1];
      return w ? 2 * elementCount(ins[0]) * w.slice(1).reduce((a, b) => a * b, 1) : outN;
    }
    case 'Gemm': {
      const a = ins[0];
      const k = a ? (attrInt(node, 'transA', 0) ? a[0] : a[1]) : 0;
      return 2 * outN * k;
    }
    case 'MatMul': {
      const a = ins[0];
      return 2 * outN * (a ? a[a.length - 1] : 0);
    }
    case 'MaxPool': case 'AveragePool': case 'LpPool':
      return outN * (attrInts(node, 'kernel_shape') ?? [1]).reduce((a, b) => a * b, 1);
    case 'GlobalAveragePool': case 'GlobalMaxPool':
      return elementCount(ins[0]);
    case 'BatchNormalization': case 'InstanceNormalization': case 'LayerNormalization':
      return 2 * outN;
    case 'Softmax': case 'LogSoftmax':
      return 3 * outN;
    case 'Reshape': case 'Flatten': case 'Squeeze': case 'Unsqueeze': case 'Identity': case 'Shape': case 'Constant': case 'Dropout':
      return 0;
  }
  return outN;
}
