/** The typed protocol between a page and its compute worker (onnxruntime-web sessions). */
import type { Manifest } from '../core/onnx/manifest.js';
import type { Backend } from '../core/protocol.js';

export interface WireTensor {
  type: 'float32' | 'int64' | 'int32' | 'uint8' | 'bool';
  dims: number[];
  data: ArrayBuffer;
}

/** What the page shows of a model: the analysis and the partition plan (files travel separately). */
export interface PreparedModel {
  manifest: Manifest;
  sizeBytes: number;
  opset: number;
  operators: number;
  totalFlops: number;
  totalParamBytes: number;
  histogram: [string, number][];
  partitions: { id: number; start: number; end: number; flops: number; paramBytes: number; inputBytes: number; outputBytes: number }[];
  cuts: { after: number; bytes: number; tensors: string[] }[];
  files: ArrayBuffer[];
}

export type ComputeRequest =
  | { kind: 'prepare'; id: number; name: string; bytes: ArrayBuffer; parts: number; maxBytes: number }
  | { kind: 'load'; id: number; key: string; bytes: ArrayBuffer; prefer: Backend }
  /** runs sessions one after another, each fed the named tensors produced so far */
  | { kind: 'chain'; id: number; stages: { key: string; inputs: string[] }[]; feeds: Record<string, WireTensor>; want: string[] }
  | { kind: 'run'; id: number; key: string; feeds: Record<string, WireTensor> }
  | { kind: 'release'; id: number; key: string };

export type ComputeReply =
  | { kind: 'prepared'; id: number; model: PreparedModel }
  | { kind: 'failed-input'; id: number; code: string; message: string }
  | { kind: 'loaded'; id: number; backend: Backend; fallback: string | null; ms: number; inputs: string[]; outputs: string[] }
  | { kind: 'ran'; id: number; outputs: Record<string, WireTensor>; ms: number }
  | { kind: 'released'; id: number }
  | { kind: 'failed'; id: number; message: string };
