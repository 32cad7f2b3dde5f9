/**
 * Files handed to `setInputFiles` by path, never as a buffer: for a buffer Playwright rebuilds the
 * file in the page's own JavaScript, which held the main thread 1.9–2.5 s for a 1.5–4 MiB model
 * here. Heartbeats are answered on that thread (a data channel cannot live in a worker), so a
 * test's own upload got the uploading device declared failed. A real drop never does that.
 * No Playwright here, so a benchmark process can use it.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The shipped model every e2e room runs, by path. */
export const MODEL_PATH = 'public/models/resnet.onnx';

let dir: string | null = null;
let count = 0;

/** `bytes` written to a file called `name` (its own folder, so a name can be reused), removed at exit. */
export function asFile(name: string, bytes: Uint8Array): string {
  if (!dir) {
    const made = mkdtempSync(join(tmpdir(), 'frim-files-'));
    dir = made;
    process.once('exit', () => rmSync(made, { recursive: true, force: true }));
  }
  const sub = join(dir, String(count++));
  mkdirSync(sub);
  const path = join(sub, name);
  writeFileSync(path, bytes);
  return path;
}
