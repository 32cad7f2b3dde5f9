/**
 * ImageNet-shaped models with random weights, generated in TypeScript (no torch needed): the FRIM
 * paper's VGG-16, AlexNet and ResNet-50 in torchvision's layer layout (batch-norm folded into the
 * convolutions, as an ONNX export does), input "input" float32 [batch, 3, 224, 224], output
 * "logits" [batch, 1000]. `width` divides every channel and hidden width, so the same topology
 * comes at full size (VGG-16 528 MiB) for benchmarks and at tens of MiB for CI. Weights are He
 * initialised from a seeded generator, so a file is the same on every machine.
 */
import { encodeModel } from '../../src/core/onnx/model.js';
import { onnx, type NodeProto, type TensorProto } from '../../src/core/onnx/proto.js';
import { seededRng } from '../../src/core/rng.js';

const F = onnx.TensorProto.DataType.FLOAT;
type Attr = Record<string, number | number[]>;

class Builder {
  readonly nodes: NodeProto[] = [];
  readonly weights: TensorProto[] = [];
  private n = 0;
  private readonly rand: () => number;

  constructor(seed: number) {
    this.rand = seededRng(seed);
  }

  private gaussian(): number {
    const u = Math.max(this.rand(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.rand());
  }

  private weight(name: string, dims: number[], fanIn: number): string {
    const count = dims.reduce((a, b) => a * b, 1);
    const data = new Float32Array(count);
    const std = Math.sqrt(2 / fanIn);
    for (let i = 0; i < count; i++) data[i] = this.gaussian() * std;
    this.weights.push({ name, dims, dataType: F, rawData: new Uint8Array(data.buffer) });
    return name;
  }

  private zeros(name: string, dims: number[]): string {
    this.weights.push({ name, dims, dataType: F, rawData: new Uint8Array(4 * dims.reduce((a, b) => a * b, 1)) });
    return name;
  }

  op(opType: string, inputs: string[], attrs: Attr = {}, name = `${opType.toLowerCase()}${this.n}`): string {
    const out = `${name}_${this.n++}`;
    const attribute = Object.entries(attrs).map(([k, v]) => (Array.isArray(v) ? { name: k, ints: v, type: onnx.AttributeProto.AttributeType.INTS } : { name: k, i: v, type: onnx.AttributeProto.AttributeType.INT }));
    this.nodes.push({ opType, input: inputs, output: [out], name, attribute });
    return out;
  }

  conv(x: string, cin: number, cout: number, k: number, stride = 1, pad = Math.floor(k / 2), name = `conv${this.n}`): string {
    const w = this.weight(`${name}.weight`, [cout, cin, k, k], cin * k * k);
    const b = this.zeros(`${name}.bias`, [cout]);
    return this.op('Conv', [x, w, b], { kernel_shape: [k, k], strides: [stride, stride], pads: [pad, pad, pad, pad] }, name);
  }

  relu(x: string): string {
    return this.op('Relu', [x]);
  }

  maxPool(x: string, k: number, stride: number, pad = 0): string {
    return this.op('MaxPool', [x], { kernel_shape: [k, k], strides: [stride, stride], pads: [pad, pad, pad, pad] });
  }

  gemm(x: string, fin: number, fout: number, name = `fc${this.n}`): string {
    const w = this.weight(`${name}.weight`, [fout, fin], fin);
    const b = this.zeros(`${name}.bias`, [fout]);
    return this.op('Gemm', [x, w, b], { transB: 1 }, name);
  }

  model(name: string, output: string): Uint8Array {
    this.nodes.push({ opType: 'Identity', input: [output], output: ['logits'], name: 'logits' });
    const dim = (d: number | string) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d });
    return encodeModel(onnx.ModelProto.create({
      irVersion: 7,
      opsetImport: [{ domain: '', version: 13 }],
      producerName: 'frim-mesh scripts/big',
      graph: {
        name,
        node: this.nodes,
        initializer: this.weights,
        input: [{ name: 'input', type: { tensorType: { elemType: F, shape: { dim: ['batch', 3, 224, 224].map(dim) } } } }],
        output: [{ name: 'logits', type: { tensorType: { elemType: F, shape: { dim: ['batch', 1000].map(dim) } } } }],
      },
    }));
  }
}

const ch = (c: number, width: number) => Math.max(1, Math.round(c / width));

export function vgg16(width = 1, seed = 16): Uint8Array {
  const b = new Builder(seed);
  let x = 'input';
  let cin = 3;
  for (const v of [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'] as const) {
    if (v === 'M') x = b.maxPool(x, 2, 2);
    else {
      x = b.relu(b.conv(x, cin, ch(v, width), 3));
      cin = ch(v, width);
    }
  }
  x = b.op('Flatten', [x], { axis: 1 });
  x = b.relu(b.gemm(x, cin * 7 * 7, ch(4096, width)));
  x = b.relu(b.gemm(x, ch(4096, width), ch(4096, width)));
  return b.model(`vgg16${width === 1 ? '' : `-w${width}`}`, b.gemm(x, ch(4096, width), 1000));
}

export function alexnet(width = 1, seed = 8): Uint8Array {
  const b = new Builder(seed);
  let x = b.maxPool(b.relu(b.conv('input', 3, ch(64, width), 11, 4, 2)), 3, 2);
  x = b.maxPool(b.relu(b.conv(x, ch(64, width), ch(192, width), 5, 1, 2)), 3, 2);
  x = b.relu(b.conv(x, ch(192, width), ch(384, width), 3));
  x = b.relu(b.conv(x, ch(384, width), ch(256, width), 3));
  x = b.maxPool(b.relu(b.conv(x, ch(256, width), ch(256, width), 3)), 3, 2);
  x = b.op('Flatten', [x], { axis: 1 });
  x = b.relu(b.gemm(x, ch(256, width) * 6 * 6, ch(4096, width)));
  x = b.relu(b.gemm(x, ch(4096, width), ch(4096, width)));
  return b.model(`alexnet${width === 1 ? '' : `-w${width}`}`, b.gemm(x, ch(4096, width), 1000));
}

export function resnet50(width = 1, seed = 50): Uint8Array {
  const b = new Builder(seed);
  let x = b.maxPool(b.relu(b.conv('input', 3, ch(64, width), 7, 2, 3)), 3, 2, 1);
  let cin = ch(64, width);
  for (const [blocks, mid, stride] of [[3, 64, 1], [4, 128, 2], [6, 256, 2], [3, 512, 2]] as const) {
    for (let i = 0; i < blocks; i++) {
      const s = i === 0 ? stride : 1;
      const m = ch(mid, width);
      const out = ch(mid * 4, width);
      let y = b.relu(b.conv(x, cin, m, 1, 1, 0));
      y = b.relu(b.conv(y, m, m, 3, s, 1));
      y = b.conv(y, m, out, 1, 1, 0);
      const skip = i === 0 ? b.conv(x, cin, out, 1, s, 0) : x;
      x = b.relu(b.op('Add', [y, skip]));
      cin = out;
    }
  }
  x = b.op('Flatten', [b.op('GlobalAveragePool', [x])], { axis: 1 });
  return b.model(`resnet50${width === 1 ? '' : `-w${width}`}`, b.gemm(x, cin, 1000));
}

export const IMAGENET_MODELS = { vgg16, alexnet, resnet50 } as const;
export type ImagenetModel = keyof typeof IMAGENET_MODELS;
