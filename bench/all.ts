/**
 * npm run bench [-- --quick] — the whole state in one command: the paper's table (bench/paper.ts),
 * then the detector, replica and inference benchmarks of the earlier issues and the simulator
 * (cli/sim.ts), each in a process of its own, then BENCHMARKS.md regenerated from their JSON
 * (bench/lib/report.ts). `--quick` runs everything with tiny counts and writes its report under
 * bench/results/quick/, and checks the report's structure, never its speed. `--only a,b` runs just
 * those steps again and takes the others from the last run of the same mode (bench/results/run*.json,
 * written at the end of every run); the report says which steps were re-run. `--report` runs nothing
 * and rewrites the report from the last run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { METHODS, paperProblems } from './lib/paper-table.js';
import { saveResult } from './lib/results.js';
import { writeReport, type Collected } from './lib/report.js';
import { PAPER_FAILURES, PAPER_MODELS } from './paper.js';

const QUICK = process.argv.includes('--quick');

interface Step {
  name: string;
  script: string;
  /** arguments (full run, --quick); a step with them prints its JSON, which is saved for it */
  args?: { full: string[]; quick: string[] };
  /** env for a full run, and for --quick */
  full: Record<string, string>;
  quick: Record<string, string>;
}

const STEPS: Step[] = [
  { name: 'paper', script: 'bench/paper.ts', full: {}, quick: {} },
  { name: 'detector', script: 'bench/detector.ts', full: { BENCH_KILLS: '8', BENCH_CRASHES: '4', BENCH_JITTER_S: '120' }, quick: { BENCH_KILLS: '1', BENCH_CRASHES: '1', BENCH_JITTER_S: '5', BENCH_SETTLE_MS: '10000' } },
  { name: 'replicas', script: 'bench/replicas.ts', full: { BENCH_REPS: '3', BENCH_KILLS: '2' }, quick: { BENCH_REPS: '1', BENCH_KILLS: '1' } },
  { name: 'inference', script: 'bench/inference.ts', full: { BENCH_N: '200', BENCH_GPU_N: '20' }, quick: { BENCH_N: '20', BENCH_GPU_N: '0', BENCH_CHAIN_IMAGES_WASM: '20', BENCH_CHAIN_IMAGES_WEBGPU: '5' } },
  { name: 'sim', script: 'cli/sim.ts', full: {}, quick: {}, args: { full: ['--devices', '1000', '--minutes', '10', '--up', '2', '--spread', '0', '--json'], quick: ['--devices', '100', '--minutes', '2', '--json'] } },
  { name: 'sim-seeds', script: 'cli/sim.ts', full: {}, quick: {}, args: { full: ['--devices', '1000', '--minutes', '10', '--up', '2', '--seeds', '1,2,3', '--spreads', '0,1', '--json'], quick: ['--devices', '50', '--minutes', '2', '--up', '2', '--seeds', '1,2', '--spreads', '0,1', '--json'] } },
  { name: 'sim-sweep', script: 'cli/sim.ts', full: {}, quick: {}, args: { full: ['--sweep', '--spread', '0', '--json'], quick: ['--sweep', '--sizes', '4,16', '--ups', '20,2', '--minutes', '2', '--json'] } },
];

/** The newest result of `name` written since `since` (ms). */
function newest(name: string, since: number): string | null {
  const files = readdirSync('bench/results').filter((f) => f.startsWith(`${name}-`) && f.endsWith('.json')).map((f) => join('bench/results', f));
  const fresh = files.filter((f) => statSync(f).mtimeMs >= since).sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return fresh[0] ?? null;
}

const ONLY = (() => {
  // --report: no step runs again, the report is rewritten from the last run (after a change to the report itself)
  if (process.argv.includes('--report')) return [];
  const i = process.argv.indexOf('--only');
  if (i < 0) return null;
  const names = (process.argv[i + 1] ?? '').split(',');
  const unknown = names.filter((n) => !STEPS.some((s) => s.name === n));
  if (unknown.length) throw new Error(`--only: no step ${unknown.join(', ')} (steps: ${STEPS.map((s) => s.name).join(', ')})`);
  return names;
})();
/** each step's entry of the last run in this mode (no result bodies: those are read back from their files) */
const RUN_FILE = `bench/results/run${QUICK ? '-quick' : ''}.json`;
type Entry = Omit<Collected['steps'][number], 'result'>;
const lastRun: { at: string; command: string; steps: Entry[] } | null = ONLY && existsSync(RUN_FILE) ? JSON.parse(readFileSync(RUN_FILE, 'utf8')) : null;
if (ONLY && !lastRun) throw new Error(`--only needs an earlier run in this mode (${RUN_FILE})`);

const started = Date.now();
const command = `npm run bench${QUICK ? ' -- --quick' : ''}`;
const collected: Collected = { quick: QUICK, at: lastRun?.at ?? new Date(started).toISOString(), command: ONLY?.length ? `${lastRun!.command}\`, then \`npm run bench -- ${QUICK ? '--quick ' : ''}--only ${ONLY.join(',')}` : lastRun?.command ?? command, steps: [] };
let failed = false;
for (const step of STEPS) {
  const before = lastRun?.steps.find((e) => e.name === step.name);
  if (ONLY && !ONLY.includes(step.name) && before) {
    collected.steps.push({ ...before, result: before.file && existsSync(before.file) ? JSON.parse(readFileSync(before.file, 'utf8')) : null });
    failed ||= !before.ok;
    continue;
  }
  const t0 = Date.now();
  console.log(`\n##### ${step.name} (${step.script}) #####`);
  const args = step.args ? (QUICK ? step.args.quick : step.args.full) : QUICK ? ['--quick'] : [];
  const r = spawnSync('npx', ['tsx', step.script, ...args], { stdio: step.args ? ['ignore', 'pipe', 'inherit'] : 'inherit', env: { ...process.env, ...(QUICK ? step.quick : step.full) }, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  if (step.args && r.status === 0) {
    process.stdout.write(r.stdout);
    saveResult(step.name, new Date().toISOString(), { bench: step.name, args, ...JSON.parse(r.stdout) });
  }
  const file = newest(step.name, t0);
  const ok = r.status === 0 && !!file;
  failed ||= !ok;
  collected.steps.push({ name: step.name, seconds: (Date.now() - t0) / 1000, ok, env: QUICK ? step.quick : step.full, file, ...(ONLY ? { rerun: new Date(t0).toISOString() } : {}), result: file ? JSON.parse(readFileSync(file, 'utf8')) : null });
}
writeFileSync(RUN_FILE, JSON.stringify({ at: collected.at, command: collected.command, steps: collected.steps.map(({ result: _, ...e }) => e) }, null, 1));
const out = writeReport(collected);
console.log(`\nwrote ${out.join(', ')} in ${((Date.now() - started) / 60000).toFixed(1)} min`);
// the report's structure, never its speed: what CI checks of the quick run
const paper = collected.steps.find((s) => s.name === 'paper')?.result as { rows?: unknown } | null;
const problems = paperProblems(paper, PAPER_MODELS, METHODS, PAPER_FAILURES);
for (const p of problems) console.error(`report: ${p}`);
process.exit(failed || problems.length ? 1 : 0);
