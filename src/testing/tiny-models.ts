/**
 * Tiny models for unit tests of distributed inference, computed in plain JS on 2x2 images whose
 * first pixel shows the label (TINY_SAMPLE): a two-stage chain, and the paper's baselines
 * (core/baselines.ts). Each answer path of a baseline marks itself, so a test can tell which one
 * answered: the final classifier says the label, exit 1 says label + 1, exit 2 label + 2, the skip
 * model's output hyper-connection label + 5 (all mod 10).
 */
import type { Manifest, PartitionSpec } from '../core/onnx/manifest.js';
import type { ImageSample } from '../core/sample.js';
import type { Tensor } from '../core/tensors.js';

export interface TinyModel {
  manifest: Manifest;
  compute(stage: number, feeds: Record<string, Tensor>): Record<string, Tensor>;
}

const floats = (t: Tensor) => new Float32Array(t.data.slice().buffer);
const tensor = (dims: number[], xs: Float32Array): Tensor => ({ type: 'float32', dims, data: new Uint8Array(xs.slice().buffer) });
// every function works row by row: a request may carry a batch of images
const image = (t: Tensor) => tensor(t.dims, floats(t));
const labelsOf = (t: Tensor) => Array.from({ length: t.dims[0] }, (_, r) => Math.round((floats(t)[r * 4] * 255) / 25));
/** logits whose top-1 is `label + shift`, one row per label */
const logits = (labels: number[], shift = 0) => tensor([labels.length, 10], Float32Array.from({ length: labels.length * 10 }, (_, i) => -Math.abs((i % 10) - ((labels[Math.floor(i / 10)] + shift) % 10))));
const max = (a: Tensor, b: Tensor) => tensor(a.dims, floats(a).map((x, i) => Math.max(x, floats(b)[i])));
const isZero = (t: Tensor) => floats(t).every((x) => x === 0);

const hashOf = (i: number, salt: number) => `${salt}${i + 1}`.padStart(2, '0').repeat(32);
const img = [1, 1, 2, 2];

function part(id: number, salt: number, inputs: string[], shapes: number[][], outputs: string[]): PartitionSpec {
  return { id, file: `p${id}.onnx`, sha256: hashOf(id, salt), bytes: 1000, inputs, inputShapes: shapes, outputs, flops: 5000, paramBytes: 800 };
}

const io = (outputs: string[]) => ({
  inputs: [{ name: 'input', dims: ['batch', 1, 2, 2], type: 'float32' }],
  outputs: outputs.map((name) => ({ name, dims: ['batch', 10], type: 'float32' })),
});

/** Image i shows label i % 10 as the brightness of its first pixel. */
export const TINY_SAMPLE: ImageSample = (() => {
  const count = 20;
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 10);
  const pixels = new Uint8Array(count * 4);
  labels.forEach((l, i) => (pixels[i * 4] = l * 25));
  return { count, rows: 2, cols: 2, labels, pixels };
})();

/** Two stages: P0 passes the image on as `h`, P1 reads the label back out of its first pixel. */
export const TINY_MANIFEST: Manifest = {
  format: 1,
  model: { name: 'tiny', sha256: '0f'.repeat(32), ...io(['logits']) },
  partitions: [
    { ...part(0, 0, ['input'], [img], ['h']), file: 'tiny.p0.onnx', flops: 5000, paramBytes: 800 },
    { ...part(1, 0, ['h'], [img], ['logits']), file: 'tiny.p1.onnx', bytes: 900, flops: 4000, paramBytes: 700 },
  ],
};

export const TINY_CHAIN: TinyModel = {
  manifest: TINY_MANIFEST,
  compute(stage, f): Record<string, Tensor> {
    return stage === 0 ? { h: image(f.input) } : { logits: logits(labelsOf(f.h)) };
  },
};

/** Three partitions with exits after the first two. */
export const TINY_EARLY_EXIT: TinyModel = {
  manifest: {
    format: 1,
    model: { name: 'tiny-ee', sha256: '1e'.repeat(32), ...io(['logits', 'e1', 'e2']), variant: { kind: 'early-exit', exits: ['e1', 'e2'] } },
    partitions: [part(0, 3, ['input'], [img], ['e1', 'h1']), part(1, 3, ['h1'], [img], ['e2', 'h2']), part(2, 3, ['h2'], [img], ['logits'])],
  },
  compute(stage, f): Record<string, Tensor> {
    if (stage === 0) return { h1: image(f.input), e1: logits(labelsOf(f.input), 1) };
    if (stage === 1) return { h2: image(f.h1), e2: logits(labelsOf(f.h1), 2) };
    return { logits: logits(labelsOf(f.h2)) };
  },
};

/**
 * Skip hyper-connections as the trained variant has them: h1 = P0(x); h2 = P1(h1, x); z3 = P2(h2, h1);
 * logits = P3(z3, h2), the output layer. A bypassed partition's output arrives as zeros: P1 and P2
 * fall back on the hyper-connection, P3 answers from h2 (marked label + 5) when z3 is zeros.
 */
export const TINY_SKIP: TinyModel = {
  manifest: {
    format: 1,
    model: { name: 'tiny-skip', sha256: '5c'.repeat(32), ...io(['logits']), variant: { kind: 'skip-connection', exits: [] } },
    partitions: [
      part(0, 5, ['input'], [img], ['h1']),
      part(1, 5, ['h1', 'input'], [img, img], ['h2']),
      part(2, 5, ['h1', 'h2'], [img, img], ['z3']),
      part(3, 5, ['h2', 'z3'], [img, [1, 10]], ['logits']),
    ],
  },
  compute(stage, f): Record<string, Tensor> {
    if (stage === 0) return { h1: image(f.input) };
    if (stage === 1) return { h2: max(f.h1, f.input) };
    if (stage === 2) return { z3: logits(labelsOf(max(f.h2, f.h1))) };
    return { logits: isZero(f.z3) ? logits(labelsOf(f.h2), 5) : tensor(f.z3.dims, floats(f.z3)) };
  },
};
