/**
 * A self-signed certificate for `--https`, so phones on the LAN get a secure context (WebGPU,
 * WebCrypto). Kept under node_modules/.cache so a phone accepts it once, not at every restart;
 * made again when it nears expiry or the machine's addresses change.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { generate } from 'selfsigned';

export interface Pem {
  key: string;
  cert: string;
}

interface Cached extends Pem {
  hosts: string[];
  notAfter: number;
}

export async function selfSignedCert(cacheFile: string, hosts: string[]): Promise<Pem> {
  const wanted = [...new Set(['localhost', '127.0.0.1', ...hosts])].sort();
  if (existsSync(cacheFile)) {
    try {
      const c = JSON.parse(readFileSync(cacheFile, 'utf8')) as Cached;
      if (c.hosts.join() === wanted.join() && c.notAfter - Date.now() > 7 * 86_400_000) return c;
    } catch {
      // unreadable cache: make a new certificate
    }
  }
  const notAfter = Date.now() + 365 * 86_400_000;
  const pems = await generate([{ name: 'commonName', value: 'frim-mesh local' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notAfterDate: new Date(notAfter),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: wanted.map((h) => (/^[\d.]+$|:/.test(h) ? { type: 7 as const, ip: h } : { type: 2 as const, value: h })) },
    ],
  });
  const cached: Cached = { key: pems.private, cert: pems.cert, hosts: wanted, notAfter };
  mkdirSync(dirname(cacheFile), { recursive: true });
  writeFileSync(cacheFile, JSON.stringify(cached), { mode: 0o600 });
  return cached;
}
