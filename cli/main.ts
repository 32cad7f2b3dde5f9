/**
 * frim-mesh command line:
 *   frim-mesh inspect MODEL.onnx
 *   frim-mesh partition MODEL.onnx --parts N --out DIR [--memory-cap MIB]
 * Errors end the program with exit code 1 and one line on stderr.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { analyseModel } from '../src/core/onnx/graph.js';
import { hashHex } from '../src/core/hash.js';
import { partitionModelBytes } from '../src/core/onnx/manifest.js';
import { decodeModel } from '../src/core/onnx/model.js';
import { formatBytes, formatFlops, table } from '../src/core/format.js';

const USAGE = `usage:
  frim-mesh inspect MODEL.onnx
  frim-mesh partition MODEL.onnx --parts N --out DIR [--memory-cap MIB]`;

class UsageError extends Error {}

function readModel(path: string | undefined): Uint8Array {
  if (!path) throw new UsageError(`no model file given\n${USAGE}`);
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new Error(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function inspect(path: string | undefined): void {
  const bytes = readModel(path);
  const model = decodeModel(bytes, { name: basename(path!) });
  const a = analyseModel(model);
  const dims = (d: number[] | null) => (d ? `[${d.join(', ')}]` : '[?]');
  console.log(`${basename(path!)}  ${formatBytes(bytes.length)}  sha256 ${hashHex(bytes)}`);
  console.log(`opset ${a.opset}, ${a.nodes.length} operators, ${formatFlops(a.totalFlops)} per image, ${formatBytes(a.totalParamBytes)} of weights`);
  for (const i of a.inputs) console.log(`input  ${i.name} ${dims(i.dims)} (batch 1)`);
  for (const o of a.outputs) console.log(`output ${o.name} ${dims(o.dims)} (batch 1)`);
  console.log('\noperators');
  console.log(table(['op', 'count'], a.histogram.map(([op, n]) => [op, String(n)])));
  const heavy = [...a.nodes].sort((x, y) => y.flops - x.flops).slice(0, 8);
  console.log('\nheaviest operators');
  console.log(table(['#', 'node', 'op', 'FLOPs', 'weights', 'output'], heavy.map((n) => [String(n.index), n.name, n.opType, formatFlops(n.flops), formatBytes(n.paramBytes), formatBytes(n.outputBytes)])));
}

function partition(path: string | undefined, values: { parts?: string; out?: string; 'memory-cap'?: string }): void {
  const parts = Number(values.parts);
  if (!values.parts || !Number.isInteger(parts) || parts < 1) throw new UsageError(`--parts needs a whole number of at least 1\n${USAGE}`);
  if (!values.out) throw new UsageError(`--out DIR is required\n${USAGE}`);
  const cap = values['memory-cap'] === undefined ? undefined : Number(values['memory-cap']) * 1024 * 1024;
  if (cap !== undefined && !(cap > 0)) throw new UsageError('--memory-cap takes a size in MiB');
  const bytes = readModel(path);
  const p = partitionModelBytes(bytes, basename(path!), { parts, memoryCapBytes: cap });
  mkdirSync(values.out, { recursive: true });
  for (const f of p.files) writeFileSync(join(values.out, f.name), f.bytes);
  writeFileSync(join(values.out, 'manifest.json'), `${JSON.stringify(p.manifest, null, 2)}\n`);
  console.log(table(
    ['partition', 'operators', 'FLOPs', 'weights', 'in', 'out', 'file'],
    p.plan.partitions.map((x, i) => [String(x.id), `${x.start}-${x.end}`, formatFlops(x.flops), formatBytes(x.paramBytes), formatBytes(x.inputBytes), formatBytes(x.outputBytes), `${p.files[i].name} (${formatBytes(p.files[i].bytes.length)})`]),
  ));
  for (const c of p.plan.cuts) console.log(`cut after operator ${c.after}: ${formatBytes(c.bytes)} per image (${c.tensors.join(', ')})`);
  console.log(`wrote ${join(values.out, 'manifest.json')} and ${p.files.length} partition files`);
}

function main(argv: string[]): void {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { parts: { type: 'string' }, out: { type: 'string' }, 'memory-cap': { type: 'string' }, help: { type: 'boolean' } },
  });
  const [command, file] = positionals;
  if (values.help || !command) return void console.log(USAGE);
  if (command === 'inspect') return inspect(file);
  if (command === 'partition') return partition(file, values);
  throw new UsageError(`unknown command "${command}"\n${USAGE}`);
}

try {
  main(process.argv.slice(2));
} catch (e) {
  console.error(`frim-mesh: ${(e as Error).message}`);
  process.exit(e instanceof UsageError ? 2 : 1);
}
