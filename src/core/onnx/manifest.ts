/**
 * The partition manifest, the one contract every later part of frim-mesh uses (format 1):
 * the model's identity and I/O, then the partitions in execution order with their files, hashes,
 * crossing tensors (original graph value names) and costs.
 */
import { hashHex } from '../hash.js';
import { extractPartition } from './extract.js';
import { analyseModel, type GraphAnalysis } from './graph.js';
import { decodeModel, encodeModel, type DecodeOptions } from './model.js';
import { planPartitions, type PartitionOptions, type PartitionPlan } from './partition.js';
import { typeName } from './proto.js';

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

export interface Manifest {
  format: 1;
  model: { name: string; sha256: string; inputs: TensorSpec[]; outputs: TensorSpec[] };
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

/** Analyses, plans and cuts a model file; pure, so the page, a worker and the CLI share it. */
export function partitionModelBytes(bytes: Uint8Array, name: string, opts: PartitionOptions & DecodeOptions): PartitionedModel {
  const model = decodeModel(bytes, { ...opts, name: opts.name ?? name });
  const analysis = analyseModel(model);
  const plan = planPartitions(analysis, opts);
  const slug = modelSlug(name);
  const weights = new Set(analysis.initializerBytes.keys());
  const files = plan.partitions.map((p) => ({ name: `${slug}.p${p.id}.onnx`, bytes: encodeModel(extractPartition(analysis, p, slug)) }));
  const manifest: Manifest = {
    format: 1,
    model: {
      name: slug,
      sha256: hashHex(bytes),
      inputs: specs(model.graph!.input ?? [], weights),
      outputs: specs(model.graph!.output ?? [], new Set()),
    },
    partitions: plan.partitions.map((p, i) => ({
      id: p.id,
      file: files[i].name,
      sha256: hashHex(files[i].bytes),
      bytes: files[i].bytes.length,
      inputs: p.inputs,
      inputShapes: p.inputs.map((n) => analysis.tensors.get(n)?.dims ?? null),
      outputs: p.outputs,
      flops: p.flops,
      paramBytes: p.paramBytes,
    })),
  };
  return { manifest, files, plan, analysis };
}
