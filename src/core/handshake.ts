/**
 * Room-key proof (mutual challenge-response). Each side sends a fresh nonce in `hello`; each
 * proves it holds the key with HMAC-SHA256 over a transcript binding the room, both device ids
 * and both nonces, so a proof cannot be replayed to another peer, room or session. The MAC
 * function is injected: WebCrypto where the page is a secure context, a library elsewhere.
 */
export type HmacSha256 = (key: Uint8Array, message: Uint8Array) => Promise<Uint8Array>;

export function proofTranscript(room: string, prover: { deviceId: string; nonce: Uint8Array }, verifier: { deviceId: string; nonce: Uint8Array }): Uint8Array {
  const head = new TextEncoder().encode(`frim-mesh/1 proof|${room}|${prover.deviceId}|${verifier.deviceId}|`);
  const out = new Uint8Array(head.length + prover.nonce.length + verifier.nonce.length);
  out.set(head);
  out.set(verifier.nonce, head.length);
  out.set(prover.nonce, head.length + verifier.nonce.length);
  return out;
}

/** Constant-time comparison, so a forged proof learns nothing from timing. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}
