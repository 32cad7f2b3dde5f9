/**
 * The mesh wire protocol, version 1: one binary frame per data-channel message.
 *
 *   offset  size  field
 *   0       1     magic 0xF7
 *   1       1     protocol version
 *   2       1     message type
 *   3       1     flags (0; reserved)
 *   4       4     room tag: first 4 bytes of SHA-256(room name), big-endian
 *   8       4     body length (MessagePack map)
 *   12      4     payload length (raw bytes: tensors, replica chunks)
 *   16      ...   body, then payload
 *
 * Every frame is validated here (magic, version, type, sizes, room, body schema) before anything
 * else sees it; a bad frame becomes a `DecodeError` value, never an exception.
 */
import { decode, encode } from '@msgpack/msgpack';
import { sha256 } from '@noble/hashes/sha2.js';
import { MESSAGES, kindOfCode, parseMessage, routeOf, type Message, type MessageKind, type Route } from './messages.js';
import { isInvalid } from './schema.js';

export { MessageType, NONCE_BYTES, MAC_BYTES, routeOf, type Backend, type InferenceMode, type Message, type MessageKind, type MessageOf, type Route } from './messages.js';

export const PROTOCOL_VERSION = 1;
export const MAGIC = 0xf7;
export const HEADER_BYTES = 16;
/** Largest frame accepted: a 64 KiB chunk with room to spare, well under Chrome's SCTP limit. */
export const MAX_FRAME_BYTES = 128 * 1024;

/**
 * The kind of a frame from its header alone, without decoding its body, so a frame can be routed
 * (or a chunk's payload handled) cheaply; null when the frame is too short or of no known kind.
 */
export function peekKind(frame: Uint8Array): MessageKind | null {
  return frame.length >= HEADER_BYTES ? kindOfCode(frame[2]) ?? null : null;
}
export function peekRoute(frame: Uint8Array): Route | null {
  const kind = peekKind(frame);
  return kind ? routeOf(kind) : null;
}

export type DecodeError =
  | 'short' | 'magic' | 'version' | 'type' | 'flags' | 'oversized' | 'length' | 'room' | 'body' | 'schema';

export type Decoded =
  | { ok: true; message: Message; payload: Uint8Array }
  | { ok: false; error: DecodeError; detail: string };


export function roomTag(room: string): number {
  const h = sha256(new TextEncoder().encode(room));
  return ((h[0] << 24) | (h[1] << 16) | (h[2] << 8) | h[3]) >>> 0;
}

export function encodeFrame(message: Message, tag: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const { type, ...fields } = message;
  const body = encode(fields);
  const total = HEADER_BYTES + body.length + payload.length;
  if (total > MAX_FRAME_BYTES) throw new RangeError(`frame of ${total} bytes exceeds ${MAX_FRAME_BYTES}`);
  return frameOf(MESSAGES[type].code, tag, body, payload);
}

/**
 * The header in front of an encoded body and a payload, unchecked: `encodeFrame` for messages,
 * and tests that build frames no valid message makes.
 */
export function frameOf(code: number, tag: number, body: Uint8Array, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + body.length + payload.length);
  const view = new DataView(out.buffer);
  view.setUint8(0, MAGIC);
  view.setUint8(1, PROTOCOL_VERSION);
  view.setUint8(2, code);
  view.setUint8(3, 0);
  view.setUint32(4, tag);
  view.setUint32(8, body.length);
  view.setUint32(12, payload.length);
  out.set(body, HEADER_BYTES);
  out.set(payload, HEADER_BYTES + body.length);
  return out;
}

function fail(error: DecodeError, detail: string): Decoded {
  return { ok: false, error, detail };
}

export function decodeFrame(data: unknown, expectedTag: number): Decoded {
  let bytes: Uint8Array;
  if (data instanceof ArrayBuffer) bytes = new Uint8Array(data);
  else if (data instanceof Uint8Array) bytes = data;
  else return fail('body', `not binary (${typeof data})`);
  if (bytes.length > MAX_FRAME_BYTES) return fail('oversized', `${bytes.length} bytes > ${MAX_FRAME_BYTES}`);
  if (bytes.length < HEADER_BYTES) return fail('short', `${bytes.length} bytes < header ${HEADER_BYTES}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint8(0) !== MAGIC) return fail('magic', `magic 0x${view.getUint8(0).toString(16)}`);
  const version = view.getUint8(1);
  if (version !== PROTOCOL_VERSION) return fail('version', `version ${version}, expected ${PROTOCOL_VERSION}`);
  const kind = kindOfCode(view.getUint8(2));
  if (!kind) return fail('type', `unknown type ${view.getUint8(2)}`);
  if (view.getUint8(3) !== 0) return fail('flags', `flags ${view.getUint8(3)}`);
  const tag = view.getUint32(4);
  if (tag !== expectedTag) return fail('room', `room tag ${tag.toString(16)} is not this room's`);
  const bodyLen = view.getUint32(8);
  const payloadLen = view.getUint32(12);
  if (HEADER_BYTES + bodyLen + payloadLen !== bytes.length) {
    return fail('length', `header says ${HEADER_BYTES + bodyLen + payloadLen} bytes, frame has ${bytes.length}`);
  }
  let body: unknown;
  try {
    body = decode(bytes.subarray(HEADER_BYTES, HEADER_BYTES + bodyLen));
  } catch (e) {
    return fail('body', `body is not MessagePack: ${(e as Error).message}`);
  }
  const message = parseMessage(kind, body);
  if (isInvalid(message)) return fail('schema', `${kind}: ${message.invalid}`);
  return { ok: true, message, payload: bytes.subarray(HEADER_BYTES + bodyLen) };
}

