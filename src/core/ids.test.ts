import { describe, expect, it } from 'vitest';
import { base64url, fromBase64url, parsePeerId, randomName, toPeerId } from './ids.js';
import { parseShareFragment, shareFragment } from './share-link.js';
import { equalBytes, proofTranscript } from './handshake.js';

describe('ids and share links', () => {
  it('builds and parses peer ids', () => {
    const a = { room: 'room1234', deviceId: 'abcdefghijk1', tabId: 'tab00001' };
    expect(parsePeerId(toPeerId(a))).toEqual(a);
    expect(parsePeerId('frim-room1234-abc-tab00001')).toBeNull();
    expect(parsePeerId('someone-else')).toBeNull();
  });

  it('draws names only from the alphabet and refuses short randomness', () => {
    const bytes = Uint8Array.from({ length: 64 }, (_, i) => (i * 37) % 256);
    expect(randomName(bytes, 12)).toMatch(/^[a-z0-9]{12}$/);
    expect(() => randomName(new Uint8Array([255, 254, 253]), 2)).toThrow(RangeError);
  });

  it('round-trips base64url keys', () => {
    const key = Uint8Array.from({ length: 32 }, (_, i) => i * 7);
    const s = base64url(key);
    expect(s).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect([...fromBase64url(s)]).toEqual([...key]);
  });

  it('parses share fragments and explains what is wrong', () => {
    const creds = { room: 'room1234', key: base64url(new Uint8Array(32).fill(9)) };
    expect(parseShareFragment(shareFragment(creds))).toEqual({ kind: 'ok', creds });
    expect(parseShareFragment('')).toEqual({ kind: 'empty' });
    const noKey = parseShareFragment('#room=room1234');
    expect(noKey.kind === 'error' && noKey.message).toMatch(/no room key/);
    const badRoom = parseShareFragment('#room=NO!&key=x');
    expect(badRoom.kind === 'error' && badRoom.message).toMatch(/not a valid room name/);
    const badKey = parseShareFragment('#room=room1234&key=short');
    expect(badKey.kind === 'error' && badKey.message).toMatch(/damaged/);
  });

  it('binds proofs to both parties and both nonces', () => {
    const p = { deviceId: 'aaaaaaaaaaaa', nonce: new Uint8Array(16).fill(1) };
    const v = { deviceId: 'bbbbbbbbbbbb', nonce: new Uint8Array(16).fill(2) };
    const t1 = proofTranscript('room1234', p, v);
    expect(equalBytes(t1, proofTranscript('room1234', p, v))).toBe(true);
    expect(equalBytes(t1, proofTranscript('room1234', v, p))).toBe(false);
    expect(equalBytes(t1, proofTranscript('room9999', p, v))).toBe(false);
  });
});
