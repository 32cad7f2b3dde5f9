import { describe, expect, it } from 'vitest';
import { ModelError } from '../core/onnx/model.js';
import { checkMemory, pickModel, type CutOptions } from './model-cutter.js';

const MiB = 1024 * 1024;
/** A File of this size without the bytes (only its name and size are read here). */
const sized = (name: string, size: number) => ({ name, size }) as File;
const opts = (o: Partial<CutOptions> = {}): CutOptions => ({ parts: 4, maxBytes: 2 ** 31 - 1, room: null, deviceMemoryGiB: null, ...o });

function refusal(fn: () => void): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ModelError);
    return (e as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('which files make the model', () => {
  it('the .onnx and its data files, whatever order they were dropped in', () => {
    const r = pickModel([sized('vgg16.onnx.data', 500 * MiB), sized('vgg16.onnx', 10 * 1024)]);
    expect(r.model.name).toBe('vgg16.onnx');
    expect(r.data.map((f) => f.name)).toEqual(['vgg16.onnx.data']);
    // one file of any name is taken as the model (its content decides)
    expect(pickModel([sized('model.bin', 10)]).model.name).toBe('model.bin');
  });

  it('refuses two models at once, or data files without a model', () => {
    expect(refusal(() => pickModel([sized('a.onnx', 1), sized('b.onnx', 1)]))).toMatch(/one model at a time.*"a\.onnx" and "b\.onnx"/);
    expect(refusal(() => pickModel([sized('a.data', 1), sized('b.data', 1)]))).toMatch(/None of "a\.data", "b\.data" is an \.onnx model/);
  });
});

describe('memory, before running out of it', () => {
  it('ONNX\'s own 2 GiB limit, and a lower one when asked', () => {
    expect(refusal(() => checkMemory(sized('huge.onnx', 2 ** 31), [], opts()))).toMatch(/no ONNX file can be 2 GiB or more.*separate data file/);
    expect(refusal(() => checkMemory(sized('m.onnx', 3 * MiB), [], opts({ maxBytes: 2 * MiB })))).toMatch(/over the 2\.0 MiB limit/);
  });

  it('what this device reports: the model and its largest partition must fit in half of it', () => {
    expect(refusal(() => checkMemory(sized('vgg16.onnx', 600 * MiB), [], opts({ deviceMemoryGiB: 2 })))).toMatch(/needs about 1200 MiB of memory to be cut here, and this device reports 2 GiB/);
    expect(() => checkMemory(sized('vgg16.onnx', 400 * MiB), [], opts({ deviceMemoryGiB: 2 }))).not.toThrow();
    // external data: only the graph is read whole (the largest partition is checked once the cut is known)
    expect(() => checkMemory(sized('g.onnx', MiB), [sized('g.onnx.data', 3000 * MiB)], opts({ deviceMemoryGiB: 2 }))).not.toThrow();
    expect(() => checkMemory(sized('vgg16.onnx', 600 * MiB), [], opts())).not.toThrow();
  });
});
