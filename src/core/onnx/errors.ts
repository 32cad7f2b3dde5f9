/** Why a model file cannot be used, as a code for programs and one sentence for people. */
export type ModelErrorCode =
  | 'too-large' | 'not-onnx' | 'truncated' | 'external-data' | 'opset' | 'dynamic-dim' | 'unsupported-op' | 'bad-variant' | 'bad-graph';

export class ModelError extends Error {
  constructor(readonly code: ModelErrorCode, message: string) {
    super(message);
    this.name = 'ModelError';
  }
}

/** A model whose graph onnxruntime would refuse (or that no device could run), in one sentence. */
export function badGraph(why: string): ModelError {
  return new ModelError('bad-graph', `The model is not a valid ONNX graph: ${why}.`);
}
