#!/usr/bin/env node
// Finds what the browser tests drive: Chromium (CHROMIUM_PATH, else /usr/bin/chromium) and, for
// the network-drop e2e's namespace, iproute2's `ip`. Where one is missing and we are root on
// Debian, installs Debian's package; otherwise says how to get it.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const path = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const hasIp = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].some((p) => existsSync(p));
const missing = [...(existsSync(path) ? [] : ['chromium']), ...(hasIp ? [] : ['iproute2'])];
if (!missing.length) process.exit(0);

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const isDebian = existsSync('/etc/debian_version');
if ((missing.includes('chromium') && process.env.CHROMIUM_PATH) || !isRoot || !isDebian) {
  // without `ip` only e2e/network.spec.ts fails (and says why); without Chromium nothing runs
  if (missing.includes('iproute2')) console.error('frim-mesh\'s network-drop test (e2e/network.spec.ts) needs iproute2 (`ip`, Debian/Ubuntu: sudo apt-get install iproute2) and root.');
  if (!missing.includes('chromium')) process.exit(0);
  console.error(`frim-mesh tests need Chromium at ${path}: install it (Debian/Ubuntu: sudo apt-get install chromium) or set CHROMIUM_PATH to a Chromium or Chrome binary.`);
  process.exit(1);
}
console.log(`Installing Debian's ${missing.join(' and ')} (apt-get)…`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
if (!existsSync(path)) {
  console.error(`apt-get finished but ${path} is still missing.`);
  process.exit(1);
}
