/**
 * Every mesh message, declared once: its wire code, who handles it, and its fields' parsers.
 * The `Message` union, the routing sets, the header peek and the validator all derive from this
 * table (protocol.ts is the frame codec around it).
 */
import { deviceName } from './device-name.js';
import { DEVICE_ID_RE } from './ids.js';
import { checkHoldings, checkManifest, checkSettings } from './room.js';
import { backend, checked, guard, hash, invalid, isInvalid, listOf, oneOf, orNull, parseFields, text, time, uint, isUint, type BodyOf, type Fields, type Invalid, type Parse, type Parsed } from './schema.js';
import type { TensorEntry } from './tensors.js';
import { CHUNK_HASH_BYTES, OFFER_PART_HASHES } from './transfer.js';

export const NONCE_BYTES = 16;
export const MAC_BYTES = 32;

export type { Backend } from './schema.js';
export type InferenceMode = Parsed<typeof mode>;

/**
 * Who handles a message on arrival: the link itself (handshake, heartbeats), the device's
 * offloading (replicas, placement), or its inference (FRIM 4.3 stages).
 */
export type Route = 'link' | 'offload' | 'inference';

const isDevice = (v: unknown): v is string => typeof v === 'string' && DEVICE_ID_RE.test(v);
const device = (reason: string): Parse<string> => guard(isDevice, reason);
const bytes = (len: number, reason: string): Parse<Uint8Array> => guard<Uint8Array>((v) => v instanceof Uint8Array && v.length === len, reason);
/** request ids: `<requester device>-<number>` */
const req = guard<string>((v) => typeof v === 'string' && /^[a-z0-9]{12}-[0-9]{1,12}$/.test(v), 'bad req');
/** the other device given the same stage, '' for none */
const twin = guard<string>((v: unknown) => v === '' || isDevice(v), 'bad device');
/** `frim`, or one of the paper's baselines (core/baselines.ts) */
export const mode = oneOf(['frim', 'no-config', 'early-exit', 'skip-connection'] as const, 'bad mode');
const stage = guard<number>((v) => isUint(v) && v < 64, 'bad stage');
/** a tensor set split into at most 1024 parts of one frame each; the table travels with part 0 only */
const tensorParts = {
  part: uint('bad parts'),
  parts: guard<number>((v) => isUint(v) && v >= 1 && v <= 1024, 'bad parts'),
  // entries are checked in full when the set is unpacked
  table: orNull(listOf<TensorEntry>(() => true, 256, 'bad parts')),
};
const partsAgree = <M extends { part: number; parts: number; table: unknown }>(m: M): string | null =>
  m.part < m.parts && (m.part === 0) === (m.table !== null) ? null : 'bad parts';

interface Spec<F extends Fields> {
  code: number;
  route: Route;
  fields: F;
  /** a check across fields, after each parsed */
  whole?: (m: NoInfer<BodyOf<F>>) => string | null;
}
const spec = <F extends Fields>(s: Spec<F>): Spec<F> => s;

export const MESSAGES = {
  hello: spec({ code: 1, route: 'link', fields: { deviceId: device('bad deviceId'), nonce: bytes(NONCE_BYTES, 'bad nonce') } }),
  proof: spec({ code: 2, route: 'link', fields: { mac: bytes(MAC_BYTES, 'bad mac') } }),
  reject: spec({ code: 3, route: 'link', fields: { reason: text(200, 'bad reason') } }),
  ping: spec({ code: 4, route: 'link', fields: { seq: uint('bad seq'), t: time('bad t') } }),
  pong: spec({ code: 5, route: 'link', fields: { seq: uint('bad seq'), t: time('bad t') } }),
  /** the sender's name, held to the same rule as a name typed here, so no peer can disguise itself in our tables */
  info: spec({ code: 6, route: 'link', fields: { name: deviceName, backend } }),
  /** the leader tab is closing and another tab of the same device takes over its connections */
  handover: spec({ code: 23, route: 'link', fields: {} }),
  /**
   * the sender's device leaves the room on purpose (its last tab is closing, or its user left):
   * it names itself, and a receiver takes it only from that device's own verified link
   */
  leaving: spec({ code: 24, route: 'link', fields: { deviceId: device('bad deviceId') } }),
  /** ask a holder of a replica (by its SHA-256) for its offer (`chunks` null), or for these chunks */
  'replica-request': spec({ code: 7, route: 'offload', fields: { hash: hash('bad hash'), chunks: orNull(listOf<number>(isUint, 16384, 'bad chunks')) } }),
  /** the file's size and chunking, and the hashes of chunks `first`.. (an offer may take several frames) */
  'replica-offer': spec({
    code: 8, route: 'offload',
    fields: {
      hash: hash('bad hash'), bytes: uint('bad sizes'), chunkBytes: guard<number>((v) => isUint(v) && v > 0, 'bad sizes'), first: uint('bad sizes'),
      chunkHashes: guard<Uint8Array>((v) => v instanceof Uint8Array && v.length % CHUNK_HASH_BYTES === 0 && v.length <= OFFER_PART_HASHES * CHUNK_HASH_BYTES, 'bad chunk hashes'),
    },
  }),
  /** the chunk's bytes travel as the frame payload */
  'replica-chunk': spec({ code: 9, route: 'offload', fields: { hash: hash('bad hash'), index: uint('bad index') } }),
  /** what the sender holds and offers, and its view of the room's settings */
  announce: spec({ code: 10, route: 'offload', fields: { holdings: checked(checkHoldings, 'bad holdings'), room: checked(checkSettings, 'bad room settings') } }),
  /** the partition manifest of a model the room serves */
  manifest: spec({ code: 11, route: 'offload', fields: { manifest: checked(checkManifest, 'bad manifest') } }),
  /** the coordinator asks the receiver to fetch a replica, from these holders in this order */
  fetch: spec({ code: 12, route: 'offload', fields: { hash: hash('bad hash'), from: listOf<string>(isDevice, 64, 'bad holder list') } }),
  /** the coordinator asks the receiver to drop a copy the room no longer needs */
  retire: spec({ code: 13, route: 'offload', fields: { hash: hash('bad hash') } }),
  /** a holder cannot serve a replica it was asked for */
  'replica-missing': spec({ code: 14, route: 'offload', fields: { hash: hash('bad hash'), reason: text(200, 'bad reason') } }),
  /** the room names an offload (its `manifestKey`) whose manifest this device lacks */
  'manifest-request': spec({ code: 15, route: 'offload', fields: { key: hash('bad key') } }),
  // ---- distributed inference (FRIM 4.3) ----
  /** may you run `stage` of offload `key` for request `req` now? (resource confirmation) */
  'stage-confirm': spec({ code: 16, route: 'inference', fields: { req, stage, key: hash('bad key') } }),
  /** `queued`: jobs ahead of it; `ok` false when the device is full or lacks the copy */
  'stage-ack': spec({ code: 17, route: 'inference', fields: { req, stage, ok: oneOf([true, false] as const, 'bad ok'), queued: uint('bad queued') } }),
  /**
   * Run `stage` on the carried tensors (payload; `table` in part 0). `twin`: the other device given
   * the same stage ('' for none). `path`: the fixed device per stage in the baseline modes, else [].
   */
  'stage-run': spec({
    code: 18, route: 'inference',
    fields: {
      req, stage, key: hash('bad key'), requester: device('bad device'), twin,
      mode, path: listOf<string>(isDevice, 64, 'bad path'), ...tensorParts,
    },
    whole: partsAgree,
  }),
  /** `by` finished `stage` first: its twin drops the job, every device learns its compute time; `next`: where it sent the stage after */
  'stage-done': spec({ code: 19, route: 'inference', fields: { req, stage, by: device('bad by'), computeMs: time('bad computeMs'), next: listOf<string>(isDevice, 8, 'bad next') } }),
  /** the model outputs, back to the requester (payload; `table` in part 0) */
  'stage-result': spec({ code: 20, route: 'inference', fields: { req, by: device('bad by'), ...tensorParts }, whole: partsAgree }),
  'stage-error': spec({ code: 21, route: 'inference', fields: { req, stage, reason: text(200, 'bad reason') } }),
  /** early-exit mode: what partition `stage`'s exit head answered, to the requester (payload; `table` in part 0) */
  'stage-exit': spec({ code: 22, route: 'inference', fields: { req, stage, by: device('bad by'), ...tensorParts }, whole: partsAgree }),
};

type Table = typeof MESSAGES;
export type MessageKind = keyof Table;
type Flat<T> = { [K in keyof T]: T[K] };
export type Message = { [K in MessageKind]: Flat<{ type: K } & BodyOf<Table[K]['fields']>> }[MessageKind];
export type MessageOf<K extends MessageKind> = Extract<Message, { type: K }>;

export const MessageType = Object.fromEntries(Object.entries(MESSAGES).map(([k, s]) => [k, s.code])) as { [K in MessageKind]: number };
const KIND_BY_CODE = new Map<number, MessageKind>(Object.entries(MESSAGES).map(([k, s]) => [s.code, k as MessageKind]));

export function kindOfCode(code: number): MessageKind | undefined {
  return KIND_BY_CODE.get(code);
}
export function routeOf(kind: MessageKind): Route {
  return MESSAGES[kind].route;
}

/** Returns the typed message, or why the body does not fit its kind. */
export function parseMessage(kind: MessageKind, body: unknown): Message | Invalid {
  const s = MESSAGES[kind] as Spec<Fields>;
  const fields = parseFields(s.fields, body);
  if (isInvalid(fields)) return fields;
  const bad = s.whole?.(fields);
  return bad ? invalid(bad) : ({ type: kind, ...fields } as Message);
}
