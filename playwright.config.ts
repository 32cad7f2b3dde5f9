import { defineConfig } from '@playwright/test';

const port = Number(process.env.E2E_PORT ?? 8787);
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--enable-unsafe-webgpu',
  // Dawn zero-fills workgroup memory by adding code to every shader, which SwiftShader compiles
  // slowly: resnet's first WebGPU run took 11.6 s with it and 2.1 s without, and a room of WebGPU
  // devices spent a minute warming up. Real GPUs compile it in no time; a kernel that read memory
  // it had not written would now answer differently from onnxruntime-node, which every test checks.
  '--enable-dawn-features=disable_workgroup_init',
];

// One BrowserContext = one device. The machine has two cores, so tests run one at a time.
export default defineConfig({
  testDir: 'e2e',
  timeout: 120_000,
  expect: { timeout: 15_000 },
  workers: 1,
  fullyParallel: false,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    launchOptions: { executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS },
    trace: 'retain-on-failure',
  },
  webServer: {
    command: 'npm start',
    env: { PORT: String(port), HOST: '127.0.0.1' },
    url: `http://127.0.0.1:${port}/healthz`,
    reuseExistingServer: !process.env.CI,
    timeout: 240_000,
    stdout: 'pipe',
  },
});
