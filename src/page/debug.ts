/**
 * The debug surface a page exposes as `window.frimDebug` when opened with `?debug=1`: what the
 * e2e tests and benchmarks drive beyond the `data-testid` contract. Typed here once; tests and
 * benches read `window.frimDebug` through the `Window` declaration below, never through `any`.
 */
import type { InferenceMode } from '../core/protocol.js';
import type { DeviceSnapshot } from '../core/views.js';
import { faults, type Faults } from '../mesh/faults.js';
import type { FloodKind } from '../mesh/flood.js';
import type { BackendInfo } from '../runtime/backend.js';
import type { GpuFault } from '../runtime/compute-messages.js';
import { localLatencies } from '../runtime/latency-probe.js';
import type { DeviceClient } from './device-client.js';

export interface FrimDebug {
  /** fault switches of this tab's links (mute pongs, jitter, corrupt replica chunks) */
  faults: Faults;
  snapshot(): DeviceSnapshot | null;
  /** stream `count` requests into the room from this device */
  /** `count` images at `ratePerSec` requests/s, `batch` images per request; `path`: the baselines' fixed path, a device id per stage (default: the shortest) */
  infer(count: number, ratePerSec: number, mode: InferenceMode, path?: string[], batch?: number): void;
  /** send malformed frames to every peer; returns how many went out */
  sendGarbage(): number;
  /** tell every other peer that device `deviceId` is leaving, as a hostile device would to evict it; returns to how many peers it went */
  forgeDeparture(deviceId: string): number;
  /** flood every peer with frames of one kind for `ms` (≤ 60 s), as fast as the channels take them or `perSecond` per peer; resolves with how many went out */
  flood(kind: FloodKind, ms: number, perSecond?: number): Promise<number>;
  /** the next `n` WebGPU stage runs on this device hang (default), throw, or run twice at once */
  breakGpuRuns(n: number, how?: GpuFault): Promise<void>;
  /** partitions run for the room here take `factor` times as long (a slower device: the compute worker waits the difference) */
  slowCompute(factor: number): Promise<void>;
  /** fetch one replica from these holders, in this order (tests and benchmarks) */
  fetchReplica(hash: string, from: string[]): void;
  /** whole-model latency here, through the compute worker (`npm run bench:inference`) */
  localLatencies(modelUrl: string, count: number): ReturnType<typeof localLatencies>;
  /** the raw data-channel baseline for `npm run bench:replicas` */
  rawBaseline(deviceId: string, bytes: number): Promise<number>;
}

declare global {
  interface Window {
    frimDebug?: FrimDebug;
  }
}

export function installDebug(client: DeviceClient, backend: BackendInfo): void {
  window.frimDebug = {
    faults,
    snapshot: () => client.snapshot,
    infer: (count, ratePerSec, mode, path, batch) => client.infer(count, ratePerSec, mode, path, batch),
    sendGarbage: () => client.mesh?.sendGarbage() ?? 0,
    forgeDeparture: (deviceId) => client.mesh?.forgeDeparture(deviceId) ?? 0,
    flood: (kind, ms, perSecond) => client.mesh?.flood(kind, ms, perSecond) ?? Promise.reject(new Error('this tab does not hold the connections')),
    breakGpuRuns: (n, how) => client.breakGpuRuns(n, how),
    slowCompute: (factor) => client.slowCompute(factor),
    fetchReplica: (hash, from) => client.fetchReplica(hash, from),
    localLatencies: (modelUrl, count) => localLatencies(modelUrl, count, backend.backend),
    rawBaseline: (deviceId, bytes) => client.mesh?.rawBaseline(deviceId, bytes) ?? Promise.reject(new Error('this tab does not hold the connections')),
  };
}
