/** Page entry: find or create the room from the share link, start the device client, show the dashboard. */
import './ui/frim-app.js';
import { base64url, randomName } from './core/ids.js';
import { parseShareFragment, shareFragment, type RoomCredentials } from './core/share-link.js';
import { faults } from './mesh/faults.js';
import { detectBackend } from './runtime/backend.js';
import { localLatencies } from './runtime/latency-probe.js';
import type { FrimApp } from './ui/frim-app.js';
import { DeviceClient } from './worker/client.js';

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

function deviceName(): string {
  const ua = navigator.userAgent;
  const browser = /Edg\//.test(ua) ? 'Edge' : /Firefox\//.test(ua) ? 'Firefox' : /Chrom(e|ium)\//.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : 'Browser';
  const os = /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Mac OS/.test(ua) ? 'macOS' : /Windows/.test(ua) ? 'Windows' : /Linux/.test(ua) ? 'Linux' : 'device';
  return `${browser} on ${os}`;
}

async function main(): Promise<void> {
  const app = document.querySelector('frim-app') as FrimApp;
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
  const client = new DeviceClient({ creds, name: deviceName(), backend, iceServers: ice, benchmarks: params.has('debug') });
  app.client = client;
  client.start();
  if (params.has('debug')) {
    Object.assign(window, {
      frimDebug: {
        faults,
        client,
        snapshot: () => client.snapshot,
        sendGarbage: () => client.mesh?.sendGarbage() ?? 0,
        /** the next `n` WebGPU stage runs on this device hang (default), throw, or run twice at once */
        breakGpuRuns: (n: number, how?: 'hang' | 'error' | 'concurrent') => client.breakGpuRuns(n, how),
        /** fetch one replica from these holders, in this order (tests and benchmarks) */
        fetchReplica: (hash: string, from: string[]) => client.fetchReplica(hash, from),
        /** whole-model latency here, through the compute worker (`npm run bench:inference`) */
        localLatencies: (modelUrl: string, count: number) => localLatencies(modelUrl, count, backend.backend),
        /** the raw data-channel baseline for `npm run bench:replicas` */
        rawBaseline: (deviceId: string, bytes: number) => client.mesh?.rawBaseline(deviceId, bytes) ?? Promise.reject(new Error('this tab does not hold the connections')),
      },
    });
  }
}

main().catch((e: unknown) => {
  const app = document.querySelector('frim-app') as FrimApp | null;
  if (app) app.error = `frim-mesh could not start: ${(e as Error).message ?? String(e)}`;
});
