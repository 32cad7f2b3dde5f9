import { describe, expect, it } from 'vitest';
import type { Manifest } from './onnx/manifest.js';
import { checkBattery, checkHoldings, checkManifest, defaultBudget, manifestKey, initialSettings, mergeSettings, partitionViews, usedBytes, type DeviceHoldings } from './room.js';

const MiB = 1024 * 1024;
const manifest: Manifest = {
  format: 1,
  model: { name: 'm', sha256: 'aa'.repeat(32), inputs: [], outputs: [] },
  partitions: [
    { id: 0, file: 'm.p0.onnx', sha256: '01'.repeat(32), bytes: 100, inputs: ['x'], inputShapes: [null], outputs: ['h'], flops: 10, paramBytes: 80 },
    { id: 1, file: 'm.p1.onnx', sha256: '02'.repeat(32), bytes: 200, inputs: ['h'], inputShapes: [null], outputs: ['y'], flops: 20, paramBytes: 180 },
  ],
};
const holding = (holds: string[], fetching: DeviceHoldings['fetching'] = []): DeviceHoldings => ({ holds, fetching, budget: MiB, used: 0, sessions: [] });

describe('room settings', () => {
  it('converge on the newest value whatever the order of merges', () => {
    const a = { ...initialSettings(), model: 'aa'.repeat(32), modelAt: 10, modelBy: 'dev-a' };
    const b = { ...initialSettings(), target: 0.9999, targetAt: 5, targetBy: 'dev-b' };
    const c = { ...initialSettings(), model: 'bb'.repeat(32), modelAt: 10, modelBy: 'dev-c' };
    const ab = mergeSettings(mergeSettings(a, b), c);
    const ba = mergeSettings(mergeSettings(c, b), a);
    expect(ab).toEqual(ba);
    expect(ab.model).toBe('bb'.repeat(32)); // same time: the larger device id wins
    expect(ab.target).toBe(0.9999);
  });
});

describe('default replica budget', () => {
  it('takes the smaller of an eighth of RAM and half the free quota, within bounds', () => {
    expect(defaultBudget({ deviceMemoryGiB: 8, quotaBytes: 100 * 1024 * MiB }).bytes).toBe(1024 * MiB);
    expect(defaultBudget({ deviceMemoryGiB: 8, quotaBytes: 300 * MiB, usageBytes: 100 * MiB }).bytes).toBe(100 * MiB);
    expect(defaultBudget({ deviceMemoryGiB: 0.25 }).bytes).toBe(64 * MiB);
    expect(defaultBudget({}).bytes).toBe(256 * MiB);
  });

  it('counts the copies it holds as its own, and never promises more than the quota leaves', () => {
    // 100 MiB held of 300 MiB used, 500 MiB quota: the held copies plus half of the 200 MiB free
    expect(defaultBudget({ deviceMemoryGiB: 8, quotaBytes: 500 * MiB, usageBytes: 300 * MiB, heldBytes: 100 * MiB }).bytes).toBe(200 * MiB);
    // 20 MiB free: the 64 MiB floor would promise space the browser refuses
    const tight = defaultBudget({ deviceMemoryGiB: 8, quotaBytes: 100 * MiB, usageBytes: 80 * MiB, heldBytes: 1 * MiB });
    expect(tight.bytes).toBe(21 * MiB);
    expect(tight.from).toBe("this browser's storage quota leaves only 20.00 MiB free");
    const full = defaultBudget({ quotaBytes: 10 * MiB, usageBytes: 12 * MiB });
    expect(full.bytes).toBe(0);
    expect(full.from).toBe("this browser's storage quota leaves only 0 B free");
  });
});

describe('partition views', () => {
  it('count only verified copies on live devices, and show transfers in progress', () => {
    const v = partitionViews(manifest, [
      { id: 'a', alive: true, availability: 0.9, holdings: { ...holding(['01'.repeat(32), '02'.repeat(32)]), sessions: [{ hash: '01'.repeat(32), backend: 'webgpu', warm: false }, { hash: '02'.repeat(32), backend: 'wasm' }] } },
      { id: 'b', alive: true, availability: 0.9, holdings: holding(['01'.repeat(32)], [{ hash: '02'.repeat(32), verified: 50 }]) },
      { id: 'c', alive: false, availability: 0.9, holdings: holding(['01'.repeat(32), '02'.repeat(32)]) },
      { id: 'd', alive: true, availability: 0.9, holdings: null },
    ]);
    expect(v.partitions[0].replicas).toEqual(['a', 'b']);
    expect(v.partitions[0].dependability).toBeCloseTo(0.99, 10);
    expect(v.partitions[1].replicas).toEqual(['a']);
    expect(v.partitions[1].cells.b).toEqual({ state: 'transferring', fraction: 0.25, backend: null, warm: false });
    // the backend a copy runs on is known once its session is loaded
    expect(v.partitions[0].cells.a.backend).toBe('webgpu');
    expect(v.partitions[1].cells.a.backend).toBe('wasm');
    expect(v.partitions[0].cells.b.backend).toBeNull();
    // warm once its session has run; a device that does not say (an older one) is taken as warm
    expect(v.partitions[0].cells.a.warm).toBe(false);
    expect(v.partitions[1].cells.a.warm).toBe(true);
    expect(v.partitions[0].cells.b.warm).toBe(false);
    expect(v.partitions[1].cells.c.state).toBe('missing');
    expect(v.model).toBeCloseTo(0.99 * 0.9, 10);
    expect(usedBytes(manifest, ['02'.repeat(32), 'ff'.repeat(32)])).toBe(200);
  });
});

describe('holdings from a peer', () => {
  const base = { holds: ['01'.repeat(32)], fetching: [], budget: 100, used: 10 };
  it('take a session with or without its warm flag, and nothing else in it', () => {
    expect(checkHoldings({ ...base, sessions: [{ hash: '01'.repeat(32), backend: 'webgpu', warm: false }] })?.sessions).toEqual([{ hash: '01'.repeat(32), backend: 'webgpu', warm: false }]);
    expect(checkHoldings({ ...base, sessions: [{ hash: '01'.repeat(32), backend: 'wasm' }] })?.sessions).toEqual([{ hash: '01'.repeat(32), backend: 'wasm' }]);
    expect(checkHoldings({ ...base, sessions: [{ hash: '01'.repeat(32), backend: 'wasm', warm: 'yes' }] })).toBeNull();
    expect(checkHoldings({ ...base, sessions: [{ hash: '01'.repeat(32), backend: 'wasm', ready: true }] })).toBeNull();
    expect(checkHoldings({ ...base, sessions: [{ hash: '01'.repeat(32), backend: 'wasm', warm: true, extra: 1 }] })).toBeNull();
  });

  it('take a battery reading only in range and without extra fields, and none at all from a device without the API', () => {
    const ok = { level: 0.05, charging: false, dischargingSec: 900 };
    expect(checkHoldings({ ...base, sessions: [] })?.battery).toBeUndefined();
    expect(checkHoldings({ ...base, sessions: [], battery: ok })?.battery).toEqual(ok);
    expect(checkBattery({ level: 1, charging: true, dischargingSec: null })).toEqual({ level: 1, charging: true, dischargingSec: null });
    for (const bad of [
      { ...ok, level: 1.5 }, { ...ok, level: -0.1 }, { ...ok, level: NaN }, { ...ok, level: '5' }, { ...ok, charging: 'no' },
      { ...ok, dischargingSec: -1 }, { ...ok, dischargingSec: Infinity }, { ...ok, dischargingSec: 1e9 }, { ...ok, extra: 1 }, null, 'full',
    ]) {
      expect(checkBattery(bad), JSON.stringify(bad)).toBeNull();
      expect(checkHoldings({ ...base, sessions: [], battery: bad })).toBeNull();
    }
  });
});

describe('manifest key', () => {
  it('tells two cuts of one model apart', () => {
    const recut = { ...manifest, partitions: [{ ...manifest.partitions[0], sha256: '03'.repeat(32) }] };
    expect(manifestKey(manifest)).toMatch(/^[0-9a-f]{64}$/);
    expect(manifestKey(recut)).not.toBe(manifestKey(manifest));
    expect(manifestKey(structuredClone(manifest))).toBe(manifestKey(manifest));
  });
});

describe('manifest validation', () => {
  it('accepts a real manifest and rebuilds it without extra fields', () => {
    const withExtra = { ...manifest, evil: 1, partitions: manifest.partitions.map((p) => ({ ...p, run: 'code' })) };
    expect(checkManifest(withExtra)).toEqual(manifest);
  });
  it('refuses partitions out of order, bad hashes and oversized lists', () => {
    expect(checkManifest({ ...manifest, partitions: [manifest.partitions[1], manifest.partitions[0]] })).toMatch(/bad partition entry/);
    expect(checkManifest({ ...manifest, model: { ...manifest.model, sha256: 'xyz' } })).toMatch(/model identity/);
    expect(checkManifest({ ...manifest, partitions: new Array(65).fill(manifest.partitions[0]) })).toMatch(/partition list/);
    expect(checkManifest('manifest')).toMatch(/not a map/);
  });
});
