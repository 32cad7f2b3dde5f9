/**
 * npm run bench:models — the shipped models, analysed, cut and run.
 *
 * Per model: test accuracy and size (from its card), analysis + partition time for N = 2, 4, 8
 * (median of 5, in Node), bytes crossing each cut, and, in real Chromium on both backends, the
 * latency of the partition chain (N = 4) against the whole model, measured side by side on the
 * same images in one run (goal: chain <= 1.05x whole per backend).
 *
 * Env: BENCH_IMAGES_WASM (200), BENCH_IMAGES_WEBGPU (40), BENCH_PORT (8798).
 */
import { chromium } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { CHROMIUM_ARGS } from '../playwright.config.js';
import { formatBytes } from '../src/core/format.js';
import { partitionModelBytes } from '../src/core/onnx/manifest.js';
import { quantile } from '../src/core/stats.js';
import { startServer, stopServer } from './lib/server.js';
import { chainVsWhole } from './lib/local-chain.js';
import { saveResult } from './lib/results.js';

const MODELS = ['alexnet', 'resnet', 'vgg'];
const PORT = Number(process.env.BENCH_PORT ?? 8798);
const IMAGES = { wasm: Number(process.env.BENCH_IMAGES_WASM ?? 200), webgpu: Number(process.env.BENCH_IMAGES_WEBGPU ?? 40) };
const CHAIN_PARTS = 4;

interface Card { testAccuracy: number; parameters: number; bytes: number }

function partitionTimes(bytes: Uint8Array, name: string) {
  return Object.fromEntries([2, 4, 8].map((parts) => {
    const runs: number[] = [];
    let crossing: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      const p = partitionModelBytes(bytes, name, { parts });
      runs.push(performance.now() - t);
      crossing = p.plan.cuts.map((c) => c.bytes);
    }
    return [parts, { ms: +quantile(runs, 0.5).toFixed(1), crossingBytes: crossing }];
  }));
}

async function main(): Promise<void> {
  const server = await startServer(PORT);
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
  const results: Record<string, unknown>[] = [];
  try {
    for (const name of MODELS) {
      const file = `public/models/${name}.onnx`;
      const bytes = new Uint8Array(readFileSync(file));
      const card = JSON.parse(readFileSync(`public/models/${name}.card.json`, 'utf8')) as Card;
      const partition = partitionTimes(bytes, name);
      const latency: Record<string, unknown> = {};
      for (const backend of ['wasm', 'webgpu'] as const) latency[backend] = await chainVsWhole(browser, `http://127.0.0.1:${PORT}`, file, CHAIN_PARTS, backend, IMAGES[backend]);
      results.push({ model: name, testAccuracy: card.testAccuracy, parameters: card.parameters, fileBytes: card.bytes, partition, latency });
      console.log(`${name} done`);
    }
  } finally {
    await browser.close();
    stopServer(server);
  }
  const at = new Date().toISOString();
  const out = saveResult('models', at, { bench: 'models', at, chainParts: CHAIN_PARTS, results });
  console.log('\nmodel    test acc  params    file      partition ms (N=2/4/8)  chain/whole WASM  chain/whole WebGPU');
  for (const r of results as { model: string; testAccuracy: number; parameters: number; fileBytes: number; partition: Record<string, { ms: number }>; latency: Record<string, { ratio: number; wholeMsPerImage: number; chainMsPerImage: number; used: string }> }[]) {
    const lat = (b: string) => `${r.latency[b].ratio.toFixed(3)} (${r.latency[b].chainMsPerImage.toFixed(1)}/${r.latency[b].wholeMsPerImage.toFixed(1)} ms${r.latency[b].used !== b ? `, ran on ${r.latency[b].used}` : ''})`;
    console.log(`${r.model.padEnd(8)} ${(100 * r.testAccuracy).toFixed(2).padStart(7)}%  ${String(r.parameters).padEnd(8)}  ${formatBytes(r.fileBytes).padEnd(8)}  ${[2, 4, 8].map((n) => r.partition[n].ms).join(' / ').padEnd(22)}  ${lat('wasm').padEnd(17)} ${lat('webgpu')}`);
  }
  console.log('\ncrossing bytes per cut (per image):');
  for (const r of results as { model: string; partition: Record<string, { crossingBytes: number[] }> }[]) {
    for (const n of [2, 4, 8]) console.log(`  ${r.model} N=${n}: ${r.partition[n].crossingBytes.map(formatBytes).join(', ')}`);
  }
  console.log(`written ${out}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
