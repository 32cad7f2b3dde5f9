import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { hashHex } from '../core/hash.js';
import type { Manifest } from '../core/onnx/manifest.js';
import { sha256Blob } from './digest.js';
import { ReplicaStore } from './replicas.js';

const bytes = Uint8Array.from({ length: 5000 }, (_, i) => (i * 31) % 256);
const hash = hashHex(bytes);

describe('ReplicaStore (IndexedDB, keyed by content hash)', () => {
  it('stores, lists and returns verified replicas and manifests', async () => {
    const store = new ReplicaStore('t1');
    await store.putReplica(hash, bytes);
    expect(await store.replicaHashes()).toEqual([hash]);
    expect(await store.getReplica(hash)).toEqual(bytes);
    const manifest = { format: 1, model: { name: 'm', sha256: 'a'.repeat(64), inputs: [], outputs: [] }, partitions: [] } as Manifest;
    await store.putManifest('k'.repeat(64), manifest);
    expect(await store.allManifests()).toEqual([manifest]);
  });

  it('refuses bytes that do not match their hash', async () => {
    const store = new ReplicaStore('t2');
    await expect(store.putReplica('0'.repeat(64), bytes)).rejects.toThrow(/refusing to store/);
    expect(await store.replicaHashes()).toEqual([]);
  });

  it('keeps replicas as Blobs: stored verified, read in windows, re-checked in slices', async () => {
    const store = new ReplicaStore('t4');
    await store.putVerified(hash, new Blob([bytes]));
    const blob = await store.getBlob(hash);
    expect(blob?.size).toBe(bytes.length);
    expect(new Uint8Array(await blob!.slice(100, 200).arrayBuffer())).toEqual(bytes.subarray(100, 200));
    expect(await store.verify(hash)).toBe(bytes.length);
    expect(await sha256Blob(new Blob([bytes]), undefined, 1000, 700)).toBe(hash);
    // a damaged entry (stored under the wrong key) is found out and deleted
    const other = '1'.repeat(64);
    await store.putVerified(other, bytes);
    expect(await store.verify(other)).toBe(0);
    expect(await store.has(other)).toBe(false);
    expect(await store.getReplica(hash)).toEqual(bytes);
  });

  it('forgets everything on request', async () => {
    const store = new ReplicaStore('t3');
    await store.putReplica(hash, bytes);
    await store.forget();
    expect(await store.replicaHashes()).toEqual([]);
    expect(await store.getReplica(hash)).toBeNull();
    expect(await store.allManifests()).toEqual([]);
  });
});
