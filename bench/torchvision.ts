/**
 * npm run bench:torchvision — the CLI on the FRIM paper's models as torchvision exports them.
 *
 * Exports AlexNet, ResNet-50 and VGG-16 (random weights; also VGG-16 in the external-data layout)
 * with Debian's torch (scripts/big/export_torchvision.py, installed by scripts/train/rebuild.sh's
 * apt line), cuts each with `npx frim-mesh partition --parts 4`, and checks in onnxruntime-node
 * that the partition chain computes what the whole model does. Reports sizes, the CLI's time and
 * peak memory, and the largest difference in the outputs.
 *
 * Env: BENCH_TV_PARTS (4).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { checkChain } from './lib/chain-check.js';
import { saveResult } from './lib/results.js';

const DIR = 'build/torchvision';
const PARTS = Number(process.env.BENCH_TV_PARTS ?? 4);
const MODELS = ['alexnet', 'resnet50', 'vgg16', 'vgg16-ext'];

function exportModels(): void {
  if (MODELS.every((m) => existsSync(join(DIR, `${m}.onnx`)))) return;
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import torch, torchvision, onnx'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    console.error('needs Debian\'s torch, torchvision and onnx: apt-get install python3-torch python3-torchvision python3-onnx');
    process.exit(2);
  }
  const r = spawnSync('/usr/bin/python3', ['scripts/big/export_torchvision.py', '--out', DIR, '--external'], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

async function main(): Promise<void> {
  mkdirSync(DIR, { recursive: true });
  exportModels();
  const rows: Record<string, unknown>[] = [];
  for (const m of MODELS) {
    const model = join(DIR, `${m}.onnx`);
    const out = join(DIR, `${m}-p${PARTS}`);
    const data = m.endsWith('-ext') ? statSync(`${model}.data`).size : 0;
    const t0 = Date.now();
    // GNU time reports the CLI's peak resident memory
    const r = spawnSync('/usr/bin/time', ['-f', '%M', 'node', 'bin/frim-mesh.mjs', 'partition', model, '--parts', String(PARTS), '--out', out], { encoding: 'utf8' });
    const ms = Date.now() - t0;
    if (r.status !== 0) throw new Error(`frim-mesh partition ${model}: ${r.stderr}`);
    const peakKiB = Number(r.stderr.trim().split('\n').at(-1));
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { partitions: { bytes: number }[] };
    const check = await checkChain(model, out, 2);
    const row = { model: m, bytes: statSync(model).size + data, partitions: manifest.partitions.map((p) => p.bytes), cliMs: ms, cliPeakBytes: peakKiB * 1024, ...check };
    rows.push(row);
    console.log(`${m.padEnd(10)} ${((row.bytes as number) / 2 ** 20).toFixed(1).padStart(7)} MiB -> ${manifest.partitions.map((p) => (p.bytes / 2 ** 20).toFixed(1)).join(' + ')} MiB; CLI ${(ms / 1000).toFixed(1)} s, peak ${(peakKiB / 1024).toFixed(0)} MiB; chain vs whole: max |diff| ${check.maxAbsDiff.toExponential(2)} (outputs up to ${check.maxAbs.toFixed(3)}), same top-1 ${check.sameTop1}/${check.inputs}`);
    if (check.sameTop1 !== check.inputs || check.maxAbsDiff > 1e-3 * Math.max(1, check.maxAbs)) throw new Error(`${m}: the partition chain does not compute what the whole model does`);
  }
  const at = new Date().toISOString();
  console.log(`written ${saveResult('torchvision', at, { bench: 'torchvision', at, parts: PARTS, models: rows })}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
