import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { hashHex } from '../core/hash.js';
import type { Manifest } from '../core/onnx/manifest.js';
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

  it('forgets everything on request', async () => {
    const store = new ReplicaStore('t3');
    await store.putReplica(hash, bytes);
    await store.forget();
    expect(await store.replicaHashes()).toEqual([]);
    expect(await store.getReplica(hash)).toBeNull();
    expect(await store.allManifests()).toEqual([]);
  });
});
