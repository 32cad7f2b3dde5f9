/** Page entry: find or create the room from the share link, start the device client, show the dashboard. */
import './ui/frim-app.js';
import { base64url, randomName } from './core/ids.js';
import { parseShareFragment, shareFragment, type RoomCredentials } from './core/share-link.js';
import { detectBackend } from './runtime/backend.js';
import { DeviceClient } from './page/device-client.js';
import { installDebug } from './page/debug.js';

function createRoom(): RoomCredentials {
  const room = randomName(crypto.getRandomValues(new Uint8Array(20)), 10);
  const key = base64url(crypto.getRandomValues(new Uint8Array(32)));
  history.replaceState(null, '', `${location.pathname}${location.search}${shareFragment({ room, key })}`);
  return { room, key };
}

async function iceServers(): Promise<RTCIceServer[]> {
  try {
    const res = await fetch('/api/config');
    const cfg = (await res.json()) as { iceServers?: unknown };
    return Array.isArray(cfg.iceServers) ? (cfg.iceServers as RTCIceServer[]) : [];
  } catch {
    return [];
  }
}

/** "Chrome on Linux": shown beside the device's own name, which says which one it is. */
function platformName(): string {
  const ua = navigator.userAgent;
  const browser = /Edg\//.test(ua) ? 'Edge' : /Firefox\//.test(ua) ? 'Firefox' : /Chrom(e|ium)\//.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : 'Browser';
  const os = /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Mac OS/.test(ua) ? 'macOS' : /Windows/.test(ua) ? 'Windows' : /Linux/.test(ua) ? 'Linux' : 'device';
  return `${browser} on ${os}`;
}

/** `?debug=1&cutOffS=5`: a flooder refused 5 s rather than CUT_OFF.forMs, so the flood e2e need not wait out two real cut-offs. */
function debugCutOffMs(params: URLSearchParams): number | undefined {
  const s = Number(params.get('cutOffS'));
  return params.has('debug') && Number.isFinite(s) && s >= 1 && s <= 600 ? s * 1000 : undefined;
}

async function main(): Promise<void> {
  const app = document.querySelector('frim-app');
  if (!app) throw new Error('index.html has no <frim-app>');
  const params = new URLSearchParams(location.search);
  addEventListener('hashchange', () => location.reload());
  const parsed = parseShareFragment(location.hash);
  if (parsed.kind === 'error') {
    app.error = parsed.message;
    return;
  }
  const creds = parsed.kind === 'ok' ? parsed.creds : createRoom();
  app.room = creds.room;
  const [backend, ice] = await Promise.all([detectBackend(params.get('backend')), iceServers()]);
  const client = new DeviceClient({ creds, platform: platformName(), backend, iceServers: ice, benchmarks: params.has('debug'), cutOffMs: debugCutOffMs(params) });
  app.client = client;
  client.start();
  if (params.has('debug')) installDebug(client, backend);
}

main().catch((e: unknown) => {
  const app = document.querySelector('frim-app');
  if (app) app.error = `frim-mesh could not start: ${(e as Error).message ?? String(e)}`;
});
