import { describe, expect, it } from 'vitest';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { hmacSha256 } from './hmac.js';

describe('hmacSha256', () => {
  it('matches the library (plain-HTTP path) and RFC 4231 test case 2', async () => {
    const key = new TextEncoder().encode('Jefe');
    const msg = new TextEncoder().encode('what do ya want for nothing?');
    const viaWebCrypto = await hmacSha256(key, msg);
    expect([...viaWebCrypto]).toEqual([...hmac(sha256, key, msg)]);
    expect(Buffer.from(viaWebCrypto).toString('hex')).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  });
});
