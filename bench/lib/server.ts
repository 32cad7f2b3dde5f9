/** Starts the real server (`server/main.ts`) for a benchmark on a loopback port, and stops it. */
import { spawn, type ChildProcess } from 'node:child_process';

export async function startServer(port: number): Promise<ChildProcess> {
  const base = `http://127.0.0.1:${port}`;
  const inUse = await fetch(`${base}/healthz`).then(() => true, () => false);
  if (inUse) throw new Error(`port ${port} is already serving something; stop it or choose another port`);
  const child = spawn('npx', ['tsx', 'server/main.ts'], { env: { ...process.env, PORT: String(port), HOST: '127.0.0.1' }, stdio: ['ignore', 'inherit', 'inherit'], detached: true });
  child.on('exit', (code) => { if (code) console.error(`server exited with ${code}`); });
  for (let i = 0; i < 480; i++) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) return child;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('server did not start');
}

export function stopServer(child: ChildProcess): void {
  // the server runs under npx: signal the whole process group
  if (child.pid) process.kill(-child.pid, 'SIGTERM');
}

/**
 * The server as one process (node with tsx's loader, no npx in between), on `host`, so a fault can
 * SIGKILL it and nothing keeps serving; builds the app first when its sources changed.
 */
export async function serveOne(port: number, host: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts', '--port', String(port), '--host', host], { stdio: ['ignore', 'ignore', 'inherit'] });
  for (let i = 0; i < 480; i++) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}`);
    if (await fetch(`http://${host}:${port}/healthz`).then((r) => r.ok, () => false)) return child;
    await new Promise((r) => setTimeout(r, 250));
  }
  child.kill('SIGKILL');
  throw new Error('server did not start');
}
