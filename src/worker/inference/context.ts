/**
 * What the parts of distributed inference (FRIM 4.3) share: the room's offload as inference sees
 * it, the device worker's services, and the wire. The stage runner, the requester and the router
 * depend on these interfaces only, never on each other or on the class that wires them.
 */
import type { ExecutionGraph, Position } from '../../core/execution-graph.js';
import type { Manifest } from '../../core/onnx/manifest.js';
import type { ChainStage } from '../../core/device-protocol.js';
import type { Message } from '../../core/protocol.js';
import type { RouteStats } from '../../core/route-stats.js';
import type { Tensor, TensorEntry } from '../../core/tensors.js';
import type { Timers } from '../../shared/calls.js';
import type { DeviceState } from '../device-state.js';

/** The room's offload as inference needs it. */
export interface Serving {
  key: string;
  manifest: Manifest;
  /** per stage: live devices holding a verified copy */
  replicas: string[][];
  holds(hash: string): boolean;
  /** a copy this device holds and keeps: within its budget, not one it gives up once the room has it elsewhere */
  keeps(hash: string): boolean;
  /** whether `device`'s session of `stage` is loaded and has run once (kernels compiled), as it last said */
  warm(stage: number, device: string): boolean;
  /** what a warm run of `stage` took on `device`, as it announced (its own warm-up measures it before any request) */
  warmMs(stage: number, device: string): number | undefined;
}

export interface Computed {
  outputs: Record<string, Tensor>;
  ms: number;
  /** per partition run */
  stageMs: number[];
}

/** The device worker's services, given to inference when the device starts. */
export interface InferenceDeps {
  deviceId: string;
  room: string;
  state: DeviceState;
  serving(): Serving | null;
  send(to: string, frames: Uint8Array[]): void;
  /**
   * runs partitions one after another in the leader tab's compute worker, the activations between
   * them kept there; `want`: the tensors to return ([] = every output of a single partition)
   */
  compute(stages: ChainStage[], feeds: Record<string, Tensor>, want: string[]): Promise<Computed>;
  canCompute(): boolean;
  mono(): number;
  epoch(): number;
  /** the worker's timers (a test's clock in unit tests) */
  timers: Timers;
}

/** Up to `want` confirmed devices for the stage after `from`, best path first. */
export type ChooseNext = (s: Serving, req: string, requester: string, from: Position, want: number, exclude?: ReadonlySet<string>) => Promise<string[]>;

/** Sends a stage to the first of its confirmed devices, and to the second only when the first is late or unwell (hedger.ts). */
export interface StageHedger {
  /** `sendTo(to, twin)` sends one copy; `twin` is the other device given the stage */
  send(req: string, stage: number, targets: string[], sendTo: (to: string, twin: string) => void): void;
  /** some copy of the stage finished */
  onDone(req: string, stage: number): void;
}

/** The wire and the room, as the stage runner and the requester use them. */
export interface InferenceContext {
  readonly self: string;
  readonly deps: InferenceDeps;
  readonly stats: RouteStats;
  send(to: string, message: Message, payload?: Uint8Array): void;
  /** sends a tensor set as one frame per part; `make` builds each part's message */
  sendTensors(to: string, tensors: Record<string, Tensor>, make: (part: number, parts: number, table: TensorEntry[] | null) => Message): number;
  log(deviceId: string | null, detail: string): void;
  /** peers alive or only suspected (a suspected device still counts until it is declared failed) */
  upPeers(): string[];
  /** devices the detector has declared failed */
  failed(): Set<string>;
  chooseNext: ChooseNext;
  readonly hedger: StageHedger;
  /** `device` was late with a stage: routing passes it over for a while (HEDGING.lateMs) */
  late(device: string): void;
  /** jobs queued or running at `device` as far as this device knows (its last acknowledgement, plus what was sent since) */
  queuedAt(device: string): number;
  /** the execution graph of the room's offload, without `exclude` and devices that are down */
  graphFor(s: Serving, requester: string, exclude: ReadonlySet<string>): ExecutionGraph;
}
