import { chromium } from '@playwright/test';
import { CHROMIUM_ARGS } from '../playwright.config.ts';
const origin = 'http://10.231.0.1:8899';
const args = [...CHROMIUM_ARGS, `--unsafely-treat-insecure-origin-as-secure=${origin}`];
const host = await chromium.launch({ executablePath: '/usr/bin/chromium', args });
const ns = await chromium.launch({ executablePath: '/tmp/ns-chromium.sh', args });
const a = await (await host.newContext()).newPage();
await a.goto(origin + '/?debug=1&backend=wasm');
await a.getByTestId('self').waitFor();
await new Promise((r) => setTimeout(r, 3000)); console.log(await a.evaluate(() => document.body.innerText.slice(0, 500)), await a.getByTestId('share-link').count());
const link = await a.getByTestId('share-link').getAttribute('href');
console.log(link);
const b = await (await ns.newContext()).newPage();
await b.goto(link!.replace('/#', '/?debug=1&backend=wasm#'));
for (let i = 0; i < 30; i++) {
  await new Promise((r) => setTimeout(r, 1000));
  const sa = await a.locator('[data-testid=peer]').evaluateAll((rs) => rs.map((r) => r.getAttribute('data-status')));
  const sb = await b.locator('[data-testid=peer]').evaluateAll((rs) => rs.map((r) => r.getAttribute('data-status')));
  console.log(i, sa, sb);
  if (sa[0] === 'alive' && sb[0] === 'alive') break;
}
await host.close(); await ns.close();
