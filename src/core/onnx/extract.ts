/**
 * Turning a planned partition into a self-contained ONNX model: its nodes in order, exactly the
 * weights they use, the crossing tensors as graph inputs and outputs, the original opsets and
 * functions. Shapes of crossing tensors are left open (only element types are declared), so a
 * partition runs at any batch size.
 */
import { inlineTensor, isExternal } from './external.js';
import type { GraphAnalysis } from './graph.js';
import { PartitionError, type PlannedPartition } from './partition.js';
import { ONNX_FILE_LIMIT } from './model.js';
import { onnx, type ModelProto, type ValueInfoProto } from './proto.js';

function typedValue(name: string, elemType: number): ValueInfoProto {
  return { name, type: { tensorType: { elemType } } };
}

/**
 * The partition as a model of its own. Weights kept in an external data file are read in here,
 * so each partition is one self-contained file (and only its own weights are ever read).
 */
export function extractPartition(a: GraphAnalysis, part: PlannedPartition, modelName: string): ModelProto {
  const graph = a.model.graph!;
  if (part.paramBytes > ONNX_FILE_LIMIT - 16 * 1024 * 1024) {
    throw new PartitionError(`Partition ${part.id} holds ${(part.paramBytes / 2 ** 30).toFixed(2)} GiB of weights, more than one ONNX file can hold (2 GiB); cut the model into more partitions.`);
  }
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
      initializer: (graph.initializer ?? []).filter((t) => weights.has(t.name ?? '')).map((t) => (isExternal(t) ? inlineTensor(t, a.external!) : t)),
      input: part.inputs.map(io),
      output: part.outputs.map(io),
      valueInfo: (graph.valueInfo ?? []).filter((v) => produced.has(v.name ?? '') && !part.outputs.includes(v.name ?? '')),
    },
  });
}
