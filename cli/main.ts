/**
 * frim-mesh command line:
 *   frim-mesh inspect MODEL.onnx [DATA...]
 *   frim-mesh partition MODEL.onnx [DATA...] --parts N --out DIR [--memory-cap MIB]
 * DATA: the external data files of a model that keeps its weights outside the .onnx (found beside
 * it by the names it uses when not given). Partitions are written one at a time, so memory holds
 * the model's graph and one partition, not every partition at once.
 * Errors end the program with exit code 1 (bad model) or 2 (bad arguments) and one line on stderr.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { analyseModel } from '../src/core/onnx/graph.js';
import { baseName, externalLocations, type ExternalFiles } from '../src/core/onnx/external.js';
import { assembleManifest, partitionFile, planModel, type ModelSource } from '../src/core/onnx/manifest.js';
import { decodeModel, ONNX_FILE_LIMIT } from '../src/core/onnx/model.js';
import { onnx } from '../src/core/onnx/proto.js';
import { formatBytes, formatFlops, table } from '../src/core/format.js';

const USAGE = `usage:
  frim-mesh inspect MODEL.onnx [DATA...]
  frim-mesh partition MODEL.onnx [DATA...] --parts N --out DIR [--memory-cap MIB]
DATA: external data files of a model that keeps its weights outside the .onnx
      (looked up beside MODEL.onnx when not given)`;

class UsageError extends Error {}

function readModel(path: string | undefined): Uint8Array {
  if (!path) throw new UsageError(`no model file given\n${USAGE}`);
  let size: number;
  try {
    size = statSync(path).size;
  } catch (e) {
    throw new Error(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (size > ONNX_FILE_LIMIT) throw new Error(`${basename(path)} is ${formatBytes(size)}: no ONNX file can be 2 GiB or more (bigger models keep their weights in a separate data file; give it after the .onnx)`);
  // a view of the buffer read, not a copy of it (`new Uint8Array(buffer)` would copy the whole model)
  const b = readFileSync(path);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** Data files opened for reading on demand: the named ones, else those beside the model it refers to. */
function dataFiles(modelPath: string, bytes: Uint8Array, given: string[]): { files: ExternalFiles | undefined; paths: string[]; close(): void } {
  const paths = [...given];
  if (!paths.length) {
    // only the graph's structure is needed to learn the names; the weights are not read here
    let wanted: string[] = [];
    try {
      wanted = externalLocations(onnx.ModelProto.decode(bytes));
    } catch {
      // not ONNX: decodeModel says so properly
    }
    for (const w of wanted) if (existsSync(join(dirname(modelPath), w))) paths.push(join(dirname(modelPath), w));
  }
  if (!paths.length) return { files: undefined, paths, close: () => undefined };
  const fds = new Map<string, number>();
  const sizes = new Map<string, number>();
  for (const p of paths) {
    try {
      const fd = openSync(p, 'r');
      fds.set(baseName(p), fd);
      sizes.set(baseName(p), fstatSync(fd).size);
    } catch (e) {
      throw new Error(`cannot read ${p}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  return {
    paths,
    files: {
      sizes,
      read(location, offset, length) {
        const out = new Uint8Array(length);
        let got = 0;
        while (got < length) {
          const n = readSync(fds.get(location)!, out, got, length - got, offset + got);
          if (n === 0) break;
          got += n;
        }
        return out.subarray(0, got);
      },
    },
    close: () => fds.forEach((fd) => closeSync(fd)),
  };
}

/** SHA-256 of the .onnx followed by its data files (in the order given), streamed from disk. */
function modelHash(bytes: Uint8Array, dataPaths: string[]): string {
  const h = createHash('sha256').update(bytes);
  const buf = new Uint8Array(16 * 1024 * 1024);
  for (const p of dataPaths) {
    const fd = openSync(p, 'r');
    try {
      for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) h.update(buf.subarray(0, n));
    } finally {
      closeSync(fd);
    }
  }
  return h.digest('hex');
}

function source(path: string | undefined, data: string[]): { src: ModelSource; close(): void; dataPaths: string[] } {
  const bytes = readModel(path);
  const d = dataFiles(path!, bytes, data);
  return { src: { name: basename(path!), bytes, external: d.files, sha256: modelHash(bytes, d.paths) }, close: d.close, dataPaths: d.paths };
}

function inspect(path: string | undefined, data: string[]): void {
  const { src, close, dataPaths } = source(path, data);
  try {
    const model = decodeModel(src.bytes, { name: src.name, external: src.external });
    const a = analyseModel(model, src.external);
    const dims = (d: number[] | null) => (d ? `[${d.join(', ')}]` : '[?]');
    const extra = dataPaths.length ? ` + ${dataPaths.map((p) => basename(p)).join(', ')}` : '';
    console.log(`${src.name}${extra}  ${formatBytes(src.bytes.length)}  sha256 ${src.sha256}`);
    console.log(`opset ${a.opset}, ${a.nodes.length} operators, ${formatFlops(a.totalFlops)} per image, ${formatBytes(a.totalParamBytes)} of weights`);
    for (const i of a.inputs) console.log(`input  ${i.name} ${dims(i.dims)} (batch 1)`);
    for (const o of a.outputs) console.log(`output ${o.name} ${dims(o.dims)} (batch 1)`);
    console.log('\noperators');
    console.log(table(['op', 'count'], a.histogram.map(([op, n]) => [op, String(n)])));
    const heavy = [...a.nodes].sort((x, y) => y.flops - x.flops).slice(0, 8);
    console.log('\nheaviest operators');
    console.log(table(['#', 'node', 'op', 'FLOPs', 'weights', 'output'], heavy.map((n) => [String(n.index), n.name, n.opType, formatFlops(n.flops), formatBytes(n.paramBytes), formatBytes(n.outputBytes)])));
  } finally {
    close();
  }
}

function partition(path: string | undefined, data: string[], values: { parts?: string; out?: string; 'memory-cap'?: string }): void {
  const parts = Number(values.parts);
  if (!values.parts || !Number.isInteger(parts) || parts < 1) throw new UsageError(`--parts needs a whole number of at least 1\n${USAGE}`);
  if (!values.out) throw new UsageError(`--out DIR is required\n${USAGE}`);
  const cap = values['memory-cap'] === undefined ? undefined : Number(values['memory-cap']) * 1024 * 1024;
  if (cap !== undefined && !(cap > 0)) throw new UsageError('--memory-cap takes a size in MiB');
  const { src, close } = source(path, data);
  try {
    const pm = planModel(src, { parts, memoryCapBytes: cap });
    mkdirSync(values.out, { recursive: true });
    const written: { name: string; sha256: string; bytes: number }[] = [];
    for (let i = 0; i < pm.plan.partitions.length; i++) {
      const f = partitionFile(pm, i);
      writeFileSync(join(values.out, f.name), f.bytes);
      written.push({ name: f.name, sha256: createHash('sha256').update(f.bytes).digest('hex'), bytes: f.bytes.length });
    }
    const manifest = assembleManifest(pm, written, src.sha256!);
    writeFileSync(join(values.out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    console.log(table(
      ['partition', 'operators', 'FLOPs', 'weights', 'in', 'out', 'file'],
      pm.plan.partitions.map((x, i) => [String(x.id), `${x.start}-${x.end}`, formatFlops(x.flops), formatBytes(x.paramBytes), formatBytes(x.inputBytes), formatBytes(x.outputBytes), `${written[i].name} (${formatBytes(written[i].bytes)})`]),
    ));
    for (const c of pm.plan.cuts) console.log(`cut after operator ${c.after}: ${formatBytes(c.bytes)} per image (${c.tensors.join(', ')})`);
    console.log(`wrote ${join(values.out, 'manifest.json')} and ${written.length} partition files`);
  } finally {
    close();
  }
}

function main(argv: string[]): void {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { parts: { type: 'string' }, out: { type: 'string' }, 'memory-cap': { type: 'string' }, help: { type: 'boolean' } },
  });
  const [command, file, ...data] = positionals;
  if (values.help || !command) return void console.log(USAGE);
  if (command === 'inspect') return inspect(file, data);
  if (command === 'partition') return partition(file, data, values);
  throw new UsageError(`unknown command "${command}"\n${USAGE}`);
}

try {
  main(process.argv.slice(2));
} catch (e) {
  console.error(`frim-mesh: ${(e as Error).message}`);
  process.exit(e instanceof UsageError ? 2 : 1);
}
