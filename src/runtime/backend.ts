/**
 * Which compute backend this device offers: WebGPU when an adapter exists, WASM otherwise, with
 * the reason in the user's words. `?backend=wasm` forces WASM (tests, slow GPUs).
 */
import type { Backend } from '../core/protocol.js';

export interface BackendInfo {
  backend: Backend;
  detail: string;
}

export async function detectBackend(force: string | null): Promise<BackendInfo> {
  if (force === 'wasm') return { backend: 'wasm', detail: 'WASM (chosen with ?backend=wasm)' };
  if (!isSecureContext) {
    return { backend: 'wasm', detail: 'WASM: WebGPU needs a secure page (HTTPS or localhost); start the server with --https for phones' };
  }
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) return { backend: 'wasm', detail: 'WASM: this browser has no WebGPU' };
  try {
    const adapter = await Promise.race([
      gpu.requestAdapter(),
      new Promise<null>((resolve) => setTimeout(() => resolve(null), 5000)),
    ]);
    if (!adapter) return { backend: 'wasm', detail: 'WASM: WebGPU found no usable adapter' };
    const info = adapter.info;
    const what = [info?.vendor, info?.architecture].filter(Boolean).join(' ') || 'adapter';
    return { backend: 'webgpu', detail: `WebGPU (${what})` };
  } catch (e) {
    return { backend: 'wasm', detail: `WASM: WebGPU adapter request failed (${(e as Error).message})` };
  }
}
