/**
 * The paper's baselines (FRIM 5.1.2) as the mesh runs them, for the accuracy-under-failure table.
 * All three follow one fixed path (a device per stage), use one copy per stage and never re-issue:
 *
 * - `no-config`: a request whose path breaks is lost.
 * - `early-exit` (BranchyNet-style exits): each partition but the last also answers through its exit
 *   head; when the path breaks, the requester answers from the last exit it received.
 * - `skip-connection` (DFG / ResiliNet): a partition whose device has failed is bypassed. Its outputs
 *   are taken as zeros, as failout taught the model to expect, and the skip hyper-connection from the
 *   partition before carries the request on to the next live one. That includes requests already
 *   handed to the device when it fails: the sender keeps what it sent until a later stage is done,
 *   as DFG's hyper-connection already carries it, and sends it on once the failure is detected.
 *
 * The last two need a model trained for them (a baseline variant, `onnx/variant.ts`).
 */
import type { Manifest } from './onnx/manifest.js';
import { carriedTensors, pickTensors, type Tensor } from './tensors.js';

export type BaselineMode = 'no-config' | 'early-exit' | 'skip-connection';

export const BASELINE_MODES: readonly BaselineMode[] = ['no-config', 'early-exit', 'skip-connection'];

export function isBaseline(mode: string): mode is BaselineMode {
  return (BASELINE_MODES as readonly string[]).includes(mode);
}

/** Why the room's model cannot run in `mode`, or null when it can. */
export function modeProblem(mode: string, manifest: Manifest): string | null {
  const kind = manifest.model.variant?.kind;
  if (mode === 'early-exit' && kind !== 'early-exit') return 'early-exit mode needs a model trained with exit heads at its partition boundaries (a shipped *-early-exit model)';
  if (mode === 'skip-connection' && kind !== 'skip-connection') return 'skip-connection mode needs a model trained with skip hyper-connections (a shipped *-skip-connection model)';
  return null;
}

/** The exit output partition `stage` answers with in early-exit mode, null for none (the last partition, or another mode). */
export function exitOf(manifest: Manifest, stage: number): string | null {
  const v = manifest.model.variant;
  return v?.kind === 'early-exit' ? v.exits[stage] ?? null : null;
}

/**
 * skip-connection: the stage a request goes to after `from` (-1: the requester), passing over every
 * stage whose device on the fixed path has failed. `next` is null when no later stage is live
 * enough to answer: the last partition (the output layer) cannot be bypassed.
 */
export function nextLive(path: readonly string[], from: number, failed: ReadonlySet<string>): { next: number | null; skipped: number[] } {
  const skipped: number[] = [];
  for (let k = from + 1; k < path.length; k++) {
    if (!failed.has(path[k])) return { next: k, skipped };
    skipped.push(k);
  }
  return { next: null, skipped };
}

/**
 * The outputs of bypassed partitions as zeros, for every one a later partition or the answer still
 * needs, shaped as the partition that reads it declares (its batch dimension set to `batch`).
 */
export function zeroOutputs(manifest: Manifest, stages: readonly number[], batch: number): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const k of stages) {
    for (const t of manifest.partitions[k].outputs) {
      const dims = shapeOf(manifest, t, k);
      if (!dims) continue;
      const full = dims.map((d, i) => (i === 0 ? batch : d));
      out[t] = { type: 'float32', dims: full, data: new Uint8Array(4 * full.reduce((a, b) => a * b, 1)) };
    }
  }
  return out;
}

/**
 * skip-connection: what goes to stage `next` when the `skipped` stages before it are bypassed: the
 * tensors it and later stages need, with the bypassed partitions' outputs as zeros.
 */
export function bypass(manifest: Manifest, available: Record<string, Tensor>, skipped: readonly number[], next: number): Record<string, Tensor> {
  const batch = Object.values(available)[0]?.dims[0] ?? 1;
  return pickTensors({ ...available, ...zeroOutputs(manifest, skipped, batch) }, carriedTensors(manifest)[next]);
}

/** Dimensions of tensor `t` at batch 1, from the first later partition that reads it or the model outputs. */
function shapeOf(manifest: Manifest, t: string, after: number): number[] | null {
  for (const p of manifest.partitions.slice(after + 1)) {
    const i = p.inputs.indexOf(t);
    if (i >= 0) return p.inputShapes[i];
  }
  const o = manifest.model.outputs.find((x) => x.name === t);
  return o ? o.dims.map((d) => (typeof d === 'number' ? d : 1)) : null;
}

/** Why a fixed path someone gave cannot carry this model's stages (`replicas`: per stage, the live devices holding a copy), or null when it can. */
export function givenPathProblem(manifest: Manifest, replicas: readonly string[][], path: readonly string[]): string | null {
  if (path.length !== manifest.partitions.length) return `the fixed path names ${path.length} devices for ${manifest.partitions.length} partitions`;
  const k = path.findIndex((d, stage) => !replicas[stage]?.includes(d));
  return k < 0 ? null : `the fixed path runs partition ${k} on ${path[k]}, which holds no verified copy of it`;
}

export interface Hop {
  stage: number;
  to: string;
  tensors: Record<string, Tensor>;
}

/**
 * Where a request goes after stage `from` (-1: the requester) on the fixed path, with the tensors it
 * carries there, or why it stops: skip-connection passes over failed stages (their outputs as
 * zeros); the others stop when the next device has failed.
 */
export function nextHop(mode: BaselineMode, path: readonly string[], from: number, manifest: Manifest, available: Record<string, Tensor>, failed: ReadonlySet<string>): Hop | { stop: string } {
  if (mode === 'skip-connection') {
    const { next, skipped } = nextLive(path, from, failed);
    if (next === null) return { stop: 'the device of the last partition failed; it cannot be bypassed' };
    return { stage: next, to: path[next], tensors: bypass(manifest, available, skipped, next) };
  }
  const stage = from + 1;
  if (failed.has(path[stage])) return { stop: `${path[stage]}, the next device on the fixed path, failed` };
  return { stage, to: path[stage], tensors: pickTensors(available, carriedTensors(manifest)[stage]) };
}

/**
 * Where the requester sends a request first. no-config loses a request whose path runs through a
 * failed device; early-exit sends it unless the first device failed (it stops at the last live
 * stage and answers from that exit); skip-connection passes over failed stages.
 */
export function firstHop(mode: BaselineMode, path: readonly string[], manifest: Manifest, input: Record<string, Tensor>, failed: ReadonlySet<string>): Hop | { lost: string } {
  const broken = mode === 'no-config' ? path.find((d) => failed.has(d)) : mode === 'early-exit' && failed.has(path[0]) ? path[0] : undefined;
  if (broken) return { lost: `the fixed path runs through ${broken}, which failed` };
  const hop = nextHop(mode, path, -1, manifest, input, failed);
  return 'stop' in hop ? { lost: hop.stop } : hop;
}
