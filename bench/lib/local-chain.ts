/**
 * Chain against whole on one device: the page's own "run here" tool (a fresh context, the model cut
 * in `parts`, every image run through the whole model and through the partition chain in turn, on
 * the backend asked for). Used by bench:models and bench:inference.
 */
import type { Browser } from '@playwright/test';

export interface ChainLatency {
  used: string | null;
  images: number;
  wholeMsPerImage: number;
  chainMsPerImage: number;
  ratio: number;
  sampleAccuracy: number;
  predictionsAgree: boolean;
}

export async function chainVsWhole(browser: Browser, base: string, file: string, parts: number, backend: 'wasm' | 'webgpu', images: number): Promise<ChainLatency> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`${base}/?debug=1${backend === 'wasm' ? '&backend=wasm' : ''}`);
    await page.getByTestId('model-input').setInputFiles(file);
    await page.getByTestId('parts').fill(String(parts));
    await page.getByTestId('parts').dispatchEvent('change');
    await page.locator(`[data-testid=plan][data-parts="${parts}"]`).waitFor();
    await page.getByTestId('local-count').fill(String(images));
    await page.getByTestId('local-count').dispatchEvent('change');
    await page.getByTestId('run-local').click();
    const r = page.getByTestId('local-run');
    await r.waitFor({ timeout: 600_000 });
    const whole = Number(await r.getAttribute('data-whole-ms'));
    const chain = Number(await r.getAttribute('data-chain-ms'));
    return {
      used: await r.getAttribute('data-backend'),
      images,
      wholeMsPerImage: whole,
      chainMsPerImage: chain,
      ratio: +(chain / whole).toFixed(3),
      sampleAccuracy: Number(await r.getAttribute('data-whole-accuracy')),
      predictionsAgree: (await r.getAttribute('data-whole-predictions')) === (await r.getAttribute('data-chain-predictions')),
    };
  } finally {
    await context.close();
  }
}
