/** The compute worker on devices without WebGPU: onnxruntime-web's plain WASM build, which starts faster (compute-host.ts says how much). */
import * as ort from 'onnxruntime-web/wasm';
import { serveCompute } from './compute-host.js';

serveCompute(ort);
