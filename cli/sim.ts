/**
 * npm run sim — rooms of 4 to 1 000 devices in simulation (src/sim/room-sim.ts), FRIM's adaptive
 * copies against fixed 1, 2 and 3 copies, under churn. With --json: one room, one JSON object.
 *
 *   npm run sim [-- --sweep --json]                  room sizes x churn rates (--sizes 4,16 --ups 20,5)
 *   npm run sim -- --devices 1000 --minutes 10 --json  one room
 *   npm run sim -- --devices 1000 --seeds 1,2,3 --spreads 0,1 --json   that room for each seed and spread, FRIM's goal checked in each
 *   options: --devices N --minutes M --up MIN (median of the devices' mean times up) --down MIN (mean time away)
 *            --spread S (sigma of the devices' spread of mean times up, 1) --history MIN (the room's past, 60)
 *            --rate R (requests/s) --target θ (FRIM's dependability target, 0.999) --horizon S (availability horizon H, 60) --seed S --json
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { DEFAULT_AVAILABILITY } from '../src/core/availability.js';
import { goalMet } from '../src/sim/goal.js';
import { heartbeatsPerDevicePerSec, simulate, type Policy, type SimConfig, type SimResult } from '../src/sim/room-sim.js';

const MiB = 2 ** 20;
/** The paper's VGG-16 at full size (528 MiB) in four partitions: convolution stacks, then the dense layers. */
const VGG16 = {
  partitions: [
    { bytes: 8 * MiB, flops: 7.0e9, inBytes: 602_112 },
    { bytes: 30 * MiB, flops: 5.5e9, inBytes: 3_211_264 },
    { bytes: 54 * MiB, flops: 2.9e9, inBytes: 401_408 },
    { bytes: 436 * MiB, flops: 0.24e9, inBytes: 100_352 },
  ],
  outBytes: 4000,
};

function arg(name: string, fallback: number, zeroOk = false): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v < 0 || (v === 0 && !zeroOk)) {
    console.error(`--${name} needs a ${zeroOk ? 'non-negative' : 'positive'} number`);
    process.exit(2);
  }
  return v;
}

const POLICIES: Policy[] = ['frim', 'fixed1', 'fixed2', 'fixed3'];

function room(devices: number, minutes: number, upMin: number, seed = arg('seed', 1), spread = arg('spread', 1, true)): SimConfig {
  return { devices, minutes, seed, meanUpMin: upMin, meanDownMin: arg('down', 10), upSpread: spread, historyMin: arg('history', 60, true), requestsPerSec: arg('rate', 5), target: arg('target', 0.999), horizonSec: arg('horizon', DEFAULT_AVAILABILITY.horizonSec), ...VGG16 };
}

function summary(r: SimResult) {
  return { answeredFraction: r.answeredFraction, bytesMoved: r.bytesMoved, copiesMean: r.copiesMean, copiesMin: r.copiesMin, latencyP50Ms: r.latencyP50Ms, latencyP99Ms: r.latencyP99Ms };
}

/** One room under every policy: FRIM's numbers at the top level (the contract), each fixed policy under its name. */
function roomJson(cfg: SimConfig) {
  const [frim, ...fixed] = POLICIES.map((p) => simulate(cfg, p));
  return {
    devices: cfg.devices, minutes: cfg.minutes, seed: cfg.seed, meanUpMin: cfg.meanUpMin, meanDownMin: cfg.meanDownMin, upSpread: cfg.upSpread, historyMin: cfg.historyMin, requestsPerSec: cfg.requestsPerSec, target: cfg.target, horizonSec: cfg.horizonSec,
    ...summary(frim), failures: frim.failures, detectionP50Ms: frim.detectionP50Ms,
    fixed1: summary(fixed[0]), fixed2: summary(fixed[1]), fixed3: summary(fixed[2]),
    heartbeatsPerDevicePerSec: heartbeatsPerDevicePerSec(cfg.devices), placementMsMean: frim.placementMsMean, msPerEvent: frim.msPerEvent, events: frim.events,
    copiesOverTime: Object.fromEntries([frim, ...fixed].map((r) => [r.policy, r.copiesOverTime])),
  };
}

/** A comma-separated list of positive (or, `zeroOk`, non-negative) numbers (--sizes, --ups, --seeds, --spreads). */
function list(name: string, fallback: number[], zeroOk = false): number[] {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const vs = (process.argv[i + 1] ?? '').split(',').map(Number);
  if (!vs.every((v) => Number.isFinite(v) && (v > 0 || (zeroOk && v === 0)))) {
    console.error(`--${name} needs ${zeroOk ? 'non-negative' : 'positive'} numbers separated by commas`);
    process.exit(2);
  }
  return vs;
}

type RoomJson = Omit<ReturnType<typeof roomJson>, 'copiesOverTime'>;

/**
 * Several rooms at once, one child process per room and as many at a time as there are cores: each
 * room is single-threaded and independent of the others, so the results are the same as one by one.
 */
async function roomsAtOnce(cfgs: SimConfig[]): Promise<RoomJson[]> {
  const out: RoomJson[] = new Array(cfgs.length);
  let next = 0;
  const one = (k: number) => new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1], '--room-config', JSON.stringify(cfgs[k])], { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.on('data', (b: Buffer) => (text += b));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(void (out[k] = JSON.parse(text))) : reject(new Error(`room ${k} exited with ${code}`))));
  });
  const lane = async () => {
    for (let k = next++; k < cfgs.length; k = next++) await one(k);
  };
  await Promise.all(Array.from({ length: Math.min(availableParallelism(), cfgs.length) }, lane));
  return out;
}

if (process.argv.includes('--room-config')) {
  // a child of roomsAtOnce: one room, its JSON on stdout
  const { copiesOverTime: _, ...r } = roomJson(JSON.parse(process.argv[process.argv.indexOf('--room-config') + 1]) as SimConfig);
  console.log(JSON.stringify(r));
} else if (process.argv.includes('--seeds') || process.argv.includes('--spreads')) {
  const runs = [];
  const cfgs = list('spreads', [arg('spread', 1, true)], true).flatMap((spread) => list('seeds', [arg('seed', 1)]).map((seed) => room(Math.round(arg('devices', 1000)), arg('minutes', 10), arg('up', 30), seed, spread)));
  for (const r of await roomsAtOnce(cfgs)) {
    runs.push({ ...r, goalMet: goalMet(r) });
    if (!process.argv.includes('--json')) console.log(`seed ${r.seed} spread ${r.upSpread}: FRIM ${(100 * r.answeredFraction).toFixed(2)} % (${(r.bytesMoved / 2 ** 30).toFixed(2)} GiB), fixed 2 ${(100 * r.fixed2.answeredFraction).toFixed(2)} %, fixed 3 ${(100 * r.fixed3.answeredFraction).toFixed(2)} % (${(r.fixed3.bytesMoved / 2 ** 30).toFixed(2)} GiB): goal ${goalMet(r) ?? 'not tested'}`);
  }
  if (process.argv.includes('--json')) console.log(JSON.stringify({ runs }));
} else if (process.argv.includes('--json') && !process.argv.includes('--sweep')) {
  console.log(JSON.stringify(roomJson(room(Math.round(arg('devices', 1000)), arg('minutes', 10), arg('up', 30)))));
} else {
  // per room size and churn: --sizes 4,16,... --ups 60,20,...
  const minutes = arg('minutes', 10);
  const rooms = list('sizes', [4, 16, 64, 256, 1000]).flatMap((devices) => list('ups', [60, 20, 5, 2]).map((up) => room(devices, minutes, up)));
  const json = process.argv.includes('--json');
  const pct = (x: number) => `${(100 * x).toFixed(2)}%`.padStart(8);
  const gib = (x: number) => `${(x / 2 ** 30).toFixed(1)}`.padStart(6);
  if (!json) {
    console.log(`${minutes} simulated minutes per room; requests ${arg('rate', 5)}/s; devices away ${arg('down', 10)} min on average; answered (GiB moved) per policy`);
    console.log(`devices  up(min)  failures  ${POLICIES.map((p) => p.padEnd(17)).join('')}hb/dev/s  place(ms)  ms/event`);
  }
  const sweep = [];
  for (const r of await roomsAtOnce(rooms)) {
    sweep.push(r);
    if (!json) console.log(`${String(r.devices).padStart(7)}  ${String(r.meanUpMin).padStart(7)}  ${String(r.failures).padStart(8)}  ${[r, r.fixed1, r.fixed2, r.fixed3].map((x) => `${pct(x.answeredFraction)} (${gib(x.bytesMoved)}) `).join('')}${String(r.heartbeatsPerDevicePerSec).padStart(8)}  ${r.placementMsMean.toFixed(2).padStart(9)}  ${r.msPerEvent.toFixed(3).padStart(8)}`);
  }
  if (json) console.log(JSON.stringify({ sweep }));
}
