/**
 * Whole-model latency on this device, through the same compute worker path a stage takes (debug
 * pages, `npm run bench:inference`): the baseline distributed inference is compared against.
 */
import type { Backend } from '../core/protocol.js';
import { imageTensor, parseSample } from '../core/sample.js';
import { ComputeClient } from './compute-client.js';

export async function localLatencies(modelUrl: string, count: number, backend: Backend): Promise<number[]> {
  const client = new ComputeClient(backend);
  try {
    const [model, sample] = await Promise.all([modelUrl, '/fashion-mnist-sample.bin'].map(async (u) => new Uint8Array(await (await fetch(u)).arrayBuffer())));
    const s = parseSample(sample);
    await client.load('whole', model, backend);
    const out: number[] = [];
    for (let i = 0; i < count; i++) {
      const data = imageTensor(s, i % s.count).buffer as ArrayBuffer;
      const t0 = performance.now();
      await client.run('whole', { input: { type: 'float32', dims: [1, 1, s.rows, s.cols], data } });
      out.push(performance.now() - t0);
    }
    return out;
  } finally {
    client.terminate();
  }
}
