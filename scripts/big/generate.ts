/**
 * Writes ImageNet-shaped models with random weights (see models.ts):
 *
 *   npx tsx scripts/big/generate.ts [--model vgg16|alexnet|resnet50]... [--width W] [--out DIR] [--external]
 *
 * Defaults: all three at full size into build/big. --external also writes each in the external-data
 * layout (NAME-ext.onnx + NAME-ext.onnx.data), as torch.onnx.export does for models over 2 GiB.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { externalize } from '../../src/core/onnx/external.js';
import { encodeModel } from '../../src/core/onnx/model.js';
import { onnx } from '../../src/core/onnx/proto.js';
import { IMAGENET_MODELS, type ImagenetModel } from './models.js';

export function writeModel(name: ImagenetModel, width: number, out: string, external: boolean): { path: string; bytes: number; external?: { path: string; data: string } } {
  mkdirSync(out, { recursive: true });
  const file = `${name}${width === 1 ? '' : `-w${width}`}`;
  const bytes = IMAGENET_MODELS[name](width);
  const path = join(out, `${file}.onnx`);
  writeFileSync(path, bytes);
  if (!external) return { path, bytes: bytes.length };
  const ext = externalize(onnx.ModelProto.decode(bytes), `${file}-ext.onnx.data`);
  const extPath = join(out, `${file}-ext.onnx`);
  writeFileSync(extPath, encodeModel(ext.model));
  writeFileSync(`${extPath}.data`, ext.data);
  return { path, bytes: bytes.length, external: { path: extPath, data: `${extPath}.data` } };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { model: { type: 'string', multiple: true }, width: { type: 'string', default: '1' }, out: { type: 'string', default: 'build/big' }, external: { type: 'boolean', default: false } } });
  const width = Number(values.width);
  if (!(width >= 1)) throw new Error('--width takes a number of at least 1');
  for (const m of (values.model ?? Object.keys(IMAGENET_MODELS)) as ImagenetModel[]) {
    if (!(m in IMAGENET_MODELS)) throw new Error(`unknown model ${m}; one of ${Object.keys(IMAGENET_MODELS).join(', ')}`);
    const w = writeModel(m, width, values.out!, values.external!);
    console.log(`${w.path}: ${(w.bytes / 2 ** 20).toFixed(1)} MiB${w.external ? ` (and ${w.external.path} + its data file)` : ''}`);
  }
}
