import { encode } from '@msgpack/msgpack';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fuzz, mutatedBytes, returns } from '../testing/fuzz.js';
import { SAMPLE_MESSAGES } from '../testing/sample-messages.js';
import { MESSAGES } from './messages.js';
import { HEADER_BYTES, MAX_FRAME_BYTES, decodeFrame, encodeFrame, frameOf, peekKind, roomTag, type Decoded } from './protocol.js';

const TAG = roomTag('fuzzroom');
const FRAMES = SAMPLE_MESSAGES.map((m) => encodeFrame(m, TAG, new Uint8Array([9, 8, 7])));
const CODES = Object.values(MESSAGES).map((s) => s.code);

/** decodeFrame never throws; a rejection names its reason, an acceptance re-encodes to a frame that decodes the same */
function holds(d: Decoded): void {
  if (!d.ok) {
    expect(d.detail.length).toBeGreaterThan(0);
    return;
  }
  const frame = encodeFrame(d.message, TAG, d.payload);
  const again = decodeFrame(frame, TAG);
  expect(again.ok).toBe(true);
  // byte for byte: the message survives a second trip unchanged
  if (again.ok) expect(Buffer.from(encodeFrame(again.message, TAG, again.payload)).equals(frame)).toBe(true);
}

describe('fuzzing the frame decoder (header and body validator)', () => {
  it('random bytes: a clean rejection, never an exception', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
      holds(returns(() => decodeFrame(bytes, TAG), 200));
      peekKind(bytes);
    }), fuzz(3000));
  });

  it('every valid frame mutated (truncated, flipped, overwritten, spliced): rejected with a reason or still a valid message', () => {
    const frame = fc.constantFrom(...FRAMES).chain((f) => mutatedBytes(f));
    fc.assert(fc.property(frame, (bytes) => {
      holds(returns(() => decodeFrame(bytes, TAG), 200));
    }), fuzz(4000));
  });

  it('any MessagePack body under a well-formed header of every kind: the schema decides, nothing escapes', () => {
    const body = fc.oneof(
      fc.anything({ withTypedArray: true, withBigInt: false, maxDepth: 4 }),
      // the right field names with values of any type
      fc.constantFrom(...SAMPLE_MESSAGES).chain((m) => fc.dictionary(fc.constantFrom(...Object.keys(m).filter((k) => k !== 'type')), fc.anything({ withTypedArray: true, maxDepth: 3 }))),
    );
    fc.assert(fc.property(fc.constantFrom(...CODES), body, (code, value) => {
      let packed: Uint8Array;
      try {
        packed = encode(value);
      } catch {
        return; // not encodable as MessagePack: no peer could send it
      }
      if (HEADER_BYTES + packed.length > MAX_FRAME_BYTES) return;
      holds(returns(() => decodeFrame(frameOf(code, TAG, packed), TAG), 200));
    }), fuzz(4000));
  });

  it('header fields with any values: each inconsistent header is refused before the body is read', () => {
    fc.assert(fc.property(fc.constantFrom(...FRAMES), fc.nat({ max: 15 }), fc.nat({ max: 255 }), (frame, at, value) => {
      const bytes = frame.slice();
      bytes[at] = value;
      const d = returns(() => decodeFrame(bytes, TAG), 200);
      holds(d);
      if (value !== frame[at] && at !== 2) expect(d.ok).toBe(false);
    }), fuzz(3000));
  });
});
