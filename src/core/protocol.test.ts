import { describe, expect, it } from 'vitest';
import { encode } from '@msgpack/msgpack';
import { SAMPLE_MANIFEST as MANIFEST, SAMPLE_MESSAGES } from '../testing/sample-messages.js';
import { HEADER_BYTES, MAX_FRAME_BYTES, MessageType, PROTOCOL_VERSION, decodeFrame, encodeFrame, frameOf, roomTag, type Message } from './protocol.js';

const TAG = roomTag('alpharoom');
const hello: Message = { type: 'hello', deviceId: 'abcdefghijk1', nonce: new Uint8Array(16).fill(7) };

function rawFrame(type: number, body: unknown, opts: { tag?: number; version?: number; payload?: number } = {}): Uint8Array {
  const out = frameOf(type, opts.tag ?? TAG, encode(body), new Uint8Array(opts.payload ?? 0));
  out[1] = opts.version ?? PROTOCOL_VERSION;
  return out;
}

describe('protocol v1 frames', () => {
  it('round-trips every message type, with a binary payload', () => {
    const messages = SAMPLE_MESSAGES;
    for (const m of messages) {
      const payload = new Uint8Array([1, 2, 3]);
      const d = decodeFrame(encodeFrame(m, TAG, payload).slice().buffer, TAG);
      expect(d.ok).toBe(true);
      if (d.ok) {
        expect(d.message).toEqual(m);
        expect([...d.payload]).toEqual([1, 2, 3]);
      }
    }
  });

  it('derives distinct room tags', () => {
    expect(roomTag('alpharoom')).not.toBe(roomTag('betaroom'));
  });

  const cases: [string, () => unknown, string][] = [
    ['truncated header', () => encodeFrame(hello, TAG).slice(0, 10), 'short'],
    ['truncated body', () => encodeFrame(hello, TAG).slice(0, -3), 'length'],
    ['oversized', () => new Uint8Array(MAX_FRAME_BYTES + 1), 'oversized'],
    ['wrong version', () => rawFrame(MessageType.hello, { deviceId: 'abcdefghijk1', nonce: new Uint8Array(16) }, { version: 2 }), 'version'],
    ['wrong room', () => encodeFrame(hello, roomTag('otherroom')), 'room'],
    ['bad magic', () => { const f = encodeFrame(hello, TAG); f[0] = 0; return f; }, 'magic'],
    ['unknown type', () => rawFrame(99, {}), 'type'],
    ['flags set', () => { const f = encodeFrame(hello, TAG); f[3] = 1; return f; }, 'flags'],
    ['payload length lies', () => rawFrame(MessageType.ping, { seq: 1, t: 1 }, { payload: 0 }).slice(0, -1), 'length'],
    ['body not msgpack', () => { const f = new Uint8Array(HEADER_BYTES + 1); const v = new DataView(f.buffer); v.setUint8(0, 0xf7); v.setUint8(1, 1); v.setUint8(2, 4); v.setUint32(4, TAG); v.setUint32(8, 1); f[16] = 0xc1; return f; }, 'body'],
    ['text instead of bytes', () => 'hello', 'body'],
    ['body not a map', () => rawFrame(MessageType.ping, [1, 2]), 'schema'],
    ['short nonce', () => rawFrame(MessageType.hello, { deviceId: 'abcdefghijk1', nonce: new Uint8Array(3) }), 'schema'],
    ['bad device id', () => rawFrame(MessageType.hello, { deviceId: '../etc', nonce: new Uint8Array(16) }), 'schema'],
    ['negative seq', () => rawFrame(MessageType.ping, { seq: -1, t: 1 }), 'schema'],
    ['extra field', () => rawFrame(MessageType.ping, { seq: 1, t: 1, evil: true }), 'schema'],
    ['unknown backend', () => rawFrame(MessageType.info, { name: 'x', backend: 'cuda' }), 'schema'],
    ['huge name', () => rawFrame(MessageType.info, { name: 'x'.repeat(500), backend: 'wasm' }), 'schema'],
    ['a name that reverses the text after it', () => rawFrame(MessageType.info, { name: 'Laptop\u202E', backend: 'wasm' }), 'schema'],
    ['an empty name', () => rawFrame(MessageType.info, { name: '  ', backend: 'wasm' }), 'schema'],
    ['replica hash not hex', () => rawFrame(MessageType['replica-chunk'], { hash: 'z'.repeat(64), index: 1 }), 'schema'],
    ['replica chunk list of strings', () => rawFrame(MessageType['replica-request'], { hash: 'a'.repeat(64), chunks: ['1'] }), 'schema'],
    ['ragged chunk hashes', () => rawFrame(MessageType['replica-offer'], { hash: 'a'.repeat(64), bytes: 10, chunkBytes: 4, first: 0, chunkHashes: new Uint8Array(17) }), 'schema'],
    ['an offer part with too many hashes', () => rawFrame(MessageType['replica-offer'], { hash: 'a'.repeat(64), bytes: 10, chunkBytes: 4, first: 0, chunkHashes: new Uint8Array(4097 * 16) }), 'schema'],
  ];
  for (const [name, make, error] of cases) {
    it(`rejects ${name} as ${error}`, () => {
      const d = decodeFrame(make(), TAG);
      expect(d.ok).toBe(false);
      if (!d.ok) expect(d.error).toBe(error);
    });
  }

  it('refuses to encode a frame over the limit', () => {
    expect(() => encodeFrame({ type: 'ping', seq: 1, t: 1 }, TAG, new Uint8Array(MAX_FRAME_BYTES))).toThrow(RangeError);
  });

  it('refuses room messages whose nested parts are malformed', () => {
    const settings = { model: null, modelAt: 0, modelBy: '', target: 0.999, targetAt: 0, targetBy: '' };
    const holdings = { holds: [], fetching: [], budget: 1, used: 0, sessions: [] };
    const bad: [number, unknown, RegExp][] = [
      [MessageType.announce, { holdings: { ...holdings, holds: ['nothex'] }, room: settings }, /bad holdings/],
      [MessageType.announce, { holdings: { ...holdings, sessions: [{ hash: 'ab'.repeat(32), backend: 'cuda' }] }, room: settings }, /bad holdings/],
      [MessageType.announce, { holdings: { ...holdings, sessions: [{ hash: 'ab'.repeat(32), backend: 'wasm', extra: 1 }] }, room: settings }, /bad holdings/],
      [MessageType.announce, { holdings, room: { ...settings, target: 2 } }, /bad room settings/],
      [MessageType.announce, { holdings, room: { ...settings, extra: 1 } }, /bad room settings/],
      [MessageType.manifest, { manifest: { ...MANIFEST, format: 2 } }, /format 2/],
      [MessageType.manifest, { manifest: { ...MANIFEST, partitions: [{ ...MANIFEST.partitions[0], id: 3 }] } }, /bad partition entry/],
      [MessageType.manifest, { manifest: { ...MANIFEST, partitions: [] } }, /bad partition list/],
      [MessageType.fetch, { hash: 'ab'.repeat(32), from: ['NOT-AN-ID'] }, /bad holder list/],
      [MessageType['replica-missing'], { hash: 'ab'.repeat(32), reason: 'x'.repeat(300) }, /bad reason/],
      [MessageType['stage-run'], { req: 'abcdefghijk1-1', stage: 0, key: 'ab'.repeat(32), requester: 'abcdefghijk1', twin: '', mode: 'frim', path: [], part: 1, parts: 1, table: null }, /bad parts/],
      [MessageType['stage-run'], { req: 'abcdefghijk1-1', stage: 0, key: 'ab'.repeat(32), requester: 'abcdefghijk1', twin: '', mode: 'frim', path: [], part: 1, parts: 2, table: [] }, /bad parts/],
      [MessageType['stage-run'], { req: 'abcdefghijk1-1', stage: 0, key: 'ab'.repeat(32), requester: 'abcdefghijk1', twin: '', mode: 'fast', path: [], part: 0, parts: 1, table: [] }, /bad mode/],
      [MessageType['stage-confirm'], { req: '../../etc', stage: 0, key: 'ab'.repeat(32) }, /bad req/],
      [MessageType['stage-done'], { req: 'abcdefghijk1-1', stage: 99, by: 'abcdefghijk1', computeMs: 1, next: [] }, /bad stage/],
    ];
    for (const [type, body, why] of bad) {
      const d = decodeFrame(rawFrame(type, body), TAG);
      expect(d.ok).toBe(false);
      if (!d.ok) {
        expect(d.error).toBe('schema');
        expect(d.detail).toMatch(why);
      }
    }
  });
});
