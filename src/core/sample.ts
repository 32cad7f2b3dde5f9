import { seededRng } from './rng.js';

/**
 * The shipped test sample: 'FMS1', u32 count (LE), u8 rows, u8 cols, u8 labels[count],
 * u8 pixels[count * rows * cols]. Written by scripts/train/train.py.
 */
export interface ImageSample {
  count: number;
  rows: number;
  cols: number;
  labels: Uint8Array;
  pixels: Uint8Array;
}

export function parseSample(bytes: Uint8Array): ImageSample {
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  if (magic !== 'FMS1') throw new Error('not a frim-mesh image sample (bad magic)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(4, true);
  const rows = bytes[8];
  const cols = bytes[9];
  const need = 10 + count + count * rows * cols;
  if (bytes.length !== need) throw new Error(`image sample is ${bytes.length} bytes, expected ${need}`);
  return { count, rows, cols, labels: bytes.subarray(10, 10 + count), pixels: bytes.subarray(10 + count) };
}

/** Image i as float32 [1, 1, rows, cols] scaled to [0, 1], the shipped models' input. */
export function imageTensor(s: ImageSample, i: number): Float32Array {
  const n = s.rows * s.cols;
  return Float32Array.from(s.pixels.subarray(i * n, (i + 1) * n), (p) => p / 255);
}

export function argmax(xs: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
}

/** A model's input dimensions for one image: the batch (and any other named dimension) is 1. */
export function oneImageDims(dims: (number | string)[]): number[] {
  return dims.map((d, k) => (k === 0 || typeof d !== 'number' ? 1 : d));
}

/** Does a model with these inputs take the test sample's images ([batch, 1, rows, cols])? */
export function takesSample(inputs: { dims: (number | string)[] }[], s: Pick<ImageSample, 'rows' | 'cols'>): boolean {
  return inputs.length === 1 && inputs[0].dims.slice(1).join('x') === `1x${s.rows}x${s.cols}`;
}

/**
 * Input `index` for a model the test sample does not fit (ImageNet-shaped models, say): values in
 * [-1, 1), like a normalised image, from a seeded generator, so every device, onnxruntime-node and every run see the same
 * tensor for the same index. There are no labels for these, so no accuracy; answers are compared
 * with the reference runtime's.
 */
export function syntheticInput(index: number, dims: number[]): Float32Array {
  const n = dims.reduce((a, b) => a * b, 1);
  const next = seededRng(0x5eed0000 + index);
  return Float32Array.from({ length: n }, () => 2 * next() - 1);
}
