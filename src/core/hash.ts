/** SHA-256 as lowercase hex: the content hash that names models, partitions and replicas everywhere. */
import { bytesToHex } from '@noble/hashes/utils.js';
import { sha256 } from '@noble/hashes/sha2.js';

export function hashHex(bytes: Uint8Array): string {
  return bytesToHex(sha256(bytes));
}
