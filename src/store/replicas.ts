/**
 * Verified replicas and manifests in IndexedDB (idb-keyval), keyed by content hash, so a
 * reloaded or restarted device announces what it holds and serves it without downloading again.
 * Only bytes whose SHA-256 matches the key are ever stored or returned.
 */
import { clear, createStore, del, get, keys, set, type UseStore } from 'idb-keyval';
import { sha256Hex } from './digest.js';
import type { Manifest } from '../core/onnx/manifest.js';

/** The browser refused to store more: the device should report less capacity. */
export class StorageFullError extends Error {
  constructor(readonly bytes: number) {
    super(`this browser has no room left to store ${bytes} more bytes`);
  }
}

function isQuotaError(e: unknown): boolean {
  const name = (e as { name?: string })?.name ?? '';
  return name === 'QuotaExceededError' || /quota/i.test((e as Error)?.message ?? '');
}

export class ReplicaStore {
  private readonly replicas: UseStore;
  private readonly manifests: UseStore;

  constructor(dbPrefix = 'frim-mesh') {
    // one database per store: idb-keyval's createStore keeps a single object store per database
    this.replicas = createStore(`${dbPrefix}-replicas`, 'replicas');
    this.manifests = createStore(`${dbPrefix}-manifests`, 'manifests');
  }

  async putReplica(hash: string, bytes: Uint8Array): Promise<void> {
    const actual = await sha256Hex(bytes);
    if (actual !== hash) throw new Error(`refusing to store a replica whose SHA-256 ${actual.slice(0, 12)}… is not ${hash.slice(0, 12)}…`);
    try {
      await set(hash, bytes, this.replicas);
    } catch (e) {
      if (isQuotaError(e)) throw new StorageFullError(bytes.length);
      throw e;
    }
  }

  /** The stored replica, re-verified; a damaged entry is deleted and reported as absent. */
  async getReplica(hash: string): Promise<Uint8Array | null> {
    const bytes = await get<Uint8Array>(hash, this.replicas);
    if (!bytes) return null;
    if ((await sha256Hex(bytes)) !== hash) {
      await del(hash, this.replicas);
      return null;
    }
    return bytes;
  }

  async replicaHashes(): Promise<string[]> {
    return (await keys<string>(this.replicas)).sort();
  }

  async deleteReplica(hash: string): Promise<void> {
    await del(hash, this.replicas);
  }

  /** `key`: the offload's `manifestKey` (model and cut). */
  async putManifest(key: string, manifest: Manifest): Promise<void> {
    await set(key, manifest, this.manifests);
  }

  async deleteManifest(sha256: string): Promise<void> {
    await del(sha256, this.manifests);
  }

  async allManifests(): Promise<Manifest[]> {
    const ks = await keys<string>(this.manifests);
    return (await Promise.all(ks.map((k) => get<Manifest>(k, this.manifests)))).filter((m): m is Manifest => !!m);
  }

  /** "Forget models": drop every replica and manifest this device keeps. */
  async forget(): Promise<void> {
    await Promise.all([clear(this.replicas), clear(this.manifests)]);
  }
}
