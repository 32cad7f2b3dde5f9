/**
 * ONNX graph analysis: topological order, tensor producers and consumers (including the outer
 * tensors that If/Loop bodies read), inferred shapes at batch size 1, and a cost per node: FLOPs,
 * parameter bytes, output activation bytes. Shared by the page, the workers, the CLI and tests.
 */
import { isExternal, type ExternalFiles } from './external.js';
import { badGraph } from './errors.js';
import { ModelError, defaultOpset } from './model.js';
import { foldConstants } from './normalize.js';
import { readVariant, type ModelVariant } from './variant.js';
import { DataType, elementBytes, num, tensorBytes, nodeLabel, type GraphProto, type ModelProto, type NodeProto, type TensorProto, type ValueInfoProto } from './proto.js';
import { constValues, elementCount, inferNode, nodeFlops, tensorInfoFromProto, type Consts, type Env, type TensorInfo } from './shapes.js';

export interface NodeInfo {
  /** position in topological order */
  index: number;
  /** index in the file's node list */
  original: number;
  name: string;
  opType: string;
  domain: string;
  /** tensors read, including those read from inside a subgraph */
  inputs: string[];
  outputs: string[];
  hasSubgraph: boolean;
  flops: number;
  paramBytes: number;
  outputBytes: number;
}

export interface GraphAnalysis {
  model: ModelProto;
  /** where weights kept outside the .onnx file are read from, when there are any */
  external?: ExternalFiles;
  opset: number;
  nodes: NodeInfo[];
  /** graph inputs that are not weights */
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  initializerBytes: Map<string, number>;
  /** a baseline variant (early exits or skip hyper-connections) and where it must be cut; null for an ordinary model */
  variant: ModelVariant | null;
  tensors: Map<string, TensorInfo>;
  producer: Map<string, number>;
  /** op type -> count, most frequent first */
  histogram: [string, number][];
  totalFlops: number;
  totalParamBytes: number;
}

function valueInfo(v: ValueInfoProto, batchOne: boolean): TensorInfo {
  const tt = v.type?.tensorType;
  const dims = tt?.shape?.dim
    ? tt.shape.dim.map((d, i) => (d.dimValue !== null && d.dimValue !== undefined && num(d.dimValue) > 0 ? num(d.dimValue) : batchOne && i === 0 ? 1 : NaN))
    : null;
  return { name: v.name ?? '', dims: dims && dims.every((d) => Number.isFinite(d)) ? dims : null, type: tt?.elemType ?? DataType.FLOAT };
}

/** Names a subgraph reads from the scope around it (not produced, declared or stored inside it). */
export function outerReferences(graph: GraphProto): Set<string> {
  const local = new Set<string>([...(graph.input ?? []).map((i) => i.name ?? ''), ...(graph.initializer ?? []).map((t) => t.name ?? '')]);
  const refs = new Set<string>();
  for (const node of graph.node ?? []) {
    for (const name of nodeReads(node)) if (name && !local.has(name)) refs.add(name);
    for (const o of node.output ?? []) local.add(o);
  }
  return refs;
}

/** Every tensor a node reads: its inputs, and what its subgraphs read from outside. */
export function nodeReads(node: NodeProto): string[] {
  const reads = new Set((node.input ?? []).filter(Boolean));
  for (const a of node.attribute ?? []) {
    for (const g of [a.g, ...(a.graphs ?? [])]) if (g) for (const r of outerReferences(g)) reads.add(r);
  }
  return [...reads];
}

export function analyseModel(original: ModelProto, external?: ExternalFiles): GraphAnalysis {
  const model = foldConstants(original);
  const graph = model.graph!;
  const opset = defaultOpset(model);
  const weights = new Map<string, number>();
  const env: Env = new Map();
  const consts: Consts = new Map();
  for (const t of graph.initializer ?? []) {
    weights.set(t.name ?? '', tensorBytes(t));
    env.set(t.name ?? '', tensorInfoFromProto(t));
    const vals = constValues(t);
    if (vals) consts.set(t.name ?? '', vals);
  }
  const inputs = (graph.input ?? []).filter((i) => !weights.has(i.name ?? '')).map((i) => valueInfo(i, true));
  for (const i of inputs) env.set(i.name, i);
  const declared = new Map<string, TensorInfo>();
  for (const v of [...(graph.valueInfo ?? []), ...(graph.output ?? [])]) declared.set(v.name ?? '', valueInfo(v, true));

  const available = new Set([...weights.keys(), ...inputs.map((i) => i.name)]);
  checkGraph(graph, available);
  const order = topologicalOrder(graph.node ?? [], available);
  const producer = new Map<string, number>();
  const nodes: NodeInfo[] = order.map((original, index) => {
    const node = graph.node![original];
    for (const info of inferNode(node, env, consts, opset)) {
      const known = declared.get(info.name);
      env.set(info.name, info.dims ? info : known?.dims ? { ...known, type: info.type ?? known.type } : info);
    }
    const reads = nodeReads(node);
    const outputs = (node.output ?? []).filter(Boolean);
    for (const o of outputs) checkSize(env.get(o), node);
    for (const o of outputs) producer.set(o, index);
    return {
      index,
      original,
      name: node.name || `${node.opType}_${original}`,
      opType: node.opType ?? '',
      domain: node.domain ?? '',
      inputs: reads,
      outputs,
      hasSubgraph: (node.attribute ?? []).some((a) => a.g || a.graphs?.length),
      flops: nodeFlops(node, env),
      paramBytes: reads.reduce((s, r) => s + (weights.get(r) ?? 0), 0),
      outputBytes: outputs.reduce((s, o) => s + tensorActivationBytes(env.get(o)), 0),
    };
  });
  const outputs = (graph.output ?? []).map((o) => env.get(o.name ?? '') ?? valueInfo(o, true));
  const variant = readVariant(model, producer, outputs.map((o) => o.name));
  const counts = new Map<string, number>();
  for (const n of nodes) counts.set(n.opType, (counts.get(n.opType) ?? 0) + 1);
  return {
    model,
    external,
    opset,
    nodes,
    inputs,
    outputs,
    initializerBytes: weights,
    tensors: env,
    producer,
    histogram: [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])),
    totalFlops: nodes.reduce((s, n) => s + n.flops, 0),
    totalParamBytes: [...weights.values()].reduce((a, b) => a + b, 0),
    variant,
  };
}

export function tensorActivationBytes(t: TensorInfo | undefined): number {
  return t?.dims ? elementCount(t.dims) * elementBytes(t.type) : 0;
}

const quoted = (name: string) => `"${name.slice(0, 60)}"`;

/**
 * What onnxruntime would refuse when it loads the model (or a partition of it), said before
 * anything is cut: a node reading a tensor nothing provides, two writers of one tensor, an output
 * nothing produces, stored data that does not fit its dims. Subgraph bodies are onnxruntime's to
 * check; what they read from outside is checked here.
 */
function checkGraph(graph: GraphProto, available: ReadonlySet<string>): void {
  for (const t of graph.initializer ?? []) checkStored(t);
  const produced = new Set(available);
  for (const node of graph.node ?? []) {
    for (const o of node.output ?? []) {
      if (!o) continue;
      if (produced.has(o)) throw badGraph(`${quoted(o)} is written twice (node ${nodeLabel(node)})`);
      produced.add(o);
    }
  }
  for (const node of graph.node ?? []) {
    const own = (node.input ?? []).find((i) => i && (node.output ?? []).includes(i));
    if (own) throw badGraph(`node ${nodeLabel(node)} reads its own output ${quoted(own)} (a cycle)`);
    for (const r of nodeReads(node)) if (!produced.has(r)) throw badGraph(`node ${nodeLabel(node)} reads ${quoted(r)}, which no node, input or weight provides`);
  }
  for (const o of graph.output ?? []) {
    if (!produced.has(o.name ?? '')) throw badGraph(`its output ${quoted(o.name ?? '')} is produced by nothing`);
    // ONNX allows it, but there is nothing to run for it: the partition that would carry it computes nothing
    if (available.has(o.name ?? '')) throw badGraph(`its output ${quoted(o.name ?? '')} is one of its inputs or weights, not computed by any operator`);
  }
}

/** elements one tensor may have: 2^40 (4 TiB of float32) is past any device, and past it sizes stop being exact */
const MAX_ELEMENTS = 2 ** 40;

function checkStored(t: TensorProto): void {
  const dims = (t.dims ?? []).map(num);
  if (dims.some((d) => !Number.isInteger(d) || d < 0)) throw badGraph(`weight ${quoted(t.name ?? '')} has dims [${dims.join(', ')}]`);
  const count = dims.reduce((a, b) => a * b, 1);
  if (count > MAX_ELEMENTS) throw badGraph(`weight ${quoted(t.name ?? '')} has ${count} elements`);
  if (isExternal(t) || t.dataType === DataType.STRING) return;
  const typed = [t.floatData, t.int32Data, t.int64Data, t.doubleData, t.uint64Data].find((a) => a?.length)?.length;
  const held = t.rawData?.length ? t.rawData.length / elementBytes(t.dataType ?? DataType.FLOAT) : typed ?? 0;
  if (held !== count) throw badGraph(`weight ${quoted(t.name ?? '')} holds ${held} values where its dims [${dims.join(', ')}] say ${count}`);
}

/** an inferred activation past MAX_ELEMENTS: dims no device can run, and costs that would not be finite */
function checkSize(info: TensorInfo | undefined, node: NodeProto): void {
  if (info?.dims && elementCount(info.dims) > MAX_ELEMENTS) throw badGraph(`node ${nodeLabel(node)} would produce ${quoted(info.name)} of shape [${info.dims.join(', ')}]`);
}

/** Kahn's algorithm, keeping the file's order among ready nodes so already-sorted graphs stay as they are. */
function topologicalOrder(nodes: NodeProto[], available: Set<string>): number[] {
  const producedBy = new Map<string, number>();
  nodes.forEach((n, i) => (n.output ?? []).forEach((o) => o && producedBy.set(o, i)));
  const waiting = nodes.map((n) => new Set(nodeReads(n).filter((r) => !available.has(r) && producedBy.has(r))));
  const dependents = new Map<number, number[]>();
  waiting.forEach((deps, i) => deps.forEach((d) => {
    const p = producedBy.get(d)!;
    dependents.set(p, [...(dependents.get(p) ?? []), i]);
  }));
  const remaining = waiting.map((w, i) => new Set([...w].map((d) => producedBy.get(d)!).filter((p) => p !== i)));
  const ready = remaining.map((r, i) => (r.size === 0 ? i : -1)).filter((i) => i >= 0);
  const order: number[] = [];
  const done = new Set<number>();
  while (ready.length) {
    ready.sort((a, b) => a - b);
    const i = ready.shift()!;
    order.push(i);
    done.add(i);
    for (const d of dependents.get(i) ?? []) {
      remaining[d].delete(i);
      if (remaining[d].size === 0 && !done.has(d) && !ready.includes(d)) ready.push(d);
    }
  }
  if (order.length !== nodes.length) throw new ModelError('not-onnx', 'The model graph has a cycle, so it is not a valid ONNX model.');
  return order;
}
