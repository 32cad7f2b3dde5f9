import { describe, expect, it } from 'vitest';
import { TINY_EARLY_EXIT, TINY_MANIFEST, TINY_SKIP } from '../testing/tiny-models.js';
import { bypass, exitOf, firstHop, givenPathProblem, isBaseline, modeProblem, nextLive, zeroOutputs } from './baselines.js';
import type { Tensor } from './tensors.js';

const x: Record<string, Tensor> = { input: { type: 'float32', dims: [1, 1, 2, 2], data: new Uint8Array(16).fill(7) } };
const PATH = ['d1', 'd2', 'd3', 'd0'];

describe("the paper's baselines", () => {
  it('need a model trained for them', () => {
    expect(isBaseline('frim')).toBe(false);
    expect(['no-config', 'early-exit', 'skip-connection'].every(isBaseline)).toBe(true);
    expect(modeProblem('early-exit', TINY_MANIFEST)).toMatch(/exit heads/);
    expect(modeProblem('skip-connection', TINY_EARLY_EXIT.manifest)).toMatch(/hyper-connections/);
    expect(modeProblem('early-exit', TINY_EARLY_EXIT.manifest)).toBeNull();
    expect(modeProblem('no-config', TINY_SKIP.manifest)).toBeNull();
    expect([0, 1, 2].map((k) => exitOf(TINY_EARLY_EXIT.manifest, k))).toEqual(['e1', 'e2', null]);
    expect(exitOf(TINY_SKIP.manifest, 0)).toBeNull();
  });

  it('skip-connection passes over failed stages, never over the last', () => {
    expect(nextLive(PATH, -1, new Set())).toEqual({ next: 0, skipped: [] });
    expect(nextLive(PATH, -1, new Set(['d1', 'd2']))).toEqual({ next: 2, skipped: [0, 1] });
    expect(nextLive(PATH, 1, new Set(['d3']))).toEqual({ next: 3, skipped: [2] });
    expect(nextLive(PATH, 2, new Set(['d0']))).toEqual({ next: null, skipped: [3] });
  });

  it("a bypassed partition's outputs are zeros shaped as their readers declare, at the request's batch", () => {
    const z = zeroOutputs(TINY_SKIP.manifest, [2], 3);
    expect(Object.keys(z)).toEqual(['z3']);
    expect(z.z3.dims).toEqual([3, 10]);
    expect(z.z3.data.length).toBe(3 * 10 * 4);
    expect(z.z3.data.every((b) => b === 0)).toBe(true);
    // bypassing P0 on the way to P1: the input (P1's hyper-connection reads it) and h1 as zeros
    const sent = bypass(TINY_SKIP.manifest, x, [0], 1);
    expect(Object.keys(sent).sort()).toEqual(['h1', 'input']);
    expect(sent.h1.dims).toEqual([1, 1, 2, 2]);
    expect(sent.input).toBe(x.input);
  });

  it('where the requester sends first, per mode', () => {
    const ee = TINY_EARLY_EXIT.manifest;
    const path3 = PATH.slice(0, 3);
    expect(firstHop('no-config', path3, ee, x, new Set())).toMatchObject({ stage: 0, to: 'd1' });
    expect(firstHop('no-config', path3, ee, x, new Set(['d3']))).toEqual({ lost: 'the fixed path runs through d3, which failed' });
    // early-exit sends past a later failure (it stops there and answers from an exit), not past the first device
    expect(firstHop('early-exit', path3, ee, x, new Set(['d3']))).toMatchObject({ stage: 0, to: 'd1' });
    expect(firstHop('early-exit', path3, ee, x, new Set(['d1']))).toEqual({ lost: 'the fixed path runs through d1, which failed' });
    expect(firstHop('skip-connection', PATH, TINY_SKIP.manifest, x, new Set(['d1']))).toMatchObject({ stage: 1, to: 'd2' });
    expect(firstHop('skip-connection', PATH, TINY_SKIP.manifest, x, new Set(PATH))).toEqual({ lost: 'the device of the last partition failed; it cannot be bypassed' });
  });

  it('a fixed path someone gives must hold a copy of each stage on its device', () => {
    const replicas = [['d1'], ['d2'], ['d3']];
    expect(givenPathProblem(TINY_EARLY_EXIT.manifest, replicas, ['d1', 'd2', 'd3'])).toBeNull();
    expect(givenPathProblem(TINY_EARLY_EXIT.manifest, replicas, ['d1', 'd2'])).toMatch(/2 devices for 3 partitions/);
    expect(givenPathProblem(TINY_EARLY_EXIT.manifest, replicas, ['d1', 'd3', 'd3'])).toMatch(/partition 1 on d3/);
  });
});
