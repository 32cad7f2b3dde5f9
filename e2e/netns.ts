/**
 * A device on a network of its own that a test can pull the plug on: a Linux network namespace
 * joined to this machine by a veth pair, the browser for that device started inside it. Taking
 * the host's end down cuts everything the device sends or receives, data channels included
 * (Playwright's setOffline does not touch WebRTC, see ENVIRONMENT.md). Traffic stays between this
 * machine and a namespace the test made itself. Needs root and iproute2 (`ip`).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Netns {
  name: string;
  /** this machine's address on the link (serve the app here) */
  hostIp: string;
  /** a Chromium executable that runs inside the namespace (for Playwright's executablePath) */
  chromium: string;
  /** pull the plug (false) or plug it back in (true) */
  setLink(up: boolean): void;
  remove(): void;
}

const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

export function makeNetns(chromium: string): Netns {
  const id = process.pid % 10000;
  const name = `frim-e2e-${id}`;
  const hostEnd = `frimh${id}`;
  const nsEnd = `frimn${id}`;
  // a /30 of 10.231.0.0/16 per run, so two runs on one machine do not share one
  const base = (process.pid % 16000) * 4;
  const net = `10.231.${base >> 8}.`;
  const hostIp = `${net}${(base & 255) + 1}`;
  const nsIp = `${net}${(base & 255) + 2}`;
  const dir = mkdtempSync(join(tmpdir(), 'frim-netns-'));
  const unplug = (): void => {
    try { ip('netns', 'del', name); } catch { /* not made, or gone */ }
    try { ip('link', 'del', hostEnd); } catch { /* gone with the namespace */ }
  };
  const remove = (): void => {
    unplug();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // a namespace left by a run of this pid that was killed
    unplug();
    ip('netns', 'add', name);
    ip('link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', nsEnd);
    ip('link', 'set', nsEnd, 'netns', name);
    ip('addr', 'add', `${hostIp}/30`, 'dev', hostEnd);
    ip('link', 'set', hostEnd, 'up');
    ip('netns', 'exec', name, 'ip', 'addr', 'add', `${nsIp}/30`, 'dev', nsEnd);
    ip('netns', 'exec', name, 'ip', 'link', 'set', nsEnd, 'up');
    ip('netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up');
    // Chromium gathers ICE candidates only where a default route leads; this one leads to this
    // machine, which forwards nothing from the namespace unless ip_forward is on
    ip('netns', 'exec', name, 'ip', 'route', 'add', 'default', 'via', hostIp);
  } catch (e) {
    remove();
    const why = (e as { stderr?: string }).stderr?.trim() || String(e);
    throw new Error(`could not make a network namespace for the network-drop test (it needs root and iproute2's \`ip\`): ${why}`);
  }
  const wrapper = join(dir, 'chromium-in-netns');
  writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${name} ${chromium} "$@"\n`);
  chmodSync(wrapper, 0o755);
  return {
    name,
    hostIp,
    chromium: wrapper,
    setLink: (up) => { ip('link', 'set', hostEnd, up ? 'up' : 'down'); },
    remove,
  };
}
