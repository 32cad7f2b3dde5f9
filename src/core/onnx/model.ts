/**
 * Reading an ONNX file and refusing, with one clear sentence, what frim-mesh cannot run:
 * not ONNX, truncated, weights in an external data file that was not given, opset below 7, a
 * dynamic dimension other than the batch, an operator no backend has, or a file over the limit.
 */
import { ModelError } from './errors.js';
import { resolveExternal, type ExternalFiles } from './external.js';
import { ONNX_ML_OPS, ONNX_OPS } from './ops.js';
import { num, onnx, type GraphProto, type ModelProto, type NodeProto } from './proto.js';

export { ModelError, type ModelErrorCode } from './errors.js';

/** Protobuf cannot encode a message of 2 GiB or more, so no .onnx file is larger (bigger models keep weights in a data file). */
export const ONNX_FILE_LIMIT = 2 ** 31 - 1;
export const DEFAULT_MAX_MODEL_BYTES = ONNX_FILE_LIMIT;
const MIN_OPSET = 7;

export interface DecodeOptions {
  maxBytes?: number;
  /** the file's name, for messages */
  name?: string;
  /** the data files given with it, for weights stored outside the .onnx (ONNX external data) */
  external?: ExternalFiles;
}

function mib(n: number): string {
  return n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export function decodeModel(bytes: Uint8Array, opts: DecodeOptions = {}): ModelProto {
  const label = opts.name ? `"${opts.name}"` : 'This file';
  const max = opts.maxBytes ?? DEFAULT_MAX_MODEL_BYTES;
  if (bytes.length > max) {
    throw new ModelError('too-large', max >= ONNX_FILE_LIMIT
      ? `${label} is ${mib(bytes.length)}: no ONNX file can be 2 GiB or more (bigger models keep their weights in a separate data file).`
      : `${label} is ${mib(bytes.length)}, over the ${mib(max)} limit.`);
  }
  if (bytes.length === 0) throw new ModelError('not-onnx', `${label} is empty.`);
  let model: ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    const msg = (e as Error).message ?? '';
    // Running out of bytes means truncated only if the file starts the way ONNX files do
    // (field 1, ir_version, as a small varint); a text file runs out of bytes too.
    const onnxStart = bytes[0] === 0x08 && bytes[1] >= 1 && bytes[1] <= 20;
    if (onnxStart && /index out of range|premature|truncated/i.test(msg)) throw new ModelError('truncated', `${label} is cut short: the ONNX data ends in the middle (was the download or copy complete?).`);
    throw new ModelError('not-onnx', `${label} is not an ONNX model.`);
  }
  const graph = model.graph;
  const irVersion = num(model.irVersion);
  if (!graph || !graph.node?.length || irVersion < 1 || irVersion > 100 || !graph.output?.length) {
    throw new ModelError('not-onnx', `${label} is not an ONNX model: it has no graph of operators.`);
  }
  checkOpset(model, label);
  resolveExternal(model, opts.external, label);
  checkInputs(graph, label);
  checkOps(graph, label);
  return model;
}

export function defaultOpset(model: ModelProto): number {
  const entry = model.opsetImport?.find((o) => !o.domain || o.domain === 'ai.onnx');
  return entry ? num(entry.version) : 0;
}

function checkOpset(model: ModelProto, label: string): void {
  const v = defaultOpset(model);
  if (v < MIN_OPSET) throw new ModelError('opset', `${label} uses ONNX opset ${v || 'unknown'}; frim-mesh needs opset ${MIN_OPSET} or newer (re-export it, e.g. opset_version=13).`);
}

function checkInputs(graph: GraphProto, label: string): void {
  const weights = new Set((graph.initializer ?? []).map((t) => t.name));
  for (const input of graph.input ?? []) {
    if (weights.has(input.name ?? '')) continue;
    const dims = input.type?.tensorType?.shape?.dim ?? [];
    dims.forEach((d, i) => {
      const fixed = d.dimValue !== null && d.dimValue !== undefined && num(d.dimValue) > 0;
      if (i > 0 && !fixed) {
        throw new ModelError('dynamic-dim', `${label}: input "${input.name}" has a dynamic dimension ${i} ("${d.dimParam || '?'}"); only the first (batch) dimension may vary. Re-export it with a fixed input size.`);
      }
    });
  }
}

/** Every node of every (sub)graph, for checks that must see inside If/Loop bodies too. */
export function* allNodes(graph: GraphProto): Generator<NodeProto> {
  for (const node of graph.node ?? []) {
    yield node;
    for (const a of node.attribute ?? []) {
      if (a.g) yield* allNodes(a.g);
      for (const g of a.graphs ?? []) yield* allNodes(g);
    }
  }
}

function checkOps(graph: GraphProto, label: string): void {
  for (const node of allNodes(graph)) {
    const domain = node.domain ?? '';
    const op = node.opType ?? '';
    const known =
      ((domain === '' || domain === 'ai.onnx') && ONNX_OPS.has(op)) ||
      (domain === 'ai.onnx.ml' && ONNX_ML_OPS.has(op)) ||
      domain === 'com.microsoft';
    if (!known) {
      throw new ModelError('unsupported-op', `${label} uses the operator "${domain ? `${domain}.` : ''}${op}" (node "${node.name || op}"), which neither WebGPU nor WASM can run.`);
    }
  }
}

export function encodeModel(model: ModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}
