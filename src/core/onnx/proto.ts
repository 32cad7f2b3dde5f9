/** The ONNX protobuf schema (onnx-proto's generated protobufjs code) and small helpers over it. */
import onnxProto from 'onnx-proto';

export const { onnx } = onnxProto;
export type ModelProto = onnxProto.onnx.ModelProto;
export type GraphProto = onnxProto.onnx.IGraphProto;
export type NodeProto = onnxProto.onnx.INodeProto;
export type TensorProto = onnxProto.onnx.ITensorProto;
export type ValueInfoProto = onnxProto.onnx.IValueInfoProto;
export type AttributeProto = onnxProto.onnx.IAttributeProto;

export const DataType = onnx.TensorProto.DataType;

/** int64 fields arrive as numbers or Long objects, depending on their size. */
export function num(v: number | { toNumber(): number } | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

const ELEMENT_BYTES: Record<number, number> = {
  [DataType.FLOAT]: 4, [DataType.UINT8]: 1, [DataType.INT8]: 1, [DataType.UINT16]: 2, [DataType.INT16]: 2,
  [DataType.INT32]: 4, [DataType.INT64]: 8, [DataType.BOOL]: 1, [DataType.FLOAT16]: 2, [DataType.DOUBLE]: 8,
  [DataType.UINT32]: 4, [DataType.UINT64]: 8, [DataType.COMPLEX64]: 8, [DataType.COMPLEX128]: 16, [DataType.BFLOAT16]: 2,
};

export function elementBytes(dataType: number): number {
  return ELEMENT_BYTES[dataType] ?? 4;
}

const TYPE_NAMES: Record<number, string> = {
  [DataType.FLOAT]: 'float32', [DataType.UINT8]: 'uint8', [DataType.INT8]: 'int8', [DataType.UINT16]: 'uint16',
  [DataType.INT16]: 'int16', [DataType.INT32]: 'int32', [DataType.INT64]: 'int64', [DataType.STRING]: 'string',
  [DataType.BOOL]: 'bool', [DataType.FLOAT16]: 'float16', [DataType.DOUBLE]: 'float64', [DataType.UINT32]: 'uint32',
  [DataType.UINT64]: 'uint64', [DataType.BFLOAT16]: 'bfloat16',
};

export function typeName(dataType: number): string {
  return TYPE_NAMES[dataType] ?? `type${dataType}`;
}

/** A node as a message names it: its name, else its operator, quoted and cut short. */
export function nodeLabel(node: NodeProto): string {
  return `"${(node.name || node.opType || '').slice(0, 60)}"`;
}

export function attr(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute?.find((a) => a.name === name);
}

export function attrInt(node: NodeProto, name: string, fallback: number): number {
  const a = attr(node, name);
  return a && a.i !== undefined && a.i !== null ? num(a.i) : fallback;
}

export function attrInts(node: NodeProto, name: string): number[] | undefined {
  const a = attr(node, name);
  return a?.ints?.length ? a.ints.map(num) : undefined;
}

/** Bytes a stored tensor occupies (raw or typed data). */
export function tensorBytes(t: TensorProto): number {
  if (t.rawData?.length) return t.rawData.length;
  const n = (t.dims ?? []).map(num).reduce((a, b) => a * b, 1);
  return n * elementBytes(t.dataType ?? DataType.FLOAT);
}
