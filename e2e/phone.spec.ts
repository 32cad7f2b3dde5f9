import { devices, expect, test, type Page } from '@playwright/test';
import { defaultDeviceName } from '../src/core/device-name.js';
import { MODEL_PATH } from './files.js';
import { events, expectFullMesh, openDevice, peerRow, record, withQuery, type Device } from './helpers.js';

/** a phone held upright: 390 CSS px wide, touch, mobile viewport meta honoured */
const PHONE = { ...devices['Pixel 7'], viewport: { width: 390, height: 844 } };

/** Nothing on the page is wider than the screen (no sideways scrolling). */
async function expectFitsWidth(page: Page): Promise<void> {
  const { scroll, client, wide } = await page.evaluate(() => {
    const client = document.documentElement.clientWidth;
    // the outermost elements that stick out, through shadow roots, for the failure message
    const wide: string[] = [];
    const walk = (root: Document | ShadowRoot) => {
      for (const el of root.querySelectorAll('*')) {
        if (el.getBoundingClientRect().right > client + 1 && wide.length < 8) wide.push(`${el.tagName.toLowerCase()}${el.getAttribute('data-testid') ? `[${el.getAttribute('data-testid')}]` : ''} ${Math.round(el.getBoundingClientRect().right)}px`);
        if (el.shadowRoot) walk(el.shadowRoot);
      }
    };
    walk(document);
    return { scroll: document.documentElement.scrollWidth, client, wide };
  });
  expect(client).toBe(390);
  expect(scroll, `the page scrolls sideways on a phone: ${wide.join(', ')}`).toBeLessThanOrEqual(client);
}

test('on a phone-sized touch screen: join a WebGPU laptop\'s room, see it, rename the device, and run requests through the room', async ({ browser }) => {
  test.setTimeout(240_000);
  // a mixed room: the laptop computes on WebGPU (SwiftShader here), the phone on WASM
  const desk = await openDevice(browser, '/?debug=1');
  await expect(desk.page.getByTestId('self')).toHaveAttribute('data-backend', 'webgpu');
  const link = (await desk.page.getByTestId('share-link').getAttribute('href'))!;
  const context = await browser.newContext(PHONE);
  const errors: string[] = [];
  const page = await context.newPage();
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(withQuery(link));
  const self = page.getByTestId('self');
  await expect(self).toHaveAttribute('data-device-id', /^[a-z0-9]{12}$/);
  const phone: Device = { context, page, id: (await self.getAttribute('data-device-id'))!, errors };
  await expectFullMesh([desk, phone]);

  // each device has a short name of its own, picked from its id, not its browser's (two ids may
  // share one of the 576 names: the dashboard then tells them apart, see screenNames' unit test)
  const deskName = (await desk.page.getByTestId('self').getAttribute('data-name'))!;
  const phoneName = (await self.getAttribute('data-name'))!;
  expect([deskName, phoneName]).toEqual([defaultDeviceName(desk.id), defaultDeviceName(phone.id)]);
  for (const n of [deskName, phoneName]) expect(n).toMatch(/^[A-Z][a-z]+ [A-Z][a-z]+$/);
  await expect(peerRow(desk.page, phone.id)).toHaveAttribute('data-name', phoneName);
  await expectFitsWidth(page);

  // renaming by touch: a bad name is refused where the user typed it, a good one reaches the room
  const name = page.getByTestId('device-name');
  await name.tap();
  await name.fill('   ');
  await name.press('Enter');
  await expect(page.getByTestId('device-name-problem')).toHaveText('a name cannot be empty');
  await expect(self).toHaveAttribute('data-name', phoneName);
  await name.tap();
  await name.fill('  Ana’s   phone ');
  await name.press('Enter');
  await expect(self).toHaveAttribute('data-name', 'Ana’s phone');
  await expect(page.getByTestId('device-name-problem')).toHaveCount(0);
  await expect(peerRow(desk.page, phone.id)).toHaveAttribute('data-name', 'Ana’s phone');
  // a new name is not a rejoin: the desk logs the rename, and the phone joined once
  const deskEvents = await events(desk.page);
  expect(deskEvents.filter((e) => e.deviceId === phone.id).map((e) => e.kind)).toEqual(['joined', 'renamed']);
  // a phone that serves the room keeps its screen on when asked, or says why the browser would not
  const wake = page.getByTestId('wake-lock');
  await expect(wake).toHaveAttribute('data-state', 'off');
  await page.getByTestId('wake-lock-switch').tap();
  await expect(wake).toHaveAttribute('data-state', /^(on|refused)$/);
  const wakeState = (await wake.getAttribute('data-state'))!;
  const wakeReason = (await page.getByTestId('wake-lock-reason').textContent())!.trim();
  record('wake-lock', `headless Chromium on a phone-sized screen: ${wakeState} (${wakeReason})`);
  if (wakeState === 'refused') expect(wakeReason).toMatch(/^the browser refused: .+/);
  else {
    await page.getByTestId('wake-lock-switch').tap();
    await expect(wake).toHaveAttribute('data-state', 'off');
  }

  // the name is the device's: it survives a reload
  await page.reload();
  await expect(page.getByTestId('self')).toHaveAttribute('data-name', 'Ana’s phone');
  await expect(peerRow(desk.page, phone.id)).toHaveAttribute('data-name', 'Ana’s phone', { timeout: 30_000 });
  await expect(peerRow(desk.page, phone.id)).toHaveAttribute('data-status', 'alive');

  // the desk offloads a model; the phone asks the room by touch
  await desk.page.getByTestId('parts').fill('2');
  await desk.page.getByTestId('parts').dispatchEvent('change');
  await desk.page.getByTestId('model-input').setInputFiles(MODEL_PATH);
  await expect(page.locator('[data-testid=partition]')).toHaveCount(2, { timeout: 60_000 });
  // the laptop's copies are loaded on WebGPU, as the phone's matrix shows
  await expect(page.locator(`[data-testid=replica-cell][data-device-id="${desk.id}"][data-backend=webgpu]`)).toHaveCount(2, { timeout: 60_000 });
  await page.getByTestId('request-count').fill('20');
  await page.getByTestId('request-count').dispatchEvent('change');
  await page.getByTestId('request-rate').fill('5');
  await page.getByTestId('request-rate').dispatchEvent('change');
  const run = page.getByTestId('run');
  await expect(run).toBeEnabled({ timeout: 60_000 });
  await run.tap();
  const stats = page.getByTestId('stats');
  await expect(stats).toHaveAttribute('data-active', 'false', { timeout: 120_000 });
  await expect(stats).toHaveAttribute('data-sent', '20');
  await expect(stats).toHaveAttribute('data-answered', '20');
  await expect(stats).toHaveAttribute('data-lost', '0');
  // with a model placed, the results and the placement matrix on screen: still no sideways scrolling
  await expectFitsWidth(page);
  expect(errors).toEqual([]);
  expect(desk.errors).toEqual([]);
  await context.close();
  await desk.context.close();
});
