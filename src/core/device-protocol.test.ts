import { describe, expect, it } from 'vitest';
import { WORKER_PROTOCOL, parseTabMessage, parseWorkerMessage } from './device-protocol.js';

const register = { kind: 'register', v: WORKER_PROTOCOL, tabId: 't1', room: 'room1', deviceId: null, platform: 'Chrome on Linux', backend: 'wasm', backendDetail: 'WASM', workerKind: 'shared' };

describe('tab ⇄ worker protocol', () => {
  it('accepts a well-formed register and refuses one from an older build', () => {
    expect(parseTabMessage(register)).toEqual(register);
    expect(parseTabMessage({ ...register, v: WORKER_PROTOCOL - 1 })).toEqual({ invalid: 'register: protocol version' });
    expect(parseTabMessage({ ...register, workerKind: 'service' })).toEqual({ invalid: 'register: bad worker kind' });
  });

  it('tidies a new device name and refuses one that would mislead other devices, saying why', () => {
    expect(parseTabMessage({ kind: 'rename', name: '  Kitchen   tablet ' })).toEqual({ kind: 'rename', name: 'Kitchen tablet' });
    expect(parseTabMessage({ kind: 'rename', name: '' })).toEqual({ invalid: 'rename: a name cannot be empty' });
    expect(parseTabMessage({ kind: 'rename', name: 'a\u202Eb' })).toMatchObject({ invalid: expect.stringMatching(/^rename: .*formatting/) });
  });

  it('refuses unknown kinds, extra fields and wrong types', () => {
    expect(parseTabMessage({ kind: 'reboot' })).toEqual({ invalid: 'unknown kind reboot' });
    expect(parseTabMessage('rename')).toEqual({ invalid: 'not an object' });
    expect(parseTabMessage({ kind: 'forget', extra: 1 })).toMatchObject({ invalid: expect.stringMatching(/^forget: /) });
    expect(parseTabMessage({ kind: 'frame', deviceId: 'd', data: 'not bytes' })).toMatchObject({ invalid: expect.stringMatching(/^frame: /) });
    expect(parseTabMessage({ kind: 'set-target', target: 1.5 })).toEqual({ invalid: 'set-target: bad target' });
  });

  it('checks what the worker sends too: a welcome carries the device name', () => {
    expect(parseWorkerMessage({ kind: 'welcome', v: WORKER_PROTOCOL, deviceId: 'abc', tabId: 't1', name: 'Amber Otter' })).toMatchObject({ kind: 'welcome', name: 'Amber Otter' });
    expect(parseWorkerMessage({ kind: 'welcome', v: WORKER_PROTOCOL, deviceId: 'abc', tabId: 't1' })).toMatchObject({ invalid: expect.stringMatching(/^welcome: /) });
    expect(parseWorkerMessage({ kind: 'renamed', name: 'Kitchen tablet' })).toEqual({ kind: 'renamed', name: 'Kitchen tablet' });
  });
});
