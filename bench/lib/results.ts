/** Where every benchmark leaves its JSON: bench/results/<name>-<time>.json. Returns the path. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function saveResult(name: string, at: string, result: unknown): string {
  mkdirSync('bench/results', { recursive: true });
  const file = join('bench/results', `${name}-${at.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2));
  return file;
}
