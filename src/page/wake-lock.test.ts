import { describe, expect, it } from 'vitest';
import { WakeLockSwitch } from './wake-lock.js';

/** A document whose visibility the test sets, and a Screen Wake Lock API that grants or refuses. */
function fakes(grant = true) {
  const doc = Object.assign(new EventTarget(), { visibilityState: 'visible' as DocumentVisibilityState });
  const held: (EventTarget & { release(): Promise<void>; released: boolean })[] = [];
  const nav = {
    wakeLock: {
      request: async () => {
        if (!grant) throw new DOMException('not allowed here', 'NotAllowedError');
        const s = Object.assign(new EventTarget(), { released: false, release: async () => { s.released = true; s.dispatchEvent(new Event('release')); } });
        held.push(s);
        return s;
      },
    },
  };
  const hide = (hidden: boolean) => {
    doc.visibilityState = hidden ? 'hidden' : 'visible';
    // the browser lets every screen lock go when the tab is hidden
    if (hidden) for (const s of held) if (!s.released) void s.release();
    doc.dispatchEvent(new Event('visibilitychange'));
  };
  return { doc: doc as unknown as Document, nav: nav as unknown as Navigator, held, hide };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

describe('keep this device awake', () => {
  it('holds the lock while on, asks again when the tab shows after the browser let it go, and lets it go when off', async () => {
    const f = fakes();
    const w = new WakeLockSwitch(f.nav, f.doc);
    expect(w.state).toBe('off');
    await w.set(true);
    expect(w.state).toBe('on');
    f.hide(true);
    await settle();
    expect(w.state).toBe('waiting');
    f.hide(false);
    await settle();
    expect(w.state).toBe('on');
    expect(f.held).toHaveLength(2);
    await w.set(false);
    expect(w.state).toBe('off');
    expect(f.held.every((s) => s.released)).toBe(true);
    // off: showing the tab asks for nothing
    f.hide(true);
    f.hide(false);
    await settle();
    expect(f.held).toHaveLength(2);
  });

  it('says why when the browser refuses, or has no API', async () => {
    const f = fakes(false);
    const w = new WakeLockSwitch(f.nav, f.doc);
    await w.set(true);
    expect(w.state).toBe('refused');
    expect(w.reason).toBe('the browser refused: not allowed here');
    const none = new WakeLockSwitch({} as Navigator, f.doc);
    expect(none.state).toBe('unsupported');
    expect(none.reason).toMatch(/no Screen Wake Lock API|secure/);
    await none.set(true);
    expect(none.state).toBe('unsupported');
  });
});
