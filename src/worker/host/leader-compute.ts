/**
 * Partitions run in the leader tab's compute worker, never in the device worker: its thread keeps
 * the heartbeat clock and must stay responsive. This is the device worker's side of that: compute
 * jobs sent to the leader tab and their answers, and which partitions the leader should load ahead.
 */
import type { ChainStage, WireTensor } from '../../core/device-protocol.js';
import { COMPUTE } from '../../core/policy.js';
import type { Tensor } from '../../core/tensors.js';
import { Calls } from '../../shared/calls.js';
import type { Computed, Serving } from '../inference/context.js';
import type { Tab } from './tabs.js';

export class LeaderCompute {
  private readonly jobs = new Calls<number, Computed>();
  private nextJob = 1;
  private warmed = '';

  constructor(private readonly leader: () => Tab | null) {}

  /** Runs `stages` one after another in the compute worker; `want`: what to send back ([] = every output of a single stage). */
  run(stages: ChainStage[], feeds: Record<string, Tensor>, want: string[]): Promise<Computed> {
    const tab = this.leader();
    if (!tab) return Promise.reject(new Error('no tab holds the connections'));
    const job = this.nextJob++;
    return this.jobs.call(job, COMPUTE.jobTimeoutMs, () => {
      const wire = Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, { type: t.type, dims: t.dims, data: t.data.slice().buffer as ArrayBuffer }]));
      tab.port.post({ kind: 'compute', job, stages, feeds: wire, want }, Object.values(wire).map((w) => w.data));
    }, 'the compute worker did not answer in time');
  }

  computed(job: number, outputs: Record<string, WireTensor>, ms: number, stageMs: number[]): void {
    this.jobs.settle(job, { outputs: Object.fromEntries(Object.entries(outputs).map(([k, t]) => [k, { type: t.type, dims: t.dims, data: new Uint8Array(t.data) }])), ms, stageMs });
  }

  failed(job: number, message: string): void {
    this.jobs.fail(job, new Error(message));
  }

  /** A leader tab that leaves takes its compute jobs with it. */
  failAll(why: string): void {
    this.jobs.failAll(new Error(why));
  }

  /**
   * Has the leader tab load the partitions this device keeps for the room's model, once per change:
   * a device holding more than it offers (the one a model was dropped on) gives the rest up once the
   * room has them elsewhere, and loads them only on demand meanwhile.
   */
  warm(s: Serving | null): void {
    const leader = this.leader();
    if (!leader || !s) return;
    const held = s.manifest.partitions.filter((p) => s.keeps(p.sha256));
    const key = `${leader.id}:${held.map((p) => p.sha256).join()}`;
    if (key === this.warmed) return;
    this.warmed = key;
    leader.port.post({ kind: 'warm', partitions: held.map((p) => ({ hash: p.sha256, inputs: p.inputs.map((name, i) => ({ name, dims: p.inputShapes[i] })) })) });
  }
}
