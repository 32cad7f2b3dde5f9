/**
 * One valid message of every kind (two where a kind has two shapes), for the protocol's round-trip
 * test and as seeds for its fuzzing.
 */
import type { Message } from '../core/protocol.js';

export const SAMPLE_MANIFEST = {
  format: 1 as const,
  model: { name: 'tiny', sha256: '01'.repeat(32), inputs: [{ name: 'input', dims: ['batch', 1, 28, 28], type: 'float32' }], outputs: [{ name: 'logits', dims: ['batch', 10], type: 'float32' }] },
  partitions: [
    { id: 0, file: 'tiny.p0.onnx', sha256: '02'.repeat(32), bytes: 1000, inputs: ['input'], inputShapes: [null], outputs: ['h'], flops: 5000, paramBytes: 800 },
    { id: 1, file: 'tiny.p1.onnx', sha256: '03'.repeat(32), bytes: 900, inputs: ['h'], inputShapes: [null], outputs: ['logits'], flops: 4000, paramBytes: 700 },
  ],
};

export const SAMPLE_MESSAGES: readonly Message[] = [
  { type: 'hello', deviceId: 'abcdefghijk1', nonce: new Uint8Array(16).fill(7) },
  { type: 'proof', mac: new Uint8Array(32).fill(1) },
  { type: 'reject', reason: 'bad proof' },
  { type: 'ping', seq: 5, t: 1234.5 },
  { type: 'pong', seq: 5, t: 1234.5 },
  { type: 'info', name: 'Laptop', backend: 'webgpu' },
  { type: 'replica-request', hash: 'ab'.repeat(32), chunks: [0, 5, 9] },
  { type: 'replica-request', hash: 'ab'.repeat(32), chunks: null },
  { type: 'replica-offer', hash: 'cd'.repeat(32), bytes: 200_000, chunkBytes: 65536, first: 0, chunkHashes: new Uint8Array(64).fill(3) },
  // the largest offer part: 4096 chunk hashes still fit one frame
  { type: 'replica-offer', hash: 'cd'.repeat(32), bytes: 2 ** 31 - 1, chunkBytes: 65536, first: 4096, chunkHashes: new Uint8Array(4096 * 16).fill(5) },
  { type: 'replica-chunk', hash: 'ef'.repeat(32), index: 2 },
  { type: 'announce', holdings: { holds: ['ab'.repeat(32)], fetching: [{ hash: 'cd'.repeat(32), verified: 65536 }], budget: 1 << 28, used: 1000, sessions: [{ hash: 'ab'.repeat(32), backend: 'webgpu' }] }, room: { model: 'ab'.repeat(32), modelAt: 17, modelBy: 'abcdefghijk1', target: 0.999, targetAt: 0, targetBy: '' } },
  { type: 'manifest', manifest: SAMPLE_MANIFEST },
  { type: 'fetch', hash: 'ab'.repeat(32), from: ['abcdefghijk1', 'zzzzzzzzzzz9'] },
  { type: 'retire', hash: 'ab'.repeat(32) },
  { type: 'replica-missing', hash: 'ab'.repeat(32), reason: 'not held here' },
  { type: 'manifest-request', key: 'ab'.repeat(32) },
  { type: 'stage-confirm', req: 'abcdefghijk1-17', stage: 2, key: 'ab'.repeat(32) },
  { type: 'stage-ack', req: 'abcdefghijk1-17', stage: 2, ok: false, queued: 3 },
  { type: 'stage-run', req: 'abcdefghijk1-17', stage: 1, key: 'ab'.repeat(32), requester: 'abcdefghijk1', twin: '', mode: 'frim', path: [], part: 0, parts: 2, table: [{ name: 'h', type: 'float32', dims: [1, 8], bytes: 32 }] },
  { type: 'stage-run', req: 'abcdefghijk1-17', stage: 1, key: 'ab'.repeat(32), requester: 'abcdefghijk1', twin: 'zzzzzzzzzzz9', mode: 'no-config', path: ['abcdefghijk1', 'zzzzzzzzzzz9'], part: 1, parts: 2, table: null },
  { type: 'stage-done', req: 'abcdefghijk1-17', stage: 1, by: 'zzzzzzzzzzz9', computeMs: 3.5, next: ['abcdefghijk1'] },
  { type: 'stage-result', req: 'abcdefghijk1-17', by: 'zzzzzzzzzzz9', part: 0, parts: 1, table: [] },
  { type: 'stage-error', req: 'abcdefghijk1-17', stage: 0, reason: 'no copy here' },
  { type: 'stage-exit', req: 'abcdefghijk1-17', stage: 1, by: 'zzzzzzzzzzz9', part: 0, parts: 1, table: [{ name: 'exit1', type: 'float32', dims: [1, 10], bytes: 40 }] },
];
