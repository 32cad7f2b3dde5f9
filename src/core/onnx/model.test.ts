import { describe, expect, it } from 'vitest';
import { ModelError, decodeModel, encodeModel } from './model.js';
import { externalize, filesInMemory } from './external.js';
import { onnx } from './proto.js';
import { SYNTHETIC, buildModel, floatTensor, node } from './synthetic.js';

function errorOf(bytes: Uint8Array, maxBytes?: number): ModelError {
  try {
    decodeModel(bytes, { name: 'm.onnx', maxBytes });
  } catch (e) {
    expect(e).toBeInstanceOf(ModelError);
    return e as ModelError;
  }
  throw new Error('expected a ModelError');
}

const good = () => SYNTHETIC.residual();

function mutate(fn: (m: ReturnType<typeof onnx.ModelProto.decode>) => void): Uint8Array {
  const m = onnx.ModelProto.decode(good());
  fn(m);
  return encodeModel(m);
}

describe('decodeModel refuses what cannot run, in one clear sentence', () => {
  it('accepts a valid model', () => {
    expect(decodeModel(good()).graph?.node).toHaveLength(8);
  });

  it('a file that is not ONNX', () => {
    expect(errorOf(new TextEncoder().encode('PK\u0003\u0004 this is a zip, not a model')).code).toBe('not-onnx');
    expect(errorOf(new TextEncoder().encode('these are my notes, not a model')).message).toBe('"m.onnx" is not an ONNX model.');
    expect(errorOf(Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13])).code).toBe('not-onnx');
    expect(errorOf(new Uint8Array(0)).message).toMatch(/empty/);
  });

  it('a truncated file', () => {
    const bytes = good();
    const e = errorOf(bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    expect(e.code).toBe('truncated');
    expect(e.message).toMatch(/cut short/);
  });

  it('weights kept in external data', () => {
    const e = errorOf(mutate((m) => {
      const t = m.graph!.initializer![0];
      t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
      t.externalData = [{ key: 'location', value: 'weights.bin' }];
    }));
    expect(e.code).toBe('external-data');
    expect(e.message).toMatch(/separate data file \("weights\.bin"\); give that file together with the \.onnx/);
  });

  it('external data: the data file missing, too short, or disagreeing with the shape', () => {
    const { model, data } = externalize(onnx.ModelProto.decode(good()), 'm.onnx.data', 64);
    const bytes = encodeModel(model);
    const withFiles = (files: Record<string, Uint8Array>) => {
      try {
        decodeModel(bytes, { name: 'm.onnx', external: filesInMemory(files) });
      } catch (e) {
        return e as ModelError;
      }
      return null;
    };
    expect(withFiles({ 'm.onnx.data': data })).toBeNull();
    expect(withFiles({ 'other.data': data })!.message).toMatch(/needs its data file "m\.onnx\.data", which was not given/);
    const short = withFiles({ 'm.onnx.data': data.subarray(0, data.length - 10) })!;
    expect(short.code).toBe('truncated');
    expect(short.message).toMatch(/too short for tensor/);
    const lying = mutate((m) => {
      const t = m.graph!.initializer![0];
      t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
      t.externalData = [{ key: 'location', value: 'w.bin' }, { key: 'length', value: '3' }];
      t.floatData = [];
    });
    try {
      decodeModel(lying, { external: filesInMemory({ 'w.bin': new Uint8Array(1000) }) });
      throw new Error('expected a ModelError');
    } catch (e) {
      expect((e as ModelError).message).toMatch(/bytes by its shape but 3/);
    }
  });

  it('an opset below 7', () => {
    const e = errorOf(mutate((m) => { m.opsetImport = [{ domain: '', version: 6 }]; }));
    expect(e.code).toBe('opset');
    expect(e.message).toMatch(/opset 6/);
  });

  it('a dynamic dimension other than the batch', () => {
    const e = errorOf(buildModel({ input: { name: 'x', dims: ['batch', 4, 'height', 8] }, initializers: [], nodes: [node('Relu', ['x'], ['y'])], outputs: ['y'] }));
    expect(e.code).toBe('dynamic-dim');
    expect(e.message).toMatch(/dimension 2 \("height"\)/);
  });

  it('an operator neither backend has', () => {
    const custom = buildModel({ initializers: [], nodes: [node('FancyAttention', ['x'], ['y'], {}, { domain: 'com.example' })], outputs: ['y'] });
    expect(errorOf(custom).code).toBe('unsupported-op');
    const unknown = buildModel({ initializers: [floatTensor('w', [1], 1)], nodes: [node('Frobnicate', ['x', 'w'], ['y'])], outputs: ['y'] });
    expect(errorOf(unknown).message).toMatch(/"Frobnicate".*neither WebGPU nor WASM/);
  });

  it('a file over the size limit', () => {
    const e = errorOf(good(), 1024);
    expect(e.code).toBe('too-large');
    expect(e.message).toMatch(/over the 1\.0 KiB limit/);
  });

  it('the ONNX limit: no file of 2 GiB or more', () => {
    const big = { length: 2 ** 31 } as Uint8Array;
    const e = errorOf(big);
    expect(e.code).toBe('too-large');
    expect(e.message).toMatch(/no ONNX file can be 2 GiB or more/);
  });
});
