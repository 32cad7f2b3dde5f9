import { readFileSync } from 'node:fs';
import { defineConfig, type Plugin } from 'vitest/config';

// onnxruntime-web fetches its WASM runtime at run time; ship the two builds it uses (the plain one
// and the asyncify one the WebGPU backend needs) under /ort/ and point ort.env.wasm.wasmPaths there.
const ORT_FILES = ['ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm', 'ort-wasm-simd-threaded.asyncify.mjs', 'ort-wasm-simd-threaded.asyncify.wasm'];

function ortRuntimeFiles(): Plugin {
  return {
    name: 'frim-ort-runtime-files',
    apply: 'build',
    generateBundle() {
      for (const file of ORT_FILES) {
        this.emitFile({ type: 'asset', fileName: `ort/${file}`, source: readFileSync(`node_modules/onnxruntime-web/dist/${file}`) });
      }
    },
  };
}

export default defineConfig({
  plugins: [ortRuntimeFiles()],
  build: { target: 'es2022', sourcemap: true, chunkSizeWarningLimit: 2048 },
  worker: { format: 'es' },
  test: {
    include: ['src/**/*.test.ts', 'server/**/*.test.ts', 'cli/**/*.test.ts', 'bench/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
  },
});
