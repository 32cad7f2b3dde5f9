/**
 * The events the dashboard's panels send up to the app, each with its detail type, declared once:
 * `emit` checks what a panel sends and `addEventListener` on the app gets it typed.
 */
import type { Manifest } from '../core/onnx/manifest.js';
import type { InferenceMode } from '../core/protocol.js';

export interface FrimEvents {
  /** a problem to show in the banner (null clears it) */
  'frim-error': string | null;
  /** a model cut and stored on this device: make it the room's */
  'frim-offload': Manifest;
  'frim-target': number;
  /** bytes offered for replicas; null returns to the browser's default */
  'frim-budget': number | null;
  'frim-forget': null;
  /** the user's new name for this device, already checked */
  'frim-rename': string;
  /** the user leaves the room with this device (true) or rejoins it (false) */
  'frim-leave-room': boolean;
  /** one picture for the room: grey pixels in [0, 1] */
  'frim-classify': Float32Array;
  'frim-infer': { count: number; ratePerSec: number; mode: InferenceMode; batch: number };
}

type FrimEventMap = { [K in keyof FrimEvents]: CustomEvent<FrimEvents[K]> };

declare global {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- merged into the DOM's own map
  interface HTMLElementEventMap extends FrimEventMap {}
}

/** Sends `name` up through shadow roots to the app. */
export function emit<K extends keyof FrimEvents>(from: HTMLElement, name: K, detail: FrimEvents[K]): void {
  from.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
}
