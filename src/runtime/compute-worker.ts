/** The compute worker on devices with a WebGPU adapter: onnxruntime-web's WebGPU build (it runs WASM too). */
import * as ort from 'onnxruntime-web/webgpu';
import { serveCompute } from './compute-host.js';

serveCompute(ort);
