/**
 * Turning a planned partition into a self-contained ONNX model: its nodes in order, exactly the
 * weights they use, the crossing tensors as graph inputs and outputs, the original opsets and
 * functions. Shapes of crossing tensors are left open (only element types are declared), so a
 * partition runs at any batch size.
 */
import type { GraphAnalysis } from './graph.js';
import type { PlannedPartition } from './partition.js';
import { onnx, type ModelProto, type ValueInfoProto } from './proto.js';

function typedValue(name: string, elemType: number): ValueInfoProto {
  return { name, type: { tensorType: { elemType } } };
}

export function extractPartition(a: GraphAnalysis, part: PlannedPartition, modelName: string): ModelProto {
  const graph = a.model.graph!;
  const declared = new Map<string, ValueInfoProto>();
  for (const v of [...(graph.input ?? []), ...(graph.output ?? [])]) declared.set(v.name ?? '', v);
  const io = (name: string) => declared.get(name) ?? typedValue(name, a.tensors.get(name)?.type ?? onnx.TensorProto.DataType.FLOAT);
  const weights = new Set(part.initializers);
  const nodes = a.nodes.slice(part.start, part.end + 1).map((n) => graph.node![n.original]);
  const produced = new Set(nodes.flatMap((n) => n.output ?? []));
  return onnx.ModelProto.create({
    irVersion: a.model.irVersion,
    opsetImport: a.model.opsetImport,
    producerName: 'frim-mesh',
    producerVersion: '1',
    domain: a.model.domain,
    modelVersion: a.model.modelVersion,
    docString: `Partition ${part.id} of ${modelName}`,
    functions: a.model.functions,
    graph: {
      name: `${modelName}_p${part.id}`,
      node: nodes,
      initializer: (graph.initializer ?? []).filter((t) => weights.has(t.name ?? '')),
      input: part.inputs.map(io),
      output: part.outputs.map(io),
      valueInfo: (graph.valueInfo ?? []).filter((v) => produced.has(v.name ?? '') && !part.outputs.includes(v.name ?? '')),
    },
  });
}
