import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { expect, test, type Page } from '@playwright/test';
import { asFile } from './files.js';
import { record } from './helpers.js';

const SAMPLE = readFileSync('public/fashion-mnist-sample.bin');
/** sample images per backend: SwiftShader's WebGPU takes ~250 ms an image here, WASM ~20 ms */
const COUNTS = { wasm: 50, webgpu: 20 } as const;

/** Top-1 of onnxruntime-node on the first `n` sample images: the reference the browser must match. */
async function referencePredictions(model: Uint8Array, n: number): Promise<number[]> {
  const session = await ort.InferenceSession.create(model);
  const count = SAMPLE.readUInt32LE(4);
  const preds: number[] = [];
  for (let i = 0; i < n; i++) {
    const px = SAMPLE.subarray(10 + count + i * 784, 10 + count + (i + 1) * 784);
    const out = await session.run({ input: new ort.Tensor('float32', Float32Array.from(px, (p) => p / 255), [1, 1, 28, 28]) });
    const logits = out.logits.data as Float32Array;
    preds.push(logits.indexOf(Math.max(...logits)));
  }
  return preds;
}

/** Drops a file on the page the way a person drags one from their desktop. */
async function dropFile(page: Page, name: string, bytes: Uint8Array): Promise<void> {
  const dt = await page.evaluateHandle(({ name, b64 }) => {
    const data = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([data], name));
    return transfer;
  }, { name, b64: Buffer.from(bytes).toString('base64') });
  await page.dispatchEvent('frim-app', 'drop', { dataTransfer: dt });
}

for (const backend of ['wasm', 'webgpu'] as const) {
  const COUNT = COUNTS[backend];
  test(`a dropped model is analysed and planned; ${COUNT} sample images on ${backend} match onnxruntime-node`, async ({ browser }) => {
    const model = new Uint8Array(readFileSync('public/models/resnet.onnx'));
    const expected = await referencePredictions(model, COUNT);
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(backend === 'wasm' ? '/?debug=1&backend=wasm' : '/?debug=1');
    await expect(page.getByTestId('self')).toHaveAttribute('data-backend', backend);
    await dropFile(page, 'resnet.onnx', model);
    const summary = page.getByTestId('model-summary');
    await expect(summary).toHaveAttribute('data-model-name', 'resnet');
    await expect(page.getByTestId('plan')).toHaveAttribute('data-parts', '1');
    await page.getByTestId('parts').fill('3');
    await page.getByTestId('parts').dispatchEvent('change');
    await expect(page.getByTestId('plan')).toHaveAttribute('data-parts', '3');
    await expect(page.getByTestId('plan-partition')).toHaveCount(3);

    await page.getByTestId('local-count').fill(String(COUNT));
    await page.getByTestId('local-count').dispatchEvent('change');
    await page.getByTestId('run-local').click();
    await expect(page.getByTestId('progress')).toBeVisible();
    const result = page.getByTestId('local-run');
    await expect(result).toBeVisible({ timeout: 180_000 });
    await expect(result).toHaveAttribute('data-backend', backend);
    await expect(result).toHaveAttribute('data-partition-backends', [backend, backend, backend].join(','));
    await expect(result).toHaveAttribute('data-count', String(COUNT));
    expect((await result.getAttribute('data-whole-predictions'))!.split(',').map(Number)).toEqual(expected);
    expect((await result.getAttribute('data-chain-predictions'))!.split(',').map(Number)).toEqual(expected);
    record('local-run', `${backend}: whole ${await result.getAttribute('data-whole-ms')} ms/image, chain of 3 ${await result.getAttribute('data-chain-ms')} ms/image, accuracy ${await result.getAttribute('data-whole-accuracy')}`);
    await expect(page.getByTestId('error')).toHaveCount(0);
    await context.close();
  });
}

test('bad model files get one clear message each, and the tab keeps working', async ({ browser }) => {
  const { SYNTHETIC, buildModel, node } = await import('../src/core/onnx/synthetic.js');
  const { onnx } = await import('../src/core/onnx/proto.js');
  const { encodeModel } = await import('../src/core/onnx/model.js');
  const good = new Uint8Array(readFileSync('public/models/alexnet.onnx'));
  const withModel = (fn: (m: ReturnType<typeof onnx.ModelProto.decode>) => void) => {
    const m = onnx.ModelProto.decode(SYNTHETIC.residual());
    fn(m);
    return encodeModel(m);
  };
  const cases: [string, Uint8Array, RegExp][] = [
    ['notes.onnx', new TextEncoder().encode('these are my notes, not a model'), /is not an ONNX model/],
    ['cut.onnx', good.subarray(0, 1_000_000), /cut short/],
    ['external.onnx', withModel((m) => { m.graph!.initializer![0].dataLocation = onnx.TensorProto.DataLocation.EXTERNAL; }), /stored outside the file but names no location/],
    ['weights-apart.onnx', withModel((m) => {
      const t = m.graph!.initializer![0];
      t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
      t.externalData = [{ key: 'location', value: 'weights-apart.onnx.data' }];
    }), /keeps its weights in a separate data file \("weights-apart\.onnx\.data"\); give that file together with the \.onnx/],
    ['old.onnx', withModel((m) => { m.opsetImport = [{ domain: '', version: 6 }]; }), /opset 6/],
    ['dynamic.onnx', buildModel({ input: { name: 'x', dims: ['batch', 4, 'h', 'w'] }, initializers: [], nodes: [node('Relu', ['x'], ['y'])], outputs: ['y'] }), /dynamic dimension 2/],
    ['custom.onnx', buildModel({ initializers: [], nodes: [node('MagicOp', ['x'], ['y'], {}, { domain: 'com.example' })], outputs: ['y'] }), /"com\.example\.MagicOp".*neither WebGPU nor WASM/],
    ['big.onnx', good, /over the 2\.0 MiB limit/],
  ];
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto('/?debug=1&backend=wasm&maxModelMiB=2');
  const input = page.getByTestId('model-input');
  for (const [name, bytes, message] of cases) {
    await input.setInputFiles(asFile(name, bytes));
    await expect(page.getByTestId('error')).toContainText(message);
    await expect(page.getByTestId('model-summary')).toHaveCount(0);
  }
  // the tab still works: a good model clears the error and is analysed
  await input.setInputFiles(asFile('residual.onnx', SYNTHETIC.residual()));
  await expect(page.getByTestId('model-summary')).toHaveAttribute('data-model-name', 'residual');
  await expect(page.getByTestId('error')).toHaveCount(0);
  await expect(page.getByTestId('self')).toHaveAttribute('data-device-id', /^[a-z0-9]{12}$/);
  expect(errors).toEqual([]);
  await context.close();
});
