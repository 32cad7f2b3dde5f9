/** The typed protocol between a page and its compute worker (onnxruntime-web sessions). */
import type { Manifest } from '../core/onnx/manifest.js';
import type { Backend } from '../core/protocol.js';
import type { RoomCapacity } from '../core/room-plan.js';

export type GpuFault = 'hang' | 'error' | 'concurrent';

import type { WireTensor } from '../core/device-protocol.js';
export type { WireTensor };

/** What the page shows of a model: the analysis and the partition plan (the partitions are in this browser's store). */
export interface PreparedModel {
  manifest: Manifest;
  /** the .onnx and its data files, together */
  sizeBytes: number;
  /** names of the files it came in, the .onnx first */
  files: string[];
  opset: number;
  operators: number;
  totalFlops: number;
  totalParamBytes: number;
  histogram: [string, number][];
  partitions: { id: number; start: number; end: number; flops: number; paramBytes: number; inputBytes: number; outputBytes: number }[];
  cuts: { after: number; bytes: number; tensors: string[] }[];
  /** can the room's budgets hold copies of every partition at the target (null: cut without a room) */
  placeable: boolean | null;
}

export type ComputeRequest =
  /** analyse and cut a model (the .onnx and any data files), storing each partition as it is cut */
  | { kind: 'prepare'; id: number; files: File[]; parts: number; maxBytes: number; room: RoomCapacity | null }
  /** `external`: data files the model's weights live in, by the name the model uses */
  | { kind: 'load'; id: number; key: string; bytes: ArrayBuffer; prefer: Backend; external?: { path: string; data: Blob }[] }
  /** runs sessions one after another, each fed the named tensors produced so far */
  | { kind: 'chain'; id: number; stages: { key: string; inputs: string[] }[]; feeds: Record<string, WireTensor>; want: string[] }
  | { kind: 'run'; id: number; key: string; feeds: Record<string, WireTensor> }
  | { kind: 'release'; id: number; key: string }
  /** start onnxruntime on `backend` now, ahead of the first copy (see compute-host's `startRuntime`) */
  | { kind: 'start-runtime'; id: number; backend: Backend }
  /**
   * Test-only (debug pages): the next `gpuRuns` runs of a WebGPU session fail, `how`: `hang` (the
   * worker's thread stops, as a hung GPU driver or runtime leaves it), `error` (the run throws), or
   * `concurrent` (a second run of the session starts at once, outside the queue: the concurrency
   * onnxruntime's WebGPU EP does not support; it may hang, fail, or get through).
   */
  | { kind: 'fault'; id: number; gpuRuns: number; how: GpuFault }
  /** test-only: each run takes `factor` times as long (the worker waits the difference after it), as on a slower device */
  | { kind: 'slow'; id: number; factor: number };

export type ComputeReply =
  | { kind: 'prepared'; id: number; model: PreparedModel }
  /** how far a `prepare` has got (not a final reply) */
  | { kind: 'progress'; id: number; step: string; done: number; total: number }
  | { kind: 'failed-input'; id: number; code: string; message: string }
  /** `inputTypes`: element type of each input ('' where it is not a tensor) */
  | { kind: 'loaded'; id: number; backend: Backend; fallback: string | null; ms: number; inputs: string[]; inputTypes: string[]; outputs: string[] }
  /** `backends`: what ran each session used, in order (one for `run`, one per stage for `chain`) */
  | { kind: 'ran'; id: number; outputs: Record<string, WireTensor>; ms: number; stageMs: number[]; backends: Backend[] }
  | { kind: 'released'; id: number }
  /** `fallback`: why WebGPU did not start, when WASM did instead */
  | { kind: 'runtime-started'; id: number; ms: number; fallback: string | null }
  | { kind: 'fault-set'; id: number }
  /** a session of this run or chain request has started running (it waited in the queue until now) */
  | { kind: 'started'; id: number }
  /** `trap`: the WebAssembly instance itself faulted; nothing more should run in this worker */
  | { kind: 'failed'; id: number; message: string; trap: boolean };
