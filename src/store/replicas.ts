/**
 * Verified replicas and manifests in IndexedDB (idb-keyval), keyed by content hash, so a
 * reloaded or restarted device announces what it holds and serves it without downloading again.
 * Only bytes whose SHA-256 matches the key are ever stored or returned.
 *
 * Replicas are stored as Blobs: the browser keeps them on disk, a holder reads only the window of
 * a replica it is sending, and nothing here needs a whole partition in memory except a session
 * load, which needs it anyway.
 */
import { clear, createStore, del, get, keys, set, type UseStore } from 'idb-keyval';
import { sha256Blob, sha256Hex } from './digest.js';
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

/** Replicas stored by earlier versions are byte arrays; newer ones are Blobs. */
function asBlob(v: Blob | Uint8Array): Blob {
  return v instanceof Blob ? v : new Blob([v as Uint8Array<ArrayBuffer>]);
}

export class ReplicaStore {
  private readonly replicas: UseStore;
  private readonly manifests: UseStore;

  constructor(dbPrefix = 'frim-mesh') {
    // one database per store: idb-keyval's createStore keeps a single object store per database
    this.replicas = createStore(`${dbPrefix}-replicas`, 'replicas');
    this.manifests = createStore(`${dbPrefix}-manifests`, 'manifests');
  }

  /** Stores bytes after checking them against `hash`. */
  async putReplica(hash: string, bytes: Uint8Array): Promise<void> {
    const actual = await sha256Hex(bytes);
    if (actual !== hash) throw new Error(`refusing to store a replica whose SHA-256 ${actual.slice(0, 12)}… is not ${hash.slice(0, 12)}…`);
    await this.write(hash, new Blob([bytes as Uint8Array<ArrayBuffer>]));
  }

  /** Stores data whose SHA-256 the caller has just computed over exactly these bytes. */
  async putVerified(hash: string, data: Blob | Uint8Array): Promise<void> {
    await this.write(hash, asBlob(data));
  }

  private async write(hash: string, blob: Blob): Promise<void> {
    try {
      await set(hash, blob, this.replicas);
    } catch (e) {
      if (isQuotaError(e)) throw new StorageFullError(blob.size);
      throw e;
    }
  }

  /** The stored replica's bytes, re-verified; a damaged entry is deleted and reported as absent. */
  async getReplica(hash: string): Promise<Uint8Array | null> {
    const v = await get<Blob | Uint8Array>(hash, this.replicas);
    if (!v) return null;
    const bytes = v instanceof Blob ? new Uint8Array(await v.arrayBuffer()) : v;
    if ((await sha256Hex(bytes)) !== hash) {
      await del(hash, this.replicas);
      return null;
    }
    return bytes;
  }

  /** The stored replica as a Blob, not read (a holder reads the windows it sends; receivers verify). */
  async getBlob(hash: string): Promise<Blob | null> {
    const v = await get<Blob | Uint8Array>(hash, this.replicas);
    return v ? asBlob(v) : null;
  }

  /** Checks a stored replica in slices (bounded memory); deletes it and answers 0 when it is damaged, else its size. */
  async verify(hash: string): Promise<number> {
    const blob = await this.getBlob(hash);
    if (!blob) return 0;
    if ((await sha256Blob(blob)) === hash) return blob.size;
    await del(hash, this.replicas);
    return 0;
  }

  async has(hash: string): Promise<boolean> {
    return (await get(hash, this.replicas)) !== undefined;
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
