/**
 * A server of one test's own (the suite's shared one keeps serving the others): `npm start` as one
 * process (node with tsx's loader, so SIGKILL leaves no child serving), up when /healthz answers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { expect } from '@playwright/test';

export async function startServer(port: number, host: string, env: Record<string, string> = {}): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts', '--no-build', '--port', String(port), '--host', host], { stdio: 'ignore', env: { ...process.env, ...env } });
  await expect.poll(async () => (await fetch(`http://${host}:${port}/healthz`).catch(() => null))?.ok ?? false, { timeout: 30_000, intervals: [200] }).toBe(true);
  return child;
}
