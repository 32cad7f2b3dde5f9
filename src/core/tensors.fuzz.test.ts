import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fuzz, returns } from '../testing/fuzz.js';
import { MAX_TENSOR_SET_BYTES, PartsAssembler, packTensors, splitParts, unpackTensors, type Tensor, type TensorType } from './tensors.js';

const TYPES: TensorType[] = ['float32', 'int64', 'int32', 'uint8', 'bool'];
const WIDTH: Record<TensorType, number> = { float32: 4, int64: 8, int32: 4, uint8: 1, bool: 1 };

/** a valid tensor set: names of any text (prototype keys included), small dims, random bytes */
const tensorSet: fc.Arbitrary<Record<string, Tensor>> = fc
  .uniqueArray(fc.tuple(fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty')), fc.constantFrom(...TYPES), fc.array(fc.nat({ max: 5 }), { maxLength: 4 })), { maxLength: 6, selector: (t) => t[0] })
  .chain((entries) => fc.tuple(...entries.map(([name, type, dims]) => fc.uint8Array({ minLength: dims.reduce((p, d) => p * d, 1) * WIDTH[type], maxLength: dims.reduce((p, d) => p * d, 1) * WIDTH[type] }).map((data) => [name, { type, dims, data }] as const))))
  .map((pairs) => {
    const out: Record<string, Tensor> = Object.create(null);
    for (const [name, t] of pairs) out[name] = t;
    return out;
  });

describe('fuzzing tensor sets off the wire', () => {
  it('any table and payload: tensors whose every size adds up, or a reason, never an exception', () => {
    const entry = fc.oneof(
      fc.anything({ maxDepth: 2 }),
      fc.record({ name: fc.oneof(fc.string({ maxLength: 8 }), fc.constant('__proto__')), type: fc.oneof(fc.constantFrom(...TYPES), fc.string()), dims: fc.oneof(fc.array(fc.oneof(fc.integer({ min: -2, max: 6 }), fc.constant(2 ** 31), fc.double())), fc.anything()), bytes: fc.oneof(fc.nat({ max: 1000 }), fc.anything()) }),
    );
    fc.assert(fc.property(fc.oneof(fc.array(entry, { maxLength: 6 }), fc.anything()), fc.uint8Array({ maxLength: 600 }), (table, payload) => {
      const out = returns(() => unpackTensors(table, payload), 200);
      if (typeof out === 'string') {
        expect(out.length).toBeGreaterThan(0);
        return;
      }
      let total = 0;
      for (const t of Object.values(out)) {
        expect(t.data.length).toBe(t.dims.reduce((p, d) => p * d, 1) * WIDTH[t.type]);
        total += t.data.length;
      }
      expect(total).toBe(payload.length);
    }), fuzz(4000));
  });

  it('a packed set split into parts and delivered in any order, with duplicates and strays, unpacks to the same tensors', () => {
    const deliveries = fc.tuple(tensorSet, fc.integer({ min: 1, max: 64 })).chain(([set, max]) => {
      const { table, payload } = packTensors(set);
      const parts = splitParts(payload, max);
      const extra = fc.array(fc.tuple(fc.integer({ min: -2, max: parts.length + 2 }), fc.uint8Array({ maxLength: 8 })), { maxLength: 4 });
      return fc.tuple(fc.constant(set), fc.constant(table), fc.constant(parts), fc.shuffledSubarray(parts.map((_, i) => i), { minLength: parts.length }), extra);
    });
    fc.assert(fc.property(deliveries, ([set, table, parts, order, strays]) => {
      const asm = new PartsAssembler(parts.length);
      for (const [i, junk] of strays) if (i < 0 || i >= parts.length) expect(asm.add(i, junk, null)).toBe(false);
      for (const i of order) expect(asm.add(i, parts[i], i === 0 ? table : null)).toBe(true);
      for (const i of order) expect(asm.add(i, parts[i], null)).toBe(false);
      expect(asm.complete).toBe(true);
      const out = unpackTensors(asm.table, asm.payload());
      expect(typeof out).toBe('object');
      expect(Object.keys(out).sort()).toEqual(Object.keys(set).sort());
      for (const name of Object.keys(set)) expect((out as Record<string, Tensor>)[name]).toEqual(set[name]);
    }), fuzz(1500));
  });

  it('parts adding up past the tensor-set limit are refused', () => {
    const asm = new PartsAssembler(3);
    const half = new Uint8Array(MAX_TENSOR_SET_BYTES / 2 + 1);
    expect(asm.add(0, half, [])).toBe(true);
    expect(asm.add(1, half, null)).toBe(false);
    expect(asm.complete).toBe(false);
  });
});
