/**
 * What the execution graph's edge weights come from (FRIM 4.3): compute time per partition per
 * device, learned from every `stage-done` in the room; bytes entering each stage, learned from the
 * activations seen; link RTT from the heartbeats. Defaults stand in until something is measured.
 */
import type { ExecutionGraph } from './execution-graph.js';

const ALPHA = 0.3;
/** 1 GFLOP/s: a slow phone on WASM; the first measurement replaces it */
const DEFAULT_FLOPS_PER_MS = 1e6;
const DEFAULT_IN_BYTES = 16 * 1024;
/** bytes per ms (~8 MB/s, what bench:replicas measured between two tabs here) */
const DEFAULT_BANDWIDTH = 8000;

export class RouteStats {
  /** per stage: device -> compute time (EWMA) */
  private readonly compute = new Map<number, Map<string, number>>();
  private readonly inBytes = new Map<number, number>();

  recordCompute(stage: number, device: string, ms: number): void {
    if (!(ms >= 0) || !Number.isFinite(ms)) return;
    const byDevice = this.compute.get(stage) ?? new Map<string, number>();
    this.compute.set(stage, byDevice);
    const old = byDevice.get(device);
    byDevice.set(device, old === undefined ? ms : old + ALPHA * (ms - old));
  }

  recordInput(stage: number, bytes: number): void {
    if (bytes >= 0) this.inBytes.set(stage, bytes);
  }

  /** The measured compute time of `stage` on `device`, if any. */
  measuredMs(stage: number, device: string): number | undefined {
    return this.compute.get(stage)?.get(device);
  }

  /**
   * A device not yet measured on a stage is taken to be as fast as the slowest one measured on it
   * (else the FLOP default): with one copy per stage, a device that only ever lost races is never
   * measured, and an optimistic guess would make it everyone's first choice.
   */
  computeMs(stage: number, device: string, flops: number): number {
    const byDevice = this.compute.get(stage);
    const known = byDevice?.get(device);
    if (known !== undefined) return known;
    return byDevice?.size ? Math.max(...byDevice.values()) : flops / DEFAULT_FLOPS_PER_MS;
  }

  graph(opts: {
    requester: string;
    stages: { partition: number; devices: string[]; flops: number }[];
    outBytes: number;
    rttMs(a: string, b: string): number;
  }): ExecutionGraph {
    return {
      requester: opts.requester,
      stages: opts.stages.map((s, i) => ({ partition: s.partition, devices: s.devices, inBytes: this.inBytes.get(i) ?? DEFAULT_IN_BYTES })),
      outBytes: opts.outBytes,
      computeMs: (stage, device) => this.computeMs(stage, device, opts.stages[stage].flops),
      link: (a, b) => ({ rttMs: opts.rttMs(a, b), bandwidth: DEFAULT_BANDWIDTH }),
    };
  }
}
