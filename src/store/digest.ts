/**
 * SHA-256 for replicas: WebCrypto where the page is a secure context (native, off the JS heap),
 * @noble/hashes where it is not (plain-HTTP LAN pages have no `crypto.subtle`).
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { hashHex } from '../core/hash.js';

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) return hashHex(bytes);
  return bytesToHex(new Uint8Array(await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>)));
}

/** Raw SHA-256 bytes, the same way round. */
export async function sha256Bytes(bytes: Uint8Array): Promise<Uint8Array> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) return sha256(bytes);
  return new Uint8Array(await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
}

/** Read whole and hashed natively up to this size; larger Blobs are streamed through an incremental hash. */
const WHOLE_BELOW = 64 * 1024 * 1024;
const SLICE = 8 * 1024 * 1024;

/**
 * SHA-256 of a Blob with bounded memory: small ones at once (WebCrypto where available), large
 * ones a slice at a time. `progress` gets the bytes hashed so far.
 */
export async function sha256Blob(blob: Blob, progress?: (done: number) => void, wholeBelow = WHOLE_BELOW, slice = SLICE): Promise<string> {
  if (blob.size <= wholeBelow) return sha256Hex(new Uint8Array(await blob.arrayBuffer()));
  const h = sha256.create();
  for (let at = 0; at < blob.size; at += slice) {
    h.update(new Uint8Array(await blob.slice(at, at + slice).arrayBuffer()));
    progress?.(Math.min(blob.size, at + slice));
  }
  return bytesToHex(h.digest());
}
