/**
 * `npm start`: build if needed, then serve the app and the PeerServer on one port, and print
 * where to open it (local and LAN addresses, and a QR code for phones).
 *
 *   npm start [-- --https] [-- --port 8080] [-- --host 0.0.0.0]     (or PORT / HOST / ICE_SERVERS env;
 *   MAX_DEVICES_PER_ROOM / MAX_DEVICES_PER_ADDRESS bound who may connect)
 */
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { networkInterfaces } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import QRCode from 'qrcode';
import { createApp } from './app.js';
import { ensureBuilt } from './build.js';
import type { ServerLimits } from './guard.js';
import { selfSignedCert } from './tls.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function lanAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((a): a is NonNullable<typeof a> => !!a && a.family === 'IPv4' && !a.internal)
    .map((a) => a.address);
}

function parseIceServers(raw: string | undefined): RTCIceServer[] {
  if (!raw) return [];
  const parsed: unknown = JSON.parse(raw);
  if (!Array.isArray(parsed)) throw new Error('ICE_SERVERS must be a JSON array of RTCIceServer objects');
  return parsed as RTCIceServer[];
}

/** MAX_DEVICES_PER_ROOM / MAX_DEVICES_PER_ADDRESS: an operator's own bounds (defaults in server/guard.ts). */
function limitsFromEnv(): Partial<ServerLimits> {
  const read = (name: string): number | undefined => {
    const raw = process.env[name];
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a whole number of at least 1, not "${raw}"`);
    return n;
  };
  const perRoom = read('MAX_DEVICES_PER_ROOM');
  const perAddress = read('MAX_DEVICES_PER_ADDRESS');
  return {
    ...(perRoom ? { socketsPerRoom: perRoom, feedsPerRoom: perRoom } : {}),
    ...(perAddress ? { socketsPerAddress: perAddress, feedsPerAddress: perAddress } : {}),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      https: { type: 'boolean', default: false },
      port: { type: 'string' },
      host: { type: 'string' },
      'no-build': { type: 'boolean', default: false },
    },
  });
  const port = Number(values.port ?? process.env.PORT ?? 8080);
  const host = values.host ?? process.env.HOST ?? '0.0.0.0';
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid port ${values.port ?? process.env.PORT}`);
  const dist = join(root, 'dist');
  if (!values['no-build']) await ensureBuilt(root, dist, (s) => console.log(s));

  const lan = lanAddresses();
  const server = values.https
    ? createHttpsServer(await selfSignedCert(join(root, 'node_modules', '.cache', 'frim-mesh', 'cert.json'), lan))
    : createHttpServer();
  const { app } = createApp(server, { dist, iceServers: parseIceServers(process.env.ICE_SERVERS), limits: limitsFromEnv() });
  server.on('request', app);

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, ok);
  });
  const actual = (server.address() as { port: number }).port;
  const scheme = values.https ? 'https' : 'http';
  const local = `${scheme}://localhost:${actual}/`;
  const lanUrls = host === '0.0.0.0' ? lan.map((a) => `${scheme}://${a}:${actual}/`) : host === '127.0.0.1' || host === 'localhost' ? [] : [`${scheme}://${host}:${actual}/`];
  console.log(`\nfrim-mesh is serving the app and its PeerServer on one port.\n  Local:  ${local}`);
  for (const u of lanUrls) console.log(`  LAN:    ${u}`);
  if (lanUrls.length) {
    console.log(`\nScan to open on a phone on the same network:\n${await QRCode.toString(lanUrls[0], { type: 'terminal', small: true })}`);
  }
  if (!values.https && lanUrls.length) {
    console.log('Plain HTTP on a LAN address is not a secure context: phones get WASM, not WebGPU. Use `npm start -- --https` for WebGPU on phones.');
  }
  if (values.https) console.log('The certificate is self-signed: accept it once in each browser.');
  console.log('Open the page, then share the room link it shows.\n');

  const stop = () => {
    server.close(() => process.exit(0));
    // SSE feeds and PeerJS sockets stay open otherwise
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 1000).unref();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e: unknown) => {
  console.error(`frim-mesh: ${(e as Error).message ?? String(e)}`);
  process.exit(1);
});
