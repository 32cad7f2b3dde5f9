/**
 * "Keep this device awake" (issue 15): a screen wake lock for a device that serves the room. A
 * locked phone freezes its tabs, which the room rightly takes for a failure; a device the user
 * means to serve with asks the screen to stay on. The browser releases the lock whenever the tab
 * is hidden, so it is asked for again each time the tab becomes visible while the switch is on.
 */

/** `on`: held; `waiting`: wanted, but the tab is hidden (asked for again when it shows); `refused`: the browser said no; `unsupported`: no Screen Wake Lock API here. */
export type WakeState = 'off' | 'on' | 'waiting' | 'refused' | 'unsupported';

interface Sentinel extends EventTarget {
  release(): Promise<void>;
}
interface WakeLockApi {
  request(type: 'screen'): Promise<Sentinel>;
}

export class WakeLockSwitch extends EventTarget {
  state: WakeState;
  /** why it is not on, in the user's words */
  reason = '';
  private wanted = false;
  private sentinel: Sentinel | null = null;
  private readonly api: WakeLockApi | null;

  constructor(nav: Navigator = navigator, private readonly doc: Document = document) {
    super();
    this.api = (nav as Navigator & { wakeLock?: WakeLockApi }).wakeLock ?? null;
    this.state = this.api ? 'off' : 'unsupported';
    if (!this.api) this.reason = globalThis.isSecureContext !== false ? 'this browser has no Screen Wake Lock API' : 'only a secure (https) page may keep the screen on';
    doc.addEventListener('visibilitychange', () => {
      if (this.wanted && !this.sentinel && doc.visibilityState === 'visible') void this.acquire();
    });
  }

  /** Turns the switch on or off. */
  async set(on: boolean): Promise<void> {
    if (!this.api) return;
    this.wanted = on;
    if (on) return this.acquire();
    const s = this.sentinel;
    this.sentinel = null;
    this.update('off', '');
    await s?.release().catch(() => undefined);
  }

  private async acquire(): Promise<void> {
    if (!this.api || this.sentinel) return;
    if (this.doc.visibilityState !== 'visible') return this.update('waiting', 'the tab is hidden; the screen stays on again once it is shown');
    try {
      const s = await this.api.request('screen');
      if (!this.wanted) return void s.release().catch(() => undefined);
      this.sentinel = s;
      s.addEventListener('release', () => {
        if (this.sentinel !== s) return;
        this.sentinel = null;
        // the browser let it go (the tab was hidden, or the battery saver): wanted still, so asked for again when visible
        if (this.wanted) this.update('waiting', 'the browser released it while the tab was hidden; asked for again once it is shown');
      });
      this.update('on', '');
    } catch (e) {
      this.update('refused', `the browser refused: ${(e as Error).message || (e as Error).name}`);
    }
  }

  private update(state: WakeState, reason: string): void {
    this.state = state;
    this.reason = reason;
    this.dispatchEvent(new Event('change'));
  }
}
