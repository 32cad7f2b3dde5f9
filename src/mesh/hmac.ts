/**
 * HMAC-SHA256 for the room-key proof: WebCrypto in secure contexts; @noble/hashes on plain
 * http:// LAN addresses, where `crypto.subtle` does not exist.
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import type { HmacSha256 } from '../core/handshake.js';

export const hmacProvider: 'WebCrypto' | '@noble/hashes' = globalThis.crypto?.subtle ? 'WebCrypto' : '@noble/hashes';

const keys = new WeakMap<Uint8Array, Promise<CryptoKey>>();

export const hmacSha256: HmacSha256 = async (key, message) => {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) return hmac(sha256, key, message);
  let k = keys.get(key);
  if (!k) {
    k = subtle.importKey('raw', key as BufferSource, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    keys.set(key, k);
  }
  return new Uint8Array(await subtle.sign('HMAC', await k, message as BufferSource));
};
