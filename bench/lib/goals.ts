/**
 * The paper table's goals (issue 12), checked from its rows: FRIM within half a point of healthy
 * with nothing lost under every failure set; no-config near chance; early-exit and skip-connection
 * holding up under single failures and collapsing under adjacent double ones, as in the paper.
 * Each goal lists the cells that miss it, so the report says plainly where and by how much.
 */
import { FAILURE_SETS, type Method, type PaperRow } from './paper-table.js';

/** ten classes (Fashion-MNIST): a guess is right one time in ten */
export const CHANCE = 0.1;
/** "near chance": no better than twice a guess */
export const NEAR_CHANCE = 2 * CHANCE;
/** "holding up": at least half the images right, five times chance */
export const HOLDS = 0.5;
/** FRIM may differ from its healthy accuracy by this much (WebGPU and WASM round differently) */
export const FRIM_SLACK = 0.005;

const SINGLE = ['D1', 'D2', 'D3'];
const ADJACENT = ['D1+D2', 'D2+D3'];

export interface GoalCheck {
  goal: string;
  /** null: no row the goal speaks of ran */
  met: boolean | null;
  /** the cells that miss it, e.g. "resnet D1+D3 28.4 % (lost 350)" */
  misses: string[];
}

const key = (r: PaperRow) => r.failed.join('+') || 'healthy';
const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

function check(goal: string, rows: PaperRow[], ok: (r: PaperRow) => boolean, say: (r: PaperRow) => string = (r) => pct(r.accuracy)): GoalCheck {
  const misses = rows.filter((r) => !ok(r)).map((r) => `${r.model} ${key(r)} ${say(r)}`);
  return { goal, met: rows.length ? misses.length === 0 : null, misses };
}

export function paperGoals(rows: PaperRow[]): GoalCheck[] {
  const of = (method: Method, sets: string[]) => rows.filter((r) => r.method === method && sets.includes(key(r)));
  const healthy = (r: PaperRow) => rows.find((h) => h.model === r.model && h.method === r.method && !h.failed.length)?.accuracy;
  const failures: string[] = [...FAILURE_SETS];
  return [
    check(
      `frim within ${100 * FRIM_SLACK} points of its healthy accuracy under every single and double failure, 0 lost`,
      of('frim', failures),
      (r) => r.lost === 0 && healthy(r) !== undefined && Math.abs(r.accuracy - healthy(r)!) <= FRIM_SLACK,
      (r) => `${pct(r.accuracy)} (healthy ${healthy(r) === undefined ? '–' : pct(healthy(r)!)}, lost ${r.lost})`,
    ),
    check(`no-config near chance (≤ ${pct(NEAR_CHANCE)}) under every failure`, of('no-config', failures), (r) => r.accuracy <= NEAR_CHANCE),
    check(`early-exit holding up (≥ ${pct(HOLDS)}) under single failures`, of('early-exit', SINGLE), (r) => r.accuracy >= HOLDS),
    check(`early-exit collapsing (≤ ${pct(NEAR_CHANCE)}) under adjacent double failures`, of('early-exit', ADJACENT), (r) => r.accuracy <= NEAR_CHANCE),
    check(`skip-connection holding up (≥ ${pct(HOLDS)}) under single failures`, of('skip-connection', SINGLE), (r) => r.accuracy >= HOLDS),
    check(`skip-connection collapsing (≤ ${pct(NEAR_CHANCE)}) under adjacent double failures`, of('skip-connection', ADJACENT), (r) => r.accuracy <= NEAR_CHANCE),
  ];
}
