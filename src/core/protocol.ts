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
 *   12      4     payload length (raw bytes, for tensors and replica chunks later)
 *   16      ...   body, then payload
 *
 * Every frame is validated here (magic, version, type, sizes, room, body schema) before anything
 * else sees it; a bad frame becomes a `DecodeError` value, never an exception.
 */
import { decode, encode } from '@msgpack/msgpack';
import { sha256 } from '@noble/hashes/sha2.js';
import { DEVICE_ID_RE } from './ids.js';
import type { Manifest } from './onnx/manifest.js';
import { checkHoldings, checkManifest, checkSettings, type DeviceHoldings, type RoomSettings } from './room.js';
import type { TensorEntry } from './tensors.js';
import { CHUNK_HASH_BYTES, OFFER_PART_HASHES } from './transfer.js';

export const PROTOCOL_VERSION = 1;
export const MAGIC = 0xf7;
export const HEADER_BYTES = 16;
/** Largest frame accepted: a 64 KiB chunk with room to spare, well under Chrome's SCTP limit. */
export const MAX_FRAME_BYTES = 128 * 1024;
export const NONCE_BYTES = 16;
export const MAC_BYTES = 32;

export const MessageType = {
  hello: 1,
  proof: 2,
  reject: 3,
  ping: 4,
  pong: 5,
  info: 6,
  'replica-request': 7,
  'replica-offer': 8,
  'replica-chunk': 9,
  announce: 10,
  manifest: 11,
  fetch: 12,
  retire: 13,
  'replica-missing': 14,
  'manifest-request': 15,
  'stage-confirm': 16,
  'stage-ack': 17,
  'stage-run': 18,
  'stage-done': 19,
  'stage-result': 20,
  'stage-error': 21,
} as const;

export type InferenceMode = 'frim' | 'no-config';
export type MessageKind = keyof typeof MessageType;

export type Backend = 'webgpu' | 'wasm';

export type Message =
  | { type: 'hello'; deviceId: string; nonce: Uint8Array }
  | { type: 'proof'; mac: Uint8Array }
  | { type: 'reject'; reason: string }
  | { type: 'ping'; seq: number; t: number }
  | { type: 'pong'; seq: number; t: number }
  | { type: 'info'; name: string; backend: Backend }
  /** ask a holder of a replica (by its SHA-256) for its offer (`chunks` null), or for these chunks */
  | { type: 'replica-request'; hash: string; chunks: number[] | null }
  /** the file's size and chunking, and the hashes of chunks `first`.. (an offer may take several frames) */
  | { type: 'replica-offer'; hash: string; bytes: number; chunkBytes: number; first: number; chunkHashes: Uint8Array }
  /** the chunk's bytes travel as the frame payload */
  | { type: 'replica-chunk'; hash: string; index: number }
  /** what the sender holds and offers, and its view of the room's settings */
  | { type: 'announce'; holdings: DeviceHoldings; room: RoomSettings }
  /** the partition manifest of a model the room serves */
  | { type: 'manifest'; manifest: Manifest }
  /** the coordinator asks the receiver to fetch a replica, from these holders in this order */
  | { type: 'fetch'; hash: string; from: string[] }
  /** the coordinator asks the receiver to drop a copy the room no longer needs */
  | { type: 'retire'; hash: string }
  /** a holder cannot serve a replica it was asked for */
  | { type: 'replica-missing'; hash: string; reason: string }
  /** the room names an offload (its `manifestKey`) whose manifest this device lacks */
  | { type: 'manifest-request'; key: string }
  // ---- distributed inference (FRIM 4.3) ----
  /** may you run `stage` of offload `key` for request `req` now? (resource confirmation) */
  | { type: 'stage-confirm'; req: string; stage: number; key: string }
  /** `queued`: jobs ahead of it; `ok` false when the device is full or lacks the copy */
  | { type: 'stage-ack'; req: string; stage: number; ok: boolean; queued: number }
  /**
   * Run `stage` on the carried tensors (payload; `table` in part 0). `twin`: the other device given
   * the same stage ('' for none). `path`: the fixed device per stage in `no-config` mode, else [].
   */
  | { type: 'stage-run'; req: string; stage: number; key: string; requester: string; twin: string; mode: InferenceMode; path: string[]; part: number; parts: number; table: TensorEntry[] | null }
  /** `by` finished `stage` first: its twin drops the job, every device learns its compute time; `next`: where it sent the stage after */
  | { type: 'stage-done'; req: string; stage: number; by: string; computeMs: number; next: string[] }
  /** the model outputs, back to the requester (payload; `table` in part 0) */
  | { type: 'stage-result'; req: string; by: string; part: number; parts: number; table: TensorEntry[] | null }
  | { type: 'stage-error'; req: string; stage: number; reason: string };

/** Messages the room's offloading logic handles (the device worker), as opposed to the link's own. */
export const ROOM_MESSAGES: ReadonlySet<MessageKind> = new Set(['replica-request', 'replica-offer', 'replica-chunk', 'announce', 'manifest', 'fetch', 'retire', 'replica-missing', 'manifest-request',
  'stage-confirm', 'stage-ack', 'stage-run', 'stage-done', 'stage-result', 'stage-error']);

export type DecodeError =
  | 'short' | 'magic' | 'version' | 'type' | 'flags' | 'oversized' | 'length' | 'room' | 'body' | 'schema';

export type Decoded =
  | { ok: true; message: Message; payload: Uint8Array }
  | { ok: false; error: DecodeError; detail: string };

const KIND_BY_CODE = new Map<number, MessageKind>(
  Object.entries(MessageType).map(([k, v]) => [v, k as MessageKind]),
);

export function roomTag(room: string): number {
  const h = sha256(new TextEncoder().encode(room));
  return ((h[0] << 24) | (h[1] << 16) | (h[2] << 8) | h[3]) >>> 0;
}

export function encodeFrame(message: Message, tag: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const { type, ...fields } = message;
  const body = encode(fields);
  const total = HEADER_BYTES + body.length + payload.length;
  if (total > MAX_FRAME_BYTES) throw new RangeError(`frame of ${total} bytes exceeds ${MAX_FRAME_BYTES}`);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint8(0, MAGIC);
  view.setUint8(1, PROTOCOL_VERSION);
  view.setUint8(2, MessageType[type]);
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
  const kind = KIND_BY_CODE.get(view.getUint8(2));
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
  const message = validateBody(kind, body);
  if (typeof message === 'string') return fail('schema', `${kind}: ${message}`);
  return { ok: true, message, payload: bytes.subarray(HEADER_BYTES + bodyLen) };
}

type Fields = Record<string, unknown>;

function isBytes(v: unknown, len: number): v is Uint8Array {
  return v instanceof Uint8Array && v.length === len;
}
function isUint(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= Number.MAX_SAFE_INTEGER;
}
function isTime(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}
function isHash(v: unknown): v is string {
  return typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);
}
/** request ids: `<requester device>-<number>` */
function isReq(v: unknown): v is string {
  return typeof v === 'string' && /^[a-z0-9]{12}-[0-9]{1,12}$/.test(v);
}
function isStage(v: unknown): v is number {
  return isUint(v) && v < 64;
}
function isDevice(v: unknown): v is string {
  return typeof v === 'string' && DEVICE_ID_RE.test(v);
}
/** a tensor set split into at most 1024 parts of one frame each */
function isParts(part: unknown, parts: unknown): boolean {
  return isUint(part) && isUint(parts) && parts >= 1 && parts <= 1024 && part < parts;
}
/** the table travels with part 0 only; its entries are checked in full when the set is unpacked */
function isTable(table: unknown, part: unknown): boolean {
  return part === 0 ? Array.isArray(table) && table.length <= 256 : table === null;
}
function isText(v: unknown, max: number): v is string {
  return typeof v === 'string' && v.length <= max;
}

/** Returns the typed message, or a reason string. Unknown extra fields are refused, not ignored. */
function validateBody(kind: MessageKind, body: unknown): Message | string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'body is not a map';
  const f = body as Fields;
  const keys = (...allowed: string[]): string | null => {
    const extra = Object.keys(f).filter((k) => !allowed.includes(k));
    return extra.length ? `unexpected field ${extra[0]}` : null;
  };
  switch (kind) {
    case 'hello':
      if (!isText(f.deviceId, 12) || !DEVICE_ID_RE.test(f.deviceId)) return 'bad deviceId';
      if (!isBytes(f.nonce, NONCE_BYTES)) return 'bad nonce';
      return keys('deviceId', 'nonce') ?? { type: 'hello', deviceId: f.deviceId, nonce: f.nonce };
    case 'proof':
      if (!isBytes(f.mac, MAC_BYTES)) return 'bad mac';
      return keys('mac') ?? { type: 'proof', mac: f.mac };
    case 'reject':
      if (!isText(f.reason, 200)) return 'bad reason';
      return keys('reason') ?? { type: 'reject', reason: f.reason };
    case 'ping':
    case 'pong':
      if (!isUint(f.seq)) return 'bad seq';
      if (!isTime(f.t)) return 'bad t';
      return keys('seq', 't') ?? { type: kind, seq: f.seq, t: f.t };
    case 'info':
      if (!isText(f.name, 64)) return 'bad name';
      if (f.backend !== 'webgpu' && f.backend !== 'wasm') return 'bad backend';
      return keys('name', 'backend') ?? { type: 'info', name: f.name, backend: f.backend };
    case 'replica-request':
      if (!isHash(f.hash)) return 'bad hash';
      if (f.chunks !== null && !(Array.isArray(f.chunks) && f.chunks.length <= 16384 && f.chunks.every(isUint))) return 'bad chunks';
      return keys('hash', 'chunks') ?? { type: 'replica-request', hash: f.hash, chunks: f.chunks as number[] | null };
    case 'replica-offer':
      if (!isHash(f.hash)) return 'bad hash';
      if (!isUint(f.bytes) || !isUint(f.chunkBytes) || f.chunkBytes === 0 || !isUint(f.first)) return 'bad sizes';
      if (!(f.chunkHashes instanceof Uint8Array) || f.chunkHashes.length % CHUNK_HASH_BYTES !== 0 || f.chunkHashes.length > OFFER_PART_HASHES * CHUNK_HASH_BYTES) return 'bad chunk hashes';
      return keys('hash', 'bytes', 'chunkBytes', 'first', 'chunkHashes') ?? { type: 'replica-offer', hash: f.hash, bytes: f.bytes, chunkBytes: f.chunkBytes, first: f.first, chunkHashes: f.chunkHashes };
    case 'replica-chunk':
      if (!isHash(f.hash)) return 'bad hash';
      if (!isUint(f.index)) return 'bad index';
      return keys('hash', 'index') ?? { type: 'replica-chunk', hash: f.hash, index: f.index };
    case 'announce': {
      const holdings = checkHoldings(f.holdings);
      if (!holdings) return 'bad holdings';
      const room = checkSettings(f.room);
      if (!room) return 'bad room settings';
      return keys('holdings', 'room') ?? { type: 'announce', holdings, room };
    }
    case 'manifest': {
      const manifest = checkManifest(f.manifest);
      if (typeof manifest === 'string') return manifest;
      return keys('manifest') ?? { type: 'manifest', manifest };
    }
    case 'fetch':
      if (!isHash(f.hash)) return 'bad hash';
      if (!Array.isArray(f.from) || f.from.length > 64 || !f.from.every((d) => isText(d, 12) && DEVICE_ID_RE.test(d))) return 'bad holder list';
      return keys('hash', 'from') ?? { type: 'fetch', hash: f.hash, from: f.from as string[] };
    case 'retire':
      if (!isHash(f.hash)) return 'bad hash';
      return keys('hash') ?? { type: 'retire', hash: f.hash };
    case 'replica-missing':
      if (!isHash(f.hash)) return 'bad hash';
      if (!isText(f.reason, 200)) return 'bad reason';
      return keys('hash', 'reason') ?? { type: 'replica-missing', hash: f.hash, reason: f.reason };
    case 'manifest-request':
      if (!isHash(f.key)) return 'bad key';
      return keys('key') ?? { type: 'manifest-request', key: f.key };
    case 'stage-confirm':
      if (!isReq(f.req) || !isStage(f.stage) || !isHash(f.key)) return 'bad stage reference';
      return keys('req', 'stage', 'key') ?? { type: 'stage-confirm', req: f.req, stage: f.stage, key: f.key };
    case 'stage-ack':
      if (!isReq(f.req) || !isStage(f.stage) || typeof f.ok !== 'boolean' || !isUint(f.queued)) return 'bad ack';
      return keys('req', 'stage', 'ok', 'queued') ?? { type: 'stage-ack', req: f.req, stage: f.stage, ok: f.ok, queued: f.queued };
    case 'stage-run':
      if (!isReq(f.req) || !isStage(f.stage) || !isHash(f.key)) return 'bad stage reference';
      if (!isDevice(f.requester) || !(f.twin === '' || isDevice(f.twin))) return 'bad device';
      if (f.mode !== 'frim' && f.mode !== 'no-config') return 'bad mode';
      if (!Array.isArray(f.path) || f.path.length > 64 || !f.path.every(isDevice)) return 'bad path';
      if (!isParts(f.part, f.parts) || !isTable(f.table, f.part)) return 'bad parts';
      return keys('req', 'stage', 'key', 'requester', 'twin', 'mode', 'path', 'part', 'parts', 'table')
        ?? { type: 'stage-run', req: f.req, stage: f.stage, key: f.key, requester: f.requester, twin: f.twin, mode: f.mode, path: f.path as string[], part: f.part as number, parts: f.parts as number, table: f.table as TensorEntry[] | null };
    case 'stage-done':
      if (!isReq(f.req) || !isStage(f.stage) || !isDevice(f.by) || !isTime(f.computeMs)) return 'bad done';
      if (!Array.isArray(f.next) || f.next.length > 8 || !f.next.every(isDevice)) return 'bad next';
      return keys('req', 'stage', 'by', 'computeMs', 'next') ?? { type: 'stage-done', req: f.req, stage: f.stage, by: f.by, computeMs: f.computeMs, next: f.next as string[] };
    case 'stage-result':
      if (!isReq(f.req) || !isDevice(f.by)) return 'bad result';
      if (!isParts(f.part, f.parts) || !isTable(f.table, f.part)) return 'bad parts';
      return keys('req', 'by', 'part', 'parts', 'table') ?? { type: 'stage-result', req: f.req, by: f.by, part: f.part as number, parts: f.parts as number, table: f.table as TensorEntry[] | null };
    case 'stage-error':
      if (!isReq(f.req) || !isStage(f.stage) || !isText(f.reason, 200)) return 'bad error';
      return keys('req', 'stage', 'reason') ?? { type: 'stage-error', req: f.req, stage: f.stage, reason: f.reason };
  }
}
