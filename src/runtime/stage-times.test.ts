import { describe, expect, it } from 'vitest';
import { apportionStageMs } from './stage-times.js';

describe('apportionStageMs', () => {
  it('keeps WASM stage times as measured', () => {
    expect(apportionStageMs(30, [10, 15], [false, false], [undefined, undefined])).toEqual([10, 15]);
  });

  it('shares the GPU remainder by the stages run alone', () => {
    // 200 ms in all, 20 of it a WASM stage: 180 over two GPU stages that take 1:2 alone
    const ms = apportionStageMs(200, [2, 1, 20], [true, true, false], [10, 20, undefined]);
    expect(ms[0]).toBeCloseTo(60);
    expect(ms[1]).toBeCloseTo(120);
    expect(ms[2]).toBe(20);
    expect(ms.reduce((a, b) => a + b)).toBeCloseTo(200);
  });

  it('shares evenly where a stage was never run alone', () => {
    expect(apportionStageMs(90, [5, 1, 1], [true, true, true], [30, undefined, 10])).toEqual([30, 30, 30]);
  });

  it('never gives a GPU stage a negative time', () => {
    expect(apportionStageMs(10, [1, 50], [true, false], [5, undefined])).toEqual([0, 50]);
  });
});
