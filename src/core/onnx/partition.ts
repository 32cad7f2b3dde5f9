/**
 * Cutting a model into partitions (FRIM section 4.1 "partition and replicate", first half).
 *
 * Partitions are contiguous runs of the topological order, so any DAG works: a tensor produced
 * before a cut and read after it (a skip connection, a branch) simply becomes an output of the
 * partition that makes it and an input of every partition that reads it. Nodes with subgraphs
 * (If/Loop) are single nodes here, so they are never split.
 *
 * The cut positions minimise, by dynamic programming over the order,
 *   sum_k ((F_k - F/N) / (F/N))^2  +  mu * sum_cuts crossing(cut) / max_crossing
 * (F_k: estimated FLOPs of partition k): balance first, then small activations between devices,
 * plus a penalty for separating an operator from the activation a runtime would fuse into it,
 * subject to a per-device memory cap on weights plus input and output activations.
 */
import type { GraphAnalysis } from './graph.js';
import { tensorActivationBytes } from './graph.js';

export interface PartitionOptions {
  /** ignored for a baseline variant, which is cut where its metadata says */
  parts: number;
  /** bytes one device can give a partition: its weights plus its input and output activations */
  memoryCapBytes?: number;
  /** weight of crossing bytes against balance */
  crossingWeight?: number;
}

export interface PlannedPartition {
  id: number;
  /** first and last node positions in topological order, inclusive */
  start: number;
  end: number;
  inputs: string[];
  outputs: string[];
  initializers: string[];
  flops: number;
  paramBytes: number;
  inputBytes: number;
  outputBytes: number;
}

export interface Cut {
  /** the cut lies after this node position */
  after: number;
  tensors: string[];
  bytes: number;
}

export interface PartitionPlan {
  partitions: PlannedPartition[];
  cuts: Cut[];
}

/** weights one partition file can hold: protobuf's 2 GiB, less room for the graph itself */
const FILE_WEIGHTS_LIMIT = 2 ** 31 - 1 - 16 * 1024 * 1024;

export class PartitionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PartitionError';
  }
}

interface Lifetimes {
  /** position that produces each tensor; -1 for graph inputs */
  produced: Map<string, number>;
  /** last position that reads it; n for graph outputs (they travel to the requester) */
  lastUse: Map<string, number>;
}

function lifetimes(a: GraphAnalysis): Lifetimes {
  const n = a.nodes.length;
  const produced = new Map<string, number>();
  for (const i of a.inputs) produced.set(i.name, -1);
  for (const node of a.nodes) for (const o of node.outputs) produced.set(o, node.index);
  const lastUse = new Map<string, number>();
  for (const node of a.nodes) for (const r of node.inputs) if (produced.has(r)) lastUse.set(r, node.index);
  for (const o of a.outputs) lastUse.set(o.name, n);
  return { produced, lastUse };
}

/** Tensors alive across the cut after position p. */
function crossing(life: Lifetimes, p: number): string[] {
  const out: string[] = [];
  for (const [t, prod] of life.produced) {
    const last = life.lastUse.get(t);
    if (last !== undefined && prod <= p && last > p) out.push(t);
  }
  return out.sort();
}

export function planPartitions(a: GraphAnalysis, opts: PartitionOptions): PartitionPlan {
  const n = a.nodes.length;
  const N = opts.parts;
  if (!Number.isInteger(N) || N < 1) throw new PartitionError(`The number of partitions must be a whole number of at least 1 (got ${N}).`);
  if (N > n) throw new PartitionError(`The model has ${n} operators, so it cannot be cut into ${N} partitions.`);
  const life = lifetimes(a);
  const bytesOf = (t: string) => tensorActivationBytes(a.tensors.get(t));
  const cross = Array.from({ length: n }, (_, p) => crossing(life, p).reduce((s, t) => s + bytesOf(t), 0));
  // a baseline variant's exits and hyper-connections work only where it was trained to be cut
  if (a.variant) return describe(a, life, declaredBounds(a, a.variant.cuts), cross);
  const inputBytesAt = (s: number) => (s === 0 ? a.inputs.reduce((x, i) => x + bytesOf(i.name), 0) : cross[s - 1]);
  const maxCross = Math.max(1, ...cross.slice(0, n - 1));
  const mu = opts.crossingWeight ?? 0.1;
  const prefix = [0];
  for (const node of a.nodes) prefix.push(prefix[prefix.length - 1] + node.flops);
  const ideal = Math.max(prefix[n] / N, 1);
  const cap = opts.memoryCapBytes ?? Infinity;

  // paramBytes of every segment [s, e], counting a shared weight once
  const params: number[][] = [];
  for (let s = 0; s < n; s++) {
    const used = new Set<string>();
    let bytes = 0;
    params[s] = [];
    for (let e = s; e < n; e++) {
      for (const r of a.nodes[e].inputs) {
        const w = a.initializerBytes.get(r);
        if (w !== undefined && !used.has(r)) { used.add(r); bytes += w; }
      }
      params[s][e] = bytes;
    }
  }
  // weights a partition holds must also fit in one ONNX file
  const memory = (s: number, e: number) => (params[s][e] > FILE_WEIGHTS_LIMIT ? Infinity : params[s][e] + inputBytesAt(s) + cross[e]);
  // splitting an operator from its fused activation costs as much as a 50 % imbalance
  const fusionPenalty = a.nodes.map((_, p) => (p < n - 1 && fusedWithNext(a, p) ? 0.25 : 0));
  const segCost = (s: number, e: number) => {
    const dev = (prefix[e + 1] - prefix[s] - ideal) / ideal;
    return dev * dev + (e < n - 1 ? (mu * cross[e]) / maxCross + fusionPenalty[e] : 0);
  };

  // best[k][e]: lowest cost of the first e+1 nodes in k+1 partitions
  const best: number[][] = Array.from({ length: N }, () => new Array<number>(n).fill(Infinity));
  const from: number[][] = Array.from({ length: N }, () => new Array<number>(n).fill(-1));
  for (let e = 0; e < n; e++) if (memory(0, e) <= cap) best[0][e] = segCost(0, e);
  for (let k = 1; k < N; k++) {
    for (let e = k; e < n; e++) {
      for (let s = k; s <= e; s++) {
        const prev = best[k - 1][s - 1];
        if (prev === Infinity || memory(s, e) > cap) continue;
        const c = prev + segCost(s, e);
        if (c < best[k][e]) { best[k][e] = c; from[k][e] = s; }
      }
    }
  }
  if (best[N - 1][n - 1] === Infinity) {
    const biggest = a.nodes.reduce((m, node) => (memory(node.index, node.index) > memory(m.index, m.index) ? node : m), a.nodes[0]);
    throw new PartitionError(
      memory(biggest.index, biggest.index) > cap
        ? `Operator "${biggest.name}" alone needs ${(memory(biggest.index, biggest.index) / 1048576).toFixed(1)} MiB, more than the ${(cap / 1048576).toFixed(1)} MiB a device offers.`
        : `${N} partitions of at most ${(cap / 1048576).toFixed(1)} MiB cannot hold this model; use more partitions or devices with more memory.`,
    );
  }
  const bounds: [number, number][] = [];
  for (let k = N - 1, e = n - 1; k >= 0; k--) {
    const s = k === 0 ? 0 : from[k][e];
    bounds.unshift([s, e]);
    e = s - 1;
  }
  return describe(a, life, bounds, cross);
}

/** Partition k ends with the node that produces the k-th declared cut tensor; the last ends with the graph. */
function declaredBounds(a: GraphAnalysis, cuts: string[]): [number, number][] {
  const ends = [...cuts.map((c) => a.producer.get(c)!), a.nodes.length - 1];
  return ends.map((end, k) => [k === 0 ? 0 : ends[k - 1] + 1, end]);
}

/**
 * Runtimes fuse an operator with the activation that directly follows it (Conv+Relu, Gemm+Relu…);
 * a cut between them costs that fusion, so the planner avoids it where it can.
 */
const ACTIVATIONS = new Set(['Relu', 'LeakyRelu', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'Tanh', 'Clip', 'Elu', 'Selu', 'Softplus']);

function fusedWithNext(a: GraphAnalysis, p: number): boolean {
  const next = a.nodes[p + 1];
  return !!next && ACTIVATIONS.has(next.opType) && a.nodes[p].outputs.length === 1 && next.inputs.some((i) => i === a.nodes[p].outputs[0]) && !['Relu', 'Sigmoid'].includes(a.nodes[p].opType);
}

function describe(a: GraphAnalysis, life: Lifetimes, bounds: [number, number][], cross: number[]): PartitionPlan {
  const bytesOf = (t: string) => tensorActivationBytes(a.tensors.get(t));
  const graphOutputs = new Set(a.outputs.map((o) => o.name));
  const partitions = bounds.map(([start, end], id): PlannedPartition => {
    const produced = new Set<string>();
    const reads = new Set<string>();
    const initializers = new Set<string>();
    for (let i = start; i <= end; i++) {
      const node = a.nodes[i];
      for (const r of node.inputs) {
        if (a.initializerBytes.has(r)) initializers.add(r);
        else if (!produced.has(r)) reads.add(r);
      }
      for (const o of node.outputs) produced.add(o);
    }
    const inputs = [...reads].filter((r) => !produced.has(r)).sort();
    const outputs = [...produced].filter((t) => graphOutputs.has(t) || (life.lastUse.get(t) ?? -1) > end).sort();
    let flops = 0;
    let paramBytes = 0;
    for (let i = start; i <= end; i++) flops += a.nodes[i].flops;
    for (const w of initializers) paramBytes += a.initializerBytes.get(w)!;
    return {
      id, start, end, inputs, outputs, initializers: [...initializers].sort(), flops, paramBytes,
      inputBytes: inputs.reduce((s, t) => s + bytesOf(t), 0),
      outputBytes: outputs.reduce((s, t) => s + bytesOf(t), 0),
    };
  });
  const cuts = bounds.slice(0, -1).map(([, end]) => ({ after: end, tensors: crossing(life, end), bytes: cross[end] }));
  return { partitions, cuts };
}
