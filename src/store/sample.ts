/** The shipped test sample (Fashion-MNIST images and labels), as the server serves it. */
import { parseSample, type ImageSample } from '../core/sample.js';

export async function sampleFromServer(): Promise<ImageSample> {
  const res = await fetch(new URL('/fashion-mnist-sample.bin', self.location.origin));
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return parseSample(new Uint8Array(await res.arrayBuffer()));
}
