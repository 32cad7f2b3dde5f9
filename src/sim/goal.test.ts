import { describe, expect, it } from 'vitest';
import { goalMet } from './goal.js';

const room = (frim: number, frimBytes: number, fixed2: number, fixed3Bytes: number) => ({ answeredFraction: frim, bytesMoved: frimBytes, fixed2: { answeredFraction: fixed2 }, fixed3: { bytesMoved: fixed3Bytes } });

describe('the simulator goal', () => {
  it('is not tested where fixed 2 copies answer everything', () => {
    expect(goalMet(room(1, 5, 1, 6))).toBeNull();
  });
  it('holds when FRIM answers 99.9 % with fewer bytes than fixed 3', () => {
    expect(goalMet(room(0.999, 5, 0.9, 6))).toBe(true);
  });
  it('fails on too few answers or too many bytes', () => {
    expect(goalMet(room(0.998, 5, 0.9, 6))).toBe(false);
    expect(goalMet(room(1, 6, 0.9, 6))).toBe(false);
  });
});
