/**
 * The shipped resnet and the sample images, and what onnxruntime-node answers for them: the
 * reference every stream through the room is checked against (e2e tests and the chaos soak).
 * No Playwright here, so a benchmark process can use it.
 */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';

export const MODEL = readFileSync('public/models/resnet.onnx');
export const SAMPLE = readFileSync('public/fashion-mnist-sample.bin');

/** onnxruntime-node's top-1 for the first `n` requests of a stream (the sample images in turn). */
export async function referencePredictions(n: number): Promise<number[]> {
  const session = await ort.InferenceSession.create(new Uint8Array(MODEL));
  const count = SAMPLE.readUInt32LE(4);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const k = i % count;
    const px = SAMPLE.subarray(10 + count + k * 784, 10 + count + (k + 1) * 784);
    const r = await session.run({ input: new ort.Tensor('float32', Float32Array.from(px, (p) => p / 255), [1, 1, 28, 28]) });
    const logits = r.logits.data as Float32Array;
    out.push(logits.indexOf(Math.max(...logits)));
  }
  return out;
}
