import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hashHex } from '../src/core/hash.js';

const BIN = 'bin/frim-mesh.mjs';
const run = (...args: string[]) => spawnSync('node', [BIN, ...args], { encoding: 'utf8' });

describe('frim-mesh CLI', () => {
  it('inspects a model', () => {
    const out = execFileSync('node', [BIN, 'inspect', 'public/models/resnet.onnx'], { encoding: 'utf8' });
    expect(out).toMatch(/opset 13, \d+ operators/);
    expect(out).toMatch(/input  input \[1, 1, 28, 28\]/);
    expect(out).toMatch(/Conv\s+13/);
  });

  it('writes a manifest and one file per partition', () => {
    const dir = mkdtempSync(join(tmpdir(), 'frim-cli-'));
    const r = run('partition', 'public/models/vgg.onnx', '--parts', '3', '--out', dir);
    expect(r.status).toBe(0);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.format).toBe(1);
    expect(manifest.partitions).toHaveLength(3);
    for (const p of manifest.partitions) expect(hashHex(readFileSync(join(dir, p.file)))).toBe(p.sha256);
  });

  it('fails with one clear line and a non-zero exit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'frim-cli-'));
    writeFileSync(join(dir, 'notes.onnx'), 'not a model');
    const cases: [string[], number, RegExp][] = [
      [['inspect', join(dir, 'notes.onnx')], 1, /^frim-mesh: "notes\.onnx" is not an ONNX model\.$/],
      [['inspect', join(dir, 'missing.onnx')], 1, /^frim-mesh: cannot read .*missing\.onnx: ENOENT$/],
      [['partition', 'public/models/vgg.onnx', '--parts', '0', '--out', dir], 2, /^frim-mesh: --parts needs a whole number/],
      [['partition', 'public/models/vgg.onnx', '--parts', '200', '--out', dir], 1, /^frim-mesh: The model has \d+ operators, so it cannot be cut into 200 partitions\.$/],
      [['frobnicate'], 2, /^frim-mesh: unknown command "frobnicate"/],
    ];
    for (const [args, code, line] of cases) {
      const r = run(...args);
      expect(r.status, args.join(' ')).toBe(code);
      expect(r.stderr.split('\n')[0]).toMatch(line);
    }
  });
});
