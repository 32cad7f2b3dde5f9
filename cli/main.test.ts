import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hashHex } from '../src/core/hash.js';
import { externalize } from '../src/core/onnx/external.js';
import { decodeModel, encodeModel } from '../src/core/onnx/model.js';
import { onnx } from '../src/core/onnx/proto.js';

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

  it('takes a model whose weights are in a separate data file, found beside it or named after it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'frim-cli-'));
    const { model, data } = externalize(onnx.ModelProto.decode(readFileSync('public/models/alexnet.onnx')), 'alexnet.onnx.data');
    writeFileSync(join(dir, 'alexnet.onnx'), encodeModel(model));
    writeFileSync(join(dir, 'alexnet.onnx.data'), data);
    const inspected = run('inspect', join(dir, 'alexnet.onnx'));
    expect(inspected.status, inspected.stderr).toBe(0);
    expect(inspected.stdout).toMatch(/alexnet\.onnx \+ alexnet\.onnx\.data/);
    for (const args of [[join(dir, 'alexnet.onnx')], [join(dir, 'alexnet.onnx'), join(dir, 'alexnet.onnx.data')]]) {
      const out = join(dir, `out${args.length}`);
      const r = run('partition', ...args, '--parts', '3', '--out', out);
      expect(r.status, r.stderr).toBe(0);
      const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
      for (const p of manifest.partitions) {
        const bytes = readFileSync(join(out, p.file));
        expect(hashHex(bytes)).toBe(p.sha256);
        // each partition carries its own weights: it runs without the data file
        expect(decodeModel(bytes).graph!.initializer!.every((t) => !t.externalData?.length)).toBe(true);
      }
    }
    const lonely = mkdtempSync(join(tmpdir(), 'frim-cli-'));
    writeFileSync(join(lonely, 'alexnet.onnx'), encodeModel(model));
    const r = run('inspect', join(lonely, 'alexnet.onnx'));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^frim-mesh: "alexnet\.onnx" keeps its weights in a separate data file \("alexnet\.onnx\.data"\)/);
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
