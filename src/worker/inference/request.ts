/**
 * A logical request: one image through the room, over however many attempts (FRIM 4.3 re-issues
 * it on another path; each attempt has its own wire id). Also what a model must take for the
 * requester to feed it.
 */
import { givenPathProblem, isBaseline, modeProblem } from '../../core/baselines.js';
import type { Manifest } from '../../core/onnx/manifest.js';
import type { InferenceMode } from '../../core/protocol.js';
import { imageTensor, oneImageDims, syntheticInput, type ImageSample } from '../../core/sample.js';
import type { Tensor } from '../../core/tensors.js';
import type { Timers } from '../../shared/calls.js';
import type { Serving } from './context.js';

export interface LogicalRequest {
  /** index into the test sample, or -1 for an image the user gave */
  image: number;
  /** -1 when unknown */
  label: number;
  mode: InferenceMode;
  /** the user's image, [rows x cols] grey in [0, 1]; absent for test-sample images */
  pixels?: Float32Array;
  issuedAt: number;
  issuedEpoch: number;
  attempts: number;
  lastProgress: number;
  /** device whose copy finished each stage first */
  winners: string[];
  done: boolean;
  /** early-exit mode: the latest exit head's answer, the stage it came from and its top-1 */
  exit?: { stage: number; predicted: number };
}

export function newRequest(r: Pick<LogicalRequest, 'image' | 'label' | 'mode' | 'pixels' | 'issuedAt' | 'issuedEpoch'>, now: number): LogicalRequest {
  return { ...r, attempts: 0, lastProgress: now, winners: [], done: false };
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

/** The model's input for this request: the user's image, a test-sample image, or a seeded synthetic one. */
export function inputTensors(L: LogicalRequest, m: Manifest, sample: ImageSample | null): Record<string, Tensor> {
  const input = m.model.inputs[0];
  const dims = oneImageDims(input.dims);
  const pixels = L.pixels ?? (L.label >= 0 && sample ? imageTensor(sample, L.image) : syntheticInput(L.image, dims));
  return { [input.name]: { type: 'float32', dims, data: new Uint8Array(pixels.slice().buffer) } };
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
