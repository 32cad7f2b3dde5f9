/**
 * BENCHMARKS.md from the JSON of one `npm run bench`: the paper's table in its layout with our
 * numbers beside the published ones, completion and latency, a chart per model, and the detector,
 * replica and inference results of the same run. Every number comes from the run's files.
 */
import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { paperGoals } from './goals.js';
import { FAILURE_SETS, METHODS, PAPER, type Method, type PaperRow } from './paper-table.js';
import { accuracyChart, lineChart } from './svg-chart.js';

/**
 * Where a report goes: a full run rewrites BENCHMARKS.md at the top (committed) and its charts in
 * bench/results/charts; a quick run writes beside its JSON (ignored), so it never touches them.
 */
class Place {
  readonly md: string;
  private readonly dir: string;
  /** the link prefix from the report to its charts */
  private readonly linkDir: string;
  readonly written: string[] = [];

  constructor(quick: boolean) {
    this.md = quick ? 'bench/results/quick/BENCHMARKS.md' : 'BENCHMARKS.md';
    this.dir = quick ? 'bench/results/quick/charts' : 'bench/results/charts';
    this.linkDir = quick ? 'charts' : 'bench/results/charts';
    mkdirSync(this.dir, { recursive: true });
  }

  /** Writes chart `name` and returns the path the report links it by. */
  chart(name: string, svg: string): string {
    const file = `${this.dir}/${name}`;
    writeFileSync(file, svg);
    this.written.push(file);
    return `${this.linkDir}/${name}`;
  }
}

export interface Collected {
  quick: boolean;
  at: string;
  command: string;
  /** `rerun`: when the step was run again alone (`npm run bench -- --only`) */
  steps: { name: string; seconds: number; ok: boolean; env: Record<string, string>; file: string | null; rerun?: string; result: unknown }[];
}

/** which published column each of ours is compared with */
const PUBLISHED_COLUMN: Record<Method, number> = { 'no-config': 0, 'skip-connection': 2, 'early-exit': 3, frim: 5 };
const pct = (x: number | null | undefined) => (x === null || x === undefined ? '–' : (100 * x).toFixed(1));
const ms = (x: number | null | undefined) => (x === null || x === undefined ? '–' : x.toFixed(0));

function versions(): string {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
  let chromium = 'unknown';
  try {
    chromium = execFileSync(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    // not installed where this report is written
  }
  const dep = (n: string) => pkg.dependencies[n] ?? pkg.devDependencies[n] ?? '?';
  return `Node ${process.version}; ${chromium}; onnxruntime-web ${dep('onnxruntime-web')}, peerjs ${dep('peerjs')}, playwright ${dep('@playwright/test')}`;
}

function paperSection(rows: PaperRow[], charts: string[]): string[] {
  const models = [...new Set(rows.map((r) => r.model))];
  const key = (r: PaperRow) => r.failed.join('+') || 'healthy';
  const find = (model: string, method: Method, failed: string) => rows.find((r) => r.model === model && r.method === method && key(r) === failed);
  const out: string[] = ['## Accuracy under failure (the paper\'s table)', ''];
  out.push('Accuracy in % over the same images in every cell (an unanswered image counts as wrong); in brackets, the paper\'s published number for the matching column (No-config, DFG for skip-connection, Early exit, FRIM). CIODE and EDGESER are not rebuilt: CIODE behaves as No-config under crash failures in the paper\'s own table (it guards against deadlock and jitter, not lost devices), and EDGESER combines the two baselines measured here.', '');
  /** one table in the paper's layout: a row per model and failure set, a column per method */
  const table = (align: string, cell: (r: PaperRow, failed: string) => string) => {
    out.push(`| model | failed | ${METHODS.join(' | ')} |`, `| --- | --- | ${METHODS.map(() => align).join(' | ')} |`);
    for (const model of models) {
      for (const failed of ['healthy', ...FAILURE_SETS]) {
        const cells = METHODS.map((m) => {
          const r = find(model, m, failed);
          return r ? cell(r, failed) : '';
        });
        if (cells.some(Boolean)) out.push(`| ${model} | ${failed} | ${cells.join(' | ')} |`);
      }
    }
  };
  table('---:', (r, failed) => {
    const published = failed === 'healthy' ? undefined : PAPER[r.model]?.[failed as (typeof FAILURE_SETS)[number]]?.[PUBLISHED_COLUMN[r.method]];
    return `${pct(r.accuracy)}${published === undefined ? '' : ` (${published})`}`;
  });
  out.push('', 'Completion (images answered / sent) and latency per request (p50 / p99 ms):', '');
  table('---', (r) => `${r.answered}/${r.n} · ${ms(r.p50Ms)} / ${ms(r.p99Ms)}`);
  out.push('', ...charts.map((c) => `![accuracy under failure](${c})`), '');
  out.push('### Goals', '', '| goal | result | cells that miss it |', '| --- | --- | --- |');
  for (const g of paperGoals(rows)) out.push(`| ${g.goal} | ${g.met === null ? 'not run' : g.met ? 'met' : '**not met**'} | ${g.misses.join('; ') || '–'} |`);
  out.push('', 'early-exit here is the rule the issue gives — answer from the last exit before a failed partition — and that rule cannot match the paper\'s pattern: with D1 (the first partition) gone there is no exit before it, so it collapses under D1, D1+D2 and D1+D3; with D2 and D3 gone D1\'s exit still answers, so it holds under D2+D3. The paper\'s Early exit column (75 % under D1, 7 % under D2+D3, 60 % under D1+D3) behaves like a bypass of one failed device, which no exit-before-failure rule gives; skip-connection, which is that bypass, does follow it.', '');
  return out;
}

interface Quantiles { n?: number; p50?: number; p99?: number }
interface DetectorJson { config?: { jitterSeconds?: number }; detectionMs?: Quantiles | null; departureMs?: Quantiles | null; crash?: { iceDisconnectedMs?: Quantiles | null }; jitter?: { falseAlarms?: number } }
interface ReplicasJson { throughput?: { ratio?: number; oursMBps?: number }; rejoin?: { replicaRatio?: number }; restore?: { p50?: number } }
interface Phase { answered?: number; lost?: number; p50?: number | null; p99?: number | null }
interface SimPolicyJson { answeredFraction: number; bytesMoved: number; copiesMean: number; copiesMin?: number; latencyP50Ms: number | null; latencyP99Ms: number | null }
interface SimJson extends SimPolicyJson { target?: number; devices: number; minutes: number; meanUpMin: number; meanDownMin: number; upSpread?: number; historyMin?: number; copiesOverTime?: Record<string, { t: number; mean: number }[]>; requestsPerSec: number; failures: number; detectionP50Ms: number | null; fixed1: SimPolicyJson; fixed2: SimPolicyJson; fixed3: SimPolicyJson; heartbeatsPerDevicePerSec: number; placementMsMean: number; msPerEvent: number }
interface InferenceRoomJson { backend?: string; n?: number; failoverP99Ratio?: number; chain?: { ratio: number; chainMsPerImage: number; wholeMsPerImage: number }; frim?: { healthy?: Phase; failure?: Phase }; noConfig?: { failure?: Phase }; mesh?: { ratio?: number; localWholeP50?: number; hopTransferP50?: number }; hedging?: { duplicateFraction?: number }; throughput?: { roomPerSec: number; singlePerSec: number; ratio: number }; coldStart?: { p99: number; steadyP50: number; ratio: number; warmUpMs?: number } }

function otherSections(steps: Collected['steps'], place: Place): string[] {
  const get = <T>(name: string) => steps.find((s) => s.name === name)?.result as T | null | undefined;
  const out: string[] = [];
  const d = get<DetectorJson>('detector');
  if (d) {
    out.push('## Failure detection (FRIM 4.1)', '', '| measured | value |', '| --- | --- |');
    out.push(`| a closed tab known as left at every peer (its own word, issue 15) | p50 ${ms(d.departureMs?.p50)} ms, p99 ${ms(d.departureMs?.p99)} ms (n = ${d.departureMs?.n ?? 0}) |`);
    out.push(`| a crashed device to *failed* at every peer (heartbeat detector) | p50 ${ms(d.detectionMs?.p50)} ms, p99 ${ms(d.detectionMs?.p99)} ms (n = ${d.detectionMs?.n ?? 0}) |`);
    out.push(`| the browser's ICE \`disconnected\` after a crash | p50 ${ms(d.crash?.iceDisconnectedMs?.p50)} ms |`);
    out.push(`| false alarms during ${d.config?.jitterSeconds} s of jitter | ${d.jitter?.falseAlarms ?? '–'} |`, '');
  }
  const r = get<ReplicasJson>('replicas');
  if (r) {
    out.push('## Replicas (FRIM 4.2)', '', '| measured | value |', '| --- | --- |');
    out.push(`| throughput, ours / a raw data channel | ${r.throughput?.ratio?.toFixed(3) ?? '–'} (${r.throughput?.oursMBps?.toFixed(1) ?? '–'} MB/s) |`);
    out.push(`| rejoin from IndexedDB / cold download | ${r.rejoin?.replicaRatio?.toFixed(3) ?? '–'} |`);
    out.push(`| target restored after a holder is closed | p50 ${ms(r.restore?.p50)} ms |`, '');
  }
  const i = get<{ rooms?: InferenceRoomJson[] }>('inference');
  const rooms = i?.rooms ?? [];
  if (rooms.length) {
    // issue 13's goals, one column per room (WASM, then WebGPU where it ran)
    const row = (name: string, f: (r: InferenceRoomJson) => string) => out.push(`| ${name} | ${rooms.map(f).join(' | ')} |`);
    out.push('## Inference (FRIM 4.3)', '', `| measured (goal) | ${rooms.map((r) => (r.backend === 'webgpu' ? 'WebGPU room' : 'WASM room')).join(' | ')} |`, `| --- |${rooms.map(() => ' ---: |').join('')}`);
    row('frim, a device closed mid-stream', (r) => `${r.frim?.failure?.answered}/${r.n} answered, ${r.frim?.failure?.lost} lost, p99 ${ms(r.frim?.failure?.p99)} ms`);
    row('no-config, the same kill', (r) => `${r.noConfig?.failure?.answered} answered, ${r.noConfig?.failure?.lost} lost`);
    row('failover p99 / healthy p99 (≤ 1.5×, 0 lost)', (r) => `${r.failoverP99Ratio?.toFixed(2) ?? '–'}×`);
    row('mesh p50 / (whole model here + hops) (≤ 1.3×)', (r) => `${ms(r.frim?.healthy?.p50)} / (${ms(r.mesh?.localWholeP50)} + ${ms(r.mesh?.hopTransferP50)}) ms = ${r.mesh?.ratio?.toFixed(2) ?? '–'}×`);
    row('duplicate stage runs, healthy (≤ 10 %)', (r) => `${pct(r.hedging?.duplicateFraction)} %`);
    row('requests/s flooded: room / one device (≥ 1.6×)', (r) => (r.throughput ? `${r.throughput.roomPerSec.toFixed(1)} / ${r.throughput.singlePerSec.toFixed(1)} = ${r.throughput.ratio.toFixed(2)}×` : '–'));
    row('every copy warm after loading', (r) => (r.coldStart?.warmUpMs !== undefined ? `${ms(r.coldStart.warmUpMs)} ms` : '–'));
    row('first 10 requests: p99 / steady p50 (≤ 3×)', (r) => (r.coldStart ? `${ms(r.coldStart.p99)} / ${ms(r.coldStart.steadyP50)} ms = ${r.coldStart.ratio.toFixed(1)}×` : '–'));
    row('chain / whole on one device (≤ 1.05× WASM, ≤ 1.10× WebGPU)', (r) => (r.chain ? `${r.chain.chainMsPerImage.toFixed(1)} / ${r.chain.wholeMsPerImage.toFixed(1)} ms = ${r.chain.ratio.toFixed(2)}×` : '–'));
    out.push('');
  }
  const sim = get<SimJson>('sim');
  if (sim) {
    out.push('## Simulator (`npm run sim`)', '');
    out.push(`The headline room: ${sim.devices} devices for ${sim.minutes} simulated minutes; each device's own mean time up is drawn around ${sim.meanUpMin} min (lognormal, σ ${sim.upSpread ?? 0}${sim.upSpread ? ': steady laptops and flaky phones' : ': every device alike'}), away ${sim.meanDownMin} min on average, with ${sim.historyMin ?? 0} min of recorded history; ${sim.requestsPerSec} requests/s; VGG-16 at full size (528 MiB) in four partitions: ${sim.failures} failures, detected in p50 ${ms(sim.detectionP50Ms)} ms.`, '');
    out.push('| placement | answered | GiB moved | copies per partition (mean, lowest) | p50 / p99 ms |', '| --- | ---: | ---: | ---: | --- |');
    const row = (name: string, r: SimPolicyJson) => `| ${name} | ${(100 * r.answeredFraction).toFixed(2)} % | ${(r.bytesMoved / 2 ** 30).toFixed(1)} | ${r.copiesMean.toFixed(2)}, ${r.copiesMin ?? '–'} | ${ms(r.latencyP50Ms)} / ${ms(r.latencyP99Ms)} |`;
    out.push(row(`FRIM (Algorithm 1 at θ = ${sim.target ?? 0.999})`, sim), row('fixed 1 copy', sim.fixed1), row('fixed 2 copies', sim.fixed2), row('fixed 3 copies', sim.fixed3), '');
    out.push(`What grows with the room: ${sim.heartbeatsPerDevicePerSec} heartbeat messages per device per second (a full mesh), Algorithm 1 ${sim.placementMsMean.toFixed(1)} ms per decision, the simulator ${sim.msPerEvent.toFixed(3)} ms per event.`, '');
    if (sim.copiesOverTime) {
      const link = place.chart('sim-copies.svg', lineChart(`${sim.devices} devices: live copies per partition (mean)`, Object.entries(sim.copiesOverTime).map(([name, pts]) => ({ name, points: pts.map((p) => ({ x: Math.round(p.t / 60), y: p.mean })) })), { x: 'simulated minutes', y: 'copies' }));
      out.push(`![live copies per partition over time](${link})`, '');
    }
  }
  const runs = get<{ runs?: (SimJson & { seed: number; goalMet: boolean | null })[] }>('sim-seeds')?.runs;
  if (runs?.length) {
    const tested = runs.filter((r) => r.goalMet !== null);
    out.push(`### The goal across seeds: ${runs[0].devices} devices, mean time up ${runs[0].meanUpMin} min`, '');
    out.push(`Where fixed 2 copies drop requests, FRIM should answer ≥ 99.9 % with fewer bytes moved than fixed 3 copies. It holds in ${tested.filter((r) => r.goalMet).length} of the ${tested.length} rooms below that test it (σ 0: every device alike; σ 1: steady laptops and flaky phones).`, '');
    out.push('| seed | σ | FRIM answered (GiB moved, copies) | fixed 2 answered | fixed 3 answered (GiB moved) | goal |', '| ---: | ---: | ---: | ---: | ---: | --- |');
    for (const r of runs) out.push(`| ${r.seed} | ${r.upSpread} | ${(100 * r.answeredFraction).toFixed(2)} % (${(r.bytesMoved / 2 ** 30).toFixed(2)}, ${r.copiesMean.toFixed(2)}) | ${(100 * r.fixed2.answeredFraction).toFixed(2)} % | ${(100 * r.fixed3.answeredFraction).toFixed(2)} % (${(r.fixed3.bytesMoved / 2 ** 30).toFixed(2)}) | ${r.goalMet === null ? 'not tested (fixed 2 dropped nothing)' : r.goalMet ? 'met' : '**not met**'} |`);
    if (tested.some((r) => !r.goalMet)) out.push('', 'Why it fails where it does, and what meeting it would take: *Evaluation* in docs/design.md.');
    out.push('');
  }
  const sweep = get<{ sweep?: SimJson[] }>('sim-sweep')?.sweep;
  if (sweep?.length) {
    out.push('### Per room size and churn', '', 'Answered % (GiB moved) per placement; heartbeats per device per second, Algorithm 1 ms per decision and the simulator ms per event grow with the room.', '');
    out.push('| devices | mean up (min) | failures | FRIM | fixed 1 | fixed 2 | fixed 3 | heartbeats/device/s | placement ms | ms/event |', '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    const cell = (r: SimPolicyJson) => `${(100 * r.answeredFraction).toFixed(2)} (${(r.bytesMoved / 2 ** 30).toFixed(1)})`;
    for (const r of sweep) out.push(`| ${r.devices} | ${r.meanUpMin} | ${r.failures} | ${cell(r)} | ${cell(r.fixed1)} | ${cell(r.fixed2)} | ${cell(r.fixed3)} | ${r.heartbeatsPerDevicePerSec} | ${r.placementMsMean.toFixed(2)} | ${r.msPerEvent.toFixed(3)} |`);
    const largest = Math.max(...sweep.map((r) => r.devices));
    const at = sweep.filter((r) => r.devices === largest).sort((a, b) => a.meanUpMin - b.meanUpMin);
    const policies: [string, (r: SimJson) => SimPolicyJson][] = [['frim', (r) => r], ['fixed1', (r) => r.fixed1], ['fixed2', (r) => r.fixed2], ['fixed3', (r) => r.fixed3]];
    const answered = place.chart('sim-answered.svg', lineChart(`${largest} devices: requests answered (%) against churn`, policies.map(([name, f]) => ({ name, points: at.map((r) => ({ x: r.meanUpMin, y: 100 * f(r).answeredFraction })) })), { x: 'median mean time up (min, log scale)', y: 'answered %', logX: true }));
    const bytes = place.chart('sim-bytes.svg', lineChart(`${largest} devices: replica GiB moved against churn`, policies.filter(([n]) => n !== 'fixed1').map(([name, f]) => ({ name, points: at.map((r) => ({ x: r.meanUpMin, y: f(r).bytesMoved / 2 ** 30 })) })), { x: 'median mean time up (min, log scale)', y: 'GiB moved', logX: true }));
    out.push('', `![answered against churn](${answered})`, `![bytes moved against churn](${bytes})`, '');
  }
  return out;
}

/** Where the paper table's minutes went: streaming the cells, bringing failed phones back, opening rooms (the rest). */
function paperTime(rows: PaperRow[], total: number): string[] {
  if (!rows.some((r) => r.seconds !== undefined)) return [];
  const sum = (f: (r: PaperRow) => number) => rows.reduce((a, r) => a + f(r), 0) / 60;
  const cells = sum((r) => r.seconds ?? 0);
  const restore = sum((r) => r.restoreSeconds ?? 0);
  const slowest = [...rows].sort((a, b) => (b.seconds ?? 0) - (a.seconds ?? 0))[0];
  return [`Paper table's ${(total / 60).toFixed(1)} min: ${cells.toFixed(1)} streaming its ${rows.length} cells (slowest: ${slowest.model} ${slowest.method} ${slowest.failed.join('+') || 'healthy'}, ${(slowest.seconds ?? 0).toFixed(0)} s), ${restore.toFixed(1)} bringing failed phones back and warming the room up, ${Math.max(0, total / 60 - cells - restore).toFixed(1)} opening rooms and dropping models.`, ''];
}

/** Writes the report and its charts (Place says where); returns the paths. */
export function writeReport(c: Collected): string[] {
  const paper = c.steps.find((s) => s.name === 'paper')?.result as { rows: PaperRow[]; n: number; batch: number; ratePerSec: number; phoneSlowdown: { compute: number; page: number } } | null;
  const place = new Place(c.quick);
  const charts = [...new Set((paper?.rows ?? []).map((r) => r.model))].map((model) => place.chart(`paper-${model}.svg`, accuracyChart(model, (paper?.rows ?? []).filter((r) => r.model === model), METHODS)));
  const lines = [
    '# frim-mesh benchmarks',
    '',
    `Regenerated by \`${c.command}\` on ${c.at.slice(0, 10)} (${c.quick ? 'quick mode: tiny counts, for checking the pipeline, not for reading' : 'full run'}).`,
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, no GPU (WebGPU is SwiftShader). ${versions()}.`,
    paper ? `Paper table: ${paper.n} images per cell in requests of ${paper.batch} at ${paper.ratePerSec} requests/s; phones compute ${paper.phoneSlowdown.compute}× slower (the compute worker kept busy that many times as long per run, since Chromium cannot throttle workers) and run their page under DevTools CPU throttling at ${paper.phoneSlowdown.page}× (bench/lib/throttle.ts says why milder). A failure closes the phones' tabs once the first request of the cell is answered; before the next cell the same phones open the room again (their copies still in IndexedDB) and the room answers a few warm-up requests, as it does before its first cell.` : '',
    '',
    '| step | minutes | result file |',
    '| --- | ---: | --- |',
    ...c.steps.map((s) => `| ${s.name}${s.ok ? '' : ' (failed)'}${s.rerun ? ` (re-run alone, ${s.rerun.slice(0, 16).replace('T', ' ')} UTC)` : ''} | ${(s.seconds / 60).toFixed(1)} | ${s.file ?? '–'} |`),
    '',
    ...paperTime(paper?.rows ?? [], c.steps.find((s) => s.name === 'paper')?.seconds ?? 0),
    ...(paper ? paperSection(paper.rows, charts) : ['## Accuracy under failure', '', 'The paper table did not run.', '']),
    ...otherSections(c.steps, place),
  ];
  writeFileSync(place.md, lines.join('\n'));
  return [place.md, ...place.written];
}
