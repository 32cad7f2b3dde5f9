/**
 * Cutting a model the user gave into partitions, inside the compute worker, with memory in mind
 * (memory is why anyone partitions): the .onnx is read once, straight from the File into one
 * buffer; weights kept in an external data file are read only when the partition that uses them is
 * written; each partition is hashed and stored in this browser as soon as it is cut and then let
 * go, so the worker holds the model and one partition at a time, never every partition at once.
 * Nothing crosses to the page but the manifest and the analysis.
 */
import { baseName, type ExternalFiles } from '../core/onnx/external.js';
import { assembleManifest, partitionFile, planModel } from '../core/onnx/manifest.js';
import type { RoomCapacity } from '../core/room-plan.js';
import { ModelError, ONNX_FILE_LIMIT } from '../core/onnx/model.js';
import { sha256Blob, sha256Hex } from '../store/digest.js';
import { ReplicaStore, StorageFullError } from '../store/replicas.js';
import type { PreparedModel } from './compute-messages.js';

export interface CutOptions {
  parts: number;
  maxBytes: number;
  /** the room the model is cut for: its live devices' budgets and availabilities, and the target */
  room: RoomCapacity | null;
  /** what the browser reports (GiB), for a clear refusal before running out of memory */
  deviceMemoryGiB: number | null;
}

export type Progress = (step: string, done: number, total: number) => void;

const MiB = 1024 * 1024;
const mib = (n: number) => `${(n / MiB).toFixed(n < 10 * MiB ? 1 : 0)} MiB`;

/** The model file among those given together, and its data files. */
export function pickModel(files: File[]): { model: File; data: File[] } {
  const onnx = files.filter((f) => /\.onnx$/i.test(f.name));
  if (onnx.length > 1) throw new ModelError('not-onnx', `Give one model at a time (with its data files): ${onnx.map((f) => `"${f.name}"`).join(' and ')} were given together.`);
  const model = onnx[0] ?? (files.length === 1 ? files[0] : null);
  if (!model) throw new ModelError('not-onnx', `None of ${files.map((f) => `"${f.name}"`).join(', ')} is an .onnx model.`);
  return { model, data: files.filter((f) => f !== model) };
}

/** Reads a File into one buffer of its size, reporting progress (no intermediate copies). */
async function readAll(file: File, progress: Progress): Promise<Uint8Array> {
  const out = new Uint8Array(file.size);
  const reader = file.stream().getReader();
  let at = 0;
  let last = 0;
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    out.set(r.value, at);
    at += r.value.length;
    if (at - last > 16 * MiB || at === file.size) {
      last = at;
      progress(`reading ${file.name}`, at, file.size);
    }
  }
  if (at !== file.size) throw new ModelError('truncated', `"${file.name}" could not be read completely (${at} of ${file.size} bytes).`);
  return out;
}

/** External data read synchronously, a tensor at a time, from the dropped data files. */
function externalFiles(data: File[]): ExternalFiles | undefined {
  if (!data.length) return undefined;
  const byName = new Map(data.map((f) => [baseName(f.name), f]));
  const reader = new FileReaderSync();
  return {
    sizes: new Map([...byName].map(([k, f]) => [k, f.size])),
    read: (location, offset, length) => new Uint8Array(reader.readAsArrayBuffer(byName.get(location)!.slice(offset, offset + length))),
  };
}

/**
 * SHA-256 naming the model: of the .onnx, then its data files in the order given. With data files
 * the .onnx is only the graph, and the files are streamed a slice at a time, never held whole.
 */
async function modelHash(bytes: Uint8Array, data: File[], progress: Progress): Promise<string> {
  if (!data.length) return sha256Hex(bytes);
  const all = new Blob([bytes as Uint8Array<ArrayBuffer>, ...data]);
  return sha256Blob(all, (done) => progress('hashing the data files', done, all.size));
}

/** Half of what the browser reports: one page cannot count on more. */
const usableBytes = (opts: CutOptions) => (opts.deviceMemoryGiB ? (opts.deviceMemoryGiB * 1024 * MiB) / 2 : Infinity);

function tooBig(label: string, need: number, opts: CutOptions): ModelError {
  return new ModelError('too-large', `${label} needs about ${mib(need)} of memory to be cut here, and this device reports ${opts.deviceMemoryGiB} GiB (half of it usable by one page); drop it on a device with more memory, or cut it with \`npx frim-mesh partition\`.`);
}

/**
 * Why this device cannot cut the model, before it runs out of memory trying. A self-contained
 * .onnx needs itself plus its largest partition (at most itself again); with external data only
 * the graph is read whole, and the largest partition is checked once the cut is known.
 */
export function checkMemory(model: File, data: File[], opts: CutOptions): void {
  const label = `"${model.name}"`;
  if (model.size > Math.min(opts.maxBytes, ONNX_FILE_LIMIT)) {
    throw new ModelError('too-large', model.size > ONNX_FILE_LIMIT
      ? `${label} is ${mib(model.size)}: no ONNX file can be 2 GiB or more (bigger models keep their weights in a separate data file; drop both together).`
      : `${label} is ${mib(model.size)}, over the ${mib(opts.maxBytes)} limit.`);
  }
  const need = data.length ? model.size : 2 * model.size;
  if (need > usableBytes(opts)) throw tooBig(label, need, opts);
}

export async function cutModel(files: File[], opts: CutOptions, progress: Progress): Promise<PreparedModel> {
  const { model, data } = pickModel(files);
  checkMemory(model, data, opts);
  let bytes: Uint8Array;
  try {
    bytes = await readAll(model, progress);
  } catch (e) {
    if (e instanceof RangeError) throw new ModelError('too-large', `"${model.name}" (${mib(model.size)}) does not fit in this page's memory; drop it on a device with more memory.`);
    throw e;
  }
  const sha256 = await modelHash(bytes, data, progress);
  progress(`analysing ${model.name}`, 0, 1);
  const pm = planModel({ name: model.name, bytes, external: externalFiles(data), sha256 }, { parts: opts.parts, maxBytes: opts.maxBytes, room: opts.room });
  const largest = Math.max(...pm.plan.partitions.map((p) => p.paramBytes));
  if (data.length && bytes.length + largest > usableBytes(opts)) throw tooBig(`"${model.name}"`, bytes.length + largest, opts);
  const store = new ReplicaStore();
  const n = pm.plan.partitions.length;
  const written: { name: string; sha256: string; bytes: number }[] = [];
  for (let i = 0; i < n; i++) {
    progress(`cutting partition ${i + 1} of ${n}`, i, n);
    const f = partitionFile(pm, i);
    const hash = await sha256Hex(f.bytes);
    try {
      await store.putVerified(hash, f.bytes);
    } catch (e) {
      if (e instanceof StorageFullError) throw new ModelError('too-large', `This browser has no room left to store partition ${i + 1} of ${model.name} (${mib(f.bytes.length)}); free some space or give it to a device with more storage.`);
      throw e;
    }
    written.push({ name: f.name, sha256: hash, bytes: f.bytes.length });
  }
  progress(`cut ${model.name} into ${n} partitions`, n, n);
  const a = pm.analysis;
  return {
    manifest: assembleManifest(pm, written, sha256),
    sizeBytes: model.size + data.reduce((s, f) => s + f.size, 0),
    files: [model.name, ...data.map((f) => f.name)],
    opset: a.opset,
    operators: a.nodes.length,
    totalFlops: a.totalFlops,
    totalParamBytes: a.totalParamBytes,
    histogram: a.histogram,
    partitions: pm.plan.partitions.map(({ id, start, end, flops, paramBytes, inputBytes, outputBytes }) => ({ id, start, end, flops, paramBytes, inputBytes, outputBytes })),
    cuts: pm.plan.cuts,
    placeable: pm.placeable,
  };
}
