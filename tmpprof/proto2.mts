import { chromium } from '@playwright/test';
import { CHROMIUM_ARGS } from '../playwright.config.ts';
import { makeNetns } from '../e2e/netns.ts';
import { startServer } from '../e2e/own-server.ts';
const ns = makeNetns('/usr/bin/chromium');
const origin = `http://${ns.hostIp}:8899`;
const server = await startServer(8899, ns.hostIp);
const args = [...CHROMIUM_ARGS, `--unsafely-treat-insecure-origin-as-secure=${origin}`];
const host = await chromium.launch({ executablePath: '/usr/bin/chromium', args });
const nsb = await chromium.launch({ executablePath: ns.chromium, args: [...args, ...(process.env.NOMDNS ? ['--disable-features=WebRtcHideLocalIpsWithMdns'] : [])] });
try {
const a = await (await host.newContext()).newPage();
await a.goto(origin + '/?debug=1&backend=wasm');
await new Promise((r) => setTimeout(r, 3000));
const link = await a.getByTestId('share-link').getAttribute('href');
const a2 = await (await host.newContext()).newPage();
await a2.goto(link!.replace('/#', '/?debug=1&backend=wasm#'));
const b = await (await nsb.newContext()).newPage();
await b.goto(link!.replace('/#', '/?debug=1&backend=wasm#'));
const room = new URL(link!).hash.match(/room=([a-z0-9]+)/)![1];
const ctl = new AbortController(); setTimeout(() => ctl.abort(), 3000);
try { const r = await fetch(`${origin}/api/rooms/${room}/peers`, { signal: ctl.signal }); const rd = r.body!.getReader(); for (;;) { const { value } = await rd.read(); console.log('FEED', new TextDecoder().decode(value)); } } catch (e) { console.log('feed end', String(e)); }
const cands = (p: any) => p.evaluate(async () => { const pc = new RTCPeerConnection(); pc.createDataChannel('x'); const out: string[] = []; pc.onicecandidate = (e) => { if (e.candidate) out.push(e.candidate.candidate); }; await pc.setLocalDescription(await pc.createOffer()); await new Promise((r) => setTimeout(r, 1500)); return out; });
console.log('HOST CANDS', await cands(a)); console.log('PHONE CANDS', await cands(b));
b.on('console', (m) => console.log('PHONE', m.text()));
for (let i = 0; i < 8; i++) {
  await new Promise((r) => setTimeout(r, 1000));
  const st = await Promise.all([a, a2, b].map((p) => p.locator('[data-testid=peer]').evaluateAll((rs) => rs.map((r) => r.getAttribute('data-device-id')!.slice(0,4) + ':' + r.getAttribute('data-status')))));
  console.log(i, JSON.stringify(st));
}
for (const p of [a, a2, b]) console.log((await p.evaluate(() => window.frimDebug!.snapshot()?.events ?? [])).map((e: any) => `${e.kind} ${e.deviceId} ${e.detail}`).join('\n'));
} finally { await host.close(); await nsb.close(); server.kill(); ns.remove(); }
