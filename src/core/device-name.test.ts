import { describe, expect, it } from 'vitest';
import { checkDeviceName, defaultDeviceName, MAX_NAME_LENGTH, screenNames } from './device-name.js';

describe('device names', () => {
  it('gives each device a short name of its own, the same every time', () => {
    const ids = Array.from({ length: 8 }, (_, i) => `k3j9x${i}q2m8w1`);
    const names = ids.map(defaultDeviceName);
    expect(names.map(defaultDeviceName)).not.toEqual(names); // names are not ids
    expect(ids.map(defaultDeviceName)).toEqual(names);
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(n).toMatch(/^[A-Z][a-z]+ [A-Z][a-z]+$/);
  });

  it('spreads a room of 20 ids over mostly distinct names', () => {
    const names = Array.from({ length: 20 }, (_, i) => defaultDeviceName(`device${String(i * 7919).padStart(6, '0')}`));
    expect(new Set(names).size).toBeGreaterThanOrEqual(18);
  });

  it('tells devices with one name apart on screen, and leaves unique names alone', () => {
    const shown = screenNames([
      { deviceId: 'aaaa11112222', name: 'Azure Falcon' },
      { deviceId: 'bbbb33334444', name: 'Azure Falcon' },
      { deviceId: 'cccc55556666', name: 'Kitchen tablet' },
    ]);
    expect([...shown.values()]).toEqual(['Azure Falcon (aaaa)', 'Azure Falcon (bbbb)', 'Kitchen tablet']);
  });

  it('keeps what the user typed, tidied, and refuses what would mislead or overflow', () => {
    expect(checkDeviceName('  Kitchen   tablet ')).toBe('Kitchen tablet');
    expect(checkDeviceName('Ana’s phone 📱')).toBe('Ana’s phone 📱');
    expect(checkDeviceName('   ')).toEqual({ problem: 'a name cannot be empty' });
    expect(checkDeviceName('x'.repeat(MAX_NAME_LENGTH + 1))).toMatchObject({ problem: expect.stringMatching(/at most/) });
    expect(checkDeviceName('evil\u202Eenohp')).toMatchObject({ problem: expect.stringMatching(/control or formatting/) });
    expect(checkDeviceName('a\u0007b')).toMatchObject({ problem: expect.stringMatching(/control/) });
    expect(checkDeviceName(42)).toEqual({ problem: 'a name is text' });
  });
});
