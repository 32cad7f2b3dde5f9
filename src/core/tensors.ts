/**
 * Tensors on the wire (FRIM 4.3: activations travel device to device as binary frames, never as
 * JSON numbers): a table of {name, type, dims, bytes} in the frame body and the raw little-endian
 * data, back to back, in the payload. Sets larger than one frame are split into parts. Also which
 * tensors each stage needs carried to it, from the manifest.
 */
import type { Manifest } from './onnx/manifest.js';

export type TensorType = 'float32' | 'int64' | 'int32' | 'uint8' | 'bool';

export interface Tensor {
  type: TensorType;
  dims: number[];
  /** raw little-endian bytes */
  data: Uint8Array;
}

export interface TensorEntry {
  name: string;
  type: TensorType;
  dims: number[];
  bytes: number;
}

const ELEMENT_BYTES: Record<TensorType, number> = { float32: 4, int64: 8, int32: 4, uint8: 1, bool: 1 };
/**
 * One set of activations for one image stays far below this (VGG-16's widest is 12 MiB); a set
 * bigger than this is refused when it is packed, assembled from parts, or unpacked.
 */
export const MAX_TENSOR_SET_BYTES = 64 * 1024 * 1024;

export function packTensors(tensors: Record<string, Tensor>): { table: TensorEntry[]; payload: Uint8Array } {
  const names = Object.keys(tensors).sort();
  const table = names.map((name) => ({ name, type: tensors[name].type, dims: [...tensors[name].dims], bytes: tensors[name].data.length }));
  const total = table.reduce((s, t) => s + t.bytes, 0);
  if (total > MAX_TENSOR_SET_BYTES) throw new RangeError(`a tensor set of ${total} bytes exceeds ${MAX_TENSOR_SET_BYTES}`);
  const payload = new Uint8Array(total);
  let at = 0;
  for (const name of names) {
    payload.set(tensors[name].data, at);
    at += tensors[name].data.length;
  }
  return { table, payload };
}

/** Rebuilds the tensors from a table that came off the wire, checking every size; a reason string when it does not add up. */
export function unpackTensors(table: unknown, payload: Uint8Array): Record<string, Tensor> | string {
  if (!Array.isArray(table) || table.length > 256) return 'bad tensor table';
  if (payload.length > MAX_TENSOR_SET_BYTES) return `a tensor set of ${payload.length} bytes exceeds ${MAX_TENSOR_SET_BYTES}`;
  // no prototype: a tensor may be called `constructor` or `__proto__` (names come from the model and the wire)
  const out: Record<string, Tensor> = Object.create(null);
  let at = 0;
  for (const raw of table as unknown[]) {
    const e = raw as Record<string, unknown> | null;
    if (typeof e !== 'object' || e === null || typeof e.name !== 'string' || e.name.length > 256 || e.name in out) return 'bad tensor name';
    const type = e.type as TensorType;
    if (!(type in ELEMENT_BYTES)) return `bad tensor type for ${e.name}`;
    if (!Array.isArray(e.dims) || e.dims.length > 8 || !e.dims.every((d) => Number.isInteger(d) && d >= 0 && d <= 2 ** 31)) return `bad dims for ${e.name}`;
    const dims = e.dims as number[];
    const bytes = dims.reduce((p, d) => p * d, 1) * ELEMENT_BYTES[type];
    if (e.bytes !== bytes) return `${e.name}: ${String(e.bytes)} bytes do not match [${dims.join(', ')}] ${type}`;
    if (at + bytes > payload.length) return `${e.name} runs past the payload`;
    out[e.name] = { type, dims, data: payload.slice(at, at + bytes) };
    at += bytes;
  }
  if (at !== payload.length) return `${payload.length - at} payload bytes are not in the table`;
  return out;
}

/** Splits a payload into parts of at most `max` bytes (at least one part, possibly empty). */
export function splitParts(payload: Uint8Array, max: number): Uint8Array[] {
  const parts: Uint8Array[] = [];
  for (let at = 0; at < payload.length; at += max) parts.push(payload.subarray(at, Math.min(payload.length, at + max)));
  return parts.length ? parts : [payload];
}

/** Collects the parts of one tensor set as they arrive, in any order. */
export class PartsAssembler {
  private readonly parts: (Uint8Array | null)[];
  private got = 0;
  private bytes = 0;
  table: unknown = null;

  constructor(readonly count: number) {
    this.parts = new Array<Uint8Array | null>(count).fill(null);
  }

  /** false for a duplicate or out-of-range part, or one that takes the set past MAX_TENSOR_SET_BYTES */
  add(index: number, bytes: Uint8Array, table: unknown): boolean {
    if (!Number.isInteger(index) || index < 0 || index >= this.count || this.parts[index]) return false;
    if (this.bytes + bytes.length > MAX_TENSOR_SET_BYTES) return false;
    this.bytes += bytes.length;
    this.parts[index] = bytes.slice();
    if (index === 0) this.table = table;
    this.got++;
    return true;
  }

  get complete(): boolean {
    return this.got === this.count;
  }

  payload(): Uint8Array {
    const total = this.parts.reduce((s, p) => s + (p?.length ?? 0), 0);
    const out = new Uint8Array(total);
    let at = 0;
    for (const p of this.parts) {
      out.set(p!, at);
      at += p!.length;
    }
    return out;
  }
}

/**
 * For each stage i, the tensors that must be carried into it: produced before it (model inputs,
 * outputs of earlier stages) and read by it or by a later stage, or a model output. Entry n is what
 * the last stage sends back to the requester: the model outputs. Skip connections that jump over
 * a cut are carried along, not recomputed.
 */
/** The tensors of `all` named in `names` (those it has). */
export function pickTensors(all: Record<string, Tensor>, names: readonly string[]): Record<string, Tensor> {
  return Object.fromEntries(names.filter((t) => all[t]).map((t) => [t, all[t]]));
}

export function carriedTensors(manifest: Manifest): string[][] {
  const n = manifest.partitions.length;
  const modelOutputs = manifest.model.outputs.map((o) => o.name);
  const out: string[][] = [];
  const available = new Set(manifest.model.inputs.map((i) => i.name));
  for (let i = 0; i <= n; i++) {
    const needed = new Set(modelOutputs);
    for (const p of manifest.partitions.slice(i)) for (const t of p.inputs) needed.add(t);
    out.push([...available].filter((t) => needed.has(t)).sort());
    if (i < n) for (const t of manifest.partitions[i].outputs) available.add(t);
  }
  return out;
}
