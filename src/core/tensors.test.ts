import { describe, expect, it } from 'vitest';
import type { Manifest } from './onnx/manifest.js';
import { MAX_TENSOR_SET_BYTES, PartsAssembler, carriedTensors, packTensors, splitParts, unpackTensors, type Tensor } from './tensors.js';

const f32 = (dims: number[], seed: number): Tensor => ({ type: 'float32', dims, data: new Uint8Array(Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => i * seed).buffer) });

describe('tensor sets on the wire', () => {
  it('round-trip through table + payload, split into parts and reassembled in any order', () => {
    const set = { b: f32([1, 3], 2), a: f32([2, 2], 1), ids: { type: 'int64' as const, dims: [2], data: new Uint8Array(16).fill(7) } };
    const { table, payload } = packTensors(set);
    const parts = splitParts(payload, 10);
    expect(parts.length).toBe(Math.ceil(payload.length / 10));
    const asm = new PartsAssembler(parts.length);
    for (let i = parts.length - 1; i >= 0; i--) expect(asm.add(i, parts[i], i === 0 ? table : null)).toBe(true);
    expect(asm.add(0, parts[0], table)).toBe(false);
    expect(asm.complete).toBe(true);
    expect(unpackTensors(asm.table, asm.payload())).toEqual(set);
  });

  it('refuses tables that do not add up', () => {
    const { table, payload } = packTensors({ x: f32([2, 2], 1) });
    expect(unpackTensors(table, payload.subarray(0, 8))).toMatch(/runs past the payload/);
    expect(unpackTensors(table, new Uint8Array(payload.length + 4))).toMatch(/not in the table/);
    expect(unpackTensors([{ ...table[0], bytes: 4 }], payload)).toMatch(/do not match/);
    expect(unpackTensors([{ ...table[0], type: 'float64' }], payload)).toMatch(/bad tensor type/);
    expect(unpackTensors([{ ...table[0], dims: [-1] }], payload)).toMatch(/bad dims/);
    expect(unpackTensors([table[0], table[0]], new Uint8Array(32))).toMatch(/bad tensor name/);
    expect(unpackTensors('table', payload)).toMatch(/bad tensor table/);
  });

  it('refuses a set bigger than MAX_TENSOR_SET_BYTES when packing, assembling parts or unpacking', () => {
    const huge = { x: { type: 'uint8' as const, dims: [MAX_TENSOR_SET_BYTES + 1], data: new Uint8Array(MAX_TENSOR_SET_BYTES + 1) } };
    expect(() => packTensors(huge)).toThrow(RangeError);
    const part = new Uint8Array(120 * 1024);
    const asm = new PartsAssembler(1024);
    let accepted = 0;
    for (let i = 0; i < 1024; i++) if (asm.add(i, part, i === 0 ? [] : null)) accepted++;
    expect(accepted).toBe(Math.floor(MAX_TENSOR_SET_BYTES / part.length));
    expect(asm.complete).toBe(false);
    expect(unpackTensors([{ name: 'x', type: 'uint8', dims: [MAX_TENSOR_SET_BYTES + 1], bytes: MAX_TENSOR_SET_BYTES + 1 }], huge.x.data)).toMatch(/exceeds/);
  });
});

describe('carried tensors', () => {
  it('carries a skip connection over the cut it jumps, and only what is still needed', () => {
    const m: Manifest = {
      format: 1,
      model: { name: 'skip', sha256: '0'.repeat(64), inputs: [{ name: 'x', dims: [1], type: 'float32' }], outputs: [{ name: 'y', dims: [1], type: 'float32' }] },
      partitions: [
        { id: 0, file: '', sha256: '1'.repeat(64), bytes: 1, inputs: ['x'], inputShapes: [null], outputs: ['a'], flops: 1, paramBytes: 0 },
        { id: 1, file: '', sha256: '2'.repeat(64), bytes: 1, inputs: ['a'], inputShapes: [null], outputs: ['b'], flops: 1, paramBytes: 0 },
        { id: 2, file: '', sha256: '3'.repeat(64), bytes: 1, inputs: ['a', 'b'], inputShapes: [null, null], outputs: ['y'], flops: 1, paramBytes: 0 },
      ],
    };
    expect(carriedTensors(m)).toEqual([['x'], ['a'], ['a', 'b'], ['y']]);
  });
});
