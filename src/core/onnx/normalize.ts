/**
 * Turns constant-producing nodes into weights before partitioning: `Constant` nodes, and
 * `Identity` nodes that copy a weight (exporters emit these for shared parameters). Left as
 * nodes, their outputs would look like activations and be shipped from device to device at every
 * cut; as initializers they stay with the partitions that use them.
 */
import { attr, onnx, type ModelProto, type TensorProto } from './proto.js';

export function foldConstants(model: ModelProto): ModelProto {
  const graph = model.graph!;
  const weights = new Map<string, TensorProto>((graph.initializer ?? []).map((t) => [t.name ?? '', t]));
  const graphOutputs = new Set((graph.output ?? []).map((o) => o.name));
  const kept = [];
  const added: TensorProto[] = [];
  for (const node of graph.node ?? []) {
    const out = node.output?.[0] ?? '';
    // a graph output must stay produced by a node
    const folding = !graphOutputs.has(out) && node.output?.length === 1;
    if (folding && node.opType === 'Identity' && (!node.domain || node.domain === 'ai.onnx') && weights.has(node.input?.[0] ?? '')) {
      const copy = { ...weights.get(node.input![0])!, name: out };
      weights.set(out, copy);
      added.push(copy);
      continue;
    }
    if (folding && node.opType === 'Constant' && (!node.domain || node.domain === 'ai.onnx') && attr(node, 'value')?.t) {
      const copy = { ...attr(node, 'value')!.t!, name: out };
      weights.set(out, copy);
      added.push(copy);
      continue;
    }
    kept.push(node);
  }
  if (!added.length) return model;
  return onnx.ModelProto.create({ ...model, graph: { ...graph, node: kept, initializer: [...(graph.initializer ?? []), ...added] } });
}
