/**
 * The leader tab's side of running stages for the room: partition sessions loaded from this
 * browser's verified replicas (by hash) into the compute worker once, then run on demand.
 */
import type { Backend } from '../core/protocol.js';
import { ReplicaStore } from '../store/replicas.js';
import type { WireTensor } from './compute-messages.js';
import { ComputeClient } from './compute-client.js';

export class PartitionRunner {
  private readonly client = new ComputeClient();
  private readonly store = new ReplicaStore();
  private readonly loaded = new Map<string, Promise<unknown>>();

  constructor(private readonly backend: Backend) {}

  async run(hash: string, feeds: Record<string, WireTensor>): Promise<{ outputs: Record<string, WireTensor>; ms: number }> {
    await this.load(hash);
    return this.client.run(hash, feeds);
  }

  /** Loads these partitions one after another, ahead of the first request that needs them. */
  async warm(hashes: string[]): Promise<void> {
    for (const h of hashes) await this.load(h).catch(() => undefined);
  }

  private load(hash: string): Promise<unknown> {
    let ready = this.loaded.get(hash);
    if (!ready) {
      ready = this.store.getReplica(hash).then((bytes) => {
        if (!bytes) throw new Error('no verified copy of that partition in this browser');
        return this.client.load(hash, bytes, this.backend);
      });
      this.loaded.set(hash, ready);
      ready.catch(() => this.loaded.delete(hash));
    }
    return ready;
  }

  terminate(): void {
    this.client.terminate();
  }
}
