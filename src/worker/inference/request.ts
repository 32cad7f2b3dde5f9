/**
 * A logical request: one image, or a batch of them, through the room, over however many attempts (FRIM 4.3 re-issues
 * it on another path; each attempt has its own wire id). Also what a model must take for the
 * requester to feed it.
 */
import { givenPathProblem, isBaseline, modeProblem } from '../../core/baselines.js';
import type { Manifest } from '../../core/onnx/manifest.js';
import type { InferenceMode } from '../../core/protocol.js';
import { argmax, imageTensor, oneImageDims, syntheticInput, type ImageSample } from '../../core/sample.js';
import type { Tensor } from '../../core/tensors.js';
import type { Timers } from '../../shared/calls.js';
import type { Serving } from './context.js';

export interface LogicalRequest {
  /** per image of the batch: its index in the test sample (the seed of a synthetic input), -1 for an image the user gave */
  images: number[];
  /** per image: its label, -1 when unknown */
  labels: number[];
  /** where its first image is in the run's stream (-1 for the user's own image) */
  position: number;
  mode: InferenceMode;
  /** the user's image, [rows x cols] grey in [0, 1]; absent for test-sample images */
  pixels?: Float32Array;
  issuedAt: number;
  issuedEpoch: number;
  attempts: number;
  lastProgress: number;
  /** the requester's requests in flight at `lastProgress`: the load the next stage runs under (StageTimes) */
  loadAtProgress: number;
  /** device whose copy finished each stage first */
  winners: string[];
  done: boolean;
  /** a warm-up request of the room's own (synthetic input): it counts nowhere; how many more follow it */
  probe?: { left: number };
  /** early-exit mode: the latest exit head's answer, the stage it came from and its top-1 per image */
  exit?: { stage: number; predicted: number[] };
}

export function newRequest(r: Pick<LogicalRequest, 'images' | 'labels' | 'position' | 'mode' | 'pixels' | 'issuedAt' | 'issuedEpoch'>, now: number): LogicalRequest {
  return { ...r, attempts: 0, lastProgress: now, loadAtProgress: 1, winners: [], done: false };
}

/** Why the requester cannot stream images into this model, or null when it can. */
export function streamInputProblem(m: Manifest): string | null {
  const input = m.model.inputs[0];
  if (m.model.inputs.length === 1 && input.type === 'float32' && input.dims.length >= 2) return null;
  return `${m.model.name} takes ${m.model.inputs.map((x) => `${x.name} [${x.dims.join(', ')}] ${x.type}`).join(', ')}; requests feed one float image`;
}

/** Why this model cannot classify a square grey image of `pixels` values, or null when it can. */
export function classifyInputProblem(m: Manifest, pixels: number): string | null {
  const dims = m.model.inputs[0]?.dims ?? [];
  if (m.model.inputs.length === 1 && dims.length === 4 && Number(dims[1]) === 1 && Number(dims[2]) * Number(dims[3]) === pixels) return null;
  const side = Math.sqrt(pixels);
  return `${m.model.name} does not take a ${side}x${side} grey image`;
}

/** The model's input for this request, one image per row of the batch: the user's image, test-sample images, or seeded synthetic ones. */
export function inputTensors(L: LogicalRequest, m: Manifest, sample: ImageSample | null): Record<string, Tensor> {
  const input = m.model.inputs[0];
  const one = oneImageDims(input.dims);
  const size = one.reduce((a, b) => a * b, 1);
  const data = new Float32Array(L.images.length * size);
  L.images.forEach((image, j) => data.set(L.pixels ?? (L.labels[j] >= 0 && sample ? imageTensor(sample, image) : syntheticInput(image, one)), j * size));
  return { [input.name]: { type: 'float32', dims: [L.images.length, ...one.slice(1)], data: new Uint8Array(data.buffer) } };
}

/** Top-1 of each row of a [batch, classes] float32 tensor, or null when it does not have `rows` rows. */
export function topOnes(t: Tensor | undefined, rows: number): number[] | null {
  if (!t || t.type !== 'float32' || t.dims[0] !== rows) return null;
  const xs = new Float32Array(t.data.slice().buffer);
  const width = xs.length / rows;
  return Array.from({ length: rows }, (_, r) => argmax(xs.subarray(r * width, (r + 1) * width)));
}

/** The path a run follows: a device per stage in the baseline modes (the one given, else the shortest), [] in frim mode; or why it cannot run. */
export function runPath(mode: InferenceMode, s: Serving, given: string[] | undefined, shortest: () => string[] | null): string[] | string {
  const unfit = modeProblem(mode, s.manifest);
  if (unfit) return unfit;
  if (!isBaseline(mode)) return [];
  if (given?.length) return givenPathProblem(s.manifest, s.replicas, given) ?? given;
  return shortest() ?? 'some partition has no live copy';
}

export interface Paced {
  stop(): void;
}

/**
 * Issues requests 0…count-1 at `ratePerSec`, each due at its slot in the stream; while `room()` is
 * false the next one waits (a few ms at a time), and that wait counts towards its latency.
 */
export function pace(timers: Timers, now: () => number, opts: { count: number; ratePerSec: number }, room: () => boolean, issue: (i: number, due: number) => void): Paced {
  const gap = 1000 / Math.max(0.1, opts.ratePerSec);
  const t0 = now();
  let i = 0;
  let handle: unknown;
  const next = () => {
    if (i >= opts.count) return;
    if (!room()) {
      handle = timers.set(next, 5);
      return;
    }
    issue(i, t0 + i * gap);
    i++;
    handle = timers.set(next, Math.max(0, t0 + i * gap - now()));
  };
  next();
  return { stop: () => timers.clear(handle) };
}

/** One stream of requests: `count` images in requests of `batch`, along `path` in the baselines. */
export class StreamRun {
  readonly batch: number;
  /** requests in the stream, and how many were issued */
  readonly requests: number;
  issued = 0;
  /** images sent so far */
  sent = 0;

  constructor(readonly mode: InferenceMode, readonly count: number, batch: number, readonly path: string[]) {
    this.batch = Math.max(1, Math.min(batch, count));
    this.requests = Math.ceil(count / this.batch);
  }

  /** Request `i`, due at `due`: the next images of the sample in stream order, or seeded synthetic ones without one. */
  request(i: number, due: number, dueEpoch: number, sample: ImageSample | null, now: number): LogicalRequest {
    this.issued++;
    const position = i * this.batch;
    const n = Math.min(this.batch, this.count - position);
    this.sent += n;
    const images = Array.from({ length: n }, (_, j) => (sample ? (position + j) % sample.count : position + j));
    const labels = images.map((image) => (sample ? sample.labels[image] : -1));
    return newRequest({ images, labels, position, mode: this.mode, issuedAt: due, issuedEpoch: dueEpoch }, now);
  }

  allIssued(): boolean {
    return this.issued >= this.requests;
  }
}
