/**
 * ONNX external data: the layout `torch.onnx.export` and `onnx.save_model(save_as_external_data=True)`
 * write for models over protobuf's 2 GiB limit, where an initializer's bytes live in a data file
 * beside the .onnx (its `external_data` entries name the file, an offset and a length).
 *
 * The graph is analysed without those bytes (their sizes come from the entries); a partition reads
 * only the weights it uses, when it is written out, so the whole model never has to be in memory.
 * Small tensors (shape constants that analysis needs) are read at once.
 */
import { ModelError } from './errors.js';
import { elementBytes, num, onnx, type ModelProto, type TensorProto } from './proto.js';

export interface ExternalRef {
  location: string;
  offset: number;
  length: number;
}

/** The data files that came with a model, by the name its tensors use, and a synchronous reader. */
export interface ExternalFiles {
  sizes: ReadonlyMap<string, number>;
  read(location: string, offset: number, length: number): Uint8Array;
}

/** read at once: shape constants and other small tensors analysis may need the values of */
const INLINE_BELOW = 4096;

/** The file a location names: only its base name counts (a data file is dropped or passed by itself). */
export function baseName(location: string): string {
  return location.split(/[\\/]/).pop() ?? location;
}

export function isExternal(t: TensorProto): boolean {
  return t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL || !!t.externalData?.length;
}

/** Where this tensor's bytes are, checked against its declared size; a reason string when it cannot be right. */
export function externalRef(t: TensorProto): ExternalRef | string {
  const kv = new Map((t.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
  const location = kv.get('location');
  if (!location) return `tensor "${t.name}" is stored outside the file but names no location`;
  const offset = kv.has('offset') ? Number(kv.get('offset')) : 0;
  const count = (t.dims ?? []).map(num).reduce((a, b) => a * b, 1);
  const expected = count * elementBytes(t.dataType ?? onnx.TensorProto.DataType.FLOAT);
  const length = kv.has('length') ? Number(kv.get('length')) : expected;
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) return `tensor "${t.name}" has an invalid offset or length in "${location}"`;
  if (length !== expected) return `tensor "${t.name}" is ${expected} bytes by its shape but ${length} in "${location}"`;
  return { location: baseName(location), offset, length };
}

/** Data file names the model refers to, in order of first use. */
export function externalLocations(model: ModelProto): string[] {
  const names = new Set<string>();
  for (const t of model.graph?.initializer ?? []) {
    if (!isExternal(t)) continue;
    const r = externalRef(t);
    if (typeof r !== 'string') names.add(r.location);
  }
  return [...names];
}

/** A copy of the tensor with its bytes in it (raw data), read from the data file. */
export function inlineTensor(t: TensorProto, files: ExternalFiles): TensorProto {
  const r = externalRef(t);
  if (typeof r === 'string') throw new ModelError('external-data', r);
  const raw = files.read(r.location, r.offset, r.length);
  if (raw.length !== r.length) throw new ModelError('truncated', `the data file "${r.location}" ends before tensor "${t.name}" does`);
  const { externalData: _e, dataLocation: _d, ...rest } = t;
  return onnx.TensorProto.create({ ...rest, rawData: raw });
}

/**
 * Checks every external tensor against the files given (present, in range) and reads the small
 * ones in. `label` names the model in messages.
 */
export function resolveExternal(model: ModelProto, files: ExternalFiles | undefined, label: string): void {
  const graph = model.graph;
  if (!graph?.initializer?.some(isExternal)) return;
  const refs = new Map<TensorProto, ExternalRef>();
  for (const t of graph.initializer.filter(isExternal)) {
    const r = externalRef(t);
    if (typeof r === 'string') throw new ModelError('external-data', `${label}: ${r}.`);
    refs.set(t, r);
  }
  const wanted = [...new Set([...refs.values()].map((r) => r.location))];
  if (!files) {
    throw new ModelError('external-data', `${label} keeps its weights in a separate data file (${wanted.map((w) => `"${w}"`).join(', ')}); give that file together with the .onnx (drop both at once, or name both on the command line).`);
  }
  const missing = wanted.filter((w) => !files.sizes.has(w));
  if (missing.length) throw new ModelError('external-data', `${label} needs its data file ${missing.map((w) => `"${w}"`).join(', ')}, which was not given with it.`);
  graph.initializer = graph.initializer.map((t) => {
    const r = refs.get(t);
    if (!r) return t;
    if (r.offset + r.length > files.sizes.get(r.location)!) throw new ModelError('truncated', `${label}: the data file "${r.location}" is too short for tensor "${t.name}" (was it copied completely?).`);
    return r.length < INLINE_BELOW ? inlineTensor(t, files) : t;
  });
}

/** The raw little-endian bytes of a tensor stored in the file (raw data, or float/int32/int64 lists). */
function tensorRaw(t: TensorProto): Uint8Array | null {
  if (t.rawData?.length) return t.rawData;
  if (t.floatData?.length) return new Uint8Array(Float32Array.from(t.floatData).buffer);
  if (t.int32Data?.length && t.dataType === onnx.TensorProto.DataType.INT32) return new Uint8Array(Int32Array.from(t.int32Data).buffer);
  if (t.int64Data?.length) return new Uint8Array(BigInt64Array.from(t.int64Data.map((v) => BigInt(num(v)))).buffer);
  return null;
}

/**
 * The same model in the external-data layout: initializers of `threshold` bytes or more move to one
 * data file named `location`, each at a 4 KiB-aligned offset (as onnx's own tools write it).
 */
export function externalize(model: ModelProto, location: string, threshold = 1024): { model: ModelProto; data: Uint8Array } {
  const parts: { offset: number; bytes: Uint8Array }[] = [];
  let size = 0;
  const initializer = (model.graph?.initializer ?? []).map((t) => {
    const raw = tensorRaw(t);
    if (!raw || raw.length < threshold) return t;
    const offset = Math.ceil(size / 4096) * 4096;
    parts.push({ offset, bytes: raw });
    size = offset + raw.length;
    const { rawData: _r, floatData: _f, int32Data: _i, int64Data: _l, ...rest } = t;
    return onnx.TensorProto.create({
      ...rest,
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [{ key: 'location', value: location }, { key: 'offset', value: String(offset) }, { key: 'length', value: String(raw.length) }],
    });
  });
  const data = new Uint8Array(size);
  for (const p of parts) data.set(p.bytes, p.offset);
  return { model: onnx.ModelProto.create({ ...model, graph: { ...model.graph, initializer } }), data };
}

/** `ExternalFiles` over data files held in memory (tests, and the CLI for files it has read). */
export function filesInMemory(files: Record<string, Uint8Array>): ExternalFiles {
  return {
    sizes: new Map(Object.entries(files).map(([k, v]) => [baseName(k), v.length])),
    read: (location, offset, length) => files[location]?.subarray(offset, offset + length) ?? new Uint8Array(0),
  };
}
