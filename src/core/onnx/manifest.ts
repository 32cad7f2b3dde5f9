/**
 * The partition manifest, the one contract every later part of frim-mesh uses (format 1):
 * the model's identity and I/O, then the partitions in execution order with their files, hashes,
 * crossing tensors (original graph value names) and costs.
 */
import { hashHex } from '../hash.js';
import { extractPartition } from './extract.js';
import { analyseModel, type GraphAnalysis } from './graph.js';
import type { ExternalFiles } from './external.js';
import { decodeModel, encodeModel, type DecodeOptions } from './model.js';
import type { PartitionOptions, PartitionPlan } from './partition.js';
import { planForRoom, type RoomCapacity } from '../room-plan.js';
import { typeName, type ModelProto } from './proto.js';
import type { VariantKind } from './variant.js';

export interface TensorSpec {
  name: string;
  /** numbers for fixed dimensions, names for symbolic ones (the batch) */
  dims: (number | string)[];
  type: string;
}

export interface PartitionSpec {
  id: number;
  file: string;
  sha256: string;
  bytes: number;
  inputs: string[];
  /** each input's dimensions at batch size 1, where shape inference knows them (for warm-up runs) */
  inputShapes: (number[] | null)[];
  outputs: string[];
  flops: number;
  paramBytes: number;
}

/** A baseline variant (see variant.ts): which, and for early exits the output each partition but the last answers with. */
export interface ManifestVariant {
  kind: VariantKind;
  exits: string[];
}

export interface Manifest {
  format: 1;
  /** `variant` only for a baseline variant (absent otherwise: format 1 stays as it was) */
  model: { name: string; sha256: string; inputs: TensorSpec[]; outputs: TensorSpec[]; variant?: ManifestVariant };
  partitions: PartitionSpec[];
}

export interface PartitionedModel {
  manifest: Manifest;
  files: { name: string; bytes: Uint8Array }[];
  plan: PartitionPlan;
  analysis: GraphAnalysis;
}

function specs(list: { name?: string | null; type?: { tensorType?: { elemType?: number | null; shape?: { dim?: { dimValue?: unknown; dimParam?: string | null }[] | null } | null } | null } | null }[], skip: Set<string>): TensorSpec[] {
  return list
    .filter((v) => !skip.has(v.name ?? ''))
    .map((v) => ({
      name: v.name ?? '',
      dims: (v.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimValue !== null && d.dimValue !== undefined && Number(d.dimValue) > 0 ? Number(d.dimValue) : d.dimParam || '?')),
      type: typeName(v.type?.tensorType?.elemType ?? 1),
    }));
}

/** Safe model name for file names: letters, digits, dashes and underscores. */
export function modelSlug(name: string): string {
  return name.replace(/\.onnx$/i, '').replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 64) || 'model';
}

/** A model as given: the .onnx bytes, and the data files its weights live in if it uses external data. */
export interface ModelSource {
  /** the file name the user gave (the manifest uses a slug of it) */
  name: string;
  bytes: Uint8Array;
  external?: ExternalFiles;
  /**
   * SHA-256 naming the model, when the caller computed it (natively, or over the data files too);
   * else the SHA-256 of `bytes`.
   */
  sha256?: string;
}

/** A model analysed and planned, ready to be written out one partition at a time. */
export interface PlannedModel {
  model: ModelProto;
  analysis: GraphAnalysis;
  plan: PartitionPlan;
  slug: string;
  /** with a room given: can Algorithm 1 place this cut at the target within its budgets */
  placeable: boolean | null;
}

/**
 * Decodes, analyses and plans; pure, so the page, a worker and the CLI share it. With `room`, the
 * cut is one the room's budgets can hold (see `planForRoom`).
 */
export function planModel(src: ModelSource, opts: PartitionOptions & DecodeOptions & { room?: RoomCapacity | null }): PlannedModel {
  const model = decodeModel(src.bytes, { ...opts, name: opts.name ?? src.name, external: src.external });
  const analysis = analyseModel(model, src.external);
  const { plan, placeable } = planForRoom(analysis, opts, opts.room ?? null);
  return { model, analysis, plan, slug: modelSlug(src.name), placeable };
}

/**
 * Partition `index` as a self-contained ONNX file. One at a time: a caller that stores or writes
 * each file before asking for the next holds one partition's bytes, never all of them.
 */
export function partitionFile(pm: PlannedModel, index: number): { name: string; bytes: Uint8Array } {
  const p = pm.plan.partitions[index];
  return { name: `${pm.slug}.p${p.id}.onnx`, bytes: encodeModel(extractPartition(pm.analysis, p, pm.slug)) };
}

/** The manifest, once every partition file's hash and size are known. */
export function assembleManifest(pm: PlannedModel, files: { name: string; sha256: string; bytes: number }[], modelSha256: string): Manifest {
  const weights = new Set(pm.analysis.initializerBytes.keys());
  return {
    format: 1,
    model: {
      name: pm.slug,
      sha256: modelSha256,
      inputs: specs(pm.model.graph!.input ?? [], weights),
      outputs: specs(pm.model.graph!.output ?? [], new Set()),
      ...(pm.analysis.variant ? { variant: { kind: pm.analysis.variant.kind, exits: pm.analysis.variant.exits } } : {}),
    },
    partitions: pm.plan.partitions.map((p, i) => ({
      id: p.id,
      file: files[i].name,
      sha256: files[i].sha256,
      bytes: files[i].bytes,
      inputs: p.inputs,
      inputShapes: p.inputs.map((n) => pm.analysis.tensors.get(n)?.dims ?? null),
      outputs: p.outputs,
      flops: p.flops,
      paramBytes: p.paramBytes,
    })),
  };
}

/** Analyses, plans and cuts a model held in memory, every partition file at once (tests, small models). */
export function partitionModel(src: ModelSource, opts: PartitionOptions & DecodeOptions): PartitionedModel {
  const pm = planModel(src, opts);
  const files = pm.plan.partitions.map((_, i) => partitionFile(pm, i));
  const manifest = assembleManifest(pm, files.map((f) => ({ name: f.name, sha256: hashHex(f.bytes), bytes: f.bytes.length })), src.sha256 ?? hashHex(src.bytes));
  return { manifest, files, plan: pm.plan, analysis: pm.analysis };
}

/** `partitionModel` for a self-contained .onnx file. */
export function partitionModelBytes(bytes: Uint8Array, name: string, opts: PartitionOptions & DecodeOptions): PartitionedModel {
  return partitionModel({ name, bytes }, opts);
}
